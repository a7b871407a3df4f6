"""Oracles of stage 08 (the decoder-only GPT), in float64, written from the lectures and PyTorch.

- ``block_reference``: PyTorch's ``nn.TransformerEncoderLayer(norm_first=True, activation="gelu")``
  with a causal mask, run on the course's parameter names through ``torch.func.functional_call``:
  that layer *is* a pre-LN GPT block.
- ``gpt_reference``: token + learned position embeddings, those layers, ``F.layer_norm`` and a head
  tied to the token embedding.
- ``causal_attention``, ``block``, ``gpt``: the same computations written out (with a KV cache and
  an offset), with flags for the named mistakes (post-LN, no causal mask, ReLU, cache that attends
  before appending, positions that restart at 0, position embedding after the blocks, untied head).
- ``lm_loss``: next-token cross-entropy; ``top_p_support``: the nucleus as the contract defines it.

The public graders call these in the instructor's repository; the student export ships them as
recorded values (``record_expected.REPLAYED``). Parameter names are the contract's: a block's
``ln1``, ``attn.w_q`` ... ``attn.w_o``, ``ln2``, ``mlp.linear1``, ``mlp.linear2``; a model's
``tok_emb``, ``pos_emb``, ``blocks.<i>.``, ``ln_f`` (``head.weight`` is ``tok_emb.weight``).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

DT = torch.float64
INPUTS = ("gpt_weights", "sub")  # input builders: they ship as code


def sub(p: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}


def gpt_weights(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, torch.Tensor]:
    """Seeded float64 weights: matrices ~ N(0, 1/fan_in), embeddings ~ N(0, 1), LayerNorm weights
    ~ 1 + N(0, 0.2²) (a forgotten γ shows), biases ~ N(0, 0.2²)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in sorted(shapes.items()):
        if name.endswith("emb.weight"):
            out[name] = torch.randn(*shape, generator=g, dtype=DT)
        elif len(shape) == 2:
            out[name] = torch.randn(*shape, generator=g, dtype=DT) / math.sqrt(shape[1])
        elif name.split(".")[-2].startswith("ln") and name.endswith("weight"):
            out[name] = 1 + 0.2 * torch.randn(*shape, generator=g, dtype=DT)
        else:
            out[name] = 0.2 * torch.randn(*shape, generator=g, dtype=DT)
    return out


# --- PyTorch's pre-LN layer as the GPT block -------------------------------------------------------
def _torch_layer_params(p: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        "self_attn.in_proj_weight": torch.cat([p[f"attn.w_{n}.weight"] for n in "qkv"]),
        "self_attn.in_proj_bias": torch.cat([p[f"attn.w_{n}.bias"] for n in "qkv"]),
        "self_attn.out_proj.weight": p["attn.w_o.weight"], "self_attn.out_proj.bias": p["attn.w_o.bias"],
        "linear1.weight": p["mlp.linear1.weight"], "linear1.bias": p["mlp.linear1.bias"],
        "linear2.weight": p["mlp.linear2.weight"], "linear2.bias": p["mlp.linear2.bias"],
        "norm1.weight": p["ln1.weight"], "norm1.bias": p["ln1.bias"],
        "norm2.weight": p["ln2.weight"], "norm2.bias": p["ln2.bias"],
    }


def block_reference(p: dict[str, torch.Tensor], x: torch.Tensor, heads: int) -> torch.Tensor:
    """(batch, T, d) -> (batch, T, d): nn.TransformerEncoderLayer(norm_first=True, gelu), causal."""
    d, d_ff = p["mlp.linear1.weight"].shape[1], p["mlp.linear1.weight"].shape[0]
    layer = nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation="gelu", norm_first=True,
                                       batch_first=True, dtype=DT).train()  # train(): the plain code path
    t = x.shape[-2]
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)  # True = may NOT attend (nn's convention)
    params = {k: v.to(DT) for k, v in _torch_layer_params(p).items()}
    return functional_call(layer, params, (x.to(DT),), {"src_mask": mask})


