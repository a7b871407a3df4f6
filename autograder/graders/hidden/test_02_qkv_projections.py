"""Hidden graders of stage 02."""

from __future__ import annotations

import numpy as np

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_tuple
from autograder.graders import oracles as o


def _w(seed, d_model, d_k, d_v):
    r = o.rng(seed)
    return r.normal(size=(d_k, d_model)), r.normal(size=(d_k, d_model)), r.normal(size=(d_v, d_model))


@grader("project_qkv", "qkv.shapes")
def test_qkv_width_one(student):
    x, (w_q, w_k, w_v) = o.rng(60).normal(size=(2, 3, 4)), _w(61, 4, 1, 1)
    q, k, v = expect_tuple(student.function("project_qkv")(x, w_q, w_k, w_v), 3, "project_qkv", phrase("q, k and v"))
    for name, got, w in zip("qkv", (q, k, v), (w_q, w_k, w_v)):
        expect_array(got, o.project(x, w), phrase("{name} with d_k = d_v = 1", name=name), hint="hint.row_convention")


@grader("cross_attention", "cross.shapes")
def test_cross_single_key(student):
    x, z, (w_q, w_k, w_v) = o.rng(62).normal(size=(2, 1, 6)), o.rng(63).normal(size=(2, 4, 6)), _w(64, 6, 3, 5)
    fn = student.function("cross_attention", trusted=o.TRUSTED_BLOCKS)
    y, w = expect_tuple(fn(x, z, w_q, w_k, w_v), 2, "cross_attention", phrase("y and w"))
    expect_array(w, np.ones((2, 4, 1)), phrase("w with a single key (S = 1)"), hint="hint.cross_roles")
    expect_array(y, np.repeat(o.project(x, w_v), 4, axis=1), phrase("y with a single key (S = 1)"))


@grader("self_attention", "self.formula")
def test_self_float32(student):
    x, (w_q, w_k, w_v) = (o.rng(65).normal(size=(2, 4, 6)).astype(np.float32),
                          tuple(m.astype(np.float32) for m in _w(66, 6, 3, 5)))
    fn = student.function("self_attention", trusted=o.TRUSTED_BLOCKS)
    y, w = expect_tuple(fn(x, w_q, w_k, w_v), 2, "self_attention", phrase("y and w"))
    y_ref, w_ref = o.self_attention(x, w_q, w_k, w_v)
    expect_array(w, w_ref, phrase("w for float32 inputs"), dtype=np.float32, rtol=1e-4, atol=1e-5)
    expect_array(y, y_ref, phrase("y for float32 inputs"), dtype=np.float32, rtol=1e-4, atol=1e-5)
