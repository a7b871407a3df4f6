"""pe sliced with x.size(0), as in the sequence-first tutorial, although x is (batch, T, d)."""
LOSES = ("positional_encoding",)
SAYS = "why.pe_batch_axis"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model).unsqueeze(1))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        if x.size(1) > self.pe.size(0):
            raise ValueError("sequence longer than max_len")
        return self.dropout(x + self.pe[: x.size(0)])
