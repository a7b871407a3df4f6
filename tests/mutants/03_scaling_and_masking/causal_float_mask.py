"""Causal mask of 0.0/1.0 floats instead of booleans."""
LOSES = ("causal_mask",)
SAYS = "boolean"
import math

import torch
import torch.nn.functional as F


def causal_mask(t):
    return torch.tril(torch.ones(t, t))
