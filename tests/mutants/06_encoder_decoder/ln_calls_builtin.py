"""F.layer_norm called instead of writing the arithmetic."""
LOSES = ("layer_norm",)
SAYS = "torch.nn.functional.layer_norm"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
