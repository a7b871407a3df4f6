"""Oracles of stage 09 (the encoder-only BERT), and its checkpoint graded in the trusted process.

Nothing here comes from the reference notebook:

- the embeddings are the slides' sum tok + pos + seg, then ``F.layer_norm`` (float64);
- the encoder is ``nn.TransformerEncoderLayer`` (post-LN, dropout 0) given the same weights
  (``transformer_oracles.encoder_reference``), under nn's own key-padding convention;
- the MLM head is ``F.gelu``/``F.layer_norm``/``F.linear`` with the token table as its weight;
  the loss is ``F.cross_entropy(..., ignore_index=-100)``;
- ``mask_tokens`` is judged by properties (special tokens never chosen, labels at exactly the chosen
  positions, rates within binomial bounds at a fixed seed: :func:`binomial_bound`).

Known mistakes (keyword flags, ``mistake_*``) compute what a wrong implementation gives, so that a
failing check can name the misconception.

The student export ships the model oracles as recorded values (``record_expected.REPLAYED``); what
``AS_CODE`` names ships as code.

The checkpoint (:func:`expect_accuracy`): ``agreement.safetensors``, the fine-tuned
``SentenceClassifier``'s state dict under the contract's names, and its config in the metadata. It is
loaded into :class:`TrustedClassifier` (the trusted blocks: PyTorch's layers) here, in the grading
process, with the size bounds of stage 07's checkpoints, and scored by accuracy on a split.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.graders import blocks
from autograder.graders import transformer_oracles as o

DT = torch.float64
IGNORE = -100  # labels at the positions the loss must skip (PyTorch's ignore_index default)
# What ships to students as code (record_expected.REPLAYED replays the rest as recorded values):
# the checkpoint's reading and scoring, which run on the student's own file, and the statistics of
# mask_tokens' counts, which run on the student's own masks. None of them is a course answer.
_CHECKPOINT = "grades the student's own checkpoint file in the grading process; no item asks for it"
AS_CODE = {
    "binomial_bound": "a bound on the student's own mask counts (statistics, no item asks for it)",
    "TrustedClassifier": _CHECKPOINT + " (blocks.BERT, a trusted module, and an nn.Linear)",
    **dict.fromkeys(("parameter_count", "read_config", "load_classifier", "accuracy", "majority_baseline",
                     "evaluate", "submitted_path", "expect_accuracy"), _CHECKPOINT),
}


# --- model oracles ------------------------------------------------------------------------------
def embeddings(p, tokens, segments=None, *, segment=True, norm=True, eps=1e-5, dropout_p=0.0):
    """LN(tok_emb[tokens] + pos_emb[0..T-1] + seg_emb[segments]) in float64; (batch, T, d_model).

    Flags: ``segment=False`` (no segment embedding), ``norm=False`` (no LayerNorm)."""
    t = tokens.shape[-1]
    x = F.embedding(tokens, p["tok_emb.weight"].to(DT)) + p["pos_emb.weight"].to(DT)[:t]
    if segment:
        seg = torch.zeros_like(tokens) if segments is None else segments
        x = x + F.embedding(seg, p["seg_emb.weight"].to(DT))
    if norm:
        x = F.layer_norm(x, (x.shape[-1],), p["norm.weight"].to(DT), p["norm.bias"].to(DT), eps)
    return x


def bert(p, tokens, segments, heads, num_layers, pad_id=0, *, use_mask=True, **embedding_flags):
    """Hidden states (batch, T, d_model): the embeddings, then nn.TransformerEncoderLayer ``num_layers`` times."""
    x = embeddings(o.sub(p, "embeddings."), tokens, segments, **embedding_flags)
    # (batch, 1, 1, T), True where the key is a real token; inline, not a function of its own: this
    # module ships to students, and such a function would answer stage 03's padding_mask
    mask = (tokens != pad_id)[:, None, None, :] if use_mask else None
    return o.encoder_reference(p, x, mask, heads, num_layers) if num_layers else x


def mlm_head(p, hidden, *, decoder_weight=None, activation="gelu"):
    """Logits (batch, T, vocab): LN(gelu(dense(h))) · Wᵀ + b with W the decoder's (tied) weight."""
    h = F.linear(hidden.to(DT), p["dense.weight"], p["dense.bias"])
    h = F.gelu(h) if activation == "gelu" else torch.relu(h)
    h = F.layer_norm(h, (h.shape[-1],), p["norm.weight"], p["norm.bias"], 1e-5)
    weight = p["decoder.weight"] if decoder_weight is None else decoder_weight
    return F.linear(h, weight.to(DT), p["decoder.bias"])


