"""Exponent 10000^(c/d) with c the column index, so sine and cosine of a pair differ in frequency."""
LOSES = ("sinusoidal_positional_encoding",)
SAYS = "why.pe_exponent"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    column = torch.arange(d_model, dtype=torch.float32)
    angles = position / 10000 ** (column / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angles[:, 0::2])
    pe[:, 1::2] = torch.cos(angles[:, 1::2])
    return pe
