"""Merge with .view after the transpose, which fails on a non-contiguous tensor."""
LOSES = ("merge_heads",)
SAYS = "hint.merge_reshape"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def merge_heads(x):
    batch, num_heads, t, d_k = x.shape
    return x.transpose(1, 2).view(batch, t, num_heads * d_k)
