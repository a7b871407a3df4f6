"""Hidden graders of stage 05: long tables, tiny sizes, odd d_model in the module, .to(float64)."""

from __future__ import annotations

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, fail
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import TORCH


@grader("sinusoidal_positional_encoding", "pe.formula")
def test_pe_long_table(student):
    got = student.function("sinusoidal_positional_encoding")(1000, 64)
    expect_array(got, torch.from_numpy(o.positional_encoding(1000, 64)), "sinusoidal_positional_encoding(1000, 64)",
                 **TORCH, rtol=0.0, atol=2e-4, hint="hint.pe_formula")


@grader("sinusoidal_positional_encoding", "pe.odd_d_model")
def test_pe_tiny_sizes(student):
    pe = student.function("sinusoidal_positional_encoding")
    for max_len, d in [(1, 2), (5, 1), (3, 3)]:
        expect_array(pe(max_len, d), torch.from_numpy(o.positional_encoding(max_len, d)),
                     f"sinusoidal_positional_encoding({max_len}, {d})", **TORCH, rtol=0.0, atol=1e-5, hint="hint.pe_odd")


@grader("positional_encoding", "pemod.forward")
def test_pemod_odd_d_model_single_token(student):
    m = student.build("PositionalEncoding", 7, 16, 0.0, trusted=blocks.STAGE_05)
    m.eval()
    x = t.randn(3, 1, 7, seed=620, dtype=torch.float32)
    expect_array(m(x), x + torch.from_numpy(o.positional_encoding(1, 7)), phrase("the output for d_model = 7 and T = 1"),
                 **TORCH, rtol=0.0, atol=1e-5, hint="hint.pe_slice")


@grader("positional_encoding", "pemod.buffer")
def test_pemod_moves_with_to(student):
    m = student.build("PositionalEncoding", 8, 12, 0.0, trusted=blocks.STAGE_05)
    m.to(torch.float64)
    m.eval()
    state = m.state_dict()
    if "pe" not in state or state["pe"].dtype != torch.float64:
        raise fail("fail.pe_not_moved", name="PositionalEncoding", hint="hint.pe_buffer")
    x = t.randn(2, 5, 8, seed=621)
    expect_array(m(x), x + torch.from_numpy(o.positional_encoding(5, 8)), phrase("the output after .to(torch.float64)"),
                 **TORCH, dtype=torch.float64, rtol=0.0, atol=1e-6, hint="hint.pe_buffer")
