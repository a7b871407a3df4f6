"""Softmax of the scores taken over the queries (columns) instead of the keys (rows)."""
LOSES = ("dot_product_attention",)
SAYS = "why.softmax_axis"
import numpy as np


def dot_product_attention(x):
    w = softmax(x @ np.swapaxes(x, -1, -2), axis=-2)
    return w @ x, w
