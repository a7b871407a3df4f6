"""Softmax without subtracting the maximum: exp() overflows for large scores."""
LOSES = ("softmax",)
SAYS = "why.softmax_unstable"
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
