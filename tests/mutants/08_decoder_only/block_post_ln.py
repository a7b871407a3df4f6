"""Post-LN GPT block: norm(x + sublayer(x)) as in stage 06, where GPT normalizes first (pre-LN)."""
LOSES = ("gpt_block",)
SAYS = "why.post_ln"
import torch.nn as nn


class GPTBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        attended, cache = self.attn(x, cache)
        x = self.ln1(x + self.dropout(attended))
        return self.ln2(x + self.mlp(x)), cache
