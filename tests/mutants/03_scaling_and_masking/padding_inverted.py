"""Padding mask True at the padding instead of at the real tokens."""
LOSES = ("padding_mask",)
SAYS = "why.padding_inverted"
import math

import torch
import torch.nn.functional as F


def padding_mask(tokens, pad_id):
    return (tokens == pad_id)[:, None, None, :]
