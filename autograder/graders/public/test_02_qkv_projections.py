"""Public graders of stage 02: projections to q, k, v, self- and cross-attention (numpy, unscaled)."""

from __future__ import annotations

import numpy as np

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_shape, expect_tuple, hinted
from autograder.graders import oracles as o

D_MODEL, D_K, D_V = 12, 8, 6  # all different, so that a transposed matrix cannot hide


def _weights(seed: int, d_model: int = D_MODEL, d_k: int = D_K, d_v: int = D_V):
    r = o.rng(seed)
    return r.normal(size=(d_k, d_model)), r.normal(size=(d_k, d_model)), r.normal(size=(d_v, d_model))


def _x(*shape: int, seed: int) -> np.ndarray:
    return o.rng(seed).normal(size=shape) * 0.5


def _trusted(student_fn_name: str, student):
    return student.function(student_fn_name, trusted=o.TRUSTED_BLOCKS)


# --- project_qkv --------------------------------------------------------------------------------
def _qkv(student, x, w_q, w_k, w_v):
    return expect_tuple(student.function("project_qkv")(x, w_q, w_k, w_v), 3, "project_qkv", phrase("q, k and v"))


@grader("project_qkv", "qkv.formula", weight=2)
def test_qkv_formula(student):
    x, (w_q, w_k, w_v) = _x(2, 5, D_MODEL, seed=20), _weights(21)
    with hinted("hint.row_convention"):
        q, k, v = _qkv(student, x, w_q, w_k, w_v)
        named = {"q": o.project(x, w_q), "k": o.project(x, w_k), "v": o.project(x, w_v)}
        for name, got in zip("qkv", (q, k, v)):
            others = {f"why.qkv_swapped#{m}": (lambda m=m: named[m]) for m in "qkv" if m != name}
            expect_array(got, named[name], name, diagnoses=others)


@grader("project_qkv", "qkv.shapes")
def test_qkv_square(student):
    # Square matrices: a missing transpose gives no shape error here, only wrong values.
    x, (w_q, w_k, w_v) = _x(2, 5, 7, seed=22), _weights(23, d_model=7, d_k=7, d_v=7)
    q, k, v = _qkv(student, x, w_q, w_k, w_v)
    for name, got, w in zip("qkv", (q, k, v), (w_q, w_k, w_v)):
        expect_array(got, o.project(x, w), name, hint="hint.row_convention",
                     diagnoses={"why.qkv_transposed": lambda w=w: x @ w})


@grader("project_qkv", "qkv.batch_dims")
def test_qkv_batch_dims(student):
    w_q, w_k, w_v = _weights(24)
    for shape in [(5, D_MODEL), (3, 2, 5, D_MODEL)]:
        x = _x(*shape, seed=25)
        q, k, v = _qkv(student, x, w_q, w_k, w_v)
        for name, got, w in zip("qkv", (q, k, v), (w_q, w_k, w_v)):
            expect_array(got, o.project(x, w), phrase("{name} for x of shape {shape}", name=name, shape=shape),
                         hint="hint.row_convention")


# --- self_attention -----------------------------------------------------------------------------
def _self(student, x, w_q, w_k, w_v):
    out = _trusted("self_attention", student)(x, w_q, w_k, w_v)
    return expect_tuple(out, 2, "self_attention", phrase("y and w"))


@grader("self_attention", "self.formula", weight=2)
def test_self_formula(student):
    x, (w_q, w_k, w_v) = _x(2, 5, D_MODEL, seed=30), _weights(31)
    y, w = _self(student, x, w_q, w_k, w_v)
    y_ref, w_ref = o.self_attention(x, w_q, w_k, w_v)
    q, k, v = (o.project(x, m) for m in (w_q, w_k, w_v))
    expect_array(w, w_ref, phrase("the attention weights w"), hint="hint.last_axis", diagnoses={
        "why.self_scaled": lambda: o.self_attention(x, w_q, w_k, w_v, scale=D_K ** -0.5)[1],
        "why.softmax_axis": lambda: o.softmax(q @ o.swap(k), axis=-2),
    })
    expect_array(y, y_ref, phrase("the output y"), diagnoses={
        "why.self_keys_as_values": lambda: w_ref @ k,
        "why.self_scaled": lambda: o.self_attention(x, w_q, w_k, w_v, scale=D_K ** -0.5)[0],
    })


@grader("self_attention", "self.rows_sum_to_one")
def test_self_rows_sum_to_one(student):
    x, (w_q, w_k, w_v) = _x(2, 6, D_MODEL, seed=32), _weights(33)
    _, w = _self(student, x, w_q, w_k, w_v)
    expect_shape(w, (2, 6, 6), phrase("the attention weights w"), hint="hint.swapaxes")
    expect_array(np.asarray(w).sum(-1), np.ones((2, 6)), phrase("the row sums of w"), hint="hint.last_axis")


