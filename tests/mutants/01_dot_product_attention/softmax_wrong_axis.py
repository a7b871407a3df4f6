"""Softmax normalised over the first axis (the queries) instead of the last (the keys)."""
LOSES = ("softmax",)
SAYS = "why.softmax_axis"
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
