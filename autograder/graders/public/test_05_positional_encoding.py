"""Public graders of stage 05: the sinusoidal positional encoding and its module (torch).

The oracle is the slides' formula in float64 (numpy). The module's graders run it on a trusted
sinusoidal_positional_encoding, so a bug in the formula costs points only once. Decision: a
sequence longer than max_len raises ValueError (checked here), not a shape error from deep
inside the addition.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.catalogue import phrase, text
from autograder.dsl import grader
from autograder.expect import digits_to_show, expect_array, expect_shape, fail, hinted
from autograder.failures import Evidence, StudentCodeError
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import TORCH, changed, expect_raises

ATOL = 1e-5  # float32 arithmetic on positions below 50 stays within ~1e-6 of the float64 formula


def _formula(max_len, d_model):
    return torch.from_numpy(o.positional_encoding(max_len, d_model))


def _mistakes(max_len, d_model, rows=slice(None)):
    def m(kind):
        return lambda: torch.from_numpy(o.mistake_positional_encoding(max_len, d_model, kind))[rows]

    return {
        "why.pe_sin_cos_swapped": m("swapped"),
        "why.pe_halves": m("halves"),
        "why.pe_exponent#column": m("column_exponent"),
        "why.pe_exponent#doubled": m("doubled_exponent"),
    }


def _pe(student, max_len, d_model):
    return student.function("sinusoidal_positional_encoding")(max_len, d_model)


# --- sinusoidal_positional_encoding --------------------------------------------------------------
@grader("sinusoidal_positional_encoding", "pe.formula", weight=2)
def test_pe_formula(student):
    got = _pe(student, 40, 16)
    expect_array(got, _formula(40, 16), "sinusoidal_positional_encoding(40, 16)", **TORCH, rtol=0.0, atol=ATOL,
                 hint="hint.pe_formula", diagnoses=_mistakes(40, 16))


@grader("sinusoidal_positional_encoding", "pe.first_rows")
def test_pe_first_rows(student):
    got = _pe(student, 6, 10)
    expect_shape(got, (6, 10), "sinusoidal_positional_encoding(6, 10)", **TORCH)
    expect_array(got[0], _formula(6, 10)[0], phrase("t_0, the encoding of position 0 (sin 0 = 0, cos 0 = 1)"), **TORCH,
                 rtol=0.0, atol=ATOL, hint="hint.pe_formula", diagnoses=_mistakes(6, 10, rows=0))
    expect_array(got[1], _formula(6, 10)[1], phrase("t_1, the encoding of position 1"), **TORCH, rtol=0.0, atol=ATOL,
                 hint="hint.pe_formula", diagnoses=_mistakes(6, 10, rows=1))


@grader("sinusoidal_positional_encoding", "pe.shape_dtype")
def test_pe_shape_dtype(student):
    got = _pe(student, 9, 4)
    expect_shape(got, (9, 4), "sinusoidal_positional_encoding(9, 4)", **TORCH, hint="hint.pe_formula")
    if got.dtype != torch.float32:
        raise fail("fail.wrong_type", what="sinusoidal_positional_encoding(9, 4)", expected=phrase("float32 tensor"),
                   got=phrase("tensor of dtype {dtype}", dtype=str(got.dtype).replace('torch.', '')), hint="hint.pe_dtype")


@grader("sinusoidal_positional_encoding", "pe.odd_d_model")
def test_pe_odd_d_model(student):
    try:
        got = _pe(student, 12, 7)
    except StudentCodeError as err:
        try:  # an even size works: then the odd size is the problem
            _pe(student, 12, 8)
            err.misconception = text("why.pe_odd_d_model")
        except Exception:
            pass
        err.hint = err.hint or text("hint.pe_odd")
        raise
    expect_array(got, _formula(12, 7), phrase("sinusoidal_positional_encoding(12, 7): the last column is a sine"), **TORCH,
                 rtol=0.0, atol=ATOL, hint="hint.pe_odd",
                 diagnoses={**_mistakes(12, 7), "why.pe_odd_d_model#padded": lambda: _formula(12, 8)[:, :7]})


@grader("sinusoidal_positional_encoding", "pe.distance")
def test_pe_dot_product_depends_on_distance(student):
    n, d, shifts = 30, 16, 10
    got = _pe(student, n, d)
    expect_shape(got, (n, d), "sinusoidal_positional_encoding(30, 16)", **TORCH)

    def table(pe):  # row i: t_i · t_{i+Δ} for Δ = 0 .. 9
        pe = torch.as_tensor(pe, dtype=torch.float64)
        return torch.stack([(pe[: n - shifts] * pe[s: n - shifts + s]).sum(-1) for s in range(shifts)], dim=1)

    expected = table(_formula(n, d))
    expect_array(table(got), expected, phrase("t_i · t_(i+Δ) for i = 0..19 and Δ = 0..9 (the same in every row)"), **TORCH,
                 rtol=0.0, atol=1e-4, hint="hint.pe_formula",
                 diagnoses={k: (lambda f=f: table(f())) for k, f in _mistakes(n, d).items()})


# --- PositionalEncoding --------------------------------------------------------------------------
D, MAX_LEN = 8, 20


def _module(student, d=D, max_len=MAX_LEN, dropout=0.0):
    return student.build("PositionalEncoding", d, max_len, dropout, trusted=blocks.STAGE_05)


def _expect_buffer(m, d=D, max_len=MAX_LEN):
    params, buffers = m.parameter_shapes(), m.buffer_shapes()
    if "pe" in params:
        raise fail("fail.pe_parameter", name=m.name, why="why.pe_parameter")
    if buffers.get("pe") != (max_len, d):
        why = "why.pe_plain_attribute" if not buffers and not params else None
        got = phrase("shape {shape}", shape=buffers["pe"]) if "pe" in buffers else (", ".join(buffers) or phrase("no buffers"))
        raise fail("fail.no_buffer", name=m.name, hint="hint.pe_buffer", why=why,
                   evidence=Evidence(expected=phrase("a buffer `pe` of shape {shape}", shape=(max_len, d)), got=got))
    if params:
        raise fail("fail.parameters", name=m.name, hint="hint.pe_buffer",
                   evidence=Evidence(details=[text("detail.unexpected_parameters", names=", ".join(params))]))


@grader("positional_encoding", "pemod.buffer")
def test_pemod_buffer(student):
    _expect_buffer(_module(student))


@grader("positional_encoding", "pemod.forward", weight=2)
def test_pemod_forward(student):
    m = _module(student)
    m.eval()
    for b, n, seed in [(1, 6, 600), (2, 5, 601), (2, MAX_LEN, 602)]:
        x = t.randn(b, n, D, seed=seed, dtype=torch.float32)
        with hinted("hint.pe_slice"):
            got = m(x)
        pe = _formula(n, D)
        expect_array(got, x + pe, phrase("the output for x of shape {shape}", shape=(b, n, D)), **TORCH, rtol=0.0, atol=ATOL,
                     dtype=torch.float32, hint="hint.pe_slice",
                     diagnoses={"why.pe_batch_axis": lambda x=x, b=b: x + _formula(b, D)[:, None, :]})


@grader("positional_encoding", "pemod.too_long")
def test_pemod_too_long(student):
    m = _module(student, max_len=10)
    m.eval()
    expect_raises(lambda: m(torch.zeros(2, 11, D)), "ValueError",
                  phrase("PositionalEncoding(8, max_len=10) on a sequence of 11 positions"), why="why.pe_no_length_check",
                  hint="hint.pe_too_long")


@grader("positional_encoding", "pemod.state_dict")
def test_pemod_state_dict(student):
    m = _module(student)
    state = m.state_dict()
    if "pe" not in state:
        buffers = m.buffer_shapes()
        raise fail("fail.not_in_state_dict", name=m.name, hint="hint.pe_buffer",
                   why="why.pe_not_persistent" if "pe" in buffers else None)
    expect_shape(state["pe"], (MAX_LEN, D), "state_dict()['pe']", **TORCH, hint="hint.pe_buffer")
    doubled = 2 * _formula(MAX_LEN, D).float()
    m.load_state_dict({**state, "pe": doubled})
    m.eval()
    x = torch.zeros(2, 7, D)
    expect_array(m(x), doubled[:7].expand(2, 7, D), phrase("the output after loading a state dict with pe doubled"), **TORCH,
                 rtol=0.0, atol=ATOL, hint="hint.pe_buffer")


@grader("positional_encoding", "pemod.dropout")
def test_pemod_dropout(student):
    m = _module(student, dropout=0.5)
    x = t.randn(4, 10, D, seed=610, dtype=torch.float32) + 3.0  # no entry of x + pe is near 0
    clean = x + _formula(10, D).float()
    m.eval()
    got_eval = m(x)

    def active_in_eval():  # the same module without dropout is right: then dropout ran in eval mode
        m0 = _module(student)
        m0.eval()
        return None if changed(m0(x), clean, 1e-5) else got_eval

    expect_array(got_eval, clean, phrase("the output in eval mode with dropout=0.5"), **TORCH, rtol=0.0, atol=ATOL,
                 hint="hint.dropout_module", diagnoses={"why.dropout_in_eval": active_in_eval})
    m.train()
    torch.manual_seed(0)
    got = m(x)
    expect_shape(got, tuple(x.shape), phrase("the output in training mode"), **TORCH)
    zero = got.abs() < 1e-6
    kept = (got - 2 * clean).abs() < 1e-4
    if not zero.any():
        raise fail("fail.dropout_unused", name=m.name, hint="hint.dropout_module")
    if not (zero | kept).all():
        pe = _formula(10, D).float()
        dropped_x = (got - pe).abs() < 1e-4  # dropout(x) + pe: a dropped entry shows pe
        scaled_x = (got - (2 * x + pe)).abs() < 1e-4
        why = "why.pe_dropout_before_add" if (dropped_x | scaled_x).all() else None
        i = tuple(int(v) for v in torch.nonzero(~(zero | kept))[0])
        want, have = 2 * clean[i].item(), got[i].item()
        n = digits_to_show(np.array([want]), abs(have - want))  # enough digits to show the difference
        raise fail("fail.dropout_values", name=m.name, why=why, hint="hint.pe_dropout",
                   evidence=Evidence(expected=phrase("0 or 2·(x + pe) = {want:.{n}g}", want=want, n=n),
                                     got=phrase("{have:.{n}g} at index {i}", have=have, n=n, i=i)))
