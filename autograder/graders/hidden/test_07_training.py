"""Hidden graders of stage 07, and the checkpoint on the hidden test split.

As in the public graders, the models and optimizers the student's code works on are made by recipe
(``student.trusted_object``) where that code runs, and read back as data.
"""

from __future__ import annotations

import pytest
import torch

from autograder import checkpoint as ckpt
from autograder.graders import translation_bleu as bleu
from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_shape, fail
from autograder.graders import training_oracles as o

TORCH = {"kind": "torch"}
@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread while grading (tiny tensors; see the public graders)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


CONFIG = dict(src_vocab=9, tgt_vocab=10, d_model=12, num_heads=3, num_layers=1, d_ff=20, dropout=0.0, max_len=24)


@grader("make_batch", "batch.tokens")
def test_batch_one_word_and_empty_target(student):
    src, tgt = [[7], [5, 6, 4]], [[], [8]]  # an empty target is <bos> <eos>
    got = student.function("make_batch", trusted=o.TRUSTED)(src, tgt, 0, 1, 2)
    want = o.make_batch(src, tgt, 0, 1, 2)
    if not isinstance(got, dict) or any(k not in got for k in want):
        raise fail("fail.batch_keys", keys=", ".join(want), got=type(got).__name__, hint="hint.batch_layout")
    for key in want:
        expect_array(got[key], want[key], phrase("`{key}` for a one-word source and an empty target", key=key), kind="torch",
                     hint="hint.batch_layout")


@grader("label_smoothed_loss", "loss.oracle")
def test_loss_mostly_padding(student):
    g = torch.Generator().manual_seed(750)
    logits = torch.randn(2, 5, 7, generator=g, dtype=torch.float64)
    y = torch.full((2, 5), 3)
    y[1, 0] = 6  # one real token among ten
    got = student.function("label_smoothed_loss")(logits, y, 3, 0.3)
    expect_array(got, o.loss(logits, y, 3, 0.3), phrase("the loss when all but one token are padding"), kind="torch",
                 hint="hint.loss_pad")


@grader("noam_lr", "noam.formula")
def test_noam_other_sizes(student):
    for d, w in ((128, 50), (1024, 8000)):
        steps = [0, 1, w // 2, w, 3 * w, 50 * w]
        got = [student.function("noam_lr")(s, d, w) for s in steps]
        got = torch.tensor([float(x) for x in got], dtype=torch.float64)
        expect_array(got, torch.tensor([o.noam(s, d, w) for s in steps], dtype=torch.float64),
                     phrase("noam_lr(step, {d}, {w}) at steps {steps}", d=d, w=w, steps=steps), kind="torch", rtol=1e-9, atol=0, hint="hint.noam")


@grader("train_step", "train.sgd_step")
def test_two_steps_with_momentum(student):
    batch = o.make_batch([[4, 5, 6], [7, 8]], [[3, 4], [5, 6, 7, 8]], 0, 1, 2)
    oracle = o.random_model(CONFIG, 760)
    theirs = student.trusted_object(o.trusted_model, CONFIG, oracle.state_dict())
    opt = student.trusted_object(o.optimizer, theirs, "SGD", lr=0.3, momentum=0.9)
    want_opt = torch.optim.SGD(oracle.parameters(), lr=0.3, momentum=0.9)
    fn = student.function("train_step", trusted={**o.TRUSTED, "label_smoothed_loss": o.trusted_loss})
    for _ in range(2):  # the optimizer's state (momentum) must carry over from step to step
        fn(theirs, opt, batch, pad_id=0, smoothing=0.2, max_norm=0.5)
        want_opt.zero_grad()
        logits = oracle(batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"])
        o.trusted_loss(logits, batch["tgt_out"], 0, 0.2).backward()
        torch.nn.utils.clip_grad_norm_(oracle.parameters(), 0.5)
        want_opt.step()
    expect_array(o.flat(theirs.read(o.state_of)), o.flat(oracle.state_dict()),
                 phrase("the weights after two steps of SGD with momentum"), kind="torch", rtol=1e-6, atol=1e-9,
                 hint="hint.train_order")


@grader("greedy_decode", "greedy.copy")
def test_greedy_single_row_and_eos_first(student):
    model = o.CopyModel(10, 0, 2, after=9)
    theirs = student.trusted_object(o.CopyModel, 10, 0, 2, after=9)
    for src in (torch.tensor([[5, 6, 7, 8, 2]]), torch.tensor([[2, 0, 0], [4, 2, 0]])):  # the second: one empty source
        got = student.function("greedy_decode", trusted=o.TRUSTED)(theirs, src, o.padding_mask(src, 0), 10, 1, 2)
        want = o.greedy(model, src, o.padding_mask(src, 0), 10, 1, 2)
        expect_shape(got, tuple(want.shape), phrase("the tokens"), kind="torch", hint="hint.greedy_loop")
        expect_array(got, want, phrase("the tokens for the source {src}", src=src.tolist()), kind="torch", hint="hint.greedy_loop")


# --- the checkpoint on the hidden test split -----------------------------------------------------
@grader("translation_checkpoint", "ckpt.test_bleu_30")
def test_test_bleu_30(student):
    bleu.expect_bleu(ckpt.submitted_path(), "test", 30)


@grader("translation_checkpoint", "ckpt.test_bleu_50")
def test_test_bleu_50(student):
    bleu.expect_bleu(ckpt.submitted_path(), "test", 50)


@grader("translation_checkpoint", "ckpt.test_bleu_70")
def test_test_bleu_70(student):
    bleu.expect_bleu(ckpt.submitted_path(), "test", 70)


@grader("translation_checkpoint", "ckpt.test_bleu_80")
def test_test_bleu_80(student):
    bleu.expect_bleu(ckpt.submitted_path(), "test", 80)


@grader("translation_checkpoint", "ckpt.test_bleu_90")
def test_test_bleu_90(student):
    bleu.expect_bleu(ckpt.submitted_path(), "test", 90)


@grader("translation_checkpoint", "ckpt.hard_bleu_30")
def test_hard_bleu_30(student):
    bleu.expect_bleu(ckpt.submitted_path(), "hard", 30)


@grader("translation_checkpoint", "ckpt.hard_bleu_50")
def test_hard_bleu_50(student):
    bleu.expect_bleu(ckpt.submitted_path(), "hard", 50)


@grader("translation_checkpoint", "ckpt.hard_bleu_70")
def test_hard_bleu_70(student):
    bleu.expect_bleu(ckpt.submitted_path(), "hard", 70)


@grader("translation_checkpoint", "ckpt.hard_bleu_80")
def test_hard_bleu_80(student):
    bleu.expect_bleu(ckpt.submitted_path(), "hard", 80)


@grader("translation_checkpoint", "ckpt.hard_bleu_90")
def test_hard_bleu_90(student):
    bleu.expect_bleu(ckpt.submitted_path(), "hard", 90)
