"""The trusted building blocks and the oracles of stages 04-06 agree with PyTorch's own modules.

Later items are graded on top of autograder/graders/blocks.py, and their mistakes are named by
the functional versions in transformer_oracles.py: both must be right, or a student would lose
points for the grader's bug. Also: carry_forward brings stage 04's MultiHeadAttention along with
the stage-03 attention it calls.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
import torch.nn as nn

from kit import SOLUTIONS
from autograder.graders import blocks
from autograder.graders import transformer_oracles as o
from autograder.graders.torch_oracles import causal, randn, random_mask

D, H, FF = 12, 3, 20


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


def _loaded(module, seed):
    state = o.random_weights(_shapes(module), seed)
    module.double().load_state_dict(state)
    return module.eval(), state


def test_sdpa_block_matches_pytorch_and_zeroes_fully_masked_rows():
    q, k, v = randn(2, 3, 4, 8, seed=1), randn(2, 3, 6, 8, seed=2), randn(2, 3, 6, 5, seed=3)
    mask = random_mask(2, 1, 4, 6, seed=4)
    mask[0, 0, 1] = False
    out, w = blocks.scaled_dot_product_attention(q, k, v, mask)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected)
    assert torch.all(w[0, :, 1] == 0) and torch.allclose(w[1].sum(-1), torch.ones(3, 4, dtype=w.dtype))


def test_split_and_merge_heads_are_inverse_and_slice_columns():
    x = randn(2, 5, 12, seed=5)
    heads = blocks.split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 4)
    torch.testing.assert_close(heads[:, 1], x[..., 4:8])
    torch.testing.assert_close(blocks.merge_heads(heads), x)


@pytest.mark.parametrize("mask_kind", ["none", "3d", "padding", "causal"])
def test_mha_block_and_functional_oracle_match_nn_multihead_attention(mask_kind):
    m, state = _loaded(blocks.MultiHeadAttention(D, H), 10)
    t_len = 6 if mask_kind == "causal" else 4
    q, kv = randn(2, t_len, D, seed=11), randn(2, 6, D, seed=12)
    mask = {"none": None, "3d": random_mask(2, t_len, 6, seed=13), "causal": causal(6),
            "padding": torch.tensor([True] * 6 + [True] * 4 + [False] * 2).view(2, 1, 1, 6)}[mask_kind]
    ref_out, ref_w = o.mha_reference(state, q, kv, kv, mask, H)
    out, w = m(q, kv, kv, mask)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(w, ref_w)
    f_out, f_w = o.mha(state, q, kv, kv, mask, H)
    torch.testing.assert_close(f_out, ref_out)
    torch.testing.assert_close(f_w, ref_w)


def test_mha_block_refuses_indivisible_sizes():
    with pytest.raises(ValueError):
        blocks.MultiHeadAttention(10, 3)


def test_layer_norm_oracle_and_mistakes_differ_where_graders_look():
    tiny = 1e-3 * randn(3, 4, seed=20) + 1.0  # variance below eps: where eps's place shows
    torch.testing.assert_close(o.layer_norm(tiny), torch.nn.functional.layer_norm(tiny, (4,)))
    assert not torch.allclose(o.layer_norm(tiny, eps_outside=True), o.layer_norm(tiny), atol=1e-2)
    x = 2 * randn(2, 5, 12, seed=21) + 1  # ordinary rows: where the divisor d or d - 1 shows
    torch.testing.assert_close(o.layer_norm(x), torch.nn.functional.layer_norm(x, (12,)))
    assert not torch.allclose(o.layer_norm(x, unbiased=True), o.layer_norm(x), atol=1e-2)


def test_positional_encoding_block_formula_and_buffer():
    table = blocks.sinusoidal_positional_encoding(50, 128).double().numpy()
    pos, j = np.arange(50)[:, None], np.arange(64)[None, :]  # the slides' t_{i,2j} and t_{i,2j+1}, written out
    assert np.allclose(table[:, 0::2], np.sin(pos / 10000 ** (2 * j / 128)), atol=1e-6)
    assert np.allclose(table[:, 1::2], np.cos(pos / 10000 ** (2 * j / 128)), atol=1e-6)
    pe = o.positional_encoding(3, 7)
    assert np.allclose(pe[1, 6], np.sin(1 / 10000 ** (6 / 7)))  # odd d_model ends in a sine
    module = blocks.PositionalEncoding(8, max_len=10, dropout=0.0)
    assert dict(module.named_buffers())["pe"].shape == (10, 8) and not list(module.parameters())
    with pytest.raises(ValueError):
        module(torch.zeros(1, 11, 8))


def test_encoder_layer_block_and_oracle_match_nn():
    m, state = _loaded(blocks.EncoderLayer(D, H, FF, 0.0), 30)
    x = randn(2, 6, D, seed=31)
    mask = torch.tensor([True] * 6 + [True] * 4 + [False] * 2).view(2, 1, 1, 6)
    ref = o.encoder_layer_reference(state, x, mask, H)
    torch.testing.assert_close(m(x, mask), ref)
    torch.testing.assert_close(o.encoder_layer(state, x, mask, H), ref)


def test_decoder_layer_block_and_oracle_match_nn():
    m, state = _loaded(blocks.DecoderLayer(D, H, FF, 0.0), 40)
    x, memory = randn(2, 5, D, seed=41), randn(2, 7, D, seed=42)
    src_mask = torch.tensor([True] * 7 + [True] * 5 + [False] * 2).view(2, 1, 1, 7)
    ref = o.decoder_layer_reference(state, x, memory, src_mask, causal(5), H)
    torch.testing.assert_close(m(x, memory, src_mask, causal(5)), ref)
    torch.testing.assert_close(o.decoder_layer(state, x, memory, src_mask, causal(5), H), ref)


def test_stacks_and_whole_model_oracles_agree():
    enc, enc_state = _loaded(blocks.Encoder(D, H, 2, FF, 0.0), 50)
    dec, dec_state = _loaded(blocks.Decoder(D, H, 2, FF, 0.0), 51)
    x, y = randn(2, 6, D, seed=52), randn(2, 4, D, seed=53)
    torch.testing.assert_close(enc(x), o.encoder_reference(enc_state, x, None, H, 2))
    torch.testing.assert_close(dec(y, x, None, causal(4)), o.decoder_reference(dec_state, y, x, None, causal(4), H, 2))
    state = {"src_embed.weight": randn(9, D, seed=54), "tgt_embed.weight": randn(7, D, seed=55),
             "generator.weight": randn(7, D, seed=56), "generator.bias": randn(7, seed=57)}
    state.update({f"encoder.{k}": v for k, v in enc_state.items()})
    state.update({f"decoder.{k}": v for k, v in dec_state.items()})
    src, tgt = torch.randint(0, 9, (2, 6)), torch.randint(0, 7, (2, 4))
    for ref, fun in zip(o.transformer_reference(state, src, tgt, None, causal(4), H, 2),
                        o.transformer(state, src, tgt, None, causal(4), H, 2)):
        torch.testing.assert_close(fun, ref)


def test_parameter_counts():
    assert [o.qkv_parameter_count(256, r, e) for r, e in [(1, False), (4, False), (4, True)]] == [196608, 786432, 196608]
    model = nn.Module()
    model.src_embed, model.tgt_embed = nn.Embedding(5, 16), nn.Embedding(6, 16)
    model.encoder, model.decoder = blocks.Encoder(16, 4, 2, 32), blocks.Decoder(16, 4, 2, 32)
    model.generator = nn.Linear(16, 6)
    assert sum(p.numel() for p in model.parameters()) == o.transformer_parameter_count(5, 6, 16, 4, 2, 32)


def test_carry_forward_brings_what_the_earlier_notebook_carried(tmp_path, monkeypatch):
    """Stage 06 uses stage 04's MultiHeadAttention, which calls stage 03's attention."""
    from autograder.carry import carry_forward

    for stage in ("03_scaling_and_masking", "04_multi_head_attention"):
        shutil.copytree(SOLUTIONS / stage, tmp_path / stage)
    (tmp_path / "06_encoder_decoder").mkdir()
    monkeypatch.chdir(tmp_path / "06_encoder_decoder")
    mha_class = carry_forward("04_multi_head_attention", "MultiHeadAttention")
    m, state = _loaded(mha_class(D, H), 60)
    x = randn(2, 4, D, seed=61)
    torch.testing.assert_close(m(x, x, x)[0], o.mha_reference(state, x, x, x, None, H)[0])

    shutil.rmtree(tmp_path / "03_scaling_and_masking")  # without stage 03 the class loads, and says why it fails
    mha_class = carry_forward("04_multi_head_attention", "MultiHeadAttention")
    with pytest.raises(RuntimeError, match="scaled_dot_product_attention"):
        mha_class(D, H)(x.float(), x.float(), x.float())


def test_carry_forward_keeps_a_falsy_constant(tmp_path, monkeypatch):
    """PAD_ID = 0 is a definition like any other, not a missing one."""
    import json

    from autograder import registry
    from autograder.carry import carry_forward

    stage = registry.STAGES[0]
    (tmp_path / stage.id).mkdir()
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "PAD_ID = 0\nEMPTY = ''\n"}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / stage.id / stage.notebook).write_text(json.dumps(nb))
    (tmp_path / "next").mkdir()
    monkeypatch.chdir(tmp_path / "next")
    assert carry_forward(stage.id, "PAD_ID", "EMPTY") == (0, "")