@grader("self_attention", "self.permutation")
def test_self_permutation(student):
    x, (w_q, w_k, w_v) = _x(2, 6, D_MODEL, seed=34), _weights(35)
    perm = np.array([2, 5, 0, 4, 1, 3])
    y, w = _self(student, x, w_q, w_k, w_v)
    y_p, w_p = _self(student, x[:, perm], w_q, w_k, w_v)
    expect_array(y_p, np.asarray(y)[:, perm], phrase("y for the permuted x"))
    expect_array(w_p, np.asarray(w)[:, perm][:, :, perm], phrase("w for the permuted x"))


@grader("self_attention", "self.batch_dims")
def test_self_batch_dims(student):
    w_q, w_k, w_v = _weights(36)
    with hinted("hint.swapaxes"):
        for shape in [(5, D_MODEL), (3, 2, 5, D_MODEL)]:
            x = _x(*shape, seed=37)
            y, w = _self(student, x, w_q, w_k, w_v)
            y_ref, w_ref = o.self_attention(x, w_q, w_k, w_v)
            expect_array(w, w_ref, phrase("w for x of shape {shape}", shape=shape))
            expect_array(y, y_ref, phrase("y for x of shape {shape}", shape=shape))


# --- cross_attention ----------------------------------------------------------------------------
S, T = 7, 5  # keys/values from x (S tokens), queries from z (T tokens)


def _cross(student, x, z, w_q, w_k, w_v):
    out = _trusted("cross_attention", student)(x, z, w_q, w_k, w_v)
    return expect_tuple(out, 2, "cross_attention", phrase("y and w"))


@grader("cross_attention", "cross.formula", weight=2)
def test_cross_formula(student):
    x, z, (w_q, w_k, w_v) = _x(2, S, D_MODEL, seed=40), _x(2, T, D_MODEL, seed=41), _weights(42)
    y, w = _cross(student, x, z, w_q, w_k, w_v)
    y_ref, w_ref = o.cross_attention(x, z, w_q, w_k, w_v)
    swapped = lambda: o.cross_attention(z, x, w_q, w_k, w_v)  # noqa: E731
    expect_array(w, w_ref, phrase("the attention weights w"), hint="hint.cross_roles", diagnoses={
        "why.cross_roles_swapped": lambda: swapped()[1],
        "why.self_scaled": lambda: o.cross_attention(x, z, w_q, w_k, w_v, scale=D_K ** -0.5)[1],
    })
    expect_array(y, y_ref, phrase("the output y"), hint="hint.cross_roles",
                 diagnoses={"why.cross_roles_swapped": lambda: swapped()[0]})


@grader("cross_attention", "cross.shapes")
def test_cross_shapes(student):
    x, z, (w_q, w_k, w_v) = _x(3, S, D_MODEL, seed=43), _x(3, T, D_MODEL, seed=44), _weights(45)
    y, w = _cross(student, x, z, w_q, w_k, w_v)
    swapped = lambda: o.cross_attention(z, x, w_q, w_k, w_v)  # noqa: E731
    expect_shape(w, (3, T, S), phrase("the attention weights w"), hint="hint.cross_roles",
                 diagnoses={"why.cross_roles_swapped": lambda: swapped()[1]})
    expect_shape(y, (3, T, D_V), phrase("the output y"), hint="hint.cross_roles",
                 diagnoses={"why.cross_roles_swapped": lambda: swapped()[0]})


@grader("cross_attention", "cross.permute_x")
def test_cross_permute_x(student):
    x, z, (w_q, w_k, w_v) = _x(2, S, D_MODEL, seed=46), _x(2, T, D_MODEL, seed=47), _weights(48)
    perm = np.array([6, 2, 0, 5, 1, 3, 4])
    y, _ = _cross(student, x, z, w_q, w_k, w_v)
    y_p, _ = _cross(student, x[:, perm], z, w_q, w_k, w_v)
    expect_array(y_p, y, phrase("y after permuting the tokens of x"), hint="hint.cross_roles")


@grader("cross_attention", "cross.batch_dims")
def test_cross_batch_dims(student):
    w_q, w_k, w_v = _weights(49)
    with hinted("hint.swapaxes"):
        for lead in [(), (3, 2)]:
            x, z = _x(*lead, S, D_MODEL, seed=50), _x(*lead, T, D_MODEL, seed=51)
            y, w = _cross(student, x, z, w_q, w_k, w_v)
            y_ref, w_ref = o.cross_attention(x, z, w_q, w_k, w_v)
            expect_array(w, w_ref, phrase("w with leading dimensions {lead}", lead=lead))
            expect_array(y, y_ref, phrase("y with leading dimensions {lead}", lead=lead))
