"""Public graders of stage 07: batching, the loss, the schedule, a training step, greedy decoding
and the checkpoint.

The student's code runs on trusted pieces (``training_oracles.TRUSTED``: the reference
Transformer and stage 03's masks; the reference loss inside ``train_step``), so a bug in an earlier
item or stage costs points only there. The models, optimizers and file paths that
``train_step(model, optimizer, batch, ...)``, ``greedy_decode(model, ...)`` and
``save_checkpoint(model, path, config)`` work on are described by recipe
(``student.trusted_object(o.trusted_model, config, state)``) and made where the student's code runs:
in this process, or in the sandboxed worker. The grader keeps its own copy of each model for the
oracles and reads the student's back as data (``handle.read(o.state_of)``: the weights after a step,
the recorded calls, the file written). Decoding is judged by the tokens it produces.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import torch

from autograder import checkpoint as ckpt
from autograder.graders import translation_bleu as bleu
from autograder.catalogue import phrase, text
from autograder.dsl import grader
from autograder.expect import expect_array, expect_finite, expect_shape, fail, hinted
from autograder.failures import Evidence, GraderFailure
from autograder.graders import training_oracles as o
from autograder.graders import transformer_oracles as named

TORCH = {"kind": "torch"}
CONFIG = dict(src_vocab=11, tgt_vocab=13, d_model=16, num_heads=2, num_layers=2, d_ff=24, dropout=0.0, max_len=32)
PAD, BOS, EOS = 0, 1, 2
KEYS = ("src", "src_mask", "tgt_in", "tgt_out", "tgt_mask")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture
def cuda_student(student):
    """The student, where their code can reach a GPU: like a machine without one, a sandboxed worker
    without one skips the check (during setup, so it counts as not run, never as failed)."""
    if not student.cuda_available():
        pytest.skip("the student's code runs without CUDA here")
    return student


def _theirs(student, config, model, **recipe):
    """The student's copy of the grader's ``model``: the same weights, made where their code runs.

    ``recipe``: ``recording`` (calls are written down), ``training``, ``grads`` (by parameter name),
    ``device`` (see ``training_oracles.trusted_model``).
    """
    return student.trusted_object(o.trusted_model, config, model.state_dict(), **recipe)


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread while grading: these tensors are tiny, and two threads fighting over a busy
    machine make them ten times slower, never faster. The thread count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- make_batch ---------------------------------------------------------------------------------
SRC = [[5, 6, 7], [8, 9], [10, 4, 5, 6, 7]]
TGT = [[4, 5, 11], [6, 7, 8, 9, 12], [10]]


def _make_batch(student, src=SRC, tgt=TGT, pad=PAD, bos=BOS, eos=EOS):
    got = student.function("make_batch", trusted=o.TRUSTED)([list(s) for s in src], [list(t) for t in tgt], pad, bos, eos)
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        have = ", ".join(sorted(map(str, got))) if isinstance(got, dict) else type(got).__name__
        raise fail("fail.batch_keys", keys=", ".join(KEYS), got=have)
    return got


def _batch_mistakes(src, tgt, pad, bos, eos, key):
    return {
        "why.batch_no_bos": lambda: o.make_batch(src, tgt, pad, bos, eos, bos=False)[key],
        "why.batch_not_shifted": lambda: o.make_batch(src, tgt, pad, bos, eos, shift=False)[key],
    }


@grader("make_batch", "batch.tokens", weight=2)
def test_batch_tokens(student):
    got = _make_batch(student)
    want = o.make_batch(SRC, TGT, PAD, BOS, EOS)
    for key, what in (("src", phrase("the source tokens `src`")), ("tgt_in", phrase("the decoder input `tgt_in`")),
                      ("tgt_out", phrase("the labels `tgt_out`"))):
        expect_array(got[key], want[key], what, **TORCH, hint="hint.batch_layout",
                     diagnoses=_batch_mistakes(SRC, TGT, PAD, BOS, EOS, key))


@grader("make_batch", "batch.masks", weight=2)
def test_batch_masks(student):
    got = _make_batch(student)
    want = o.make_batch(SRC, TGT, PAD, BOS, EOS)
    expect_array(got["src_mask"], want["src_mask"], phrase("the source mask `src_mask`"), **TORCH, hint="hint.batch_masks")
    expect_array(got["tgt_mask"], want["tgt_mask"], phrase("the target mask `tgt_mask`"), **TORCH, hint="hint.batch_masks",
                 diagnoses={"why.batch_not_shifted": lambda: o.make_batch(SRC, TGT, PAD, BOS, EOS, shift=False)["tgt_mask"]})


@grader("make_batch", "batch.dtypes")
def test_batch_dtypes(student):
    got = _make_batch(student)
    for key in KEYS:
        want = torch.bool if key.endswith("mask") else torch.long
        if not isinstance(got[key], torch.Tensor) or got[key].dtype != want:
            kind = phrase("tensor of dtype {dtype}", dtype=str(got[key].dtype).replace('torch.', '')) if isinstance(got[key], torch.Tensor) \
                else type(got[key]).__name__
            raise fail("fail.wrong_type", what=f"`{key}`", expected=phrase("tensor of dtype {dtype}", dtype=str(want).replace('torch.', '')),
                       got=kind, hint="hint.batch_layout")


@grader("make_batch", "batch.ids")
def test_batch_ids(student):
    src, tgt = [[9, 4], [5, 6, 7, 8]], [[4, 8, 9], [10]]
    got = _make_batch(student, src, tgt, pad=3, bos=0, eos=1)  # other special ids: use the arguments
    want = o.make_batch(src, tgt, 3, 0, 1)
    for key in ("src", "tgt_in", "tgt_out"):
        expect_array(got[key], want[key], phrase("`{key}` with pad_id=3, bos_id=0, eos_id=1", key=key), **TORCH,
                     hint="hint.batch_ids", diagnoses=_batch_mistakes(src, tgt, 3, 0, 1, key))


# --- label_smoothed_loss ------------------------------------------------------------------------
def _logits(seed, b=3, t=6, v=11, dtype=torch.float64, scale=2.0):
    return torch.randn(b, t, v, generator=o_gen(seed), dtype=dtype) * scale


def o_gen(seed):
    return torch.Generator().manual_seed(seed)


def _targets(seed, pad, b=3, t=6, v=11):
    y = torch.randint(0, v, (b, t), generator=o_gen(seed))
    y[y == pad] = (pad + 1) % v
    y[0, 4:], y[2, 2:] = pad, pad  # padded ends of two sentences
    return y


def _loss_mistakes(logits, y, pad, eps):
    return {**{f"why.loss_{k}": (lambda k=k: o.mistake_loss(logits, y, pad, eps, k))
               for k in ("pad_included", "k_minus_1", "divide_by_all")},
            # a loss written for a log_softmax generator: every row off by its log-sum-exp
            "why.loss_logits_as_log_probs": lambda: named.mistake_loss_logits_as_log_probs(logits, y, pad, eps)}


def _loss(student, logits, y, pad, eps):
    got = student.function("label_smoothed_loss")(logits, y, pad, eps)
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        raise fail("fail.loss_scalar", got=phrase("shape {shape}", shape=tuple(got.shape)) if isinstance(got, torch.Tensor) else type(got).__name__)
    return got


@grader("label_smoothed_loss", "loss.oracle", weight=3)
def test_loss_oracle(student):
    logits, y = _logits(700), _targets(701, pad=0)
    got = _loss(student, logits, y, 0, 0.1)
    expect_array(got, o.loss(logits, y, 0, 0.1), phrase("the loss"), **TORCH, hint="hint.loss_formula",
                 diagnoses=_loss_mistakes(logits, y, 0, 0.1))


@grader("label_smoothed_loss", "loss.no_smoothing")
def test_loss_no_smoothing(student):
    logits, y = _logits(702), _targets(703, pad=0)
    got = _loss(student, logits, y, 0, 0.0)
    expect_array(got, o.loss(logits, y, 0, 0.0), phrase("the loss with smoothing = 0 (plain cross-entropy)"), **TORCH,
                 hint="hint.loss_formula", diagnoses={
                     "why.loss_pad_included": lambda: o.mistake_loss(logits, y, 0, 0.0, "pad_included"),
                     "why.loss_logits_as_log_probs": lambda: named.mistake_loss_logits_as_log_probs(logits, y, 0, 0.0)})


@grader("label_smoothed_loss", "loss.ignores_pad", weight=2)
def test_loss_ignores_pad(student):
    pad = 5
    logits, y = _logits(704), _targets(705, pad=pad)
    changed = logits.clone()
    changed[y == pad] = torch.randn(int((y == pad).sum()), logits.shape[-1], generator=o_gen(706), dtype=logits.dtype) * 9
    got = _loss(student, changed, y, pad, 0.2)
    with hinted("hint.loss_pad"):
        expect_array(got, o.loss(logits, y, pad, 0.2), phrase("the loss after changing the logits at padded positions "
                     "(pad_id = 5)"), **TORCH, diagnoses=_loss_mistakes(changed, y, pad, 0.2))


@grader("label_smoothed_loss", "loss.large_logits")
def test_loss_large_logits(student):
    logits, y = _logits(707, scale=1000.0), _targets(708, pad=0)
    got = _loss(student, logits, y, 0, 0.1)
    expect_finite(got, phrase("the loss for logits of size 1000"), hint="hint.loss_log_softmax")
    expect_array(got, o.loss(logits, y, 0, 0.1), phrase("the loss for logits of size 1000"), **TORCH, rtol=1e-6,
                 hint="hint.loss_log_softmax")


@grader("label_smoothed_loss", "loss.gradients")
def test_loss_gradients(student):
    logits, y = _logits(709).requires_grad_(), _targets(710, pad=0)
    out, (g, *_) = student.function("label_smoothed_loss").grad(logits, y, 0, 0.1, grad_outputs=[torch.tensor(1.0, dtype=logits.dtype)])
    if g is None:
        raise fail("fail.no_grad", what=phrase("the logits"), hint="hint.torch_only")
    x = logits.detach().clone().requires_grad_()
    (want,) = torch.autograd.grad(o.loss(x, y, 0, 0.1), x)
    expect_array(g, want, phrase("the gradient of the loss with respect to the logits"), **TORCH)


@grader("label_smoothed_loss", "loss.dtype")
def test_loss_dtype(student):
    logits, y = _logits(711, dtype=torch.float32), _targets(712, pad=0)
    got = _loss(student, logits, y, 0, 0.1)
    expect_array(got, o.loss(logits, y, 0, 0.1), phrase("the loss for float32 logits"), **TORCH, dtype=torch.float32,
                 rtol=1e-5, atol=1e-5)


# --- noam_lr ------------------------------------------------------------------------------------
def _noam(student, step, d_model, warmup):
    got = student.function("noam_lr")(step, d_model, warmup)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        raise fail("fail.wrong_type", what=f"noam_lr({step}, {d_model}, {warmup})", expected=phrase("number"),
                   got=type(got).__name__)
    return float(got)


def _noam_mistakes(steps, d, w):
    return {f"why.noam_{k}": (lambda k=k: torch.tensor([o.mistake_noam(s, d, w, k) for s in steps], dtype=torch.float64))
            for k in ("no_warmup", "off_by_one")}


@grader("noam_lr", "noam.formula", weight=2)
def test_noam_formula(student):
    d, w = 512, 4000
    steps = [1, 10, 100, 1000, 3999, 4000, 4001, 10000, 100000]
    got = torch.tensor([_noam(student, s, d, w) for s in steps], dtype=torch.float64)
    expect_array(got, torch.tensor([o.noam(s, d, w) for s in steps], dtype=torch.float64),
                 phrase("noam_lr(step, 512, 4000) at steps {steps}", steps=steps), **TORCH, rtol=1e-9, atol=0, hint="hint.noam",
                 diagnoses=_noam_mistakes(steps, d, w))


@grader("noam_lr", "noam.step_zero")
def test_noam_step_zero(student):
    got = _noam(student, 0, 64, 200)
    expect_array(torch.tensor(got, dtype=torch.float64), torch.tensor(o.noam(0, 64, 200), dtype=torch.float64),
                 phrase("noam_lr(0, 64, 200) (step 0 counts as step 1)"), **TORCH, rtol=1e-9, atol=0, hint="hint.noam_zero")


@grader("noam_lr", "noam.peak")
def test_noam_peak(student):
    d, w = 64, 200
    steps = list(range(0, 801, 10))
    got = torch.tensor([_noam(student, s, d, w) for s in steps], dtype=torch.float64)
    expect_array(got, torch.tensor([o.noam(s, d, w) for s in steps], dtype=torch.float64),
                 phrase("noam_lr(step, 64, 200) for steps 0, 10, …, 800 (rising until 200, then falling)"), **TORCH,
                 rtol=1e-9, atol=0, hint="hint.noam", diagnoses=_noam_mistakes(steps, d, w))


# --- train_step ---------------------------------------------------------------------------------
def _train_batch(pad=PAD):
    return o.make_batch([[4, 5, 6, 7], [8, 9], [10, 4, 6]], [[5, 6, 7], [8, 9, 10, 11, 12], [4]], pad, BOS, EOS)


def _stale(model, seed):
    g = o_gen(seed)
    return [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in model.parameters()]


def _train_step(student, model, optimizer, batch, **kwargs):
    fn = student.function("train_step", trusted={**o.TRUSTED, "label_smoothed_loss": o.trusted_loss})
    return fn(model, optimizer, batch, **kwargs)


def _sgd_case(student, seed, lr):
    """The grader's model, and the student's copy with SGD: in eval mode (train_step must switch to training
    mode) and with gradients left over from an earlier step in ``.grad`` (a correct step discards them)."""
    model = o.random_model(CONFIG, seed)
    stale = _stale(model, seed + 1)
    names = [name for name, _ in model.named_parameters()]
    theirs = _theirs(student, CONFIG, model, recording=True, training=False, grads=dict(zip(names, stale)))
    return model, stale, theirs, student.trusted_object(o.optimizer, theirs, "SGD", lr=lr)


@grader("train_step", "train.sgd_step", weight=3)
def test_train_step_sgd(student):
    batch, lr, max_norm = _train_batch(), 0.5, 0.05  # max_norm well below the gradient's norm: clipping acts
    model, stale, theirs, sgd = _sgd_case(student, 720, lr)
    want, _ = o.reference_step(model, batch, lr=lr, pad_id=PAD, smoothing=0.1, max_norm=max_norm)
    _train_step(student, theirs, sgd, batch, pad_id=PAD, smoothing=0.1, max_norm=max_norm)

    def wrong(kind):  # the grader's model is untouched: the diagnoses start from the same weights
        return o.flat(o.reference_step(model, batch, lr=lr, pad_id=PAD, smoothing=0.1, max_norm=max_norm,
                                       stale=stale, mistake=kind)[0])

    # Clipping after the step and not clipping give the same weights; the gradients left in .grad tell them
    # apart (clipped afterwards, or never).
    left = [g for g in theirs.read(o.grads_of) if g is not None]
    clipped = bool(left) and float(torch.linalg.vector_norm(torch.stack([g.norm() for g in left]))) <= max_norm * 1.001
    mistakes = {"why.train_no_zero_grad": lambda: wrong("no_zero_grad"),
                "why.train_clip_after_step": lambda: wrong("clip_after_step") if clipped else None,
                "why.train_no_clip": lambda: wrong("no_clip") if not clipped else None}
    expect_array(o.flat(theirs.read(o.state_of)), o.flat(want), phrase("the weights after one SGD step (all parameters, "
                 "flattened)"), **TORCH, rtol=1e-6, atol=1e-9, hint="hint.train_order", diagnoses=mistakes)


@grader("train_step", "train.loss")
def test_train_step_loss(student):
    pad = 3  # not the course's PAD_ID: train_step must use the pad_id it is given
    batch = _train_batch(pad)
    model, _, theirs, sgd = _sgd_case(student, 722, 0.1)
    _, want = o.reference_step(model, batch, lr=0.1, pad_id=pad, smoothing=0.1, max_norm=1.0)
    got = _train_step(student, theirs, sgd, batch, pad_id=pad, smoothing=0.1, max_norm=1.0)
    if isinstance(got, torch.Tensor) or not isinstance(got, float):
        raise fail("fail.train_loss_type", got=type(got).__name__, hint="hint.train_item")
    expect_array(torch.tensor(got), torch.tensor(want), phrase("the returned loss (before the step)"), **TORCH, rtol=1e-6)


@grader("train_step", "train.train_mode")
def test_train_step_train_mode(student):
    batch = _train_batch()
    _, _, theirs, sgd = _sgd_case(student, 724, 0.1)
    _train_step(student, theirs, sgd, batch, pad_id=PAD, smoothing=0.1, max_norm=1.0)
    calls = theirs.read(o.calls_of)
    if not calls or not all(c["training"] for c in calls):
        raise fail("fail.train_eval_mode", why="why.train_eval_mode")


@grader("train_step", "train.autocast", weight=2)
def test_train_step_autocast(student):
    batch = _train_batch()
    model = o.random_model(CONFIG, 726, dtype=torch.float32)
    theirs = _theirs(student, CONFIG, model, recording=True)
    before = o.flat(model.state_dict())
    _, fp32_loss = o.reference_step(model, batch, lr=0.1, pad_id=PAD, smoothing=0.1, max_norm=1.0)
    got = _train_step(student, theirs, student.trusted_object(o.optimizer, theirs, "SGD", lr=0.1), batch,
                      pad_id=PAD, smoothing=0.1, max_norm=1.0, amp_dtype=torch.bfloat16)
    forward = [c for c in theirs.read(o.calls_of) if c["method"] == "decode"]
    if not forward or not all(c["autocast"] and c["autocast_dtype"] == torch.bfloat16 for c in forward):
        raise fail("fail.train_no_autocast", hint="hint.train_autocast")
    if isinstance(got, torch.Tensor) or not isinstance(got, float):
        raise fail("fail.train_loss_type", got=type(got).__name__, hint="hint.train_item")
    # bfloat16 keeps 8 significant bits (relative rounding 2^-8 ≈ 0.4 %): 5 % is far beyond rounding
    # and far below what a wrong loss gives.
    expect_array(torch.tensor(got), torch.tensor(fp32_loss), phrase("the loss under bfloat16 autocast"), **TORCH, rtol=0.05)
    if torch.equal(o.flat(theirs.read(o.state_of)), before):
        raise fail("fail.train_no_update", hint="hint.train_order")


@pytest.mark.gpu
@cuda
@grader("train_step", "train.cuda", weight=2)
def test_train_step_cuda(cuda_student):
    student = cuda_student
    batch = {k: v.cuda() for k, v in _train_batch().items()}
    model = o.random_model(CONFIG, 728, dtype=torch.float32)
    _, fp32_loss = o.reference_step(model, _train_batch(), lr=0.1, pad_id=PAD, smoothing=0.1, max_norm=1.0)
    before = o.flat(model.state_dict())
    theirs = _theirs(student, CONFIG, model, device="cuda")
    got = _train_step(student, theirs, student.trusted_object(o.optimizer, theirs, "SGD", lr=0.1), batch,
                      pad_id=PAD, smoothing=0.1, max_norm=1.0, scaler=student.trusted_object(o.grad_scaler, "cuda"),
                      amp_dtype=torch.float16)
    if isinstance(got, torch.Tensor) or not isinstance(got, float):
        raise fail("fail.train_loss_type", got=type(got).__name__, hint="hint.train_item")
    # float16 keeps 11 significant bits; 5 % as for bfloat16 above.
    expect_array(torch.tensor(got), torch.tensor(fp32_loss), phrase("the loss on CUDA with float16 autocast"), **TORCH, rtol=0.05)
    if torch.equal(o.flat(theirs.read(o.state_of)), before):
        raise fail("fail.train_no_update", hint="hint.train_scaler")


# --- greedy_decode ------------------------------------------------------------------------------
def _greedy(student, model, src, max_len, bos=BOS, eos=EOS):
    got = student.function("greedy_decode", trusted=o.TRUSTED)(model, src, o.padding_mask(src, PAD), max_len, bos, eos)
    if not isinstance(got, torch.Tensor) or got.dtype not in (torch.int64, torch.int32):
        kind = phrase("tensor of dtype {dtype}", dtype=str(got.dtype).replace('torch.', '')) if isinstance(got, torch.Tensor) else type(got).__name__
        raise fail("fail.wrong_type", what=phrase("the tokens greedy_decode returns"), expected=phrase("tensor of token ids (torch.long)"),
                   got=kind)
    return got


def _greedy_mistakes(model, src, max_len, bos=BOS, eos=EOS):
    mask = o.padding_mask(src, PAD)
    return {
        "why.greedy_no_stop": lambda: o.greedy(model, src, mask, max_len, bos, eos, stop=False),
        "why.greedy_no_eos_padding": lambda: o.greedy(model, src, mask, max_len, bos, eos, pad_eos=False),
        "why.greedy_no_bos": lambda: o.greedy(model, src, mask, max_len, bos, eos, bos=False),
        "why.greedy_no_causal_mask": lambda: o.greedy(model, src, mask, max_len, bos, eos, causal=False),
    }


GREEDY_SRC = torch.tensor(o.GREEDY_SRC)
COPY_SRC = torch.tensor([[4, 5, 6, EOS, PAD, PAD], [7, 8, EOS, PAD, PAD, PAD], [9, 10, 11, 4, 5, EOS]])


@grader("greedy_decode", "greedy.copy", weight=3)
def test_greedy_copy(student):
    model = o.CopyModel(13, PAD, EOS, after=12)
    got = _greedy(student, student.trusted_object(o.CopyModel, 13, PAD, EOS, after=12), COPY_SRC, 12)
    want = o.greedy(model, COPY_SRC, o.padding_mask(COPY_SRC, PAD), 12, BOS, EOS)  # <bos> copy <eos>, padded with <eos>
    with hinted("hint.greedy_loop"):
        expect_array(got, want, phrase("the tokens for a model that copies its source"), **TORCH,
                     diagnoses=_greedy_mistakes(model, COPY_SRC, 12))


@grader("greedy_decode", "greedy.transformer", weight=2)
def test_greedy_transformer(student):
    model = o.random_model(o.GREEDY_CONFIG, o.GREEDY_SEED).eval()  # decodes differently without the causal mask
    got = _greedy(student, _theirs(student, o.GREEDY_CONFIG, model, training=False), GREEDY_SRC, 10)
    with hinted("hint.greedy_loop"):
        expect_array(got, o.greedy(model, GREEDY_SRC, o.padding_mask(GREEDY_SRC, PAD), 10, BOS, EOS),
                     phrase("the tokens of a Transformer with given weights"), **TORCH,
                     diagnoses=_greedy_mistakes(model, GREEDY_SRC, 10))


@grader("greedy_decode", "greedy.max_len")
def test_greedy_max_len(student):
    model = o.CopyModel(13, PAD, EOS, after=12, never_eos=True)
    got = _greedy(student, student.trusted_object(o.CopyModel, 13, PAD, EOS, after=12, never_eos=True), COPY_SRC, 7)
    expect_shape(got, (3, 7), phrase("the tokens when no row ever produces <eos> (max_len = 7)"), **TORCH,
                 hint="hint.greedy_max_len")
    expect_array(got, o.greedy(model, COPY_SRC, o.padding_mask(COPY_SRC, PAD), 7, BOS, EOS),
                 phrase("the tokens when no row ever produces <eos>"), **TORCH, hint="hint.greedy_max_len")


@grader("greedy_decode", "greedy.no_grad")
def test_greedy_no_grad(student):
    model = o.random_model(CONFIG, 732, dtype=torch.float32)
    theirs = _theirs(student, CONFIG, model, recording=True, training=False)
    _greedy(student, theirs, torch.tensor([[4, 5, 6, EOS]]), 6)
    calls = theirs.read(o.calls_of)
    if not calls or any(c["grad"] for c in calls):
        raise fail("fail.greedy_grad", why="why.greedy_grad")


@pytest.mark.gpu
@cuda
@grader("greedy_decode", "greedy.cuda")
def test_greedy_cuda(cuda_student):
    model = o.random_model(CONFIG, 734).eval()
    src = torch.tensor([[4, 5, 6, 7, EOS], [8, 9, 10, EOS, PAD]])
    want = o.greedy(model, src, o.padding_mask(src, PAD), 9, BOS, EOS)
    got = _greedy(cuda_student, _theirs(cuda_student, CONFIG, model, training=False, device="cuda"), src.cuda(), 9)
    if got.device.type != "cuda":
        raise fail("fail.greedy_device", got=got.device.type)
    expect_array(got.cpu(), want, phrase("the tokens on CUDA"), **TORCH, hint="hint.greedy_device")


# --- translation_checkpoint ---------------------------------------------------------------------
@grader("translation_checkpoint", "ckpt.save", weight=2)
def test_save_checkpoint(student):
    from safetensors.torch import load_file

    model = o.random_model(CONFIG, 740, dtype=torch.float32)
    config = dict(CONFIG, dropout=0.1)
    save = student.function("save_checkpoint")
    path = student.trusted_object(o.writable_path, "model.safetensors")  # a fresh folder where their code runs
    save(_theirs(student, CONFIG, model), path, dict(config))
    written = path.read(o.take_file)  # the file's bytes (None: no file), read back here
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / "model.safetensors"
        if written is not None:
            local.write_bytes(written)
        try:
            got_config = ckpt.read_config(local)
        except ckpt.CheckpointError as exc:
            raise GraderFailure(exc.message, hint=text("hint.ckpt_save")) from None
        state = load_file(str(local))
    if got_config != config:
        raise fail("fail.ckpt_config", hint="hint.ckpt_save",
                   evidence=Evidence(expected=json.dumps(config), got=json.dumps(got_config)[:300]))
    want = {k: v for k, v in model.state_dict().items() if k != "pos_encoding.pe"}
    missing = sorted(k for k in want if k not in state)
    if missing:
        raise fail("fail.ckpt_missing_tensors", names=", ".join(f"`{k}`" for k in missing[:4]), hint="hint.ckpt_save")
    for k, v in want.items():
        expect_array(state[k], v, phrase("the saved tensor `{k}`", k=k), **TORCH, rtol=0, atol=0, hint="hint.ckpt_save")


@grader("translation_checkpoint", "ckpt.loads")
def test_checkpoint_loads(student):
    bleu.loaded_reference(ckpt.submitted_path())


@grader("translation_checkpoint", "ckpt.valid_bleu_30")
def test_valid_bleu_30(student):
    bleu.expect_bleu(ckpt.submitted_path(), "valid", 30)


@grader("translation_checkpoint", "ckpt.valid_bleu_50")
def test_valid_bleu_50(student):
    bleu.expect_bleu(ckpt.submitted_path(), "valid", 50)


@grader("translation_checkpoint", "ckpt.valid_bleu_70")
def test_valid_bleu_70(student):
    bleu.expect_bleu(ckpt.submitted_path(), "valid", 70)


@grader("translation_checkpoint", "ckpt.valid_bleu_80")
def test_valid_bleu_80(student):
    bleu.expect_bleu(ckpt.submitted_path(), "valid", 80)


@grader("translation_checkpoint", "ckpt.valid_bleu_90")
def test_valid_bleu_90(student):
    bleu.expect_bleu(ckpt.submitted_path(), "valid", 90)
