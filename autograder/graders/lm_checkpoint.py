"""Stage 08's language-model checkpoint: its format, and grading it without running student code.

Format (what the notebook's ``save_lm`` writes): a safetensors file ``gpt.safetensors`` holding the
GPT's state dict under the contract's names (``tok_emb.weight``, ``pos_emb.weight``,
``blocks.0.attn.w_q.weight``, ..., ``ln_f.weight``); the tied ``head.weight`` is the same tensor as
``tok_emb.weight``, which safetensors will not store twice, so it may be left out (and is ignored
if present: the grader ties the head itself). The metadata's ``"config"`` is a JSON object with the
``GPT`` arguments (``vocab_size``, ``d_model``, ``num_heads``, ``num_layers``, ``d_ff``, ``max_len``).

Grading: the tensors are loaded into :func:`make_trusted_gpt`'s model, built from PyTorch's own layers
(``nn.TransformerEncoderLayer(norm_first=True, activation="gelu")`` with a causal mask), in the
grading process; it scores Spanish sentences (``<bos> words <eos>``) by perplexity, exp of the mean
next-token cross-entropy. Thresholds (docs/architecture.md, "Stage 08's checkpoint"): the bigram
baseline of the public train split, and :data:`THRESHOLD`, the reference's perplexity with a margin.
The bounds of ``checkpoint.py`` (file size, header, tensor shapes before decoding, time budget) apply.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from autograder import checkpoint as ckpt
from autograder.catalogue import text
from autograder.failures import Evidence

CHECKPOINT_NAME = ckpt.HANDED_IN["08_decoder_only"]  # "gpt.safetensors": batch.stage_checkpoint stages it
ITEM = "lm_checkpoint"
REQUIRED = ("vocab_size", "d_model", "num_heads", "num_layers", "d_ff", "max_len")
# What the notebook trains (and benchmarks/train_gpt.py times): vocab_size is the course's Spanish vocabulary.
DEFAULT_CONFIG = {"vocab_size": 204, "d_model": 64, "num_heads": 4, "num_layers": 2, "d_ff": 256, "max_len": 32,
                  "dropout": 0.1}

# Perplexity to reach on each split (benchmarks/train_gpt.py prints all of these). The reference
# (DEFAULT_CONFIG, the notebook's 600 steps: 6 s to 7 min on this project's 2 shared CPU cores, by load) reaches 9.29 on the public
# valid split and 9.05 on the hidden test split; 300 steps give 9.97 / 9.67 (tests/handin). Baselines on
# valid: bigram (add-one, public train split) 20.6, unigram 102.7, uniform 204. THRESHOLD = the reference's
# valid perplexity + 13 % (10.5): a model that learned the grammar's agreement passes, a bigram is twice it.
THRESHOLD = 10.5


def make_trusted_gpt(config: dict):
    """A GPT of PyTorch's layers with the contract's sizes: forward(idx (batch, T)) -> logits (batch, T, vocab)."""
    import torch
    import torch.nn as nn

    class _GPT(nn.Module):
        def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            self.pos_emb = nn.Embedding(max_len, d_model)
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(d_model, num_heads, d_ff, dropout=0.0, activation="gelu", norm_first=True,
                                           batch_first=True) for _ in range(num_layers))
            self.ln_f = nn.LayerNorm(d_model)

        def forward(self, idx):
            t = idx.shape[-1]
            x = self.tok_emb(idx) + self.pos_emb.weight[:t]
            mask = torch.ones(t, t, dtype=torch.bool, device=idx.device).triu(1)  # True = may NOT attend
            for layer in self.layers:
                x = layer(x, src_mask=mask)
            return self.ln_f(x) @ self.tok_emb.weight.T  # the tied head

    return _GPT(**{k: config[k] for k in REQUIRED})


def contract_to_torch(state: dict) -> dict:
    """The contract's names (blocks.<i>.attn.w_q ...) as the trusted model's (layers.<i>.self_attn.in_proj ...)."""
    import torch

    out = {}
    for k in ("tok_emb.weight", "pos_emb.weight", "ln_f.weight", "ln_f.bias"):
        out[k] = state[k]
    n = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
    for i in range(n):
        p = f"blocks.{i}."
        q = f"layers.{i}."
        out[q + "self_attn.in_proj_weight"] = torch.cat([state[f"{p}attn.w_{c}.weight"] for c in "qkv"])
        out[q + "self_attn.in_proj_bias"] = torch.cat([state[f"{p}attn.w_{c}.bias"] for c in "qkv"])
        out[q + "self_attn.out_proj.weight"] = state[p + "attn.w_o.weight"]
        out[q + "self_attn.out_proj.bias"] = state[p + "attn.w_o.bias"]
        for a, b in (("mlp.linear1", "linear1"), ("mlp.linear2", "linear2"), ("ln1", "norm1"), ("ln2", "norm2")):
            out[f"{q}{b}.weight"] = state[f"{p}{a}.weight"]
            out[f"{q}{b}.bias"] = state[f"{p}{a}.bias"]
    return out


def contract_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The contract's tensor names and shapes for ``config`` (head.weight left out: it is tok_emb.weight)."""
    v, d, f, n, m = (config[k] for k in ("vocab_size", "d_model", "d_ff", "num_layers", "max_len"))
    shapes = {"tok_emb.weight": (v, d), "pos_emb.weight": (m, d), "ln_f.weight": (d,), "ln_f.bias": (d,)}
    for i in range(n):
        p = f"blocks.{i}."
        for c in "qkvo":
            shapes[f"{p}attn.w_{c}.weight"], shapes[f"{p}attn.w_{c}.bias"] = (d, d), (d,)
        shapes.update({p + "ln1.weight": (d,), p + "ln1.bias": (d,), p + "ln2.weight": (d,), p + "ln2.bias": (d,),
                       p + "mlp.linear1.weight": (f, d), p + "mlp.linear1.bias": (f,),
                       p + "mlp.linear2.weight": (d, f), p + "mlp.linear2.bias": (d,)})
    return shapes