def gpt_reference(p: dict[str, torch.Tensor], idx: torch.Tensor, heads: int, n_layers: int) -> torch.Tensor:
    """(batch, T) int64 -> logits (batch, T, vocab), from PyTorch's layers."""
    t = idx.shape[-1]
    x = F.embedding(idx, p["tok_emb.weight"].to(DT)) + p["pos_emb.weight"].to(DT)[:t]
    for i in range(n_layers):
        x = block_reference(sub(p, f"blocks.{i}."), x, heads)
    x = F.layer_norm(x, (x.shape[-1],), p["ln_f.weight"].to(DT), p["ln_f.bias"].to(DT))
    return x @ p["tok_emb.weight"].to(DT).T


# --- the same, written out, with a cache and the named mistakes ------------------------------------
def _linear(p, name, x):
    return x @ p[f"{name}.weight"].to(DT).T + p[f"{name}.bias"].to(DT)


def _ln(p, name, x):
    # PyTorch's own LayerNorm: this private helper ships as code, and stage 06's answer must not
    return F.layer_norm(x, (x.shape[-1],), p[f"{name}.weight"].to(DT), p[f"{name}.bias"].to(DT), 1e-5)


def causal_attention(p, x, heads, past=None, *, causal=True, offset=True, attend_before_append=False):
    """Causal self-attention with a KV cache: x (batch, T, d), past None or (k, v) (batch, heads, P, d_k).

    Returns (y (batch, T, d), k (batch, heads, P + T, d_k), v). Query t (absolute position P + t) sees
    keys 0 .. P + t. Mistakes: ``causal=False``; ``offset=False`` (the mask of rows 0..T−1, as if the new
    queries were the first positions); ``attend_before_append`` (the new queries see only the past keys
    and themselves are left out until the next call).
    """
    x = x.to(DT)
    b, t, d = x.shape
    split = lambda z: z.reshape(b, t, heads, d // heads).transpose(1, 2)  # noqa: E731
    q, k_new, v_new = (split(_linear(p, f"w_{n}", x)) for n in "qkv")
    if past is not None:
        k_all, v_all = torch.cat([past[0].to(DT), k_new], -2), torch.cat([past[1].to(DT), v_new], -2)
    else:
        k_all, v_all = k_new, v_new
    k_use, v_use = (past[0].to(DT), past[1].to(DT)) if attend_before_append and past is not None else (k_all, v_all)
    s, p_len = k_use.shape[-2], k_all.shape[-2] - t
    scores = q @ k_use.transpose(-2, -1) / math.sqrt(d // heads)
    if causal:
        rows = torch.arange(t)[:, None] + (p_len if offset else 0)
        allowed = torch.arange(s)[None, :] <= rows
        scores = scores.masked_fill(~allowed, float("-inf"))
    w = scores.softmax(-1).nan_to_num(0.0)
    y = (w @ v_use).transpose(1, 2).reshape(b, t, d)
    return _linear(p, "w_o", y), k_all, v_all


def mlp(p, x, *, relu=False):
    """linear2(GELU(linear1(x))), exact GELU (erf); ``relu=True``: the ReLU of stage 06 instead."""
    h = _linear(p, "linear1", x.to(DT))
    return _linear(p, "linear2", F.relu(h) if relu else F.gelu(h))


def block(p, x, heads, past=None, *, post_ln=False, relu=False, causal=True):
    """A pre-LN block x + attn(ln1(x)), x + mlp(ln2(x)); returns (x, k, v). ``post_ln``: stage 06's order."""
    x = x.to(DT)
    if post_ln:
        a, k, v = causal_attention(sub(p, "attn."), x, heads, past, causal=causal)
        x = _ln(p, "ln1", x + a)
        return _ln(p, "ln2", x + mlp(sub(p, "mlp."), x, relu=relu)), k, v
    a, k, v = causal_attention(sub(p, "attn."), _ln(p, "ln1", x), heads, past, causal=causal)
    x = x + a
    return x + mlp(sub(p, "mlp."), _ln(p, "ln2", x), relu=relu), k, v


def gpt(p, idx, heads, n_layers, cache=None, *, pos_after_blocks=False, restart_positions=False, no_final_norm=False):
    """(batch, T) -> (logits (batch, T, vocab), cache: a list of (k, v) per block). Positions continue
    from the cache's length (``restart_positions``: they start at 0 again); ``pos_after_blocks``: the
    position embedding added after the blocks instead of before them."""
    t = idx.shape[-1]
    past_len = 0 if cache is None else cache[0][0].shape[-2]
    start = 0 if restart_positions else past_len
    pos = p["pos_emb.weight"].to(DT)[start:start + t]
    x = F.embedding(idx, p["tok_emb.weight"].to(DT))
    if not pos_after_blocks:
        x = x + pos
    new_cache = []
    for i in range(n_layers):
        x, k, v = block(sub(p, f"blocks.{i}."), x, heads, None if cache is None else cache[i])
        new_cache.append((k, v))
    if pos_after_blocks:
        x = x + pos
    if not no_final_norm:
        x = _ln(p, "ln_f", x)
    return x @ p["tok_emb.weight"].to(DT).T, new_cache


def untied_logits(p, idx, heads, n_layers, head_weight):
    """The logits of a model whose head has its own weight ``head_weight`` (an untied head)."""
    t = idx.shape[-1]
    x = F.embedding(idx, p["tok_emb.weight"].to(DT)) + p["pos_emb.weight"].to(DT)[:t]
    for i in range(n_layers):
        x, _, _ = block(sub(p, f"blocks.{i}."), x, heads)
    return _ln(p, "ln_f", x) @ head_weight.to(DT).T


# --- loss and sampling -------------------------------------------------------------------------------
def lm_loss(logits, idx, pad_id=None, *, shifted=True, count_pad=False):
    """Mean next-token cross-entropy (a float): logits at t predict idx at t + 1, pad targets left out.

    Mistakes: ``shifted=False`` (logits at t scored against idx at t); ``count_pad`` (pad targets counted)."""
    logits, idx = logits.to(DT), idx.long()
    if shifted:
        logits, target = logits[:, :-1], idx[:, 1:]
    else:
        target = idx
    logp = logits.log_softmax(-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    keep = torch.ones_like(target, dtype=torch.bool) if pad_id is None or count_pad else target != pad_id
    return float(-(logp * keep).sum() / keep.sum())  # a number: the recorded values keep its shape ()


def top_p_support(probs, p, *, keep_crossing=True):
    """The nucleus of each row of ``probs`` (…, V): the smallest set of most probable tokens whose
    probability reaches ``p``; the token that crosses p is in it. Returns a bool mask (…, V).
    ``keep_crossing=False``: the mistake that leaves the crossing token out."""
    probs = probs.to(DT)
    sorted_p, order = probs.sort(-1, descending=True)
    before = sorted_p.cumsum(-1) - sorted_p  # probability of the tokens ranked above
    keep_sorted = before < p if keep_crossing else sorted_p.cumsum(-1) < p
    keep_sorted[..., 0] = True  # the most probable token is always kept
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def gpt_stepwise(p, idx, heads, n_layers, *, restart_positions=False):
    """The logits of feeding ``idx`` one token at a time with the cache, concatenated: (batch, T, vocab).
    Equal to ``gpt(p, idx, ...)`` for a correct model; ``restart_positions``: the offset dropped."""
    cache, out = None, []
    for t in range(idx.shape[-1]):
        logits, cache = gpt(p, idx[:, t:t + 1], heads, n_layers, cache, restart_positions=restart_positions)
        out.append(logits)
    return torch.cat(out, -2)
