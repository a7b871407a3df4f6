"""Stage 07's translation checkpoint, graded without running student code: BLEU on the course's splits.

The tensors are loaded into the reference model (:class:`autograder.graders.training_oracles.Transformer`)
in the grading process, which then translates a split with greedy decoding and scores it with
sacreBLEU. Points scale with BLEU in steps (:data:`THRESHOLDS`): one grader per threshold per split,
so an item's share of points is the share of thresholds reached. :func:`grade_checkpoint` does all
of it for one file. The file's format and the checks that read it safely are the engine's
(:mod:`autograder.checkpoint`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import registry
from autograder.catalogue import phrase, text
from autograder.checkpoint import (MAX_PARAMETERS, REQUIRED, CheckpointError, CheckpointTimeout, _check_header_shapes,
                                   _check_time, _fail, _file_key, _fresh, check_tensors, parameter_count, read_config,
                                   read_header)
from autograder.failures import Evidence, GraderFailure


ITEM = "translation_checkpoint"

# BLEU a checkpoint must reach on each split for each grader (equal weights): points grow by one
# step per threshold, full marks at 90.
THRESHOLDS = (30, 50, 70, 80, 90)

@functools.lru_cache(maxsize=1)
def _vocabs():
    """The course's vocabularies: fixed package data, read and checksum-verified once per process."""
    import course_data

    return course_data.load_vocabs()

def _expected_vocab_sizes() -> tuple[int, int]:
    src, tgt = _vocabs()
    return len(src), len(tgt)

def load_reference(path: str | Path):
    """(reference model in eval mode with the file's weights, config). Raises CheckpointError."""
    import torch
    from safetensors.torch import load_file

    from autograder.graders.training_oracles import Transformer

    path = Path(path)
    config = read_config(path)
    src_v, tgt_v = _expected_vocab_sizes()
    if (config["src_vocab"], config["tgt_vocab"]) != (src_v, tgt_v):
        raise _fail("ckpt.vocab", src=config["src_vocab"], tgt=config["tgt_vocab"], src_expected=src_v,
                    tgt_expected=tgt_v)
    size = parameter_count(config)
    if size > MAX_PARAMETERS:
        raise _fail("ckpt.config_value", key="d_model/num_layers/d_ff", got=phrase("{n:,d} parameters", n=size))
    args = {k: config[k] for k in REQUIRED}
    model = Transformer(**args, dropout=0.0).eval()
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    _check_header_shapes(path, read_header(path), expected)  # nothing oversized is decoded
    state = load_file(str(path))
    optional = {"pos_encoding.pe"}
    check_tensors(path, state, expected, optional=optional)
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=False)
    return model, config

_LOADED: dict[tuple, tuple | CheckpointError] = {}  # the last checkpoint loaded: one file, one entry

def loaded_reference(path: str | Path):
    """:func:`load_reference`, once per file version: the loads check and each split's BLEU share it."""
    path = Path(path)
    key = _file_key(path)
    if key not in _LOADED:
        _LOADED.clear()
        try:
            _LOADED[key] = load_reference(path)
        except CheckpointError as exc:
            _LOADED[key] = exc
    found = _LOADED[key]
    if isinstance(found, CheckpointError):
        raise _fresh(found) from None
    return found

def translate(model, sentences: list[str], src_vocab, tgt_vocab, *, batch_size: int = 250, extra: int = 8,
              max_len: int | None = None, on_batch: Any = None) -> list[str]:
    """Greedy translations of English ``sentences`` by a model with the contract's methods.

    ``on_batch()`` is called before each batch (the time budget's check: it may raise). Large models
    translate in smaller batches, so that one batch stays a small part of any budget.
    """
    import course_data
    import torch

    from autograder.graders import training_oracles as ref

    device = next(model.parameters()).device
    out: list[str] = []
    limit = max_len or getattr(getattr(model, "pos_encoding", None), "pe", torch.empty(512)).shape[0]
    was_training = model.training
    model.eval()
    if sum(p.numel() for p in model.parameters()) > 4_000_000:
        batch_size = min(batch_size, 25)
    try:
        for i in range(0, len(sentences), batch_size):
            if on_batch is not None:
                on_batch()
            ids = [src_vocab.encode(s) + [course_data.EOS_ID] for s in sentences[i:i + batch_size]]
            width = max(len(x) for x in ids)
            src = torch.tensor([x + [course_data.PAD_ID] * (width - len(x)) for x in ids], device=device)
            ys = ref.greedy(model, src, ref.padding_mask(src, course_data.PAD_ID), min(limit, width + extra),
                            course_data.BOS_ID, course_data.EOS_ID)
            out += [tgt_vocab.decode(row.tolist()) for row in ys.cpu()]
    finally:
        model.train(was_training)
    return out

def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU's corpus BLEU (0-100), default 13a tokenisation."""
    import sacrebleu

    return float(sacrebleu.corpus_bleu(hypotheses, [references]).score)

def bleu_of(model, pairs: list[tuple[str, str]], src_vocab, tgt_vocab) -> float:
    hyps = translate(model, [en for en, _ in pairs], src_vocab, tgt_vocab)
    return corpus_bleu(hyps, [es for _, es in pairs])

