"""Oracles for stages 04-06, all in float64.

- PyTorch's own modules given the student's weights: ``nn.MultiheadAttention``,
  ``nn.TransformerEncoderLayer`` and ``nn.TransformerDecoderLayer`` (batch_first, post-LN,
  dropout 0). They are the independent answers.
- Formulas from the lectures: the sinusoidal positional encoding (numpy), closed-form
  parameter counts.
- Known mistakes (``mistake_*`` and the keyword flags of the functional versions below): what a
  wrong implementation returns, so that a failing check can name the misconception. With every
  flag at its default these functions agree with the nn modules (tests/test_blocks.py checks).

Mask conventions. The course: boolean, True = may attend, broadcastable to (batch, heads, T, S);
a (batch, T, S) mask gains a head axis. PyTorch's nn modules: boolean ``attn_mask`` with True =
may NOT attend, of shape (T, S) or (batch · heads, T, S), batch-major. :func:`nn_mask` converts.
A query that may attend to nothing gives zeros in the course and nan in nn: graders never give
nn such a row.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.graders.torch_oracles import gen

DT = torch.float64

# Input builders: they ship as code in the student export.
INPUTS = ("random_weights", "sub", "shapes", "nn_mask")
# Still shipped as code (stage 06-07 oracles, not recorded yet; docs/architecture.md). Every other
# function here (qkv_parameter_count, mha_reference, mistake_positional_encoding) ships as values.
_LATER = "an oracle of stages 06-07, whose values are not recorded yet"
AS_CODE = {
    **{name: _LATER for name in (
        "nn_mha", "nn_encoder_layer", "nn_decoder_layer", "encoder_layer_reference", "decoder_layer_reference",
        "encoder_reference", "decoder_reference", "transformer_reference", "transformer_parameter_count",
        "layer_norm", "feed_forward", "encoder_layer", "decoder_layer", "encoder", "decoder", "embed",
        "transformer", "mistake_layer_norm_eps", "mistake_encoder_layer_eps", "mistake_decoder_layer_eps",
        "mistake_feed_forward_tanh_gelu", "mistake_log_softmax_generator", "mistake_loss_logits_as_log_probs")},
    "mha": "the functional MultiHeadAttention that stage 06's functional layers compute with (takes a state dict)",
    "positional_encoding": "blocks.PositionalEncoding's buffer and stage 06's whole-model oracle; numpy float64",
}


# --- weights ------------------------------------------------------------------------------------
def random_weights(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, torch.Tensor]:
    """Seeded float64 weights for parameters named as in the contract.

    Matrices ~ N(0, 1/fan_in) (embeddings: N(0, 1/d_model)); LayerNorm weights ~ 1 + N(0, 0.2²),
    so that a forgotten γ shows; biases ~ N(0, 0.2²); the buffer `pe` is the formula.
    """
    g = gen(seed)
    out = {}
    for name, shape in sorted(shapes.items()):
        if name.endswith("pe"):
            out[name] = torch.from_numpy(positional_encoding(*shape))
        elif len(shape) == 2:
            out[name] = torch.randn(*shape, generator=g, dtype=DT) / math.sqrt(shape[1])
        elif _is_norm(name) and name.endswith("weight"):
            out[name] = 1 + 0.2 * torch.randn(*shape, generator=g, dtype=DT)
        else:
            out[name] = 0.2 * torch.randn(*shape, generator=g, dtype=DT)
    return out


def _is_norm(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 1 or parts[-2].startswith("norm")


def sub(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries under ``prefix`` ('encoder.layers.0.'), with the prefix removed."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def shapes(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


# --- PyTorch's modules with the course's weights ------------------------------------------------
def _mha_into(m: nn.MultiheadAttention, p: dict[str, torch.Tensor]) -> None:
    m.in_proj_weight.copy_(torch.cat([p["w_q.weight"], p["w_k.weight"], p["w_v.weight"]]))
    m.in_proj_bias.copy_(torch.cat([p["w_q.bias"], p["w_k.bias"], p["w_v.bias"]]))
    m.out_proj.weight.copy_(p["w_o.weight"])
    m.out_proj.bias.copy_(p["w_o.bias"])


def _lin_into(m: nn.Linear, p: dict[str, torch.Tensor]) -> None:
    m.weight.copy_(p["weight"])
    m.bias.copy_(p["bias"])


def nn_mha(p: dict[str, torch.Tensor], heads: int) -> nn.MultiheadAttention:
    d = p["w_q.weight"].shape[0]
    m = nn.MultiheadAttention(d, heads, dropout=0.0, batch_first=True, dtype=DT)
    with torch.no_grad():
        _mha_into(m, p)
    return m.train()  # training mode with dropout 0: the plain (not the "fast path") code


def nn_mask(mask: torch.Tensor | None, batch: int, heads: int, t: int, s: int) -> torch.Tensor | None:
    """The course's mask (True = may attend) as nn's attn_mask: (batch · heads, T, S), True = may not."""
    if mask is None:
        return None
    if mask.dim() == 3:
        mask = mask.unsqueeze(1)
    return mask.logical_not().expand(batch, heads, t, s).reshape(batch * heads, t, s)


def mha_reference(p, query, key, value, mask, heads):
    """nn.MultiheadAttention's (out, per-head weights) for the course's weights and mask."""
    m = nn_mha(p, heads)
    b, t, s = query.shape[0], query.shape[1], key.shape[1]
    with torch.no_grad():
        out, w = m(query.to(DT), key.to(DT), value.to(DT), attn_mask=nn_mask(mask, b, heads, t, s),
                   need_weights=True, average_attn_weights=False)
    return out, w


def nn_encoder_layer(p: dict[str, torch.Tensor], heads: int) -> nn.TransformerEncoderLayer:
    d, d_ff = p["ffn.linear1.weight"].shape[1], p["ffn.linear1.weight"].shape[0]
    layer = nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, batch_first=True, norm_first=False, dtype=DT)
    with torch.no_grad():
        _mha_into(layer.self_attn, sub(p, "self_attn."))
        _lin_into(layer.linear1, sub(p, "ffn.linear1."))
        _lin_into(layer.linear2, sub(p, "ffn.linear2."))
        _lin_into(layer.norm1, sub(p, "norm1."))
        _lin_into(layer.norm2, sub(p, "norm2."))
    return layer.train()


def nn_decoder_layer(p: dict[str, torch.Tensor], heads: int) -> nn.TransformerDecoderLayer:
    d, d_ff = p["ffn.linear1.weight"].shape[1], p["ffn.linear1.weight"].shape[0]
    layer = nn.TransformerDecoderLayer(d, heads, d_ff, dropout=0.0, batch_first=True, norm_first=False, dtype=DT)
    with torch.no_grad():
        _mha_into(layer.self_attn, sub(p, "self_attn."))
        _mha_into(layer.multihead_attn, sub(p, "cross_attn."))
        _lin_into(layer.linear1, sub(p, "ffn.linear1."))
        _lin_into(layer.linear2, sub(p, "ffn.linear2."))
        for i in (1, 2, 3):
            _lin_into(getattr(layer, f"norm{i}"), sub(p, f"norm{i}."))
    return layer.train()


def encoder_layer_reference(p, x, mask, heads):
    """nn.TransformerEncoderLayer's output for the course's weights and mask."""
    b, s = x.shape[0], x.shape[1]
    with torch.no_grad():
        return nn_encoder_layer(p, heads)(x.to(DT), src_mask=nn_mask(mask, b, heads, s, s))


def decoder_layer_reference(p, x, memory, src_mask, tgt_mask, heads):
    """nn.TransformerDecoderLayer's output for the course's weights and masks."""
    b, t, s = x.shape[0], x.shape[1], memory.shape[1]
    with torch.no_grad():
        return nn_decoder_layer(p, heads)(x.to(DT), memory.to(DT), tgt_mask=nn_mask(tgt_mask, b, heads, t, t),
                                          memory_mask=nn_mask(src_mask, b, heads, t, s))


def encoder_reference(p, x, mask, heads, num_layers):
    """num_layers nn.TransformerEncoderLayer in a row (weights under 'layers.i.'), no final LayerNorm."""
    for i in range(num_layers):
        x = encoder_layer_reference(sub(p, f"layers.{i}."), x, mask, heads)
    return x.to(DT)


def decoder_reference(p, x, memory, src_mask, tgt_mask, heads, num_layers):
    for i in range(num_layers):
        x = decoder_layer_reference(sub(p, f"layers.{i}."), x, memory, src_mask, tgt_mask, heads)
    return x.to(DT)


def transformer_reference(p, src, tgt, src_mask, tgt_mask, heads, num_layers):
    """(memory, decoder states, logits) of the whole model, built from nn layers and the formulas."""
    d = p["src_embed.weight"].shape[1]
    pe = torch.from_numpy(positional_encoding(max(src.shape[1], tgt.shape[1]), d))
    with torch.no_grad():
        x = F.embedding(src, p["src_embed.weight"]) * math.sqrt(d) + pe[: src.shape[1]]
        memory = encoder_reference(sub(p, "encoder."), x, src_mask, heads, num_layers)
        y = F.embedding(tgt, p["tgt_embed.weight"]) * math.sqrt(d) + pe[: tgt.shape[1]]
        states = decoder_reference(sub(p, "decoder."), y, memory, src_mask, tgt_mask, heads, num_layers)
        logits = F.linear(states, p["generator.weight"], p["generator.bias"])
    return memory, states, logits


# --- formulas -----------------------------------------------------------------------------------
def positional_encoding(max_len: int, d_model: int) -> np.ndarray:
    """The slides' t_{i,2j} = sin(i / 10000^(2j/k)), t_{i,2j+1} = cos(i / 10000^(2j/k)), float64."""
    i = np.arange(max_len, dtype=np.float64)[:, None]
    col = np.arange(d_model)[None, :]
    two_j = col - col % 2  # columns 2j and 2j+1 share the frequency of pair j
    angle = i / np.power(10000.0, two_j / d_model)
    return np.where(col % 2 == 0, np.sin(angle), np.cos(angle))


