"""Parameter count that adds W_o, which the slides' table leaves out."""
LOSES = ("qkv_parameter_count",)
SAYS = "why.count_with_wo"
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def qkv_parameter_count(k, r, efficient):
    projection = k // r if efficient else k
    return 3 * r * projection * k + k * k
