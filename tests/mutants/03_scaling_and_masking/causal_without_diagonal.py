"""Causal mask that also hides the diagonal: a token may not see itself."""
LOSES = ("causal_mask",)
SAYS = "why.causal_no_diagonal"
import math

import torch
import torch.nn.functional as F


def causal_mask(t):
    return torch.tril(torch.ones(t, t, dtype=torch.bool), diagonal=-1)