def split_pairs(split: str) -> list[tuple[str, str]]:
    """'valid' (public), or 'test' / 'hard' (made from the instructor's hidden seed)."""
    import course_data

    if split == "valid":
        return course_data.load_pairs("valid")
    try:
        from autograder.graders.hidden import translation_seed as hidden
    except ImportError:
        raise GraderFailure(text("report.hidden_missing")) from None
    if split == "test":
        return course_data.make_test_split(hidden.TEST_SEED, hidden.TEST_SIZE, "regular")
    if split == "hard":
        return course_data.make_test_split(hidden.HARD_SEED, hidden.HARD_SIZE, "hard")
    raise ValueError(f"unknown split {split!r}")

@dataclass(frozen=True)
class Evaluation:
    split: str
    bleu: float
    examples: tuple[tuple[str, str, str], ...]  # (source, reference, translation), a few wrong ones first

_CACHE: dict[tuple, Evaluation | CheckpointError] = {}

def evaluate(path: str | Path, split: str) -> Evaluation:
    """BLEU of the checkpoint at ``path`` on ``split`` (cached per file version). Raises CheckpointError."""
    import torch

    path = Path(path)
    key = (*_file_key(path), split)
    if key not in _CACHE:
        threads = torch.get_num_threads()
        try:
            _check_time(path)
            model, _ = loaded_reference(path)
            _check_time(path)  # decoding counts against the budget too
            pairs = split_pairs(split)
            src_vocab, tgt_vocab = _vocabs()
            # One thread: a grading machine grades several submissions at once, and on a busy machine
            # two threads fighting over small matrices are several times slower than one.
            torch.set_num_threads(1)
            with torch.inference_mode():
                hyps = translate(model, [en for en, _ in pairs], src_vocab, tgt_vocab,
                                 on_batch=lambda: _check_time(path))
            wrong = [(en, es, h) for (en, es), h in zip(pairs, hyps) if h != es]
            right = [(en, es, h) for (en, es), h in zip(pairs, hyps) if h == es]
            _CACHE[key] = Evaluation(split, corpus_bleu(hyps, [es for _, es in pairs]), tuple((wrong + right)[:3]))
        except CheckpointTimeout:
            raise
        except CheckpointError as exc:
            _CACHE[key] = exc
        finally:
            torch.set_num_threads(threads)
    found = _CACHE[key]
    if isinstance(found, CheckpointError):
        raise _fresh(found) from None
    return found

def split_name(split: str) -> str:
    """How a sentence names ``split`` ('valid', 'test' or 'hard'), in the course's language."""
    return {"valid": phrase("the public valid split"), "test": phrase("the hidden test split"),
            "hard": phrase("the hidden test split's unseen combinations")}[split]

def expect_bleu(path: str | Path, split: str, threshold: float) -> Evaluation:
    """Raise a GraderFailure unless the checkpoint reaches ``threshold`` BLEU on ``split``."""
    ev = evaluate(path, split)
    if ev.bleu < threshold:
        details = [text("ckpt.example", src=s, ref=r, got=h or phrase("(empty)")) for s, r, h in ev.examples[:2]]
        raise GraderFailure(text("ckpt.bleu_low", bleu=ev.bleu, threshold=threshold, split=split_name(split)),
                            evidence=Evidence(expected=f"BLEU ≥ {threshold:g}", got=f"BLEU {ev.bleu:.1f}",
                                              details=details),
                            hint=text("hint.ckpt_train"))
    return ev

def grade_checkpoint(path: str | Path, *, hidden: bool | None = None) -> Any:
    """Grade the checkpoint at ``path`` (never running student code): an ItemResult for the item.

    It loads (one grader, weight 1), then one grader per BLEU threshold on the valid split and,
    with the hidden seed present (``hidden=None``: when it is), on the hidden test split and its
    unseen combinations. The same checks the item's pytest graders make, without the part that
    tests the student's ``save_checkpoint`` function.
    """
    from autograder.results import GraderResult, ItemResult

    if hidden is None:
        from autograder.runner import hidden_graders_present

        hidden = hidden_graders_present()
    item = registry.item(ITEM)
    result = ItemResult(item)
    splits = ["valid"] + (["test", "hard"] if hidden else [])

    def run(name: str, title_key: str, visibility: str, fn) -> None:
        g = GraderResult(item=item.id, name=name, title=text(title_key), visibility=visibility)
        try:
            fn()
        except GraderFailure as exc:
            g.status, g.message, g.evidence, g.hint = "failed", exc.message, exc.evidence, exc.hint
        except Exception as exc:  # a grading bug, not the student's fault (as in the runner)
            g.status, g.message = "error", text("report.internal_error", error=f"{type(exc).__name__}: {exc}")
        result.graders.append(g)

    run("loads", "ckpt.loads", "public", lambda: loaded_reference(path))
    for split in splits:
        for t in THRESHOLDS:
            run(f"{split}_bleu_{t}", f"ckpt.{split}_bleu_{t}", "public" if split == "valid" else "hidden",
                lambda split=split, t=t: expect_bleu(path, split, t))
    return result

def bleu_points(bleu_by_split: dict[str, float]) -> float:
    """The share of the item's checkpoint graders a model with these BLEU scores passes (for docs and tests)."""
    passed = 1 + sum(b >= t for b in bleu_by_split.values() for t in THRESHOLDS)
    return passed / (1 + len(bleu_by_split) * len(THRESHOLDS))


__all__ = ["THRESHOLDS", "Evaluation", "bleu_of", "bleu_points", "corpus_bleu", "evaluate", "expect_bleu",
           "grade_checkpoint", "load_reference", "loaded_reference", "split_pairs", "translate"]
