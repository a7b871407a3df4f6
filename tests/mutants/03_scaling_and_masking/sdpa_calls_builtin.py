"""PyTorch's own scaled_dot_product_attention called instead of writing the arithmetic."""
LOSES = ("scaled_dot_product_attention",)
SAYS = "calls torch.nn.functional.scaled_dot_product_attention"
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w.masked_fill(~mask, 0.0)
    return out, w
