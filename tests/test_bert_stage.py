"""Stage 09's pieces outside the graders: the agreement task's data, the trusted blocks, the checkpoint.

Cheap on purpose (small sizes, no training): the stage's graders themselves are tested by
test_graders_discriminate.py (reference, release, mutants, variants) like every stage's.
"""

from __future__ import annotations

import json
import random

import pytest
import torch

from kit import HANDIN
from autograder import checkpoint as ckpt
from autograder.graders import bert_oracles as b
from autograder.graders import blocks
from autograder.graders import transformer_oracles as o
from course_data import agreement, grammar

STAGE = "09_encoder_only"


# --- the data ---------------------------------------------------------------------------------------
def test_splits_are_deterministic_balanced_and_distinct():
    a, again = agreement.make_split(5, 300), agreement.make_split(5, 300)
    assert a == again
    assert len({s for s, _ in a}) == 300
    positives = sum(y for _, y in a)
    assert 0.4 < positives / 300 < 0.6
    assert agreement.load_split("valid")[:3] == agreement.make_split(agreement.PUBLIC_SEED * 10 + 1, 3)


def test_positives_are_grammar_sentences_and_negatives_break_one_agreeing_word():
    spanish = {es for _, es in grammar.generate(7, 400)}
    forms = {f: set(d) for d in [x.es for x in grammar.DETERMINERS] + [x.es for x in grammar.ADJECTIVES] for f in d if f}
    for sentence, label in agreement.make_split(7, 200):
        if label:
            assert sentence in spanish
            continue
        assert sentence not in spanish
        # a sentence of the grammar differs from it in one word only, which is another form of that word
        changes = [[(x, y) for x, y in zip(s.split(), sentence.split()) if x != y] for s in spanish
                   if len(s.split()) == len(sentence.split())]
        assert any(len(c) == 1 and c[0][1] in forms.get(c[0][0], ()) for c in changes), sentence


def test_break_agreement_leaves_sentences_without_agreeing_words_alone():
    assert agreement.break_agreement("yo camino", random.Random(0)) is None
    broken = agreement.break_agreement("el gato duerme", random.Random(0))
    assert broken in {"la gato duerme", "los gato duerme", "las gato duerme"}


def test_vocabulary_covers_the_grammar_with_the_specials_first():
    words = agreement.vocabulary()
    assert words[:4] == ("[PAD]", "[CLS]", "[SEP]", "[MASK]") and len(words) == agreement.VOCAB_SIZE
    ids = agreement.encode("las vacas negras duermen")
    assert ids[0] == agreement.CLS_ID and ids[-1] == agreement.SEP_ID
    assert agreement.decode(ids) == "las vacas negras duermen"
    rows = agreement.batch(["el gato", "las vacas negras duermen"])
    assert len(rows[0]) == len(rows[1]) == 6 and rows[0][-2:] == [agreement.PAD_ID] * 2


# --- the trusted blocks and oracles --------------------------------------------------------------------
def test_trusted_bert_matches_the_oracle_and_ignores_padding():
    model = blocks.BERT(17, 8, 2, 2, 12, 9).double().eval()
    state = o.random_weights({k: tuple(v.shape) for k, v in model.named_parameters()}, 5)
    model.load_state_dict(state)
    tokens = torch.randint(1, 17, (2, 9), generator=torch.Generator().manual_seed(0))
    tokens[1, 5:] = 0
    segments = (torch.arange(9) >= 4).long().expand(2, 9)
    with torch.no_grad():
        got = model(tokens, segments)
        torch.testing.assert_close(got, b.bert(state, tokens, segments, 2, 2))
        torch.testing.assert_close(model(tokens[1:, :5], segments[1:, :5])[0], got[1, :5])  # [PAD] changes nothing
        # a wrong oracle is caught: without the mask the second sentence's states differ
        assert not torch.allclose(b.bert(state, tokens, segments, 2, 2, use_mask=False)[1, :5], got[1, :5])


