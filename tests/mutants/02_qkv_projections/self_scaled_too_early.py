"""Self-attention scaled by √d_k, although this stage's attention is unscaled."""
LOSES = ("self_attention",)
SAYS = "why.self_scaled"
import numpy as np


def self_attention(x, w_q, w_k, w_v):
    q, k, v = project_qkv(x, w_q, w_k, w_v)
    w = softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]))
    return w @ v, w
