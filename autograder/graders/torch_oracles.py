"""Torch oracles for the attention stages: PyTorch's own SDPA in float64, and known mistakes."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=dtype) * scale


def sdpa(q, k, v, mask=None) -> torch.Tensor:
    """PyTorch's scaled_dot_product_attention; rows with no allowed key give 0 (as PyTorch does)."""
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)


def weights(q, k, mask=None, scale: float | None = None, fill: float = float("-inf")) -> torch.Tensor:
    """softmax(q kᵀ · scale) with masked scores set to ``fill``; fully masked rows are all zero."""
    q, k = q.double(), k.double()
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-1, -2) * scale
    if mask is None:
        return scores.softmax(-1)
    w = scores.masked_fill(~mask, fill).softmax(-1)
    return w.masked_fill(~mask, 0.0) if fill == float("-inf") else w


def causal(t: int) -> torch.Tensor:
    return torch.ones(t, t, dtype=torch.bool).tril()


def random_mask(*shape: int, seed: int) -> torch.Tensor:
    """A random boolean mask in which every row lets at least one key through."""
    m = torch.rand(*shape, generator=gen(seed)) > 0.4
    m[..., 0] = True
    return m


# --- known mistakes ----------------------------------------------------------------------------
def mistake_attention(q, k, v, mask=None, *, scale=None, fill=float("-inf"), invert=False, after_softmax=False,
                      axis=-1, zero_masked=True):
    q, k, v = q.double(), k.double(), v.double()
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-1, -2) * scale
    if mask is not None and invert:
        mask = ~mask
    if mask is not None and not after_softmax:
        scores = scores.masked_fill(~mask, fill)
    w = scores.softmax(axis)
    if mask is not None and after_softmax:
        w = w * mask
    elif mask is not None and zero_masked and fill == float("-inf"):
        w = w.masked_fill(~mask, 0.0)
    return w @ v, w
