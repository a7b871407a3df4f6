"""Public graders of stage 04: multi-head attention (torch).

The oracle is PyTorch's nn.MultiheadAttention in float64, given the same weights (its in_proj
is W_q, W_k, W_v stacked, its out_proj is W_o) and the same mask in its own convention (True =
may NOT attend, one (T, S) slice per batch entry and head). The student may not use it, nor
F.scaled_dot_product_attention: the registry forbids both for the item, and a submodule of
class nn.MultiheadAttention scores zero too. MultiHeadAttention runs on trusted split_heads,
merge_heads and scaled_dot_product_attention, so a bug in those costs points only once.
"""

from __future__ import annotations

import torch

from autograder.catalogue import phrase, text
from autograder.dsl import grader
from autograder.expect import expect_array, expect_shape, expect_tuple, hinted
from autograder.failures import StudentCodeError
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import (
    TORCH,
    changed,
    expect_dropout,
    expect_dropout_inside,
    expect_number,
    expect_parameters,
    expect_raises,
    load,
    no_builtin,
    only_weights,
    zero_biases,
)

B, T, S, D, H = 2, 5, 7, 12, 3  # d_k = 4; batch ≠ heads, so that a mask without its head axis fails
D_K = D // H


# --- qkv_parameter_count -------------------------------------------------------------------------
def _count_mistakes(k, r, efficient):
    right = o.qkv_parameter_count(k, r, efficient)
    return {
        "why.count_no_three": lambda: right // 3,
        "why.count_per_head": lambda: right // r,
        "why.count_with_wo": lambda: right + k * k,
        "why.count_with_wo#heads": lambda: right + r * k * k,
    }


@grader("qkv_parameter_count", "count.table", weight=2)
def test_count_table(student):
    count = student.function("qkv_parameter_count")
    for k, r, efficient in [(256, 1, False), (256, 4, False), (256, 4, True)]:
        expect_number(count(k, r, efficient), o.qkv_parameter_count(k, r, efficient),
                      f"qkv_parameter_count({k}, {r}, efficient={efficient})", hint="hint.count",
                      diagnoses=_count_mistakes(k, r, efficient))


@grader("qkv_parameter_count", "count.general")
def test_count_general(student):
    count = student.function("qkv_parameter_count")
    for k, r, efficient in [(512, 8, True), (512, 8, False), (12, 3, True)]:
        expect_number(count(k, r, efficient), o.qkv_parameter_count(k, r, efficient),
                      f"qkv_parameter_count({k}, {r}, efficient={efficient})", hint="hint.count",
                      diagnoses=_count_mistakes(k, r, efficient))


