"""Softmax that silently turns float32 input into float64."""
LOSES = ("softmax",)
SAYS = "Wrong dtype"
import numpy as np


def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
