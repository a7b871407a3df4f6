"""Causal mask pointing at the future: upper instead of lower triangle."""
LOSES = ("causal_mask",)
SAYS = "why.causal_upper"
import math

import torch
import torch.nn.functional as F


def causal_mask(t):
    return torch.triu(torch.ones(t, t, dtype=torch.bool))
