"""Heads split inline with a reshape to (batch, r, T, d_k), no transpose (split_heads not used)."""
LOSES = ("multi_head_attention",)
SAYS = "why.split_no_transpose"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError("d_model must be divisible by num_heads")
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.w_q = nn.Linear(d_model, d_model)
        self.w_k = nn.Linear(d_model, d_model)
        self.w_v = nn.Linear(d_model, d_model)
        self.w_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, query, key, value, mask=None):
        b = query.shape[0]
        q = self.w_q(query).reshape(b, self.num_heads, -1, self.d_k)
        k = self.w_k(key).reshape(b, self.num_heads, -1, self.d_k)
        v = self.w_v(value).reshape(b, self.num_heads, -1, self.d_k)
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)
        _, weights = scaled_dot_product_attention(q, k, v, mask)
        heads = self.dropout(weights) @ v
        return self.w_o(heads.transpose(1, 2).reshape(b, -1, self.num_heads * self.d_k)), weights
