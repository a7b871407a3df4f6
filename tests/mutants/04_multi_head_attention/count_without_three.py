"""Parameter count with one projection per head instead of three (q, k and v)."""
LOSES = ("qkv_parameter_count",)
SAYS = "why.count_no_three"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def qkv_parameter_count(k, r, efficient):
    projection = k // r if efficient else k
    return r * projection * k
