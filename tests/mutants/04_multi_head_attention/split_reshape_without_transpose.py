"""Heads split with a single reshape to (batch, r, T, d_k), no transpose."""
LOSES = ("split_heads",)
SAYS = "why.split_no_transpose"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def split_heads(x, num_heads):
    batch, t, d_model = x.shape
    return x.reshape(batch, num_heads, t, d_model // num_heads)
