"""Pre-LN encoder layer: x + sublayer(norm(x)), as in many recent models, not the slides' post-LN."""
LOSES = ("encoder_layer",)
SAYS = "why.pre_ln"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        z = self.norm1(x)
        attended, _ = self.self_attn(z, z, z, mask)
        h = x + self.dropout(attended)
        return h + self.dropout(self.ffn(self.norm2(h)))
