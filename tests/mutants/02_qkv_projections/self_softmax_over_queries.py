"""Softmax over the queries axis instead of the keys axis."""
LOSES = ("self_attention",)
SAYS = "why.softmax_axis"
import numpy as np


def self_attention(x, w_q, w_k, w_v):
    q, k, v = project_qkv(x, w_q, w_k, w_v)
    w = softmax(q @ np.swapaxes(k, -1, -2), axis=-2)
    return w @ v, w
