"""The cache is used before the new keys are appended: new queries see only the past keys."""
LOSES = ("causal_self_attention",)
SAYS = "why.cache_attend_before_append"
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
        k_new = split_heads(self.w_k(x), self.num_heads)
        v_new = split_heads(self.w_v(x), self.num_heads)
        if cache is None:
            k, v = k_new, v_new
            t = q.shape[-2]
            mask = torch.ones(t, t, dtype=torch.bool).tril()
        else:
            k, v = cache                                  # attends to the past only
            mask = None
        _, weights = scaled_dot_product_attention(q, k, v, mask)
        y = self.w_o(merge_heads(self.dropout(weights) @ v))
        new = (k_new, v_new) if cache is None else (torch.cat([cache[0], k_new], -2), torch.cat([cache[1], v_new], -2))
        return y, new
