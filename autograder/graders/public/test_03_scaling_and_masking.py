"""Public graders of stage 03: scaled dot-product attention and masks (torch).

The oracle is PyTorch's F.scaled_dot_product_attention in float64, which the student may not
call themselves (the registry forbids it for this item: using it scores zero).
"""

from __future__ import annotations

import math

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_finite, expect_shape, expect_tuple, fail, hinted
from autograder.graders import torch_oracles as t

B, T, S, D, DV = 2, 5, 7, 12, 10  # distinct sizes, so that a transpose cannot hide
TORCH = {"kind": "torch"}


def _qkv(seed: int, lead=(B,), t_len=T, s_len=S, d=D, dv=DV, dtype=torch.float64, scale=1.0):
    return (t.randn(*lead, t_len, d, seed=seed, dtype=dtype, scale=scale),
            t.randn(*lead, s_len, d, seed=seed + 1, dtype=dtype, scale=scale),
            t.randn(*lead, s_len, dv, seed=seed + 2, dtype=dtype))


def _sdpa(student, q, k, v, mask=None):
    fn = student.function("scaled_dot_product_attention")
    out = fn(q, k, v) if mask is None else fn(q, k, v, mask=mask)
    return expect_tuple(out, 2, "scaled_dot_product_attention", phrase("out and weights"))


def _scale_mistakes(q, k, v, mask=None, which=1):
    d = q.shape[-1]
    return {
        "why.sdpa_no_scale": lambda: t.mistake_attention(q, k, v, mask, scale=1.0)[which],
        "why.sdpa_wrong_scale": lambda: t.mistake_attention(q, k, v, mask, scale=1 / d)[which],
        "why.sdpa_softmax_axis": lambda: t.mistake_attention(q, k, v, mask, axis=-2)[which],
    }


def _mask_mistakes(q, k, v, mask, which=0):
    return {
        "why.sdpa_mask_inverted": lambda: t.mistake_attention(q, k, v, mask, invert=True)[which],
        "why.sdpa_mask_inverted#nan": lambda: t.mistake_attention(q, k, v, mask, invert=True, zero_masked=False)[which],
        "why.sdpa_mask_after_softmax": lambda: t.mistake_attention(q, k, v, mask, after_softmax=True)[which],
        "why.sdpa_finite_mask#4": lambda: t.mistake_attention(q, k, v, mask, fill=-1e4)[which],
        "why.sdpa_finite_mask#9": lambda: t.mistake_attention(q, k, v, mask, fill=-1e9)[which],
    }


# --- scaled_dot_product_attention --------------------------------------------------------------
@grader("scaled_dot_product_attention", "sdpa.oracle", weight=2)
def test_sdpa_oracle(student):
    q, k, v = _qkv(100)
    out, _ = _sdpa(student, q, k, v)
    expect_array(out, t.sdpa(q, k, v), phrase("the output"), **TORCH, hint="hint.scale",
                 diagnoses=_scale_mistakes(q, k, v, which=0))


@grader("scaled_dot_product_attention", "sdpa.weights")
def test_sdpa_weights(student):
    q, k, v = _qkv(103)
    _, w = _sdpa(student, q, k, v)
    expect_array(w, t.weights(q, k), phrase("the attention weights"), **TORCH, hint="hint.scale",
                 diagnoses=_scale_mistakes(q, k, v, which=1))


@grader("scaled_dot_product_attention", "sdpa.sigmoid_one")
def test_sdpa_sigmoid_one(student):
    d = 16
    q = torch.zeros(1, 1, d, dtype=torch.float64)
    k = torch.zeros(1, 2, d, dtype=torch.float64)
    q[0, 0, 0], k[0, 0, 0], k[0, 1, 1] = 2.0, 2.0, 1.0  # q·k₁ = 4 = √16, q·k₂ = 0
    v = torch.eye(2, dtype=torch.float64).unsqueeze(0)
    _, w = _sdpa(student, q, k, v)
    s = 1 / (1 + math.exp(-1))
    expect_array(w, torch.tensor([[[s, 1 - s]]]), phrase("the weights of the two keys"), **TORCH, hint="hint.scale",
                 diagnoses={"why.sdpa_no_scale": lambda: torch.tensor([[[1 / (1 + math.exp(-4)), 1 - 1 / (1 + math.exp(-4))]]]),
                            "why.sdpa_wrong_scale": lambda: torch.tensor([[[1 / (1 + math.exp(-0.25)), 1 - 1 / (1 + math.exp(-0.25))]]])})


