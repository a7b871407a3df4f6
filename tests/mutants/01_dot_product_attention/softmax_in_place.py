"""Softmax that subtracts the maximum in place, changing the caller's array."""
LOSES = ("softmax",)
SAYS = "changed its input array in place"
import numpy as np


def softmax(x, axis=-1):
    x -= x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
