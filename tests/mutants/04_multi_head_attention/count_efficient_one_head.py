"""Efficient count that sizes one head (k × k/r) but forgets there are r of them."""
LOSES = ("qkv_parameter_count",)
SAYS = "why.count_per_head"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def qkv_parameter_count(k, r, efficient):
    if efficient:
        return 3 * k * (k // r)
    return 3 * r * k * k