def qkv_parameter_count(k: int, r: int, efficient: bool) -> int:
    """Weights of the q, k, v projections of r heads (no biases, no W_o): the slides' table."""
    return 3 * r * k * (k // r if efficient else k)


def transformer_parameter_count(src_vocab, tgt_vocab, d_model, num_heads, num_layers, d_ff) -> int:
    """Closed form for the course's model (no final LayerNorm, separate embeddings, biased generator)."""
    d = d_model
    mha = 4 * (d * d + d)
    ffn = d * d_ff + d_ff + d_ff * d + d
    norm = 2 * d
    encoder_layer = mha + ffn + 2 * norm
    decoder_layer = 2 * mha + ffn + 3 * norm
    return (src_vocab + tgt_vocab) * d + num_layers * (encoder_layer + decoder_layer) + d * tgt_vocab + tgt_vocab


# --- the functional model, with switches for known mistakes -------------------------------------
def _linear(p, name, x):
    return F.linear(x, p[f"{name}.weight"], p[f"{name}.bias"])


def mha(p, query, key, value, mask, heads, *, w_o=True, scale=None, split="ok", merge="ok",
        value_from_key=False, average=False, mask_head_axis=True):
    """Multi-head attention from the course's weights ``p`` (w_q, w_k, w_v, w_o)."""
    query, key, value = query.to(DT), key.to(DT), value.to(DT)
    q = _linear(p, "w_q", query)
    k = _linear(p, "w_k", key)
    v = _linear(p, "w_v", key if value_from_key else value)
    d = q.shape[-1]
    d_k = d // heads

    def split_(x):
        b, n = x.shape[0], x.shape[1]
        if split == "no_transpose":
            return x.reshape(b, heads, n, d_k)
        if split == "interleaved":
            return x.reshape(b, n, d_k, heads).permute(0, 3, 1, 2)
        return x.reshape(b, n, heads, d_k).transpose(1, 2)

    q, k, v = split_(q), split_(k), split_(v)
    scores = q @ k.transpose(-1, -2) * (1 / math.sqrt(d_k) if scale is None else scale)
    if mask is not None:
        if mask.dim() == 3 and mask_head_axis:
            mask = mask.unsqueeze(1)
        scores = scores.masked_fill(~mask, float("-inf"))
    w = scores.softmax(-1)
    if mask is not None:
        w = w.masked_fill(~mask, 0.0)
    heads_out = w @ v
    b, t = heads_out.shape[0], heads_out.shape[2]
    if merge == "no_transpose":
        merged = heads_out.reshape(b, t, d)
    elif merge == "interleaved":
        merged = heads_out.permute(0, 2, 3, 1).reshape(b, t, d)
    else:
        merged = heads_out.transpose(1, 2).reshape(b, t, d)
    out = _linear(p, "w_o", merged) if w_o else merged
    return out, (w.mean(1) if average else w)


def layer_norm(x, weight=None, bias=None, eps=1e-5, *, unbiased=False, eps_outside=False, axis=-1):
    x = x.to(DT)
    mean = x.mean(axis, keepdim=True)
    var = x.var(axis, keepdim=True, unbiased=unbiased)
    y = (x - mean) / (var.sqrt() + eps if eps_outside else (var + eps).sqrt())
    if weight is not None:
        y = y * weight + bias
    return y


def _norm(p, name, x):
    return layer_norm(x, p[f"{name}.weight"], p[f"{name}.bias"])


def feed_forward(p, x, *, activation="relu", relu_after=False):
    h = _linear(p, "linear1", x.to(DT))
    h = F.gelu(h) if activation == "gelu" else F.relu(h)
    out = _linear(p, "linear2", h)
    return F.relu(out) if relu_after else out


def encoder_layer(p, x, mask, heads, *, pre_ln=False, residual=(True, True), use_mask=True,
                  second_residual_from_input=False):
    x = x.to(DT)
    attn = lambda z: mha(sub(p, "self_attn."), z, z, z, mask if use_mask else None, heads)[0]  # noqa: E731
    ffn = lambda z: feed_forward(sub(p, "ffn."), z)  # noqa: E731
    if pre_ln:
        h = x + attn(_norm(p, "norm1", x))
        return h + ffn(_norm(p, "norm2", h))
    h = _norm(p, "norm1", (x if residual[0] else 0) + attn(x))
    base = x if second_residual_from_input else h
    return _norm(p, "norm2", (base if residual[1] else 0) + ffn(h))


def decoder_layer(p, x, memory, src_mask, tgt_mask, heads, *, causal=True, cross_queries_from_memory=False,
                  masks_swapped=False, residual=(True, True, True), pre_ln=False):
    x, memory = x.to(DT), memory.to(DT)
    self_mask, cross_mask = (src_mask, tgt_mask) if masks_swapped else (tgt_mask, src_mask)
    self_mask = self_mask if causal else None
    sa = lambda z: mha(sub(p, "self_attn."), z, z, z, self_mask, heads)[0]  # noqa: E731

    def ca(z):
        if cross_queries_from_memory:
            return mha(sub(p, "cross_attn."), memory, z, z, cross_mask, heads)[0]
        return mha(sub(p, "cross_attn."), z, memory, memory, cross_mask, heads)[0]

    ffn = lambda z: feed_forward(sub(p, "ffn."), z)  # noqa: E731
    if pre_ln:
        h = x + sa(_norm(p, "norm1", x))
        h = h + ca(_norm(p, "norm2", h))
        return h + ffn(_norm(p, "norm3", h))
    h = _norm(p, "norm1", (x if residual[0] else 0) + sa(x))
    h = _norm(p, "norm2", (h if residual[1] else 0) + ca(h))
    return _norm(p, "norm3", (h if residual[2] else 0) + ffn(h))


def encoder(p, x, mask, heads, num_layers, *, chained=True, final_norm=False, add_pe=False):
    x = x.to(DT)
    if add_pe:
        x = x + torch.from_numpy(positional_encoding(x.shape[1], x.shape[2]))
    out = x
    for i in range(num_layers):
        out = encoder_layer(sub(p, f"layers.{i}."), out if chained else x, mask, heads)
    return layer_norm(out) if final_norm else out


def decoder(p, x, memory, src_mask, tgt_mask, heads, num_layers, *, chained=True, final_norm=False):
    x = x.to(DT)
    out = x
    for i in range(num_layers):
        out = decoder_layer(sub(p, f"layers.{i}."), out if chained else x, memory, src_mask, tgt_mask, heads)
    return layer_norm(out) if final_norm else out


def embed(p, tokens, table, *, scale=True, scale_after_pe=False):
    w = p[f"{table}.weight"]
    d = w.shape[1]
    x = F.embedding(tokens, w)
    pe = torch.from_numpy(positional_encoding(tokens.shape[1], d))
    if scale_after_pe:
        return (x + pe) * math.sqrt(d)
    return x * (math.sqrt(d) if scale else 1.0) + pe


def transformer(p, src, tgt, src_mask, tgt_mask, heads, num_layers, *, scale=True, scale_after_pe=False,
                tgt_table="tgt_embed"):
    """(memory, decoder states, logits) of the functional model, with switches for known mistakes."""
    x = embed(p, src, "src_embed", scale=scale, scale_after_pe=scale_after_pe)
    memory = encoder(sub(p, "encoder."), x, src_mask, heads, num_layers)
    y = embed(p, tgt, tgt_table, scale=scale, scale_after_pe=scale_after_pe)
    states = decoder(sub(p, "decoder."), y, memory, src_mask, tgt_mask, heads, num_layers)
    return memory, states, _linear(p, "generator", states)


# --- known mistakes of stage 05 -----------------------------------------------------------------
def mistake_positional_encoding(max_len: int, d_model: int, kind: str) -> np.ndarray:
    i = np.arange(max_len, dtype=np.float64)[:, None]
    col = np.arange(d_model)[None, :]
    if kind == "swapped":  # cos at even columns, sin at odd ones
        angle = i / np.power(10000.0, (col - col % 2) / d_model)
        return np.where(col % 2 == 0, np.cos(angle), np.sin(angle))
    if kind == "column_exponent":  # 10000^(c/d) with c the column, not 2j
        angle = i / np.power(10000.0, col / d_model)
        return np.where(col % 2 == 0, np.sin(angle), np.cos(angle))
    if kind == "doubled_exponent":  # 10000^(2c/d)
        angle = i / np.power(10000.0, 2 * col / d_model)
        return np.where(col % 2 == 0, np.sin(angle), np.cos(angle))
    if kind == "halves":  # [sin of every pair | cos of every pair]
        two_j = np.arange(0, d_model, 2)[None, :]
        angle = i / np.power(10000.0, two_j / d_model)
        return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)[:, :d_model]
    raise ValueError(kind)


