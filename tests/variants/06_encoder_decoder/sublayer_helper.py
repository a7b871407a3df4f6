"""Correct LayerNorm, FeedForward and layers written differently: rsqrt, keyword arguments, a residual helper
method, dropout passed on by keyword."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))
        self.eps = eps

    def forward(self, x):
        centred = x - x.mean(dim=-1, keepdim=True)
        var = (centred * centred).mean(dim=-1, keepdim=True)
        return centred * torch.rsqrt(var + self.eps) * self.weight + self.bias


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1 = nn.Linear(in_features=d_model, out_features=d_ff)
        self.linear2 = nn.Linear(in_features=d_ff, out_features=d_model)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        return self.linear2(self.dropout(F.relu(self.linear1(x))))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout=dropout)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.dropout = nn.Dropout(p=dropout)

    def _add_norm(self, x, out, norm):
        return norm(x + self.dropout(out))

    def forward(self, x, mask=None):
        x = self._add_norm(x, self.self_attn(x, x, x, mask=mask)[0], self.norm1)
        return self._add_norm(x, self.ffn(x), self.norm2)


class DecoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout=dropout)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model) for _ in range(3))
        self.dropout = nn.Dropout(p=dropout)

    def _add_norm(self, x, out, norm):
        return norm(x + self.dropout(out))

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        x = self._add_norm(x, self.self_attn(x, x, x, mask=tgt_mask)[0], self.norm1)
        x = self._add_norm(x, self.cross_attn(x, memory, memory, mask=src_mask)[0], self.norm2)
        return self._add_norm(x, self.ffn(x), self.norm3)
