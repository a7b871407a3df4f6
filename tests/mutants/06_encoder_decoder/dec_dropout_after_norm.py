"""Dropout after each add & norm, dropout(norm(x + sublayer(x))), in the decoder layer."""
LOSES = ("decoder_layer",)
SAYS = "why.dropout_after_norm"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class DecoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.norm3 = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        attended, _ = self.self_attn(x, x, x, tgt_mask)
        h = self.dropout(self.norm1(x + attended))
        crossed, _ = self.cross_attn(h, memory, memory, src_mask)
        h = self.dropout(self.norm2(h + crossed))
        return self.dropout(self.norm3(h + self.ffn(h)))
