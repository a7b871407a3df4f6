"""The table kept as a plain tensor attribute: not saved, not moved by .to()."""
LOSES = ("positional_encoding",)
SAYS = "why.pe_plain_attribute"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.pe = sinusoidal_positional_encoding(max_len, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        t = x.shape[1]
        if t > self.pe.shape[0]:
            raise ValueError(f"the sequence has {t} positions, but max_len is {self.pe.shape[0]}")
        return self.dropout(x + self.pe[:t])
