"""Mask multiplied into the weights after the softmax, so rows no longer sum to 1."""
LOSES = ("scaled_dot_product_attention",)
SAYS = "why.sdpa_mask_after_softmax"
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        w = w * mask
    return w @ v, w
