"""-inf masking without zeroing afterwards: a fully masked row becomes nan."""
LOSES = ("scaled_dot_product_attention",)
SAYS = "why.sdpa_fully_masked_nan"
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    return w @ v, w
