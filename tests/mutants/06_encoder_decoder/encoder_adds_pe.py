"""The Encoder adds a sinusoidal positional encoding itself."""
LOSES = ("encoder_decoder",)
SAYS = "why.encoder_adds_pe"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers)])

    def forward(self, x, mask=None):
        t, d = x.shape[1], x.shape[2]
        position = torch.arange(t, dtype=x.dtype).unsqueeze(1)
        angles = position / 10000 ** (torch.arange(0, d, 2, dtype=x.dtype) / d)
        pe = torch.zeros(t, d, dtype=x.dtype)
        pe[:, 0::2] = torch.sin(angles)
        pe[:, 1::2] = torch.cos(angles[:, : d // 2])
        x = x + pe
        for layer in self.layers:
            x = layer(x, mask)
        return x


class Decoder(nn.Module):
    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList([DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers)])

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        for layer in self.layers:
            x = layer(x, memory, src_mask, tgt_mask)
        return x