# --- split_heads ---------------------------------------------------------------------------------
def _split_mistakes(x, h):
    b, n, d = x.shape
    return {
        "why.split_no_transpose": lambda: x.reshape(b, h, n, d // h),
        "why.split_no_transpose#view": lambda: x.reshape(b, n, h, d // h),
        "why.split_interleaved": lambda: x.reshape(b, n, d // h, h).permute(0, 3, 1, 2),
    }


@grader("split_heads", "split.values", weight=2)
def test_split_values(student):
    x = t.randn(B, T, D, seed=400)
    got = student.function("split_heads")(x, H)
    expect_array(got, blocks.split_heads(x, H), phrase("split_heads(x, 3) for x of shape (2, 5, 12)"), **TORCH,
                 hint="hint.split", diagnoses=_split_mistakes(x, H))


@grader("split_heads", "split.shape")
def test_split_shape(student):
    x = t.randn(3, 4, 10, seed=401)
    got = student.function("split_heads")(x, 5)
    expect_shape(got, (3, 5, 4, 2), phrase("split_heads(x, 5) for x of shape (3, 4, 10)"), **TORCH,
                 hint="hint.split", diagnoses={"why.split_no_transpose": lambda: x.reshape(3, 4, 5, 2)})


@grader("split_heads", "split.head_columns")
def test_split_head_columns(student):
    x = t.randn(B, T, D, seed=402)
    got = student.function("split_heads")(x, H)
    expect_shape(got, (B, H, T, D_K), "split_heads(x, 3)", **TORCH, hint="hint.split")
    for j in range(H):
        expect_array(got[:, j], x[..., j * D_K:(j + 1) * D_K],
                     phrase("head {j}: columns {first}..{last} of x", j=j, first=j * D_K, last=(j + 1) * D_K - 1),
                     **TORCH, hint="hint.split",
                     diagnoses={k: (lambda f=f, j=j: f()[:, j]) for k, f in _split_mistakes(x, H).items()})


# --- merge_heads ---------------------------------------------------------------------------------
def _merge(student, x):
    with hinted("hint.merge_reshape"):
        return student.function("merge_heads")(x)


def _merge_mistakes(x):
    b, h, n, d_k = x.shape
    return {
        "why.merge_no_transpose": lambda: x.reshape(b, n, h * d_k),
        "why.merge_no_transpose#interleaved": lambda: x.permute(0, 2, 3, 1).reshape(b, n, h * d_k),
    }


@grader("merge_heads", "merge.values", weight=2)
def test_merge_values(student):
    x = t.randn(B, H, T, D_K, seed=410)
    got = _merge(student, x)
    expect_array(got, blocks.merge_heads(x), phrase("merge_heads(x) for x of shape (2, 3, 5, 4)"), **TORCH,
                 hint="hint.merge", diagnoses=_merge_mistakes(x))


@grader("merge_heads", "merge.inverse")
def test_merge_inverse(student):
    x = t.randn(3, 6, 8, seed=411)
    got = _merge(student, blocks.split_heads(x, 4))
    expect_array(got, x, "merge_heads(split_heads(x, 4))", **TORCH, hint="hint.merge",
                 diagnoses=_merge_mistakes(blocks.split_heads(x, 4)))


@grader("merge_heads", "merge.shape")
def test_merge_shape(student):
    x = t.randn(3, 5, 4, 2, seed=412)
    expect_shape(_merge(student, x), (3, 4, 10), phrase("merge_heads(x) for x of shape (3, 5, 4, 2)"), **TORCH,
                 hint="hint.merge")


# --- MultiHeadAttention --------------------------------------------------------------------------
def _shapes(d=D):
    return {f"{n}.{p}": ((d, d) if p == "weight" else (d,)) for n in ("w_q", "w_k", "w_v", "w_o")
            for p in ("weight", "bias")}


def _build(student, d=D, h=H, dropout=0.0, seed=420):
    """The student's module with the grader's weights, and those weights (the oracle's state).

    Projections built without bias lose mha.parameters only: the value checks load the weights that
    exist and compare with the oracle given zero biases, so the arithmetic is still graded."""
    m = student.build("MultiHeadAttention", d, h, dropout, trusted=blocks.STAGE_04)
    no_builtin(m)
    state = o.random_weights(_shapes(d), seed)
    if only_weights(m, _shapes(d)):
        state = zero_biases(state)
        load(m, {k: v for k, v in state.items() if k.endswith(".weight")})
        return m, state
    expect_parameters(m, _shapes(d), hint="hint.mha_parameters",
                      diagnoses={"why.mha_no_bias": lambda got: set(got) == {k for k in _shapes(d) if k.endswith("weight")}})
    load(m, state)
    return m, state


def _load(m, state):
    """Load ``state`` into a module built by ``_build``; a module without biases takes the weights only
    (``_build`` gave it zero biases in the oracle's state)."""
    have = m.parameter_shapes()
    load(m, {k: v for k, v in state.items() if k in have})


def _call(m, query, key, value, mask=None):
    out = m(query, key, value) if mask is None else m(query, key, value, mask)
    return expect_tuple(out, 2, "MultiHeadAttention.forward", phrase("out and weights"))


def _mistakes(state, q, k, v, mask, h=H, which=0):
    d = q.shape[-1]
    f = lambda **kw: (lambda: o.mha(state, q, k, v, mask, h, **kw)[which])  # noqa: E731
    return {
        "why.mha_no_wo": f(w_o=False),
        "why.mha_scale_dmodel": f(scale=d ** -0.5),
        "why.mha_weights_averaged": f(average=True),
        "why.split_no_transpose": f(split="no_transpose"),
        "why.split_interleaved": f(split="interleaved"),
        "why.merge_no_transpose": f(merge="no_transpose"),
        "why.mha_value_from_key": f(value_from_key=True),
    }


def _expect_mha(m, state, q, k, v, mask, what, h=H):
    out, w = _call(m, q, k, v, mask)
    ref_out, ref_w = o.mha_reference(state, q, k, v, mask, h)
    b, n, s = q.shape[0], q.shape[1], k.shape[1]
    expect_shape(w, (b, h, n, s), phrase("the attention weights {what}", what=what), **TORCH, hint="hint.mha_weights",
                 diagnoses={"why.mha_weights_averaged": lambda: ref_w.mean(1)})
    expect_array(w, ref_w, phrase("the attention weights {what}", what=what), **TORCH, diagnoses=_mistakes(state, q, k, v, mask, h, 1))
    expect_array(out, ref_out, phrase("the output {what}", what=what), **TORCH, hint="hint.mha_steps",
                 diagnoses=_mistakes(state, q, k, v, mask, h, 0))


@grader("multi_head_attention", "mha.parameters")
def test_mha_parameters(student):
    m = student.build("MultiHeadAttention", 16, 4, trusted=blocks.STAGE_04)
    no_builtin(m)
    expect_parameters(m, _shapes(16), hint="hint.mha_parameters",
                      diagnoses={"why.mha_no_bias": lambda got: set(got) == {k for k in _shapes(16) if k.endswith("weight")}})


@grader("multi_head_attention", "mha.oracle", weight=2)
def test_mha_self_attention(student):
    m, state = _build(student)
    x = t.randn(B, T, D, seed=421)
    _expect_mha(m, state, x, x, x, None, phrase("of self-attention mha(x, x, x)"))


@grader("multi_head_attention", "mha.cross")
def test_mha_cross_attention(student):
    m, state = _build(student, seed=425)
    z, x, v = t.randn(B, T, D, seed=426), t.randn(B, S, D, seed=427), t.randn(B, S, D, seed=428)
    _expect_mha(m, state, z, x, v, None, phrase("of cross-attention mha(z, x, v) with T = 5, S = 7"))


@grader("multi_head_attention", "mha.mask_heads", weight=2)
def test_mha_mask_over_heads(student):
    m, state = _build(student, seed=430)
    z, x = t.randn(B, T, D, seed=431), t.randn(B, S, D, seed=432)
    mask = t.random_mask(B, T, S, seed=433)
    try:
        _call(m, z, x, x, mask)
    except StudentCodeError as err:  # does the same mask work once it has a head axis?
        try:
            out4, _ = _call(m, z, x, x, mask.unsqueeze(1))
            if not changed(out4, o.mha_reference(state, z, x, x, mask, H)[0], atol=1e-6):
                err.misconception = text("why.mha_mask_no_head_axis")
        except Exception:
            pass
        err.hint = err.hint or text("hint.mha_mask")
        raise
    with hinted("hint.mha_mask"):
        _expect_mha(m, state, z, x, x, mask, phrase("under a (batch, T, S) mask"))
        pad = torch.ones(B, 1, 1, S, dtype=torch.bool)
        pad[1, ..., 4:] = False
        _expect_mha(m, state, z, x, x, pad, phrase("under a (batch, 1, 1, S) padding mask"))


@grader("multi_head_attention", "mha.head_slice")
def test_mha_head_slice(student):
    m, state = _build(student, seed=440)
    x = t.randn(B, T, D, seed=441)
    j = 1
    cols = slice(j * D_K, (j + 1) * D_K)
    only_j = dict(state)
    only_j["w_v.weight"] = torch.zeros_like(state["w_v.weight"])
    only_j["w_v.weight"][cols] = state["w_v.weight"][cols]
    only_j["w_v.bias"] = torch.zeros_like(state["w_v.bias"])
    only_j["w_v.bias"][cols] = state["w_v.bias"][cols]
    only_j["w_o.weight"] = torch.eye(D, dtype=torch.float64)
    only_j["w_o.bias"] = torch.zeros(D, dtype=torch.float64)
    _load(m, only_j)
    out, _ = _call(m, x, x, x)
    expected, _ = o.mha_reference(only_j, x, x, x, None, H)
    expect_array(out, expected, phrase("the output when only head {j}'s slice of W_v is kept and W_o = I "
                                       "(it must be zero outside columns {first}..{last})",
                                       j=j, first=j * D_K, last=(j + 1) * D_K - 1), **TORCH,
                 hint="hint.mha_steps", diagnoses=_mistakes(only_j, x, x, x, None))


@grader("multi_head_attention", "mha.permutation")
def test_mha_permutation(student):
    m, _ = _build(student, seed=445)
    x = t.randn(B, T, D, seed=446)
    perm = torch.tensor([3, 0, 4, 2, 1])
    out, w = _call(m, x, x, x)
    out_p, w_p = _call(m, x[:, perm], x[:, perm], x[:, perm])
    expect_array(out_p, out[:, perm], phrase("the output for permuted tokens"), **TORCH, hint="hint.mha_steps")
    expect_array(w_p, w[:, :, perm][..., perm], phrase("the weights for permuted tokens"), **TORCH)


@grader("multi_head_attention", "mha.not_divisible")
def test_mha_not_divisible(student):
    for d, h in [(10, 3), (12, 5)]:
        expect_raises(lambda d=d, h=h: student.build("MultiHeadAttention", d, h, trusted=blocks.STAGE_04),
                      "ValueError", f"MultiHeadAttention({d}, {h})", why="why.mha_divisible")


@grader("multi_head_attention", "mha.dropout")
def test_mha_dropout(student):
    x = t.randn(B, T, D, seed=451)
    state = _build(student, seed=450)[1]  # zero biases for a module built without them
    build = lambda p: _build(student, dropout=p, seed=450)[0]  # noqa: E731
    out = lambda m: _call(m, x, x, x)[0]  # noqa: E731
    expect_dropout(build, out, o.mha_reference(state, x, x, x, None, H)[0], "MultiHeadAttention")
    m = build(0.5)
    _load(m, {**state, "w_o.weight": torch.zeros(D, D, dtype=torch.float64)})
    expect_dropout_inside(m, out, state["w_o.bias"], "MultiHeadAttention",
                          phrase("on the attention weights, before they weigh v"))