def parameter_count(config: dict) -> int:
    return sum(ckpt._numel(s) for s in contract_shapes(config).values())


@functools.lru_cache(maxsize=1)
def _vocab():
    import course_data

    return course_data.load_vocabs()[1]


def load_model(path: str | Path):
    """(trusted model in eval mode with the file's weights, config). Raises checkpoint.CheckpointError."""
    import torch
    from safetensors.torch import load_file

    path = Path(path)
    config = ckpt.read_config(path, REQUIRED, missing_key="lmckpt.missing")
    if config["vocab_size"] != len(_vocab()):
        raise ckpt._fail("lmckpt.vocab", got=config["vocab_size"], expected=len(_vocab()))
    size = parameter_count(config)
    if size > ckpt.MAX_PARAMETERS:
        raise ckpt._fail("ckpt.config_value", key="d_model/num_layers/d_ff", got=f"{size:,d} parameters")
    expected = contract_shapes(config)
    ckpt._check_header_shapes(path, ckpt.read_header(path), {**expected, "head.weight": expected["tok_emb.weight"]})
    state = load_file(str(path))
    state.pop("head.weight", None)  # tied: the grader uses tok_emb.weight for the head
    ckpt.check_tensors(path, state, expected)
    model = make_trusted_gpt(config).eval()
    model.load_state_dict({k: v.to(torch.float32) for k, v in contract_to_torch(state).items()})
    return model, config


_LOADED: dict[tuple, Any] = {}  # the last checkpoint loaded (one file, one entry)
_SCORED: dict[tuple, float] = {}  # (file key, split name) -> perplexity


def loaded_model(path: str | Path):
    """:func:`load_model`, once per file version: the loads check and each split's perplexity share it."""
    path = Path(path)
    key = ckpt._file_key(path)
    if key not in _LOADED:
        _LOADED.clear()
        try:
            _LOADED[key] = load_model(path)
        except ckpt.CheckpointError as exc:
            _LOADED[key] = exc
    found = _LOADED[key]
    if isinstance(found, ckpt.CheckpointError):
        raise ckpt._fresh(found) from None
    return found


