"""Masked scores set to -1e9 (as in many tutorials) instead of -inf."""
LOSES = ("scaled_dot_product_attention",)
SAYS = "why.sdpa_finite_mask"
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    w = torch.softmax(scores, dim=-1)
    return w @ v, w
