"""Independent oracles: float64 formulas written from the lectures, never the reference notebook.

Also the known mistakes (``mistake_*``): what a wrong implementation would return, so that a
failing check can name the misconception behind it.
"""

from __future__ import annotations

import numpy as np

# Functions that only build the graders' inputs (or rearrange them): they ship as code in the
# student export; every other function here ships as recorded values (autograder/graders/replay.py).
INPUTS = ("rng", "swap")


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def trusted_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The building block handed to later items: float64 inside, the input's dtype outside."""
    x = np.asarray(x)
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return softmax(x, axis).astype(out_dtype)


def swap(x: np.ndarray) -> np.ndarray:
    """Transpose the last two axes: (..., t, k) -> (..., k, t)."""
    return np.swapaxes(x, -1, -2)


def dot_product_attention(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    w = softmax(x @ swap(x))
    return w @ x, w


def project(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """nn.Linear's row convention: x (..., t, d_in) @ W.T with W (d_out, d_in)."""
    return np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64).T


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    w = softmax((q @ swap(k)) * scale)
    return w @ v, w


def self_attention(x, w_q, w_k, w_v, scale: float = 1.0):
    return attention(project(x, w_q), project(x, w_k), project(x, w_v), scale)


def cross_attention(x, z, w_q, w_k, w_v, scale: float = 1.0):
    return attention(project(z, w_q), project(x, w_k), project(x, w_v), scale)


def trusted_project_qkv(x, w_q, w_k, w_v):
    """Building block for stage 02's attention items, in the input's dtype."""
    dtype = np.asarray(x).dtype
    return tuple(project(x, w).astype(dtype) for w in (w_q, w_k, w_v))


# The trusted building blocks that attention items of stages 01-02 run on: a bug in softmax or
# project_qkv costs points only in the item where it is made.
TRUSTED_BLOCKS = {"softmax": trusted_softmax, "project_qkv": trusted_project_qkv}


# --- known mistakes --------------------------------------------------------------------------
def mistake_naive_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.asarray(x, dtype=np.float64))
        return e / e.sum(axis=axis, keepdims=True)


def mistake_global_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(np.asarray(x, dtype=np.float64) - np.max(x))
    return e / e.sum()
