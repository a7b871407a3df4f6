"""Stage 08's own machinery: the trusted blocks against PyTorch, the LM checkpoint's grading, the sampler's
recipe model. (The graders themselves are proved by tests/test_graders_discriminate.py.)"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from kit import HANDIN
from autograder.graders import lm_checkpoint as lmc
from autograder.checkpoint import CheckpointError
from autograder.graders import blocks
from autograder.graders import gpt_oracles as o
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as tr

D, H, FF = 12, 3, 20


def _loaded(module, seed):
    state = o.gpt_weights({k: tuple(v.shape) for k, v in module.named_parameters()}, seed)
    module.double().load_state_dict(state, strict=False)
    return module.eval(), state


def test_trusted_attention_is_nn_multihead_attention_with_a_causal_mask_and_its_cache_continues_it():
    m, state = _loaded(blocks.CausalSelfAttention(D, H), 1)
    x = t.randn(2, 7, D, seed=2)
    full, _ = tr.mha_reference(state, x, x, x, t.causal(7), H)
    y, (k, v) = m(x)
    torch.testing.assert_close(y, full)
    assert k.shape == v.shape == (2, H, 7, D // H)
    y1, cache = m(x[:, :4])
    y2, cache = m(x[:, 4:], cache)
    torch.testing.assert_close(torch.cat([y1, y2], 1), full)


def test_trusted_block_is_torchs_pre_ln_layer_and_the_written_out_oracle_agrees():
    m, state = _loaded(blocks.GPTBlock(D, H, FF), 3)
    x = t.randn(2, 6, D, seed=4)
    ref = o.block_reference(state, x, H)
    torch.testing.assert_close(m(x)[0], ref)
    torch.testing.assert_close(o.block(state, x, H)[0], ref)
    assert (o.block(state, x, H, post_ln=True)[0] - ref).abs().max() > 1e-2  # the named mistake differs


def test_the_oracles_cache_equals_the_full_recompute_and_restarted_positions_do_not():
    shapes = {"tok_emb.weight": (9, D), "pos_emb.weight": (10, D), "ln_f.weight": (D,), "ln_f.bias": (D,)}
    shapes.update({f"blocks.0.{k}": tuple(v.shape) for k, v in blocks.GPTBlock(D, H, FF).named_parameters()})
    state = o.gpt_weights(shapes, 5)
    idx = torch.randint(0, 9, (2, 6), generator=t.gen(6))
    ref = o.gpt_reference(state, idx, H, 1)
    torch.testing.assert_close(o.gpt(state, idx, H, 1)[0], ref)
    torch.testing.assert_close(o.gpt_stepwise(state, idx, H, 1), ref)
    assert (o.gpt_stepwise(state, idx, H, 1, restart_positions=True) - ref).abs().max() > 1e-2


def test_top_p_support_keeps_the_crossing_token():
    probs = torch.tensor([0.5, 0.3, 0.2])
    assert o.top_p_support(probs, 0.6).tolist() == [True, True, False]
    assert o.top_p_support(probs, 0.6, keep_crossing=False).tolist() == [True, False, False]
    assert o.top_p_support(probs, 0.1).tolist() == [True, False, False]  # the first token always


def test_bigram_model_records_calls_and_modes():
    m = blocks.BigramModel([[0.0, 1.0], [1.0, 0.0]], training=True)
    logits, cache = m(torch.tensor([[0, 1, 1]]))
    assert logits.shape == (1, 3, 2) and cache[0][0].shape[-2] == 3
    m.eval()
    m(torch.tensor([[0]]), cache)
    assert [c["event"] for c in m.calls] == ["forward", "mode", "forward"]  # the starting mode is not a switch
    assert m.calls[-1]["past"] == 3 and m.calls[-1]["training"] is False


# --- the checkpoint ------------------------------------------------------------------------------
TRAINED = HANDIN / "08_decoder_only" / lmc.CHECKPOINT_NAME


def test_the_handed_in_checkpoint_beats_the_bigram_and_the_threshold_on_both_splits():
    from autograder.graders.hidden.lm_seed import TEST_SEED, TEST_SIZE
    import course_data

    test = [es for _, es in course_data.make_test_split(TEST_SEED, TEST_SIZE)]
    valid = lmc.expect_perplexity(TRAINED, "valid", lmc.THRESHOLD, "lmckpt.threshold")
    hidden = lmc.expect_perplexity(TRAINED, "test", lmc.THRESHOLD, "lmckpt.threshold", test)
    assert valid < lmc.bigram_baseline("valid", tuple(lmc.spanish("valid"))) / 1.5
    assert hidden < lmc.THRESHOLD


def test_the_trusted_model_of_torchs_layers_is_the_contracts_model(tmp_path):
    config = dict(vocab_size=204, d_model=D, num_heads=H, num_layers=2, d_ff=FF, max_len=16)
    shapes = lmc.contract_shapes(config)
    state = {k: v.float() for k, v in o.gpt_weights(shapes, 7).items()}
    path = tmp_path / lmc.CHECKPOINT_NAME
    save_file(state, str(path), metadata={"config": json.dumps(config)})
    model, _ = lmc.load_model(path)
    idx = torch.randint(0, 204, (2, 9), generator=t.gen(8))
    torch.testing.assert_close(model(idx).double(), o.gpt_reference(state, idx, H, 2), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("change", ["vocab", "missing", "shape"])
def test_a_wrong_checkpoint_is_refused_with_a_reason(tmp_path, change):
    config = dict(vocab_size=204, d_model=8, num_heads=2, num_layers=1, d_ff=16, max_len=16)
    state = {k: torch.zeros(s) for k, s in lmc.contract_shapes(config).items()}
    if change == "vocab":
        config["vocab_size"] = 100
    elif change == "missing":
        del state["ln_f.bias"]
    else:
        state["pos_emb.weight"] = torch.zeros(8, 8)
    path = tmp_path / lmc.CHECKPOINT_NAME
    save_file(state, str(path), metadata={"config": json.dumps(config)})
    with pytest.raises(CheckpointError) as info:
        lmc.load_model(path)
    assert {"vocab": "vocabulary", "missing": "ln_f.bias", "shape": "pos_emb.weight"}[change] in (
        info.value.message + " ".join(info.value.evidence.details if info.value.evidence else []))