def masked_cross_entropy(logits, labels):
    """Mean cross-entropy over the positions whose label is not -100."""
    return F.cross_entropy(logits.to(DT).flatten(0, -2), labels.flatten(), ignore_index=IGNORE)


def mistake_masked_cross_entropy(logits, labels, kind):
    """``all_positions``: the masked positions' loss summed but divided by every position;
    ``ignored_as_zero``: -100 read as class 0, so every position counts."""
    flat, y = logits.to(DT).flatten(0, -2), labels.flatten()
    if kind == "all_positions":
        return F.cross_entropy(flat, y, ignore_index=IGNORE, reduction="sum") / y.numel()
    if kind == "ignored_as_zero":
        return F.cross_entropy(flat, y.clamp(min=0))
    raise ValueError(kind)


def classifier(p, tokens, segments, heads, num_layers, pad_id=0, *, position=0):
    """Logits (batch, classes): the hidden state at ``position`` (0: [CLS]) through the classifier's Linear."""
    hidden = bert(o.sub(p, "bert."), tokens, segments, heads, num_layers, pad_id)
    return F.linear(hidden[:, position], p["classifier.weight"], p["classifier.bias"])


def last_real_token(hidden, tokens, pad_id):
    """(batch, d): the state of each row's last non-padding token (the '[CLS] from the end' mistake)."""
    last = (tokens != pad_id).sum(-1) - 1
    return hidden[torch.arange(hidden.shape[0]), last]


# --- mask_tokens ----------------------------------------------------------------------------------
def binomial_bound(n: int, p: float, sigmas: float = 6.0) -> float:
    """Half-width of an interval around n·p that a Binomial(n, p) count leaves with probability < 2e-9.

    Six standard deviations (√(n p (1 − p))): the checks run at a fixed seed, so they cannot flake;
    the bound is what a *correct* random implementation with any other generator use must meet."""
    return sigmas * math.sqrt(n * p * (1 - p))


# --- the checkpoint ----------------------------------------------------------------------------------
CHECKPOINT_NAME = "agreement.safetensors"
ITEM = "agreement_checkpoint"
REQUIRED = ("vocab_size", "d_model", "num_heads", "num_layers", "d_ff", "max_len", "num_classes")
LIMITS = {"vocab_size": 100_000, "d_model": 1024, "num_heads": 64, "num_layers": 24, "d_ff": 8192,
          "max_len": 4096, "num_classes": 2}
MAX_PARAMETERS = 48_000_000  # as stage 07: far above this stage's models (~0.3 M)
# Accuracy steps (percent) on each split, one grader each. The reference reaches 98.2 % on the valid split and
# 97.9 % on the hidden one (benchmarks/train_bert.py, seed 0; the notebook's own run: 98.6 and 98.6 %), the majority
# class 53.2 and 51.3 %: the top step leaves about 3 points of margin below the reference.
THRESHOLDS = (70, 85, 95)


class TrustedClassifier(nn.Module):
    """The contract's SentenceClassifier on trusted blocks: ``bert`` (blocks.BERT) and ``classifier``."""

    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, num_classes=2, pad_id=0):
        super().__init__()
        self.bert = blocks.BERT(vocab_size, d_model, num_heads, num_layers, d_ff, max_len, 0.0, pad_id)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, tokens, segments=None):
        """(batch, T) ids -> (batch, num_classes) logits."""
        return self.classifier(self.bert.pool(self.bert(tokens, segments)))


def parameter_count(config: dict) -> int:
    d, n, f, v = config["d_model"], config["num_layers"], config["d_ff"], config["vocab_size"]
    layer = 4 * (d * d + d) + 2 * d * f + f + d + 4 * d
    return (v + config["max_len"] + 2) * d + 2 * d + n * layer + d * config["num_classes"] + config["num_classes"]