@grader("scaled_dot_product_attention", "sdpa.rows_sum_to_one")
def test_sdpa_rows_sum_to_one(student):
    q, k, v = _qkv(106)
    _, w = _sdpa(student, q, k, v)
    expect_shape(w, (B, T, S), phrase("the attention weights"), **TORCH)
    expect_array(w.sum(-1), torch.ones(B, T), phrase("the row sums of the weights"), **TORCH,
                 diagnoses={"why.sdpa_softmax_axis": lambda: t.mistake_attention(q, k, v, axis=-2)[1].sum(-1)})


@grader("scaled_dot_product_attention", "sdpa.batch_dims")
def test_sdpa_batch_dims(student):
    q, k, v = _qkv(109, lead=(B, 3))
    out, w = _sdpa(student, q, k, v)
    expect_array(w, t.weights(q, k), phrase("the weights for (batch, heads, T, d) inputs"), **TORCH, hint="hint.swapaxes",
                 diagnoses=_scale_mistakes(q, k, v, which=1))
    expect_array(out, t.sdpa(q, k, v), phrase("the output for (batch, heads, T, d) inputs"), **TORCH)


@grader("scaled_dot_product_attention", "sdpa.single_token")
def test_sdpa_single_token(student):
    q, k, v = _qkv(112, t_len=1, s_len=1)
    out, w = _sdpa(student, q, k, v)
    expect_array(w, torch.ones(B, 1, 1), phrase("the weights for T = S = 1"), **TORCH)
    expect_array(out, v, phrase("the output for T = S = 1"), **TORCH)


@grader("scaled_dot_product_attention", "sdpa.dtype")
def test_sdpa_dtype(student):
    q, k, v = _qkv(115, dtype=torch.float32)
    out, w = _sdpa(student, q, k, v)
    expect_array(out, t.sdpa(q, k, v), phrase("the output for float32 inputs"), **TORCH, dtype=torch.float32,
                 rtol=1e-4, atol=1e-5)
    expect_array(w, t.weights(q, k), phrase("the weights for float32 inputs"), **TORCH, dtype=torch.float32,
                 rtol=1e-4, atol=1e-5)


@grader("scaled_dot_product_attention", "sdpa.large_inputs")
def test_sdpa_large_inputs(student):
    q, k, v = _qkv(118, scale=1000.0)
    out, w = _sdpa(student, q, k, v)
    expect_finite(w, phrase("the weights for inputs·1000"), hint="hint.softmax_stable")
    expect_array(out, t.sdpa(q, k, v), phrase("the output for inputs·1000"), **TORCH, rtol=1e-4, atol=1e-4)


@grader("scaled_dot_product_attention", "sdpa.permutation")
def test_sdpa_permutation(student):
    q, k, v = _qkv(121)
    perm = torch.tensor([4, 1, 3, 0, 2])
    out, _ = _sdpa(student, q, k, v)
    out_p, _ = _sdpa(student, q[:, perm], k, v)
    expect_array(out_p, out[:, perm], phrase("the output for permuted queries"), **TORCH)


@grader("scaled_dot_product_attention", "sdpa.causal")
def test_sdpa_causal(student):
    n = 6
    q, k, v = _qkv(124, t_len=n, s_len=n)
    mask = t.causal(n)
    out, _ = _sdpa(student, q, k, v, mask)
    q2, k2, v2 = q.clone(), k.clone(), v.clone()
    q2[:, 4:], k2[:, 4:], v2[:, 4:] = q2[:, 4:] + 3, k2[:, 4:] - 2, v2[:, 4:] * 5  # change the future
    out2, _ = _sdpa(student, q2, k2, v2, mask)
    with hinted("hint.mask_convention"):
        expect_shape(out2, out.shape, phrase("the output"), **TORCH)
        expect_array(out2[:, :4], out[:, :4], phrase("the outputs of tokens 0..3 after changing tokens 4..5"), **TORCH,
                     diagnoses={"why.sdpa_mask_inverted": lambda: t.mistake_attention(q2, k2, v2, mask, invert=True)[0][:, :4]})
        expect_array(out, t.sdpa(q, k, v, mask), phrase("the output under a causal mask"), **TORCH,
                     diagnoses=_mask_mistakes(q, k, v, mask))


