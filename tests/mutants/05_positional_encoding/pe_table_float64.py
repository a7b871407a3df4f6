"""The table kept in float64, so a float32 x comes back as float64."""
LOSES = ("positional_encoding",)
SAYS = "Keep the input's dtype"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model).double())
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        t = x.shape[1]
        if t > self.pe.shape[0]:
            raise ValueError(f"the sequence has {t} positions, but max_len is {self.pe.shape[0]}")
        return self.dropout(x + self.pe[:t])
