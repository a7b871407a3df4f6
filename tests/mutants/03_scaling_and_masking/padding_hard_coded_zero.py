"""Padding id hard-coded as 0 instead of the pad_id argument."""
LOSES = ("padding_mask",)
SAYS = "why.padding_fixed_zero"
import math

import torch
import torch.nn.functional as F


def padding_mask(tokens, pad_id):
    return (tokens != 0)[:, None, None, :]
