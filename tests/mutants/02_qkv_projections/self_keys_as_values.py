"""The weights multiply the keys instead of the values."""
LOSES = ("self_attention",)
SAYS = "why.self_keys_as_values"
import numpy as np


def self_attention(x, w_q, w_k, w_v):
    q, k, v = project_qkv(x, w_q, w_k, w_v)
    w = softmax(q @ np.swapaxes(k, -1, -2))
    return w @ k, w
