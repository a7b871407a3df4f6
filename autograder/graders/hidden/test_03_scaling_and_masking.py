"""Hidden graders of stage 03."""

from __future__ import annotations

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_finite, expect_tuple, fail
from autograder.graders import torch_oracles as t


@grader("scaled_dot_product_attention", "sdpa.mask_oracle")
def test_sdpa_2d_causal_mask_over_heads(student):
    q, k, v = (t.randn(2, 4, 6, 8, seed=s) for s in (200, 201, 202))
    mask = t.causal(6)  # (T, S), broadcast over batch and heads
    out, w = expect_tuple(student.function("scaled_dot_product_attention")(q, k, v, mask=mask), 2,
                          "scaled_dot_product_attention", phrase("out and weights"))
    expect_array(out, t.sdpa(q, k, v, mask), phrase("the output under a (T, S) causal mask"), kind="torch",
                 hint="hint.mask_convention")


@grader("scaled_dot_product_attention", "sdpa.fully_masked")
def test_sdpa_gradients_finite_with_fully_masked_row(student):
    q, k, v = (t.randn(1, 3, 4, seed=s).requires_grad_() for s in (210, 211, 212))
    mask = torch.tensor([[True, False, True], [False, False, False], [True, True, True]])
    fn = student.function("scaled_dot_product_attention")
    outputs, grads = fn.grad(q, k, v, mask=mask, grad_outputs=[torch.ones(1, 3, 4, dtype=q.dtype), None])
    expect_tuple(outputs, 2, "scaled_dot_product_attention", phrase("out and weights"))
    for name, g in zip("qkv", grads):
        if g is None:
            raise fail("fail.no_grad", what=name, hint="hint.torch_only")
        expect_finite(g, phrase("the gradient with respect to {name} with a fully masked row", name=name),
                      hint="hint.fully_masked")


@grader("causal_mask", "causal.values")
def test_causal_large(student):
    expect_array(student.function("causal_mask")(64), t.causal(64), "causal_mask(64)", kind="torch",
                 hint="hint.tril")


@grader("padding_mask", "padding.values")
def test_padding_all_pad_row(student):
    tokens = torch.tensor([[1, 1, 1], [4, 2, 1]])
    got = student.function("padding_mask")(tokens, 1)
    expect_array(got, (tokens != 1)[:, None, None, :], phrase("padding_mask with a row of padding only"), kind="torch")
