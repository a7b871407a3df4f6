"""Hidden graders of stage 01: cases the public checks do not show."""

from __future__ import annotations

import numpy as np

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_tuple
from autograder.graders import oracles as o


@grader("softmax", "softmax.formula")
def test_softmax_vector_and_negative_infinity(student):
    softmax = student.function("softmax")
    x = np.array([0.5, -np.inf, 2.0, -np.inf, 1.0])  # -inf scores are how masks arrive later
    expect_array(softmax(x.copy()), o.softmax(x), phrase("softmax of a 1-D vector with −inf entries"),
                 hint="hint.softmax_stable")


@grader("softmax", "softmax.large_inputs")
def test_softmax_very_negative(student):
    x = o.rng(7).normal(size=(4, 6)) * 1000 - 5000
    expect_array(student.function("softmax")(x.copy()), o.softmax(x), phrase("softmax of x·1000 − 5000"),
                 hint="hint.softmax_stable", diagnoses={"why.softmax_unstable": lambda: o.mistake_naive_softmax(x)})


@grader("dot_product_attention", "dpa.batch_dims")
def test_dpa_non_contiguous(student):
    x = np.asfortranarray(o.rng(18).normal(size=(2, 3, 4, 5)))[..., ::1, :].transpose(1, 0, 2, 3)
    out = student.function("dot_product_attention", trusted=o.TRUSTED_BLOCKS)(x)
    y, w = expect_tuple(out, 2, "dot_product_attention", phrase("y and w"))
    y_ref, w_ref = o.dot_product_attention(x)
    expect_array(w, w_ref, phrase("w for a non-contiguous (3, 2, 4, 5) input"), hint="hint.swapaxes")
    expect_array(y, y_ref, phrase("y for a non-contiguous (3, 2, 4, 5) input"), hint="hint.swapaxes")