@grader("scaled_dot_product_attention", "sdpa.padding")
def test_sdpa_padding(student):
    q, k, v = _qkv(127, lead=(B, 3))  # (batch, heads, T, d)
    extra = 3
    k_pad = torch.cat([k, t.randn(B, 3, extra, D, seed=130)], dim=-2)
    v_pad = torch.cat([v, t.randn(B, 3, extra, DV, seed=131) * 100], dim=-2)
    mask = torch.ones(B, 1, 1, S + extra, dtype=torch.bool)
    mask[..., S:] = False
    out, _ = _sdpa(student, q, k, v)
    out_pad, _ = _sdpa(student, q, k_pad, v_pad, mask)
    with hinted("hint.mask_convention"):
        expect_array(out_pad, out, phrase("the output with 3 padded keys appended"), **TORCH,
                     diagnoses=_mask_mistakes(q, k_pad, v_pad, mask))


@grader("scaled_dot_product_attention", "sdpa.mask_oracle", weight=2)
def test_sdpa_mask_oracle(student):
    q, k, v = _qkv(133, lead=(B, 3))
    mask = t.random_mask(B, 1, T, S, seed=136)
    out, w = _sdpa(student, q, k, v, mask)
    with hinted("hint.mask_convention"):
        expect_array(w, t.weights(q, k, mask), phrase("the weights under a random mask"), **TORCH,
                     diagnoses=_mask_mistakes(q, k, v, mask, which=1))
        expect_array(out, t.sdpa(q, k, v, mask), phrase("the output under a random mask"), **TORCH,
                     diagnoses=_mask_mistakes(q, k, v, mask))


@grader("scaled_dot_product_attention", "sdpa.mask_3d")
def test_sdpa_mask_3d(student):
    q, k, v = _qkv(139)
    mask = t.random_mask(B, T, S, seed=142)
    out, _ = _sdpa(student, q, k, v, mask)
    expect_array(out, t.sdpa(q, k, v, mask), phrase("the output under a (batch, T, S) mask"), **TORCH,
                 hint="hint.mask_convention", diagnoses=_mask_mistakes(q, k, v, mask))


@grader("scaled_dot_product_attention", "sdpa.shift_invariant")
def test_sdpa_shift_invariant(student):
    # An extra feature adds the same constant c to every score of a query: q'·k'_j = q·k_j + c.
    # Softmax ignores c; a finite mask value (-1e4, -1e9) does not, once scores are that low.
    q, k, v = _qkv(145)
    mask = t.random_mask(B, T, S, seed=148)
    c = -1e10 * math.sqrt(D + 1)
    q1 = torch.cat([q, torch.full((B, T, 1), c, dtype=q.dtype)], -1)
    k1 = torch.cat([k, torch.ones(B, S, 1, dtype=k.dtype)], -1)
    out, _ = _sdpa(student, q1, k1, v, mask)
    expect_array(out, t.sdpa(q1, k1, v, mask), phrase("the output after adding a constant to every score"), **TORCH,
                 rtol=1e-4, atol=1e-5, hint="hint.mask_inf",
                 diagnoses={"why.sdpa_finite_mask#4": lambda: t.mistake_attention(q1, k1, v, mask, fill=-1e4)[0],
                            "why.sdpa_finite_mask#9": lambda: t.mistake_attention(q1, k1, v, mask, fill=-1e9)[0]})


@grader("scaled_dot_product_attention", "sdpa.fully_masked")
def test_sdpa_fully_masked(student):
    q, k, v = _qkv(151)
    mask = t.random_mask(B, T, S, seed=154)
    mask[0, 2] = False  # query 2 of batch 0 may attend to nothing
    out, w = _sdpa(student, q, k, v, mask)
    expected_w = t.weights(q, k, mask)
    with hinted("hint.fully_masked"):
        expect_array(w, expected_w, phrase("the weights with a fully masked row"), **TORCH,
                     diagnoses={"why.sdpa_fully_masked_nan": lambda: t.weights(q, k, mask, fill=-math.inf)
                                .masked_fill(~mask.any(-1, keepdim=True), math.nan)})
        expect_array(out, expected_w @ v, phrase("the output with a fully masked row"), **TORCH)


