"""Cross-attention with the queries taken from x and the keys and values from z."""
LOSES = ("cross_attention",)
SAYS = "why.cross_roles_swapped"
import numpy as np


def cross_attention(x, z, w_q, w_k, w_v):
    q, k, v = x @ w_q.T, z @ w_k.T, z @ w_v.T
    w = softmax(q @ np.swapaxes(k, -1, -2))
    return w @ v, w
