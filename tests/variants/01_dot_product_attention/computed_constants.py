"""Correct stage 01, written with computed constants: a tiny floor, -inf, math under another name,
a vocabulary built by a comprehension, DEVICE, and a constant that a class reads at definition."""
import math as m

import numpy as np
import torch

TINY = 10.0 ** -300
NEG_INF = float("-inf")
LAST_AXIS = -(m.factorial(1))
WORDS = "the cat sat on the mat".split()
VOCAB = {w: i for i, w in enumerate(sorted(set(WORDS)))}
N_WORDS = len(VOCAB)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SCALE = float(np.float64(m.sqrt(1.0)))


def softmax(x, axis=LAST_AXIS):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.maximum(e.sum(axis=axis, keepdims=True), TINY)


def masked(scores, keep):
    """Not graded: scores where a key may not be attended to become -inf."""
    return np.where(keep, scores, NEG_INF)


def one_hot(sentence):
    """Not graded: the words of a sentence as one-hot rows, on DEVICE."""
    ids = [VOCAB[w] for w in sentence.split()]
    return torch.eye(N_WORDS, device=DEVICE)[ids]


class _Attention:
    scale = SCALE  # read when the class is defined

    def __call__(self, x):
        w = softmax(np.matmul(x, np.swapaxes(x, -1, -2)) * self.scale)
        return np.matmul(w, x), w


_ATTEND = _Attention()


def dot_product_attention(x):
    return _ATTEND(x)
