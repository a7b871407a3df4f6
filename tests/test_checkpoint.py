"""Grading a translation checkpoint: loaded into the reference model, never by running student code."""

from __future__ import annotations

import ast
import json

import pytest
import torch
from safetensors.torch import save_file

from kit import HANDIN
from autograder import checkpoint as ckpt
from autograder.graders import translation_bleu as bleu
from autograder.graders import training_oracles as o
from autograder.runner import HIDDEN_DIR, PUBLIC_DIR

TRAINED = HANDIN / "07_training" / ckpt.CHECKPOINT_NAME
SMALL = dict(ckpt.DEFAULT_CONFIG, d_model=8, num_heads=2, num_layers=1, d_ff=8)


def _random_checkpoint(path, config=SMALL, seed=0, **changes):
    model = o.random_model({**config, "dropout": 0.0}, seed, dtype=torch.float32)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state.update(changes.pop("state", {}))
    for k in changes.pop("drop", ()):
        del state[k]
    save_file(state, str(path), metadata=changes.pop("metadata", {"config": json.dumps(config)}))
    return path


def test_the_reference_hand_in_is_small_and_scores_full_marks():
    assert TRAINED.stat().st_size < 1_000_000
    result = bleu.grade_checkpoint(TRAINED, hidden=True)
    assert result.score == result.max_points, [(g.name, g.message) for g in result.graders if not g.passed]
    assert len(result.graders) == 1 + 3 * len(bleu.THRESHOLDS)


def test_the_default_config_has_the_course_vocabularies():
    import course_data

    src, tgt = course_data.load_vocabs()
    assert (len(src), len(tgt)) == (ckpt.DEFAULT_CONFIG["src_vocab"], ckpt.DEFAULT_CONFIG["tgt_vocab"])


def test_untrained_weights_load_but_earn_only_the_loading_share(tmp_path):
    path = _random_checkpoint(tmp_path / "random.safetensors")
    result = bleu.grade_checkpoint(path, hidden=False)
    assert [g.name for g in result.graders if g.passed] == ["loads"]
    assert result.score == int(result.max_points * bleu.bleu_points({"valid": 0}) * 100) / 100 > 0
    low = next(g for g in result.graders if g.name == "valid_bleu_30")
    assert "below 30" in low.message and "expected" in " ".join(low.evidence.details)


def test_without_the_hidden_seed_only_the_valid_split_is_graded():
    result = bleu.grade_checkpoint(TRAINED, hidden=False)
    assert {g.visibility for g in result.graders} == {"public"} and len(result.graders) == 1 + len(bleu.THRESHOLDS)


@pytest.mark.parametrize("case, says", [
    ("missing", "There is no"),
    ("pickle", "is not a safetensors file"),
    ("no_config", 'has no "config" in its metadata'),
    ("config_not_json", "is not a JSON object"),
    ("config_keys", "lacks d_ff"),
    ("huge", "is not a sensible size"),
    ("vocab", "the course's have 127 and 204"),
    ("shape", "has shape (205, 8), expected (204, 8)"),
    ("missing_tensor", "1 missing: `generator.bias`"),
    ("foreign_names", "not in the contract"),
    ("nan", "holds inf or nan"),
])
def test_a_bad_checkpoint_gets_a_clear_message(tmp_path, case, says):
    path = tmp_path / "translator.safetensors"
    good = json.dumps(SMALL)
    if case == "pickle":
        torch.save(o.random_model(SMALL, 0).state_dict(), path)
    elif case == "no_config":
        _random_checkpoint(path, metadata={})
    elif case == "config_not_json":
        _random_checkpoint(path, metadata={"config": str(SMALL)})
    elif case == "config_keys":
        _random_checkpoint(path, metadata={"config": json.dumps({k: v for k, v in SMALL.items() if k != "d_ff"})})
    elif case == "huge":
        _random_checkpoint(path, metadata={"config": json.dumps(dict(SMALL, d_model=10**6))})
    elif case == "vocab":
        _random_checkpoint(path, dict(SMALL, tgt_vocab=99))
    elif case == "shape":
        _random_checkpoint(path, state={"generator.weight": torch.zeros(205, 8)}, metadata={"config": good})
    elif case == "missing_tensor":
        _random_checkpoint(path, drop=("generator.bias",))
    elif case == "foreign_names":
        _random_checkpoint(path, state={"transformer.encoder.norm.weight": torch.ones(8)})
    elif case == "nan":
        _random_checkpoint(path, state={"generator.bias": torch.full((204,), float("nan"))})
    result = bleu.grade_checkpoint(path, hidden=False)
    assert result.score == 0
    loads = result.graders[0]
    text = " ".join([loads.message, *(loads.evidence.details if loads.evidence else [])])
    assert says in text, text


def test_the_positional_encoding_buffer_may_be_left_out(tmp_path):
    path = _random_checkpoint(tmp_path / "no_pe.safetensors", drop=("pos_encoding.pe",))
    model, config = bleu.load_reference(path)
    assert config == SMALL and model.pos_encoding.pe.shape == (SMALL["max_len"], SMALL["d_model"])


def test_save_writes_the_course_format(tmp_path):
    model = o.random_model({**SMALL, "dropout": 0.0}, 1, dtype=torch.float32)
    path = ckpt.save(model, tmp_path / "m.safetensors", SMALL)
    loaded, config = bleu.load_reference(path)
    assert config == SMALL
    for k, v in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[k], v, rtol=0, atol=0)


def _thresholds(path, split):
    names = [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]
    return tuple(int(n.rsplit("_", 1)[1]) for n in names if n.startswith(f"test_{split}_bleu_"))


def test_the_item_graders_use_the_thresholds_of_grade_checkpoint():
    public, hidden = PUBLIC_DIR / "test_07_training.py", HIDDEN_DIR / "test_07_training.py"
    assert _thresholds(public, "valid") == bleu.THRESHOLDS
    assert _thresholds(hidden, "test") == bleu.THRESHOLDS == _thresholds(hidden, "hard")