# --- known mistakes of public implementations (issue 11, item 10) -------------------------------
# Each computes only the mistaken variant (no argument gives the right answer back).
TUTORIAL_EPS = (1e-6, 1e-12)  # LayerNorm eps of well-known tutorials and BERT; never the contract's 1e-5


def mistake_layer_norm_eps(x, weight, bias, which: int):
    """LayerNorm with a tutorial's eps, TUTORIAL_EPS[which], instead of the one asked for."""
    return layer_norm(x, weight, bias, TUTORIAL_EPS[which])


def _tutorial_norm(p, name, x, which):
    return mistake_layer_norm_eps(x, p[f"{name}.weight"], p[f"{name}.bias"], which)


def mistake_encoder_layer_eps(p, x, mask, heads, which: int):
    """A post-LN encoder layer whose norms were built with eps = TUTORIAL_EPS[which]."""
    x = x.to(DT)
    h = _tutorial_norm(p, "norm1", x + mha(sub(p, "self_attn."), x, x, x, mask, heads)[0], which)
    return _tutorial_norm(p, "norm2", h + feed_forward(sub(p, "ffn."), h), which)


def mistake_decoder_layer_eps(p, x, memory, src_mask, tgt_mask, heads, which: int):
    """A post-LN decoder layer whose norms were built with eps = TUTORIAL_EPS[which]."""
    x, memory = x.to(DT), memory.to(DT)
    h = _tutorial_norm(p, "norm1", x + mha(sub(p, "self_attn."), x, x, x, tgt_mask, heads)[0], which)
    h = _tutorial_norm(p, "norm2", h + mha(sub(p, "cross_attn."), h, memory, memory, src_mask, heads)[0], which)
    return _tutorial_norm(p, "norm3", h + feed_forward(sub(p, "ffn."), h), which)


def mistake_feed_forward_tanh_gelu(p, x):
    """linear2(GELU(linear1(x))) with GELU's tanh approximation (GPT-2's), not a ReLU."""
    h = F.gelu(_linear(p, "linear1", x.to(DT)), approximate="tanh")
    return _linear(p, "linear2", h)


def mistake_log_softmax_generator(logits):
    """log_softmax over the vocabulary: a generator that returns log-probabilities (every row of the
    logits shifted by its log-sum-exp), as some tutorials' generators do."""
    return torch.log_softmax(logits.to(DT), dim=-1)


def mistake_loss_logits_as_log_probs(logits, target, pad_id, smoothing):
    """The label-smoothed loss computed on the logits as if they were log-probabilities (no
    log_softmax; right only for a model whose generator already applies one): off by the mean
    log-sum-exp of the rows."""
    v = logits.shape[-1]
    z = logits.reshape(-1, v).to(DT)
    y = target.reshape(-1)
    keep = (y != pad_id).to(DT)
    nll = -z.gather(-1, y[:, None])[:, 0]
    per = (1 - smoothing) * nll + smoothing * (-z.mean(-1))
    return (per * keep).sum() / keep.sum()