def test_trusted_layer_norm_is_nn_layer_norm():
    x = torch.randn(3, 5, dtype=torch.float64)
    norm = blocks.LayerNorm(5).double()
    torch.testing.assert_close(norm(x), torch.nn.functional.layer_norm(x, (5,)))


def test_binomial_bound_is_six_standard_deviations():
    assert b.binomial_bound(400, 0.5) == pytest.approx(60.0)
    g = torch.Generator().manual_seed(0)  # a correct sampler stays well inside it, a 0.1 shift does not
    draws = int((torch.rand(4000, generator=g) < 0.5).sum())
    assert abs(draws - 2000) <= b.binomial_bound(4000, 0.5) < abs(0.6 * 4000 - 2000)


def test_mlm_loss_oracle_skips_ignored_positions():
    logits = torch.randn(2, 3, 5, dtype=torch.float64)
    labels = torch.tensor([[1, -100, -100], [-100, 4, -100]])
    want = -(logits[0, 0].log_softmax(-1)[1] + logits[1, 1].log_softmax(-1)[4]) / 2
    torch.testing.assert_close(b.masked_cross_entropy(logits, labels), want)
    assert not torch.allclose(b.mistake_masked_cross_entropy(logits, labels, "all_positions"), want)


# --- the checkpoint ------------------------------------------------------------------------------------
TRAINED = HANDIN / STAGE / b.CHECKPOINT_NAME


def test_the_handed_in_checkpoint_is_small_and_beats_the_majority_class_by_far():
    assert TRAINED.stat().st_size <= 1 << 20
    valid = agreement.load_split("valid")
    model = b.load_classifier(TRAINED)
    assert b.accuracy(model, valid) >= max(b.THRESHOLDS) > b.majority_baseline(valid) + 40


def test_a_random_classifier_fails_the_thresholds(tmp_path):
    config = {"vocab_size": agreement.VOCAB_SIZE, "d_model": 16, "num_heads": 2, "num_layers": 1, "d_ff": 32,
              "max_len": 32, "num_classes": 2}
    torch.manual_seed(0)
    model = b.TrustedClassifier(**config)
    path = ckpt.save(model, tmp_path / b.CHECKPOINT_NAME, config)
    assert b.accuracy(b.load_classifier(path), agreement.load_split("valid")) < min(b.THRESHOLDS)


def test_bad_checkpoints_are_refused_with_a_reason(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / b.CHECKPOINT_NAME
    with pytest.raises(ckpt.CheckpointError, match="no agreement.safetensors"):
        b.load_classifier(path)
    config = {"vocab_size": 99, "d_model": 16, "num_heads": 2, "num_layers": 1, "d_ff": 32, "max_len": 32,
              "num_classes": 2}
    save_file({"x": torch.zeros(1)}, str(path), metadata={"config": json.dumps(config)})
    with pytest.raises(ckpt.CheckpointError, match="vocab_size 99"):
        b.load_classifier(path)
    save_file({"x": torch.zeros(1)}, str(path), metadata={"config": json.dumps({**config, "vocab_size": agreement.VOCAB_SIZE})})
    with pytest.raises(ckpt.CheckpointError, match="do not fit"):
        b.load_classifier(path)


def test_hardened_grading_stages_each_stage_s_own_checkpoint(tmp_path):
    from autograder.grading import batch

    folder = tmp_path / "ada" / STAGE
    folder.mkdir(parents=True)
    (folder / b.CHECKPOINT_NAME).write_bytes(TRAINED.read_bytes())
    staged = batch.stage_checkpoint(batch.Submission("ada", STAGE, folder), tmp_path / "cache")
    assert (staged / b.CHECKPOINT_NAME).read_bytes() == TRAINED.read_bytes()
    assert ckpt.handed_in_name("07_training") == ckpt.CHECKPOINT_NAME