@grader("scaled_dot_product_attention", "sdpa.gradients", weight=2)
def test_sdpa_gradients(student):
    q, k, v = (x.requires_grad_() for x in _qkv(157))
    mask = t.random_mask(B, T, S, seed=160)
    probe = t.randn(B, T, DV, seed=163)
    fn = student.function("scaled_dot_product_attention")
    outputs, grads = fn.grad(q, k, v, mask=mask, grad_outputs=[probe, None])
    expect_tuple(outputs, 2, "scaled_dot_product_attention", phrase("out and weights"))
    q0, k0, v0 = (x.detach().clone().requires_grad_() for x in (q, k, v))
    expected = torch.autograd.grad((t.sdpa(q0, k0, v0, mask) * probe).sum(), (q0, k0, v0))
    for name, g, e in zip("qkv", grads, expected):
        if g is None:
            raise fail("fail.no_grad", what=name, hint="hint.torch_only", why="why.sdpa_detached")
        expect_array(g, e, phrase("the gradient with respect to {name}", name=name), **TORCH)


# --- causal_mask --------------------------------------------------------------------------------
@grader("causal_mask", "causal.values", weight=2)
def test_causal_values(student):
    got = student.function("causal_mask")(5)
    expect_array(got, t.causal(5), "causal_mask(5)", **TORCH, hint="hint.tril", diagnoses={
        "why.causal_no_diagonal": lambda: torch.ones(5, 5, dtype=torch.bool).tril(-1),
        "why.causal_upper": lambda: torch.ones(5, 5, dtype=torch.bool).triu(),
        "why.causal_upper#strict": lambda: torch.ones(5, 5, dtype=torch.bool).triu(1),
    })


@grader("causal_mask", "causal.dtype_shape")
def test_causal_dtype_shape(student):
    got = student.function("causal_mask")(7)
    expect_shape(got, (7, 7), "causal_mask(7)", **TORCH)
    if got.dtype != torch.bool:
        raise fail("fail.wrong_type", what="causal_mask(7)", expected=phrase("boolean tensor (dtype torch.bool)"),
                   got=phrase("tensor of dtype {dtype}", dtype=str(got.dtype).replace('torch.', '')),
                   hint="hint.mask_convention")


@grader("causal_mask", "causal.single")
def test_causal_single(student):
    got = student.function("causal_mask")(1)
    expect_array(got, torch.ones(1, 1, dtype=torch.bool), "causal_mask(1)", **TORCH, hint="hint.tril")


# --- padding_mask -------------------------------------------------------------------------------
def _tokens(pad: int) -> torch.Tensor:
    toks = torch.tensor([[5, 9, 4, 7, 2, pad, pad], [8, 3, 6, pad, pad, pad, pad]])
    return toks


@grader("padding_mask", "padding.values", weight=2)
def test_padding_values(student):
    tokens = _tokens(0)
    got = student.function("padding_mask")(tokens, 0)
    expected = (tokens != 0)[:, None, None, :]
    expect_array(got, expected, "padding_mask(tokens, 0)", **TORCH, hint="hint.padding_shape", diagnoses={
        "why.padding_inverted": lambda: (tokens == 0)[:, None, None, :],
        "why.padding_shape": lambda: tokens != 0,
        "why.padding_shape#3": lambda: (tokens != 0)[:, None, :],
    })


@grader("padding_mask", "padding.shape")
def test_padding_shape(student):
    tokens = _tokens(0)
    got = student.function("padding_mask")(tokens, 0)
    expect_shape(got, (2, 1, 1, 7), "padding_mask(tokens, 0)", **TORCH, hint="hint.padding_shape",
                 diagnoses={"why.padding_shape": lambda: tokens})
    if got.dtype != torch.bool:
        raise fail("fail.wrong_type", what="padding_mask(tokens, 0)", expected=phrase("boolean tensor (dtype torch.bool)"),
                   got=phrase("tensor of dtype {dtype}", dtype=str(got.dtype).replace('torch.', '')))


@grader("padding_mask", "padding.pad_id")
def test_padding_pad_id(student):
    tokens = _tokens(3).masked_fill(_tokens(3) == 0, 11)  # no zeros at all: 3 is the pad id here
    got = student.function("padding_mask")(tokens, 3)
    expect_array(got, (tokens != 3)[:, None, None, :], "padding_mask(tokens, pad_id=3)", **TORCH,
                 diagnoses={"why.padding_fixed_zero": lambda: (tokens != 0)[:, None, None, :]})
