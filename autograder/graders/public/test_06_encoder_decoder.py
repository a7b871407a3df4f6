"""Public graders of stage 06: LayerNorm, FeedForward, encoder and decoder layers, stacks, Transformer.

Oracles: nn.LayerNorm (F.layer_norm), and nn.TransformerEncoderLayer / nn.TransformerDecoderLayer
(batch_first, post-LN, dropout 0) given the same weights, in float64; whole models are built
from those layers (nn.Transformer would add a final LayerNorm). Properties: causality, padding
invariance, permutation equivariance, gradients reaching every parameter, the closed-form
parameter count of the paper's base model.

Every item runs the student's new class on trusted building blocks (autograder.graders.blocks):
MultiHeadAttention and PositionalEncoding from the earlier stages, and the classes of the items
before it in this stage, so that one bug costs points in one item only.
"""

from __future__ import annotations

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_shape, fail, hinted
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import (
    TORCH,
    changed,
    expect_dropout,
    expect_dropout_before_norm,
    expect_dropout_inside,
    expect_residual_dropout,
    expect_number,
    expect_parameters,
    expect_submodules,
    load,
    no_builtin,
)

B, S, T, D, H, FF, N = 2, 6, 5, 12, 3, 20, 2  # batch, source and target lengths, d_model, heads, d_ff, layers
DT = torch.float64


