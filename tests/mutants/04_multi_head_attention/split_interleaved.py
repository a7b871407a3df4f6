"""Heads take every r-th feature: view (batch, T, d_k, r) and move r to the front."""
LOSES = ("split_heads",)
SAYS = "why.split_interleaved"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def split_heads(x, num_heads):
    batch, t, d_model = x.shape
    return x.view(batch, t, d_model // num_heads, num_heads).permute(0, 3, 1, 2)
