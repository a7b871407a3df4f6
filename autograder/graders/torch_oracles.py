"""Torch oracles for the attention stages: PyTorch's own SDPA in float64, and known mistakes."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Functions that only build the graders' inputs: they ship as code in the student export; every
# other function here ships as recorded values (autograder/graders/replay.py).
INPUTS = ("gen", "randn", "random_mask")


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


# --- rate probes (issue 11, item 10) -----------------------------------------------------------
# Trusted stand-ins for MultiHeadAttention and FeedForward that make the dropout rate they were
# built with visible in eval mode: each returns rate · a fixed pattern, whatever its input. A layer
# built on them shows, from its output alone, which rate reached each sub-layer. They are factory
# functions (no class at module level, private: the export replays no private function) and compute
# nothing of the course's.
def _probe_pattern(d: int, phase: float, like: torch.Tensor) -> torch.Tensor:
    """A fixed, non-constant row over the features (a LayerNorm does not hide it), shape (d,)."""
    return torch.cos(torch.arange(d, dtype=torch.float64) * 1.3 + phase).to(like.dtype)


PROBE_PHASE = {"attention": 0.0, "ffn": 0.7}


def _attention_probe_forward(self, query, key, value, mask=None):
    """(batch, T, d) -> rate · pattern of shape (batch, T, d), and zero weights (batch, heads, T, S)."""
    out = self.dropout.p * _probe_pattern(query.shape[-1], PROBE_PHASE["attention"], query)
    weights = query.new_zeros(query.shape[0], self.num_heads, query.shape[-2], key.shape[-2])
    return out.expand_as(query).clone(), weights


def _ffn_probe_forward(self, x):
    """(batch, T, d) -> rate · pattern of shape (batch, T, d)."""
    return (self.dropout.p * _probe_pattern(x.shape[-1], PROBE_PHASE["ffn"], x)).expand_as(x).clone()


def _rate_probe_attention(d_model, num_heads, dropout=0.0):
    """MultiHeadAttention's parameters (w_q, w_k, w_v, w_o) and signature; forward reports the rate."""
    import types

    m = torch.nn.Module()
    m.w_q, m.w_k, m.w_v, m.w_o = (torch.nn.Linear(d_model, d_model) for _ in range(4))
    m.dropout, m.num_heads = torch.nn.Dropout(dropout), num_heads
    m.forward = types.MethodType(_attention_probe_forward, m)
    return m


def _rate_probe_feed_forward(d_model, d_ff, dropout=0.1):
    """FeedForward's parameters (linear1, linear2) and signature; forward reports the rate."""
    import types

    m = torch.nn.Module()
    m.linear1, m.linear2 = torch.nn.Linear(d_model, d_ff), torch.nn.Linear(d_ff, d_model)
    m.dropout = torch.nn.Dropout(dropout)
    m.forward = types.MethodType(_ffn_probe_forward, m)
    return m
