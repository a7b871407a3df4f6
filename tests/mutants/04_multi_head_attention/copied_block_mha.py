"""The grader's trusted MultiHeadAttention pasted in as the student's own: it runs PyTorch's attention."""
LOSES = ("multi_head_attention",)
SAYS = "uses the course's own code, `autograder.graders.blocks._"
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.graders.blocks import _torch_mask


class MultiHeadAttention(nn.Module):  # pasted from autograder/graders/blocks.py
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model = {d_model} is not divisible by num_heads = {num_heads}")
        self.num_heads = num_heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def forward(self, query, key, value, mask=None):
        batch, t, s = query.shape[0], query.shape[-2], key.shape[-2]
        attn_mask, blind = _torch_mask(mask, batch, self.num_heads, t, s)
        out, weights = F.multi_head_attention_forward(
            query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1),
            embed_dim_to_check=query.shape[-1], num_heads=self.num_heads,
            in_proj_weight=None, in_proj_bias=torch.cat([self.w_q.bias, self.w_k.bias, self.w_v.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=self.dropout.p,
            out_proj_weight=self.w_o.weight, out_proj_bias=self.w_o.bias, training=self.training,
            need_weights=True, attn_mask=attn_mask, use_separate_proj_weight=True,
            q_proj_weight=self.w_q.weight, k_proj_weight=self.w_k.weight, v_proj_weight=self.w_v.weight,
            average_attn_weights=False)
        out = out.transpose(0, 1)
        if blind is not None:
            weights = weights.masked_fill(blind[:, None, :, None], 0.0)
            out = torch.where(blind.unsqueeze(-1), self.w_o.bias, out)
        return out, weights
