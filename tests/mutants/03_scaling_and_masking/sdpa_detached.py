"""Attention computed through numpy, which cuts the autograd graph."""
LOSES = ("scaled_dot_product_attention",)
SAYS = "why.sdpa_detached"
import numpy as np
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    qn, kn, vn = (t.detach().numpy() for t in (q, k, v))
    scores = qn @ np.swapaxes(kn, -1, -2) / math.sqrt(qn.shape[-1])
    if mask is not None:
        scores = np.where(mask.numpy(), scores, -np.inf)
    scores = scores - scores.max(-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(-1, keepdims=True)
    if mask is not None:
        w = np.where(mask.numpy(), w, 0.0)
    return torch.from_numpy(w @ vn), torch.from_numpy(w)
