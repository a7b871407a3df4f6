"""x.T used for the transpose, which also reverses the batch axes."""
LOSES = ("dot_product_attention",)
SAYS = "hint.swapaxes"
import numpy as np


def dot_product_attention(x):
    w = softmax(x @ x.T)
    return w @ x, w
