"""The causal mask without the offset: with a cache, new query t sees keys 0..t instead of 0..T_past + t."""
LOSES = ("causal_self_attention",)
SAYS = "why.cache_no_offset"
import torch
import torch.nn as nn


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError("heads")
        self.num_heads = num_heads
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        q = split_heads(self.w_q(x), self.num_heads)
        k = split_heads(self.w_k(x), self.num_heads)
        v = split_heads(self.w_v(x), self.num_heads)
        if cache is not None:
            k, v = torch.cat([cache[0], k], -2), torch.cat([cache[1], v], -2)
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()   # no diagonal offset
        _, weights = scaled_dot_product_attention(q, k, v, mask)
        return self.w_o(merge_heads(self.dropout(weights) @ v)), (k, v)
