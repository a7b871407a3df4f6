"""PyTorch's nn.MultiheadAttention wrapped instead of written."""
LOSES = ("multi_head_attention",)
SAYS = "torch.nn.MultiheadAttention"
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
        self.attn = nn.MultiheadAttention(d_model, num_heads, dropout=dropout, batch_first=True)

    def forward(self, query, key, value, mask=None):
        if mask is not None:
            if mask.dim() == 3:
                mask = mask.unsqueeze(1)
            b, t, s = query.shape[0], query.shape[1], key.shape[1]
            mask = (~mask).expand(b, self.num_heads, t, s).reshape(b * self.num_heads, t, s)
        return self.attn(query, key, value, attn_mask=mask, average_attn_weights=False)
