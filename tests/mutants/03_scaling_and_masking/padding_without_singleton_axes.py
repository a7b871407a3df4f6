"""Padding mask left as (batch, S), which does not broadcast over heads and queries."""
LOSES = ("padding_mask",)
SAYS = "why.padding_shape"
import math

import torch
import torch.nn.functional as F


def padding_mask(tokens, pad_id):
    return tokens != pad_id
