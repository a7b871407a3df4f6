"""Public graders of stage 01: softmax and parameter-free dot-product self-attention (numpy)."""

from __future__ import annotations

import numpy as np

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_finite, expect_shape, expect_tuple, fail, hinted
from autograder.graders import oracles as o

# dot_product_attention runs on a trusted softmax, so a softmax bug costs points only once.
TRUSTED = o.TRUSTED_BLOCKS


def _x(*shape: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return o.rng(seed).normal(size=shape) * scale


# --- softmax ------------------------------------------------------------------------------------
@grader("softmax", "softmax.formula")
def test_softmax_formula(student):
    x = _x(2, 5, 7)
    got = student.function("softmax")(x.copy())
    expect_array(
        got, o.softmax(x), phrase("the softmax of x"),
        hint="hint.last_axis",
        diagnoses={"why.softmax_axis": lambda: o.softmax(x, axis=-2),
                   "why.softmax_axis#0": lambda: o.softmax(x, axis=0),
                   "why.softmax_global": lambda: o.mistake_global_softmax(x)},
    )


@grader("softmax", "softmax.axis")
def test_softmax_axis(student):
    softmax = student.function("softmax")
    x = _x(3, 4, 5, seed=1)
    for axis in (0, 1):
        expect_array(
            softmax(x.copy(), axis=axis), o.softmax(x, axis=axis), f"softmax(x, axis={axis})",
            hint="hint.keepdims",
        )


@grader("softmax", "softmax.rows_sum_to_one")
def test_softmax_rows_sum_to_one(student):
    x = _x(4, 6, seed=2)
    got = student.function("softmax")(x.copy())
    expect_shape(got, (4, 6), phrase("the softmax of x"))
    expect_array(np.asarray(got).sum(axis=-1), np.ones(4), phrase("the row sums"), hint="hint.last_axis",
                 diagnoses={"why.softmax_axis": lambda: o.softmax(x, axis=0).sum(-1)})


@grader("softmax", "softmax.shift_invariant")
def test_softmax_shift_invariant(student):
    softmax = student.function("softmax")
    x = _x(3, 5, seed=3)
    expect_array(softmax(x + 30.0), o.softmax(x), "softmax(x + 30)")
    expect_array(softmax(x - 30.0), o.softmax(x), "softmax(x − 30)")


@grader("softmax", "softmax.large_inputs")
def test_softmax_large_inputs(student):
    x = _x(3, 5, seed=4, scale=1000.0)
    got = student.function("softmax")(x.copy())
    expect_array(got, o.softmax(x), phrase("the softmax of x·1000"), hint="hint.softmax_stable",
                 diagnoses={"why.softmax_unstable": lambda: o.mistake_naive_softmax(x)})


@grader("softmax", "softmax.dtype")
def test_softmax_dtype(student):
    x = _x(2, 3, 4, seed=5).astype(np.float32)
    got = student.function("softmax")(x.copy())
    expect_array(got, o.softmax(x), phrase("the softmax of a float32 array"), dtype=np.float32, rtol=1e-4, atol=1e-6)


@grader("softmax", "softmax.input_untouched")
def test_softmax_input_untouched(student):
    x = _x(3, 4, seed=6)
    before = x.copy()
    student.function("softmax")(x)
    if not np.array_equal(x, before):
        raise fail("fail.modified_input", name="softmax")


# --- dot_product_attention ---------------------------------------------------------------------
def _dpa(student, x):
    result = student.function("dot_product_attention", trusted=TRUSTED)(x.copy())
    return expect_tuple(result, 2, "dot_product_attention", phrase("y and w"))


@grader("dot_product_attention", "dpa.formula", weight=2)
def test_dpa_formula(student):
    x = _x(2, 5, 12, seed=10)
    y, w = _dpa(student, x)
    y_ref, w_ref = o.dot_product_attention(x)
    scores = x @ o.swap(x)
    expect_array(w, w_ref, phrase("the attention weights w"), hint="hint.last_axis", diagnoses={
        "why.softmax_axis": lambda: o.softmax(scores, axis=-2),
        "why.dpa_no_softmax": lambda: scores,
    })
    expect_array(y, y_ref, phrase("the output y"), diagnoses={"why.dpa_weights_times_scores": lambda: w_ref @ scores})


@grader("dot_product_attention", "dpa.shapes")
def test_dpa_shapes(student):
    x = _x(2, 5, 12, seed=11)
    with hinted("hint.swapaxes"):
        y, w = _dpa(student, x)
        expect_shape(w, (2, 5, 5), phrase("the attention weights w"))
        expect_shape(y, (2, 5, 12), phrase("the output y"))


@grader("dot_product_attention", "dpa.rows_sum_to_one")
def test_dpa_rows_sum_to_one(student):
    x = _x(2, 6, 4, seed=12)
    _, w = _dpa(student, x)
    expect_shape(w, (2, 6, 6), phrase("the attention weights w"), hint="hint.swapaxes")
    expect_array(np.asarray(w).sum(-1), np.ones((2, 6)), phrase("the row sums of w"), hint="hint.last_axis")


@grader("dot_product_attention", "dpa.permutation")
def test_dpa_permutation(student):
    x = _x(2, 6, 8, seed=13)
    perm = np.array([3, 0, 5, 1, 4, 2])
    y, w = _dpa(student, x)
    y_p, w_p = _dpa(student, x[:, perm])
    expect_array(y_p, np.asarray(y)[:, perm], phrase("y for the permuted x"))
    expect_array(w_p, np.asarray(w)[:, perm][:, :, perm], phrase("w for the permuted x"))


@grader("dot_product_attention", "dpa.batch_dims")
def test_dpa_batch_dims(student):
    with hinted("hint.swapaxes"):
        for shape in [(5, 12), (3, 2, 5, 12)]:
            x = _x(*shape, seed=14)
            y, w = _dpa(student, x)
            y_ref, w_ref = o.dot_product_attention(x)
            expect_array(w, w_ref, phrase("w for x of shape {shape}", shape=shape))
            expect_array(y, y_ref, phrase("y for x of shape {shape}", shape=shape))


@grader("dot_product_attention", "dpa.single_token")
def test_dpa_single_token(student):
    x = _x(2, 1, 12, seed=15)
    y, w = _dpa(student, x)
    expect_array(w, np.ones((2, 1, 1)), phrase("w for t = 1"))
    expect_array(y, x, phrase("y for t = 1"))


@grader("dot_product_attention", "dpa.large_inputs")
def test_dpa_large_inputs(student):
    x = _x(2, 5, 12, seed=16, scale=1000.0)
    y, w = _dpa(student, x)
    expect_finite(w, phrase("the attention weights w for x·1000"), hint="hint.softmax_stable")
    expect_finite(y, phrase("the output y for x·1000"), hint="hint.softmax_stable")


@grader("dot_product_attention", "dpa.dtype")
def test_dpa_dtype(student):
    x = _x(2, 4, 6, seed=17).astype(np.float32)
    y, w = _dpa(student, x)
    y_ref, w_ref = o.dot_product_attention(x)
    expect_array(w, w_ref, phrase("w for a float32 x"), dtype=np.float32, rtol=1e-4, atol=1e-5)
    expect_array(y, y_ref, phrase("y for a float32 x"), dtype=np.float32, rtol=1e-4, atol=1e-5)
