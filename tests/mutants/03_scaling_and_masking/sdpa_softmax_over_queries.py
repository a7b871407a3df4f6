"""Softmax over the queries axis instead of the keys axis."""
LOSES = ("scaled_dot_product_attention",)
SAYS = "why.sdpa_softmax_axis"
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-2)
    if mask is not None:
        w = w.masked_fill(~mask, 0.0)
    return w @ v, w