def encode(sentences: list[str]):
    """``<bos> words <eos>`` right-padded with ``<pad>``: (batch, T) int64."""
    import torch
    from course_data import BOS_ID, EOS_ID, PAD_ID

    rows = [[BOS_ID, *_vocab().encode(s), EOS_ID] for s in sentences]
    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD_ID] * (width - len(r)) for r in rows], dtype=torch.long)


def perplexity(model, sentences: list[str], *, batch_size: int = 250, path: Path | None = None) -> float:
    """exp(mean next-token cross-entropy) over the non-pad targets of ``sentences``."""
    import torch
    import torch.nn.functional as F
    from course_data import PAD_ID

    nll, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(sentences), batch_size):
            if path is not None:
                ckpt._check_time(path)
            idx = encode(sentences[i:i + batch_size])
            if idx.shape[1] > model.pos_emb.num_embeddings:
                raise ckpt._fail("lmckpt.too_short", max_len=model.pos_emb.num_embeddings, need=idx.shape[1])
            logits = model(idx)[:, :-1]
            target = idx[:, 1:]
            nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=PAD_ID,
                                   reduction="sum").item()
            count += int((target != PAD_ID).sum())
    return math.exp(nll / count)


def bigram_perplexity(train: list[str], sentences: list[str]) -> float:
    """The baseline: a bigram model with add-one smoothing estimated on ``train``."""
    import torch

    ids_of = lambda s: encode([s])[0].tolist()  # noqa: E731
    v = len(_vocab())
    counts = torch.ones(v, v, dtype=torch.float64)
    for s in train:
        ids = ids_of(s)
        for a, b in zip(ids, ids[1:]):
            counts[a, b] += 1
    logp = (counts / counts.sum(1, keepdim=True)).log()
    nll = n = 0
    for s in sentences:
        ids = ids_of(s)
        for a, b in zip(ids, ids[1:]):
            nll -= float(logp[a, b])
            n += 1
    return math.exp(nll / n)


def spanish(split: str) -> list[str]:
    import course_data

    return [es for _, es in course_data.load_pairs(split)]


@functools.lru_cache(maxsize=4)
def bigram_baseline(split_name: str, sentences: tuple[str, ...]) -> float:
    return bigram_perplexity(spanish("train"), list(sentences))


def submitted_path(folder: str | Path | None = None) -> Path:
    """Where the handed-in checkpoint is (as checkpoint.submitted_path, with this stage's file name)."""
    import os

    base = folder or os.environ.get("AUTOGRADER_SUBMISSION_DIR") or os.getcwd()
    return Path(base) / CHECKPOINT_NAME


def evaluate(path: str | Path, split_name: str, sentences: list[str]) -> float:
    """The checkpoint's perplexity on ``sentences`` (cached per file version and split)."""
    path = Path(path)
    key = (ckpt._file_key(path), split_name)
    if key not in _SCORED:
        model, _ = loaded_model(path)
        if len(_SCORED) > 8:
            _SCORED.clear()
        _SCORED[key] = perplexity(model, sentences, path=path)
    return _SCORED[key]


def expect_perplexity(path: str | Path, split_name: str, threshold: float | str, what_key: str,
                      sentences: list[str] | None = None) -> float:
    """The checkpoint's perplexity on the split must be below ``threshold`` (a number, or "bigram": the
    bigram baseline of that split). Raises GraderFailure with both numbers otherwise."""
    from autograder.failures import GraderFailure

    sentences = sentences if sentences is not None else spanish(split_name)
    got = evaluate(path, split_name, sentences)
    limit = bigram_baseline(split_name, tuple(sentences)) if threshold == "bigram" else float(threshold)
    if not got < limit:
        raise GraderFailure(text("lmckpt.too_high", what=text(what_key), split=split_name),
                            evidence=Evidence(expected=f"perplexity < {limit:.2f}", got=f"{got:.2f}"),
                            hint=text("hint.lmckpt"))
    return got
