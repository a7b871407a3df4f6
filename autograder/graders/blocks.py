"""Trusted building blocks: what a student's new code runs on while it is graded.

Stage 04's MultiHeadAttention calls stage 03's attention; stage 06's layers build stage 04's
MultiHeadAttention and stage 05's PositionalEncoding, and its Transformer builds the layers of
the same stage. The graders pass these classes and functions as ``trusted=`` to
``student.function``/``student.build``: while the student's code runs, those names in its
namespace point here. A bug in an earlier item or stage then costs points only where it was made.

They keep the course's contract to the letter (parameter and buffer names, shapes, argument
order, boolean masks with True = may attend, a (batch, T, S) mask gaining a head axis, all-zero
weights for a query that may see no key), and tests/test_blocks.py checks them against
PyTorch's own modules. Written for the graders, independently of the reference notebooks; they
import nothing but torch, so a sandboxed worker can hold them too.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- stage 03 -----------------------------------------------------------------------------------


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q kᵀ / √d_k) v with a boolean mask (True = may attend); returns (out, weights)."""
    scores = torch.einsum("...td,...sd->...ts", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask.logical_not(), float("-inf"))
    weights = scores.softmax(dim=-1)
    if mask is not None:  # a query that may see nothing: zero weights instead of nan
        weights = weights.masked_fill(mask.logical_not(), 0.0)
    return torch.einsum("...ts,...sd->...td", weights, v), weights


# --- stage 04 -----------------------------------------------------------------------------------


def split_heads(x, num_heads):
    """(batch, T, d_model) -> (batch, heads, T, d_model / heads); head j holds columns j·d_k ... (j+1)·d_k − 1."""
    return x.unflatten(-1, (num_heads, x.shape[-1] // num_heads)).transpose(-3, -2)


def merge_heads(x):
    """(batch, heads, T, d_k) -> (batch, T, heads · d_k): the inverse of split_heads."""
    return x.transpose(-3, -2).flatten(-2)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model = {d_model} is not divisible by num_heads = {num_heads}")
        self.num_heads = num_heads
        self.w_q = nn.Linear(d_model, d_model)
        self.w_k = nn.Linear(d_model, d_model)
        self.w_v = nn.Linear(d_model, d_model)
        self.w_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, query, key, value, mask=None):
        q = split_heads(self.w_q(query), self.num_heads)
        k = split_heads(self.w_k(key), self.num_heads)
        v = split_heads(self.w_v(value), self.num_heads)
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(-3)  # (batch, T, S): the same mask for every head
        _, weights = scaled_dot_product_attention(q, k, v, mask)
        return self.w_o(merge_heads(self.dropout(weights) @ v)), weights


# --- stage 05 -----------------------------------------------------------------------------------


def sinusoidal_positional_encoding(max_len, d_model):
    """(max_len, d_model) float32: sin at even columns, cos at odd ones, computed in float64."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    freq = torch.pow(10000.0, -torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    angles = pos * freq  # (max_len, ceil(d_model / 2))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])  # odd d_model: one sine more than cosines
    return pe.to(torch.float32)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        t = x.shape[-2]
        if t > self.pe.shape[0]:
            raise ValueError(f"sequence of length {t} is longer than max_len = {self.pe.shape[0]}")
        return self.dropout(x + self.pe[:t])


# --- stage 06 -----------------------------------------------------------------------------------


class LayerNorm(nn.LayerNorm):
    """PyTorch's own LayerNorm under the course's signature (parameters `weight`, `bias`)."""

    def __init__(self, d_model, eps=1e-5):
        super().__init__(d_model, eps=eps)


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.linear2(self.dropout(F.relu(self.linear1(x))))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        attended, _ = self.self_attn(x, x, x, mask)
        h = self.norm1(x + self.dropout(attended))
        return self.norm2(h + self.dropout(self.ffn(h)))


class DecoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1 = LayerNorm(d_model)
        self.norm2 = LayerNorm(d_model)
        self.norm3 = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        attended, _ = self.self_attn(x, x, x, tgt_mask)
        h = self.norm1(x + self.dropout(attended))
        crossed, _ = self.cross_attn(h, memory, memory, src_mask)
        h = self.norm2(h + self.dropout(crossed))
        return self.norm3(h + self.dropout(self.ffn(h)))


class Encoder(nn.Module):
    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask)
        return x


class Decoder(nn.Module):
    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        for layer in self.layers:
            x = layer(x, memory, src_mask, tgt_mask)
        return x


# --- what each item runs on ---------------------------------------------------------------------
STAGE_04 = {"scaled_dot_product_attention": scaled_dot_product_attention,
            "split_heads": split_heads, "merge_heads": merge_heads}
STAGE_05 = {"sinusoidal_positional_encoding": sinusoidal_positional_encoding}
EARLIER = {"MultiHeadAttention": MultiHeadAttention, "PositionalEncoding": PositionalEncoding}
FOR_LAYERS = {**EARLIER, "LayerNorm": LayerNorm, "FeedForward": FeedForward}
FOR_STACKS = {**FOR_LAYERS, "EncoderLayer": EncoderLayer, "DecoderLayer": DecoderLayer}
FOR_MODEL = {**FOR_STACKS, "Encoder": Encoder, "Decoder": Decoder}
