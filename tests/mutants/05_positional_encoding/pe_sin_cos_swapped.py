"""Cosine at the even columns and sine at the odd ones."""
LOSES = ("sinusoidal_positional_encoding",)
SAYS = "why.pe_sin_cos_swapped"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    two_j = torch.arange(0, d_model, 2, dtype=torch.float32)
    angles = position / 10000 ** (two_j / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.cos(angles)
    pe[:, 1::2] = torch.sin(angles[:, : d_model // 2])
    return pe
