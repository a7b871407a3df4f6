"""No check of the sequence length: too long a sequence fails with a shape error."""
LOSES = ("positional_encoding",)
SAYS = "why.pe_no_length_check"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        t = x.shape[1]
        return self.dropout(x + self.pe[:t])
