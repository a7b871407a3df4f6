"""The grader's trusted GPTBlock pasted in as the student's own: it calls F.scaled_dot_product_attention."""
LOSES = ("gpt_block",)
SAYS = "torch.nn.functional.scaled_dot_product_attention"
import torch
import torch.nn as nn
import torch.nn.functional as F


class GPTBlock(nn.Module):  # pasted from autograder/graders/blocks.py
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1, self.ln2 = LayerNorm(d_model), LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.mlp = MLP(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        h, attn = self.ln1(x), self.attn
        q, k, v = (split_heads(F.linear(h, lin.weight, lin.bias), attn.num_heads) for lin in (attn.w_q, attn.w_k, attn.w_v))
        if cache is not None:
            k, v = torch.cat([cache[0], k], -2), torch.cat([cache[1], v], -2)
        t, s = q.shape[-2], k.shape[-2]
        mask = torch.ones(t, s, dtype=torch.bool).tril(s - t)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=attn.dropout.p if self.training else 0.0)
        x = x + self.dropout(F.linear(merge_heads(a), attn.w_o.weight, attn.w_o.bias))
        return x + self.mlp(self.ln2(x)), (k, v)
