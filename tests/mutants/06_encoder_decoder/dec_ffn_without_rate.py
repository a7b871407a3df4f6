"""The decoder layer's FeedForward is built without the layer's dropout rate (it keeps its default 0.1)."""
LOSES = ("decoder_layer",)
SAYS = "why.ffn_rate_not_passed"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class DecoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.norm3 = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        attended, _ = self.self_attn(x, x, x, tgt_mask)
        h = self.norm1(x + self.dropout(attended))
        crossed, _ = self.cross_attn(h, memory, memory, src_mask)
        h = self.norm2(h + self.dropout(crossed))
        return self.norm3(h + self.dropout(self.ffn(h)))
