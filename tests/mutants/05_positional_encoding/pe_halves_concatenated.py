"""All sines in the first half and all cosines in the second, instead of interleaved."""
LOSES = ("sinusoidal_positional_encoding",)
SAYS = "why.pe_halves"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    two_j = torch.arange(0, d_model, 2, dtype=torch.float32)
    angles = position / 10000 ** (two_j / d_model)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)[:, :d_model]
