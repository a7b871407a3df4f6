"""Hidden graders of stage 04: other sizes, one head and d_k = 1, 2-D and padding masks, float32."""

from __future__ import annotations

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_tuple
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import (TORCH, expect_number, expect_parameters, load, no_builtin, only_weights,
                                              zero_biases)


@grader("qkv_parameter_count", "count.general")
def test_count_one_head(student):
    count = student.function("qkv_parameter_count")
    for k, r, efficient in [(64, 1, True), (64, 1, False), (6, 6, True)]:
        expect_number(count(k, r, efficient), o.qkv_parameter_count(k, r, efficient),
                      f"qkv_parameter_count({k}, {r}, efficient={efficient})", hint="hint.count")


@grader("split_heads", "split.shape")
def test_split_single_token_and_d_k_one(student):
    split = student.function("split_heads")
    for shape, h in [((1, 1, 6), 2), ((2, 3, 4), 4), ((2, 3, 4), 1)]:
        x = t.randn(*shape, seed=500 + h)
        expect_array(split(x, h), blocks.split_heads(x, h), phrase("split_heads(x, {h}) for x of shape {shape}", h=h, shape=shape),
                     **TORCH, hint="hint.split")


@grader("merge_heads", "merge.inverse")
def test_merge_single_token(student):
    merge = student.function("merge_heads")
    for shape in [(1, 2, 1, 3), (2, 4, 3, 1)]:
        x = t.randn(*shape, seed=510)
        expect_array(merge(x), blocks.merge_heads(x), phrase("merge_heads(x) for x of shape {shape}", shape=shape), **TORCH,
                     hint="hint.merge")


def _mha(student, d, h, seed):
    m = student.build("MultiHeadAttention", d, h, trusted=blocks.STAGE_04)
    no_builtin(m)
    shapes = {f"{n}.{p}": ((d, d) if p == "weight" else (d,)) for n in ("w_q", "w_k", "w_v", "w_o")
              for p in ("weight", "bias")}
    state = o.random_weights(shapes, seed)
    if only_weights(m, shapes):  # no biases: the public mha.parameters says so; the arithmetic is still graded
        return m, zero_biases(state)
    expect_parameters(m, shapes, hint="hint.mha_parameters")
    return m, state


def _load(m, state, **kwargs):
    """Load the entries of ``state`` the module has (all of them, or the weights of one without biases)."""
    have = m.parameter_shapes()
    load(m, {k: v for k, v in state.items() if k in have}, **kwargs)


@grader("multi_head_attention", "mha.oracle")
def test_mha_one_head_and_d_k_one(student):
    for d, h in [(6, 1), (6, 6)]:
        m, state = _mha(student, d, h, 520 + h)
        _load(m, state)
        q, kv = t.randn(2, 3, d, seed=521), t.randn(2, 4, d, seed=522)
        out, w = expect_tuple(m(q, kv, kv), 2, "MultiHeadAttention.forward", phrase("out and weights"))
        ref_out, ref_w = o.mha_reference(state, q, kv, kv, None, h)
        expect_array(w, ref_w, phrase("the weights with d_model = {d} and {h} head(s)", d=d, h=h), **TORCH)
        expect_array(out, ref_out, phrase("the output with d_model = {d} and {h} head(s)", d=d, h=h), **TORCH)


@grader("multi_head_attention", "mha.mask_heads")
def test_mha_causal_and_padding_masks(student):
    m, state = _mha(student, 8, 2, 530)
    _load(m, state)
    x = t.randn(3, 5, 8, seed=531)
    pad = torch.ones(3, 1, 1, 5, dtype=torch.bool)
    pad[0, ..., 3:] = False
    for mask, what in [(t.causal(5), phrase("a (T, T) causal mask")), (pad, phrase("a (batch, 1, 1, S) padding mask")),
                       (t.causal(5) & pad, phrase("causal & padding, (batch, 1, T, T)"))]:
        out, w = expect_tuple(m(x, x, x, mask), 2, "MultiHeadAttention.forward", phrase("out and weights"))
        ref_out, ref_w = o.mha_reference(state, x, x, x, mask, 2)
        expect_array(w, ref_w, phrase("the weights under {mask}", mask=what), **TORCH, hint="hint.mha_mask")
        expect_array(out, ref_out, phrase("the output under {mask}", mask=what), **TORCH, hint="hint.mha_mask")


@grader("multi_head_attention", "mha.oracle")
def test_mha_float32(student):
    m, state = _mha(student, 12, 3, 540)
    _load(m, state, dtype=torch.float32)
    x = t.randn(2, 4, 12, seed=541, dtype=torch.float32)
    out, w = expect_tuple(m(x, x, x), 2, "MultiHeadAttention.forward", phrase("out and weights"))
    ref_out, ref_w = o.mha_reference(state, x, x, x, None, 3)
    expect_array(out, ref_out, phrase("the output for float32 weights and inputs"), **TORCH, dtype=torch.float32,
                 rtol=1e-4, atol=1e-5)
    expect_array(w, ref_w, phrase("the weights for float32 weights and inputs"), **TORCH, dtype=torch.float32,
                 rtol=1e-4, atol=1e-5)