def read_config(path: Path) -> dict:
    """The checkpoint's config, checked as stage 07's (size bounds before anything is decoded)."""
    from safetensors import safe_open

    from autograder import checkpoint as ck

    if not path.is_file():
        raise ck._fail("ckpt.missing", name=path.name)
    if path.stat().st_size > ck.MAX_CHECKPOINT_BYTES:
        raise ck._fail("ckpt.too_large", name=path.name, size_mb=path.stat().st_size >> 20,
                       limit_mb=ck.MAX_CHECKPOINT_BYTES >> 20)
    ck.read_header(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # torch.save's zip, a truncated file
        raise ck._fail("ckpt.not_safetensors", name=path.name, error=str(exc).splitlines()[0][:200]) from None
    if "config" not in meta:
        raise ck._fail("ckpt.no_config", name=path.name)
    try:
        config = json.loads(meta["config"])
    except ValueError:
        raise ck._fail("ckpt.config_not_json", name=path.name, got=meta["config"][:80]) from None
    if not isinstance(config, dict):
        raise ck._fail("ckpt.config_not_json", name=path.name, got=meta["config"][:80])
    missing = [k for k in REQUIRED if k not in config]
    if missing:
        raise ck._fail("ckpt.config_keys", name=path.name, missing=", ".join(missing))
    for k in REQUIRED:
        v = config[k]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > LIMITS[k]:
            raise ck._fail("ckpt.config_value", key=k, got=repr(v)[:40])
    if config["d_model"] % config["num_heads"]:
        raise ck._fail("ckpt.config_value", key="num_heads", got=f"{config['num_heads']} (d_model = {config['d_model']})")
    if parameter_count(config) > MAX_PARAMETERS:
        raise ck._fail("ckpt.config_value", key="d_model/num_layers/d_ff", got=f"{parameter_count(config):,d} parameters")
    return config


def load_classifier(path: str | Path) -> TrustedClassifier:
    """The trusted classifier in eval mode holding the file's weights. Raises CheckpointError."""
    from safetensors.torch import load_file

    from autograder import checkpoint as ck

    path = Path(path)
    config = read_config(path)
    from course_data import agreement

    if config["vocab_size"] != agreement.VOCAB_SIZE:
        raise ck._fail("ckpt.bert_vocab", got=config["vocab_size"], expected=agreement.VOCAB_SIZE)
    model = TrustedClassifier(**{k: config[k] for k in REQUIRED}).eval()
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    ck._check_header_shapes(path, ck.read_header(path), expected)
    state = load_file(str(path))
    ck.check_tensors(path, state, expected)
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    return model


def accuracy(model: nn.Module, examples: list[tuple[str, int]], batch_size: int = 250) -> float:
    """Percent of ``examples`` (sentence, label) whose argmax logit is the label."""
    from course_data import agreement

    right = 0
    with torch.inference_mode():
        for i in range(0, len(examples), batch_size):
            chunk = examples[i:i + batch_size]
            tokens = torch.tensor(agreement.batch([s for s, _ in chunk]))
            guess = model(tokens).argmax(-1)
            right += int((guess == torch.tensor([y for _, y in chunk])).sum())
    return 100.0 * right / len(examples)


def majority_baseline(examples: list[tuple[str, int]]) -> float:
    """Percent a model that always answers the most common label gets."""
    ones = sum(y for _, y in examples)
    return 100.0 * max(ones, len(examples) - ones) / len(examples)


@functools.lru_cache(maxsize=4)
def _evaluate(key: tuple, split_seed: int, size: int) -> float:
    from course_data import agreement

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a grading machine grades several submissions at once (as stage 07)
    try:
        return accuracy(load_classifier(key[0]), agreement.make_split(split_seed, size))
    finally:
        torch.set_num_threads(threads)


def evaluate(path: str | Path, split_seed: int, size: int) -> float:
    """Accuracy (percent) of the checkpoint on the split made from ``split_seed`` (cached per file version)."""
    from autograder import checkpoint as ck

    path = Path(path)
    try:
        return _evaluate(ck._file_key(path), split_seed, size)
    except ck.CheckpointError as exc:
        raise ck._fresh(exc) from None


def submitted_path(folder: str | Path | None = None) -> Path:
    """``agreement.safetensors`` in ``folder``, else $AUTOGRADER_SUBMISSION_DIR, else the working directory."""
    from autograder import checkpoint as ck

    return ck.submitted_path(folder).with_name(CHECKPOINT_NAME)


def expect_accuracy(path: str | Path, split_seed: int, size: int, threshold: float, split_name: str) -> float:
    """Raise a GraderFailure unless the checkpoint's accuracy on the split reaches ``threshold`` percent."""
    from course_data import agreement

    from autograder.catalogue import text
    from autograder.failures import Evidence, GraderFailure

    got = evaluate(path, split_seed, size)
    if got < threshold:
        baseline = majority_baseline(agreement.make_split(split_seed, size))
        raise GraderFailure(text("bert_ckpt.accuracy_low", accuracy=got, threshold=threshold, split=split_name),
                            evidence=Evidence(expected=f"accuracy ≥ {threshold:g} %", got=f"{got:.1f} %",
                                              details=[text("bert_ckpt.baseline", baseline=baseline)]),
                            hint=text("hint.bert_ckpt_train"))
    return got
