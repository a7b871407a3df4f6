"""Softmax divided by the sum of the whole array instead of the sum along the axis."""
LOSES = ("softmax",)
SAYS = "why.softmax_global"
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - x.max())
    return e / e.sum()
