"""Attention weights taken as the raw scores x xᵀ, without a softmax."""
LOSES = ("dot_product_attention",)
SAYS = "why.dpa_no_softmax"
import numpy as np


def dot_product_attention(x):
    w = x @ np.swapaxes(x, -1, -2)
    return w @ x, w