def _shapes(module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


def _pad_mask(lengths, s):
    """(batch, 1, 1, S): True on the first lengths[b] positions."""
    return (torch.arange(s)[None, :] < torch.tensor(lengths)[:, None])[:, None, None, :]


def _x(*shape, seed):
    return t.randn(*shape, seed=seed)


# --- LayerNorm -----------------------------------------------------------------------------------
def _ln_state(d, seed):
    g = t.gen(seed)
    return {"weight": 1 + 0.3 * torch.randn(d, generator=g, dtype=DT), "bias": 0.3 * torch.randn(d, generator=g, dtype=DT)}


def _ln(student, d, seed, eps=None):
    m = student.build("LayerNorm", d) if eps is None else student.build("LayerNorm", d, eps)
    no_builtin(m)
    expect_parameters(m, {"weight": (d,), "bias": (d,)}, hint="hint.ln_parameters",
                      diagnoses={"why.ln_names": lambda got: len(got) == 2 and set(got) != {"weight", "bias"}})
    state = _ln_state(d, seed)
    load(m, state)
    return m, state


def _ln_mistakes(x, state, eps=1e-5):
    w, b = state["weight"], state["bias"]
    return {
        "why.ln_unbiased": lambda: o.layer_norm(x, w, b, eps, unbiased=True),
        "why.ln_eps_outside": lambda: o.layer_norm(x, w, b, eps, eps_outside=True),
        "why.ln_eps_ignored": lambda: o.layer_norm(x, w, b, 1e-5),
        "why.ln_axis": lambda: o.layer_norm(x, w, b, eps, axis=0),
    }


def _ln_default_eps_mistakes(x, state):
    """The two checks that build LayerNorm(d) with its default eps: a tutorial's default (1e-6) shows."""
    w, b = state["weight"], state["bias"]
    return {f"why.ln_default_eps#{i}": (lambda i=i: o.mistake_layer_norm_eps(x, w, b, i))
            for i in range(len(o.TUTORIAL_EPS))}


def _ln_reference(x, state, eps=1e-5):
    return torch.nn.functional.layer_norm(x.to(DT), (x.shape[-1],), state["weight"], state["bias"], eps)


@grader("layer_norm", "ln.parameters")
def test_ln_parameters(student):
    m = student.build("LayerNorm", 7)
    no_builtin(m)
    expect_parameters(m, {"weight": (7,), "bias": (7,)}, hint="hint.ln_parameters",
                      diagnoses={"why.ln_names": lambda got: len(got) == 2 and set(got) != {"weight", "bias"}})
    state = m.state_dict()
    expect_array(state["weight"], torch.ones(7), phrase("the initial weight (γ)"), **TORCH, hint="hint.ln_parameters")
    expect_array(state["bias"], torch.zeros(7), phrase("the initial bias (β)"), **TORCH, hint="hint.ln_parameters")
    reference = torch.nn.LayerNorm(7).state_dict()
    m.load_state_dict(reference)  # an nn.LayerNorm state dict loads as it is


@grader("layer_norm", "ln.oracle", weight=2)
def test_ln_oracle(student):
    m, state = _ln(student, D, seed=700)
    x = 2 * _x(B, T, D, seed=701) + 1
    expect_array(m(x), _ln_reference(x, state), phrase("LayerNorm(12) of x with shape (2, 5, 12)"), **TORCH,
                 hint="hint.ln_formula", diagnoses={**_ln_mistakes(x, state), **_ln_default_eps_mistakes(x, state)})


@grader("layer_norm", "ln.small_variance")
def test_ln_small_variance(student):
    m, state = _ln(student, 4, seed=702)
    x = 1e-3 * _x(3, 4, seed=703) + torch.tensor([[0.5], [-2.0], [3.0]], dtype=DT)  # variance ≈ 1e-6 < eps
    expect_array(m(x), _ln_reference(x, state), phrase("LayerNorm(4) of rows with variance ≈ 1e-6 (smaller than eps)"),
                 **TORCH, hint="hint.ln_formula",
                 diagnoses={**_ln_mistakes(x, state), **_ln_default_eps_mistakes(x, state)})


@grader("layer_norm", "ln.eps")
def test_ln_eps_argument(student):
    m, state = _ln(student, 4, seed=704, eps=0.1)
    x = 0.2 * _x(3, 4, seed=705)
    expect_array(m(x), _ln_reference(x, state, eps=0.1), "LayerNorm(4, eps=0.1)", **TORCH, hint="hint.ln_formula",
                 diagnoses=_ln_mistakes(x, state, eps=0.1))


# --- FeedForward ---------------------------------------------------------------------------------
def _ffn(student, dropout=0.0, seed=710):
    m = student.build("FeedForward", D, FF, dropout, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, _shapes(blocks.FeedForward(D, FF)), hint="hint.ffn")
    state = o.random_weights(_shapes(blocks.FeedForward(D, FF)), seed)
    load(m, state)
    return m, state


@grader("feed_forward", "ffn.parameters")
def test_ffn_parameters(student):
    m = student.build("FeedForward", D, FF, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, _shapes(blocks.FeedForward(D, FF)), hint="hint.ffn")
    expect_submodules(m, {"linear1": "Linear", "linear2": "Linear", "dropout": "Dropout"})


@grader("feed_forward", "ffn.oracle", weight=2)
def test_ffn_oracle(student):
    m, state = _ffn(student)
    x = _x(B, T, D, seed=711)
    expect_array(m(x), o.feed_forward(state, x), phrase("FeedForward(12, 20) of x"), **TORCH, hint="hint.ffn", diagnoses={
        "why.ffn_relu_after": lambda: o.feed_forward(state, x, relu_after=True),
        "why.ffn_activation": lambda: o.feed_forward(state, x, activation="gelu"),
        "why.ffn_activation#tanh": lambda: o.mistake_feed_forward_tanh_gelu(state, x),
    })


@grader("feed_forward", "ffn.dropout")
def test_ffn_dropout(student):
    x = _x(B, T, D, seed=712)
    state = o.random_weights(_shapes(blocks.FeedForward(D, FF)), 713)

    def build(p):
        m = student.build("FeedForward", D, FF, p, trusted=blocks.FOR_LAYERS)
        load(m, state)
        return m

    expect_dropout(build, lambda m: m(x), o.feed_forward(state, x), "FeedForward")
    m = build(0.5)
    load(m, {**state, "linear2.weight": torch.zeros(D, FF, dtype=DT)})
    expect_dropout_inside(m, lambda m: m(x), state["linear2.bias"], "FeedForward",
                          phrase("on the hidden layer, between the ReLU and linear2"))


# --- EncoderLayer --------------------------------------------------------------------------------
ENC_SHAPES = _shapes(blocks.EncoderLayer(D, H, FF))


def _enc(student, dropout=0.0, seed=720):
    m = student.build("EncoderLayer", D, H, FF, dropout, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, ENC_SHAPES, hint="hint.enc_parameters")
    state = o.random_weights(ENC_SHAPES, seed)
    load(m, state)
    return m, state


def _enc_mistakes(state, x, mask):
    f = lambda **kw: (lambda: o.encoder_layer(state, x, mask, H, **kw))  # noqa: E731
    return {
        "why.pre_ln": f(pre_ln=True),
        "why.no_residual#attention": f(residual=(False, True)),
        "why.no_residual#mlp": f(residual=(True, False)),
        "why.residual_from_input": f(second_residual_from_input=True),
        "why.enc_mask_ignored": f(use_mask=False),
        **{f"why.layer_norm_eps#{i}": (lambda i=i: o.mistake_encoder_layer_eps(state, x, mask, H, i))
           for i in range(len(o.TUTORIAL_EPS))},
    }


@grader("encoder_layer", "enc.parameters")
def test_enc_parameters(student):
    m = student.build("EncoderLayer", D, H, FF, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, ENC_SHAPES, hint="hint.enc_parameters")
    expect_submodules(m, {"self_attn": "MultiHeadAttention", "ffn": "FeedForward", "norm1": "LayerNorm",
                          "norm2": "LayerNorm", "dropout": "Dropout"})


@grader("encoder_layer", "enc.oracle", weight=2)
def test_enc_oracle(student):
    m, state = _enc(student)
    x = _x(B, S, D, seed=721)
    expect_array(m(x), o.encoder_layer_reference(state, x, None, H), phrase("the output of the encoder layer"), **TORCH,
                 hint="hint.enc_order", diagnoses=_enc_mistakes(state, x, None))


@grader("encoder_layer", "enc.mask")
def test_enc_mask(student):
    m, state = _enc(student, seed=722)
    x = _x(B, S, D, seed=723)
    mask = _pad_mask([S, 4], S)
    expect_array(m(x, mask), o.encoder_layer_reference(state, x, mask, H),
                 phrase("the output with a padding mask (the second sentence has 2 padded positions)"), **TORCH,
                 hint="hint.enc_mask", diagnoses=_enc_mistakes(state, x, mask))


@grader("encoder_layer", "enc.padding_invariance")
def test_enc_padding_invariance(student):
    m, state = _enc(student, seed=724)
    x = _x(B, S, D, seed=725)
    mask = _pad_mask([3, 4], S)
    x2 = x.clone()
    x2[0, 3:] += 5 * _x(S - 3, D, seed=726)
    x2[1, 4:] -= 3.0
    out, out2 = m(x, mask), m(x2, mask)
    expect_shape(out2, (B, S, D), phrase("the output"), **TORCH)
    expect_array(out2[0, :3], out[0, :3], phrase("the real tokens' outputs after changing the padded tokens"), **TORCH,
                 hint="hint.enc_mask",
                 diagnoses={"why.enc_mask_ignored": lambda: o.encoder_layer(state, x2, mask, H, use_mask=False)[0, :3]})


@grader("encoder_layer", "enc.dropout")
def test_enc_dropout(student):
    x = _x(B, S, D, seed=727)
    state = o.random_weights(ENC_SHAPES, 728)

    def build(p):
        m = student.build("EncoderLayer", D, H, FF, p, trusted=blocks.FOR_LAYERS)
        load(m, state)
        return m

    # first the rate each sub-layer got: a FeedForward left at its default 0.1 also makes dropout=0.0 drop
    _expect_sublayer_rates(student, "EncoderLayer", state, lambda m: m(x), x, ("attention", "ffn"))
    expect_dropout(build, lambda m: m(x), o.encoder_layer_reference(state, x, None, H), "EncoderLayer")
    m = build(0.5)
    load(m, _constant_sublayers(state))
    expect_residual_dropout(m, lambda m: m(x), "EncoderLayer")
    load(m, _silent_sublayers(state))
    expect_dropout_before_norm(m, lambda m: m(x), "EncoderLayer")


def _silent_sublayers(state):
    """The layer's weights with each sub-layer's last weight and bias zeroed: every sub-layer outputs 0."""
    return {k: torch.zeros_like(v) if k.endswith(("w_o.weight", "w_o.bias", "linear2.weight", "linear2.bias")) else v
            for k, v in state.items()}


PROBE_RATE = 0.3  # neither MultiHeadAttention's default (0.0) nor FeedForward's (0.1)
RATE_PROBES = {**blocks.FOR_LAYERS, "MultiHeadAttention": t._rate_probe_attention,
               "FeedForward": t._rate_probe_feed_forward}


def _probe_output(state, x, rates):
    """A post-LN layer on the rate probes: each sub-layer adds rate · its pattern, then the next norm.

    ``rates``: (kind, rate) per sub-layer in order, kind "attention" or "ffn"; (batch, T, d) float64."""
    h = x.to(DT)
    for i, (kind, rate) in enumerate(rates, start=1):
        pattern = rate * t._probe_pattern(h.shape[-1], t.PROBE_PHASE[kind], h)
        h = torch.nn.functional.layer_norm(h + pattern, (h.shape[-1],), state[f"norm{i}.weight"], state[f"norm{i}.bias"])
    return h


def _expect_sublayer_rates(student, cls, state, call, x, kinds):
    """Built on probes that output rate · pattern (in eval mode), the layer shows which dropout rate reached
    each of its sub-layers: all of them must get the rate the layer was given."""
    m = student.build(cls, D, H, FF, PROBE_RATE, trusted=RATE_PROBES)
    load(m, state)
    defaults = {"attention": 0.0, "ffn": 0.1}  # what a sub-layer built without the rate has
    right = [(k, PROBE_RATE) for k in kinds]
    diagnoses = {}
    for i, kind in enumerate(kinds):
        wrong = [(k, defaults[k] if j == i else PROBE_RATE) for j, k in enumerate(kinds)]
        diagnoses[f"why.{'attn' if kind == 'attention' else 'ffn'}_rate_not_passed#{i}"] = \
            lambda wrong=wrong: _probe_output(state, x, wrong)
    diagnoses["why.attn_rate_not_passed#all"] = lambda: _probe_output(
        state, x, [(k, defaults[k] if k == "attention" else PROBE_RATE) for k in kinds])
    got = call(m)
    if changed(call(m), got):  # random in eval mode: expect_dropout names that (dropout in eval)
        return
    expect_array(got, _probe_output(state, x, right), phrase("the output of {cls}(..., dropout={rate}) in eval mode "
                 "on sub-layers that output the dropout rate they were built with", cls=cls, rate=PROBE_RATE),
                 **TORCH, hint="hint.sublayer_rate",
                 diagnoses=diagnoses, rtol=1e-3, atol=1e-4)  # rates 0.3 / 0.1 / 0 differ by far more; eps does not count here


def _constant_sublayers(state):
    """The layer's weights with each sub-layer's last weight zeroed: every sub-layer outputs its bias."""
    return {k: torch.zeros_like(v) if k.endswith(("w_o.weight", "linear2.weight")) else v for k, v in state.items()}


# --- DecoderLayer --------------------------------------------------------------------------------
DEC_SHAPES = _shapes(blocks.DecoderLayer(D, H, FF))


def _dec(student, dropout=0.0, seed=730):
    m = student.build("DecoderLayer", D, H, FF, dropout, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, DEC_SHAPES, hint="hint.dec_parameters")
    state = o.random_weights(DEC_SHAPES, seed)
    load(m, state)
    return m, state


def _dec_mistakes(state, x, memory, src_mask, tgt_mask):
    f = lambda **kw: (lambda: o.decoder_layer(state, x, memory, src_mask, tgt_mask, H, **kw))  # noqa: E731
    return {
        "why.dec_no_causal": f(causal=False),
        "why.dec_cross_queries": f(cross_queries_from_memory=True),
        "why.dec_masks_swapped": f(masks_swapped=True),
        "why.pre_ln": f(pre_ln=True),
        "why.no_residual#self": f(residual=(False, True, True)),
        "why.no_residual#cross": f(residual=(True, False, True)),
        "why.no_residual#mlp": f(residual=(True, True, False)),
        **{f"why.layer_norm_eps#{i}": (lambda i=i: o.mistake_decoder_layer_eps(state, x, memory, src_mask, tgt_mask,
                                                                               H, i))
           for i in range(len(o.TUTORIAL_EPS))},
    }


@grader("decoder_layer", "dec.parameters")
def test_dec_parameters(student):
    m = student.build("DecoderLayer", D, H, FF, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, DEC_SHAPES, hint="hint.dec_parameters")
    expect_submodules(m, {"self_attn": "MultiHeadAttention", "cross_attn": "MultiHeadAttention",
                          "ffn": "FeedForward", "norm1": "LayerNorm", "norm2": "LayerNorm", "norm3": "LayerNorm",
                          "dropout": "Dropout"})


@grader("decoder_layer", "dec.oracle", weight=2)
def test_dec_oracle(student):
    m, state = _dec(student)
    x, memory = _x(B, S, D, seed=731), _x(B, S, D, seed=732)  # T = S here, so that every mistake can be named
    src_mask, tgt_mask = _pad_mask([S, 4], S), t.causal(S)
    expect_array(m(x, memory, src_mask, tgt_mask), o.decoder_layer_reference(state, x, memory, src_mask, tgt_mask, H),
                 phrase("the output of the decoder layer (causal target mask, padded source)"), **TORCH, hint="hint.dec_order",
                 diagnoses=_dec_mistakes(state, x, memory, src_mask, tgt_mask))


@grader("decoder_layer", "dec.lengths")
def test_dec_lengths(student):
    m, state = _dec(student, seed=733)
    x, memory = _x(B, T, D, seed=734), _x(B, S + 2, D, seed=735)
    src_mask = _pad_mask([S + 2, 5], S + 2)
    tgt_mask = t.causal(T) & _pad_mask([T, 4], T)  # (batch, 1, T, T): causal and target padding
    with hinted("hint.dec_order"):
        got = m(x, memory, src_mask, tgt_mask)
    expect_array(got, o.decoder_layer_reference(state, x, memory, src_mask, tgt_mask, H),
                 phrase("the output with T = 5 target and S = 8 source positions"), **TORCH, hint="hint.dec_order")


@grader("decoder_layer", "dec.causality")
def test_dec_causality(student):
    m, state = _dec(student, seed=736)
    x, memory = _x(B, T, D, seed=737), _x(B, S, D, seed=738)
    mask = t.causal(T)
    x2 = x.clone()
    x2[:, 3:] = _x(B, T - 3, D, seed=739)  # change the future
    out, out2 = m(x, memory, None, mask), m(x2, memory, None, mask)
    expect_shape(out2, (B, T, D), phrase("the output"), **TORCH)
    expect_array(out2[:, :3], out[:, :3], phrase("the outputs at positions 0..2 after changing target positions 3..4"),
                 **TORCH, hint="hint.dec_causal",
                 diagnoses={"why.dec_no_causal": lambda: o.decoder_layer(state, x2, memory, None, mask, H, causal=False)[:, :3]})


@grader("decoder_layer", "dec.memory_padding")
def test_dec_memory_padding(student):
    m, state = _dec(student, seed=740)
    x, memory = _x(B, T, D, seed=741), _x(B, S, D, seed=742)
    src_mask = _pad_mask([4, 3], S)
    memory2 = memory.clone()
    memory2[0, 4:] += 4.0
    memory2[1, 3:] = _x(S - 3, D, seed=743)
    tgt_mask = t.causal(T)
    out, out2 = m(x, memory, src_mask, tgt_mask), m(x, memory2, src_mask, tgt_mask)
    expect_array(out2, out, phrase("the output after changing the padded source positions of memory"), **TORCH,
                 hint="hint.dec_masks",
                 diagnoses={"why.dec_masks_swapped": lambda: o.decoder_layer(state, x, memory2, src_mask, tgt_mask, H,
                                                                             masks_swapped=True)})


@grader("decoder_layer", "dec.dropout")
def test_dec_dropout(student):
    x, memory = _x(B, T, D, seed=736), _x(B, S, D, seed=737)
    state = o.random_weights(DEC_SHAPES, 738)
    mask = t.causal(T)

    def build(p):
        m = student.build("DecoderLayer", D, H, FF, p, trusted=blocks.FOR_LAYERS)
        load(m, state)
        return m

    call = lambda m: m(x, memory, None, mask)  # noqa: E731
    _expect_sublayer_rates(student, "DecoderLayer", state, call, x, ("attention", "attention", "ffn"))
    expect_dropout(build, call, o.decoder_layer_reference(state, x, memory, None, mask, H), "DecoderLayer")
    m = build(0.5)
    load(m, _constant_sublayers(state))
    expect_residual_dropout(m, call, "DecoderLayer")
    load(m, _silent_sublayers(state))
    expect_dropout_before_norm(m, call, "DecoderLayer")


# --- Encoder and Decoder -------------------------------------------------------------------------
ENCODER_SHAPES = _shapes(blocks.Encoder(D, H, N, FF))
DECODER_SHAPES = _shapes(blocks.Decoder(D, H, N, FF))


def _stack_diagnoses(expected):
    return {
        "why.stack_final_norm": lambda got: set(got) - set(expected) and all("norm" in k for k in set(got) - set(expected))
        and set(expected) <= set(got),
        "why.stack_shared_layers": lambda got: set(got) < set(expected) and all(k.startswith("layers.0.") for k in got),
    }


def _stack(student, cls, shapes, seed):
    m = student.build(cls, D, H, N, FF, 0.0, trusted=blocks.FOR_STACKS)
    expect_parameters(m, shapes, hint="hint.stack", diagnoses=_stack_diagnoses(shapes))
    state = o.random_weights(shapes, seed)
    load(m, state)
    return m, state


@grader("encoder_decoder", "stack.parameters")
def test_stack_parameters(student):
    for cls, shapes in [("Encoder", ENCODER_SHAPES), ("Decoder", DECODER_SHAPES)]:
        m = student.build(cls, D, H, N, FF, trusted=blocks.FOR_STACKS)
        expect_parameters(m, shapes, hint="hint.stack", diagnoses=_stack_diagnoses(shapes))
        expect_submodules(m, {"layers": "ModuleList"})


@grader("encoder_decoder", "stack.encoder", weight=2)
def test_stack_encoder(student):
    m, state = _stack(student, "Encoder", ENCODER_SHAPES, 750)
    x = _x(B, S, D, seed=751)
    mask = _pad_mask([S, 4], S)
    f = lambda **kw: (lambda: o.encoder(state, x, mask, H, N, **kw))  # noqa: E731
    expect_array(m(x, mask), o.encoder_reference(state, x, mask, H, N), phrase("the output of a 2-layer Encoder"), **TORCH,
                 hint="hint.stack", diagnoses={"why.stack_not_chained": f(chained=False),
                                               "why.stack_final_norm": f(final_norm=True),
                                               "why.encoder_adds_pe": f(add_pe=True)})


@grader("encoder_decoder", "stack.decoder", weight=2)
def test_stack_decoder(student):
    m, state = _stack(student, "Decoder", DECODER_SHAPES, 752)
    x, memory = _x(B, T, D, seed=753), _x(B, S, D, seed=754)
    src_mask, tgt_mask = _pad_mask([S, 3], S), t.causal(T)
    f = lambda **kw: (lambda: o.decoder(state, x, memory, src_mask, tgt_mask, H, N, **kw))  # noqa: E731
    expect_array(m(x, memory, src_mask, tgt_mask), o.decoder_reference(state, x, memory, src_mask, tgt_mask, H, N),
                 phrase("the output of a 2-layer Decoder"), **TORCH, hint="hint.stack",
                 diagnoses={"why.stack_not_chained": f(chained=False), "why.stack_final_norm": f(final_norm=True)})


@grader("encoder_decoder", "stack.permutation")
def test_stack_permutation(student):
    m, state = _stack(student, "Encoder", ENCODER_SHAPES, 755)
    x = _x(B, S, D, seed=756)
    perm = torch.tensor([2, 5, 0, 4, 1, 3])
    out, out_p = m(x), m(x[:, perm])
    expect_shape(out_p, (B, S, D), phrase("the output"), **TORCH)
    expect_array(out_p, out[:, perm], phrase("the Encoder's output for permuted tokens (no positional encoding inside)"),
                 **TORCH, hint="hint.stack",
                 diagnoses={"why.encoder_adds_pe": lambda: o.encoder(state, x[:, perm], None, H, N, add_pe=True)})


@grader("encoder_decoder", "stack.causality")
def test_stack_causality(student):
    m, state = _stack(student, "Decoder", DECODER_SHAPES, 757)
    x, memory = _x(B, T, D, seed=758), _x(B, S, D, seed=759)
    mask = t.causal(T)
    x2 = x.clone()
    x2[:, 2:] = _x(B, T - 2, D, seed=760)
    out, out2 = m(x, memory, None, mask), m(x2, memory, None, mask)
    expect_shape(out2, (B, T, D), phrase("the output"), **TORCH)
    expect_array(out2[:, :2], out[:, :2], phrase("the Decoder's outputs at positions 0..1 after changing positions 2..4"),
                 **TORCH, hint="hint.stack")


@grader("encoder_decoder", "stack.dropout")
def test_stack_dropout(student):
    x, memory = _x(B, T, D, seed=761), _x(B, S, D, seed=762)
    mask = t.causal(T)
    for cls, shapes, call, expected in [
            ("Encoder", ENCODER_SHAPES, lambda m: m(memory), lambda s: o.encoder_reference(s, memory, None, H, N)),
            ("Decoder", DECODER_SHAPES, lambda m: m(x, memory, None, mask),
             lambda s: o.decoder_reference(s, x, memory, None, mask, H, N))]:
        state = o.random_weights(shapes, 763)

        def build(p, cls=cls, state=state):
            m = student.build(cls, D, H, N, FF, p, trusted=blocks.FOR_STACKS)
            load(m, state)
            return m

        expect_dropout(build, call, expected(state), cls)


# --- Transformer ---------------------------------------------------------------------------------
V_SRC, V_TGT, MAX_LEN = 11, 13, 16


def _model_shapes(v_src=V_SRC, v_tgt=V_TGT, d=D, h=H, n=N, d_ff=FF):
    shapes = {"src_embed.weight": (v_src, d), "tgt_embed.weight": (v_tgt, d)}
    shapes.update({f"encoder.{k}": v for k, v in _shapes(blocks.Encoder(d, h, n, d_ff)).items()})
    shapes.update({f"decoder.{k}": v for k, v in _shapes(blocks.Decoder(d, h, n, d_ff)).items()})
    shapes.update({"generator.weight": (v_tgt, d), "generator.bias": (v_tgt,)})
    return shapes


MODEL_SHAPES = _model_shapes()
MODEL_DIAGNOSES = {
    "why.tf_shared_embedding": lambda got: "tgt_embed.weight" not in got and "src_embed.weight" in got,
    "why.stack_final_norm": lambda got: set(MODEL_SHAPES) < set(got)
    and all("norm" in k for k in set(got) - set(MODEL_SHAPES)),
}


def _model(student, n=N, seed=770):
    m = student.build("Transformer", V_SRC, V_TGT, D, H, n, FF, 0.1, MAX_LEN, trusted=blocks.FOR_MODEL)
    shapes = _model_shapes(n=n)
    expect_parameters(m, shapes, hint="hint.tf_parameters", diagnoses=MODEL_DIAGNOSES)
    state = o.random_weights({**shapes, "pos_encoding.pe": (MAX_LEN, D)}, seed)
    load(m, state)
    return m, state


def _tokens(seed, b, n, vocab, pad_from=None):
    toks = torch.randint(1, vocab, (b, n), generator=t.gen(seed))
    if pad_from:
        for row, start in pad_from.items():
            toks[row, start:] = 0
    return toks


def _batch(seed=780):
    src = _tokens(seed, B, S, V_SRC, pad_from={1: 4})
    tgt = _tokens(seed + 1, B, T, V_SRC)  # ids below both vocabularies: a swapped embedding still runs
    return src, tgt, _pad_mask([S, 4], S), t.causal(T)


def _model_mistakes(state, src, tgt, src_mask, tgt_mask, which, n=N):
    f = lambda **kw: (lambda: o.transformer(state, src, tgt, src_mask, tgt_mask, H, n, **kw)[which])  # noqa: E731
    return {"why.tf_no_scale": f(scale=False), "why.tf_scale_after_pe": f(scale_after_pe=True),
            "why.tf_wrong_embedding": f(tgt_table="src_embed")}


@grader("transformer", "tf.parameters")
def test_tf_parameters(student):
    m = student.build("Transformer", V_SRC, V_TGT, D, H, N, FF, 0.1, MAX_LEN, trusted=blocks.FOR_MODEL)
    expect_parameters(m, MODEL_SHAPES, hint="hint.tf_parameters", diagnoses=MODEL_DIAGNOSES)
    if m.buffer_shapes() != {"pos_encoding.pe": (MAX_LEN, D)}:
        raise fail("fail.tf_buffers", name=m.name, hint="hint.tf_parameters")


@grader("transformer", "tf.base_count")
def test_tf_base_count(student):
    m = student.build("Transformer", 100, 120, trusted=blocks.FOR_MODEL)  # the paper's base model by default
    total = sum(torch.Size(s).numel() for s in m.parameter_shapes().values())
    expected = o.transformer_parameter_count(100, 120, 512, 8, 6, 2048)
    expect_number(total, expected, phrase("the number of parameters of Transformer(100, 120) with the default sizes"),
                  hint="hint.tf_defaults", diagnoses={
                      "why.tf_shared_embedding": lambda: expected - 120 * 512,
                      "why.stack_final_norm": lambda: expected + 2 * 512,
                      "why.stack_final_norm#both": lambda: expected + 4 * 512,
                  })


@grader("transformer", "tf.embeddings")
def test_tf_embeddings(student):
    m, state = _model(student, n=0, seed=771)  # no layers: encode and decode return the embedded input
    src, tgt, src_mask, _ = _batch(781)
    memory = m.call("encode", src, src_mask)
    expect_array(memory, o.embed(state, src, "src_embed"),
                 phrase("encode(src) of a model with no layers: src_embed(src)·√d_model + PE"), **TORCH,
                 hint="hint.tf_embed", diagnoses={
                     "why.tf_no_scale": lambda: o.embed(state, src, "src_embed", scale=False),
                     "why.tf_scale_after_pe": lambda: o.embed(state, src, "src_embed", scale_after_pe=True)})
    states = m.call("decode", tgt, memory, src_mask, None)
    expect_array(states, o.embed(state, tgt, "tgt_embed"),
                 phrase("decode(tgt, memory) of a model with no layers: tgt_embed(tgt)·√d_model + PE"), **TORCH,
                 hint="hint.tf_embed", diagnoses={
                     "why.tf_no_scale": lambda: o.embed(state, tgt, "tgt_embed", scale=False),
                     "why.tf_scale_after_pe": lambda: o.embed(state, tgt, "tgt_embed", scale_after_pe=True),
                     "why.tf_wrong_embedding": lambda: o.embed(state, tgt, "src_embed"),
                     "why.tf_decode_logits": lambda: torch.nn.functional.linear(
                         o.embed(state, tgt, "tgt_embed"), state["generator.weight"], state["generator.bias"])})


@grader("transformer", "tf.oracle", weight=2)
def test_tf_oracle(student):
    m, state = _model(student, seed=772)
    src, tgt, src_mask, tgt_mask = _batch(782)
    _, _, logits = o.transformer_reference(state, src, tgt, src_mask, tgt_mask, H, N)
    expect_array(m(src, tgt, src_mask, tgt_mask), logits, phrase("the logits of forward(src, tgt, src_mask, tgt_mask)"),
                 **TORCH, hint="hint.tf_forward",
                 diagnoses={**_model_mistakes(state, src, tgt, src_mask, tgt_mask, which=2),
                            "why.tf_log_softmax": lambda: o.mistake_log_softmax_generator(logits)})


@grader("transformer", "tf.dropout")
def test_tf_dropout(student):
    src, tgt, src_mask, tgt_mask = _batch(783)
    state = o.random_weights({**MODEL_SHAPES, "pos_encoding.pe": (MAX_LEN, D)}, 773)

    def build(p):
        m = student.build("Transformer", V_SRC, V_TGT, D, H, N, FF, p, MAX_LEN, trusted=blocks.FOR_MODEL)
        load(m, state)
        return m

    _, _, logits = o.transformer_reference(state, src, tgt, src_mask, tgt_mask, H, N)
    expect_dropout(build, lambda m: m(src, tgt, src_mask, tgt_mask), logits, "Transformer")


@grader("transformer", "tf.encode_decode")
def test_tf_encode_decode(student):
    m, state = _model(student, seed=773)
    src, tgt, src_mask, tgt_mask = _batch(783)
    ref_memory, ref_states, ref_logits = o.transformer_reference(state, src, tgt, src_mask, tgt_mask, H, N)
    memory = m.call("encode", src, src_mask)
    expect_array(memory, ref_memory, phrase("encode(src, src_mask): the memory, (batch, S, d_model)"), **TORCH,
                 hint="hint.tf_forward", diagnoses=_model_mistakes(state, src, tgt, src_mask, tgt_mask, which=0))
    states = m.call("decode", tgt, ref_memory, src_mask, tgt_mask)
    expect_array(states, ref_states, phrase("decode(tgt, memory, src_mask, tgt_mask): the decoder states, (batch, T, d_model)"),
                 **TORCH, hint="hint.tf_forward",
                 diagnoses={"why.tf_decode_logits": lambda: ref_logits,
                            **_model_mistakes(state, src, tgt, src_mask, tgt_mask, which=1)})


@grader("transformer", "tf.causality")
def test_tf_causality(student):
    m, _ = _model(student, seed=774)
    src, tgt, src_mask, tgt_mask = _batch(784)
    tgt2 = tgt.clone()
    tgt2[:, 3:] = (tgt2[:, 3:] + 3) % (V_SRC - 1) + 1  # other tokens at positions 3..4
    out, out2 = m(src, tgt, src_mask, tgt_mask), m(src, tgt2, src_mask, tgt_mask)
    expect_shape(out2, (B, T, V_TGT), phrase("the logits"), **TORCH, hint="hint.tf_forward")
    expect_array(out2[:, :3], out[:, :3], phrase("the logits at positions 0..2 after changing target tokens 3..4"),
                 **TORCH, hint="hint.tf_masks")


@grader("transformer", "tf.padding")
def test_tf_padding(student):
    m, _ = _model(student, seed=775)
    src, tgt, src_mask, tgt_mask = _batch(785)
    src2 = src.clone()
    src2[1, 4:] = torch.tensor([7, 3])  # other tokens where the mask says "padding"
    out, out2 = m(src, tgt, src_mask, tgt_mask), m(src2, tgt, src_mask, tgt_mask)
    expect_array(out2, out, phrase("the logits after changing the padded source tokens"), **TORCH, hint="hint.tf_masks")


@grader("transformer", "tf.gradients")
def test_tf_gradients(student):
    m, _ = _model(student, seed=776)
    src, tgt, src_mask, tgt_mask = _batch(786)
    probe = t.randn(B, T, V_TGT, seed=787)
    _, _, grads = m.grad(src, tgt, src_mask, tgt_mask, grad_outputs=[probe])
    missing = [k for k in MODEL_SHAPES if grads.get(k) is None or not torch.any(grads[k] != 0)]
    if missing:
        why = "why.tf_wrong_embedding" if missing == ["tgt_embed.weight"] else None
        raise fail("fail.no_grad", what=", ".join(f"`{k}`" for k in missing[:4]) + (" …" if len(missing) > 4 else ""),
                   hint="hint.tf_forward", why=why)
