"""The encoder layer builds its norms with a tutorial's eps, LayerNorm(d_model, eps=1e-6)."""
LOSES = ("encoder_layer",)
SAYS = "why.layer_norm_eps"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1 = LayerNorm(d_model, eps=1e-6)
        self.norm2 = LayerNorm(d_model, eps=1e-6)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        attended, _ = self.self_attn(x, x, x, mask)
        h = self.norm1(x + self.dropout(attended))
        return self.norm2(h + self.dropout(self.ffn(h)))
