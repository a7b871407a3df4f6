"""The output computed from the scores instead of from x: y = w (x xᵀ)."""
LOSES = ("dot_product_attention",)
SAYS = "why.dpa_weights_times_scores"
import numpy as np


def dot_product_attention(x):
    scores = x @ np.swapaxes(x, -1, -2)
    w = softmax(scores)
    return w @ scores, w
