"""A checkpoint handed in with a notebook: its file format and the checks that read it safely.

Format (what stage 07's ``save_checkpoint`` writes): a safetensors file holding the model's
state dict under the contract's names (``src_embed.weight``, ``encoder.layers.0.self_attn.w_q.weight``,
…; the positional-encoding buffer ``pos_encoding.pe`` may be left out), and in its metadata the
key ``"config"``: a JSON object with the ``Transformer`` arguments (``src_vocab``, ``tgt_vocab``,
``d_model``, ``num_heads``, ``num_layers``, ``d_ff``, ``max_len``; ``dropout`` optional).
safetensors holds only tensors and strings, so reading a file runs no code (unlike pickle).

This module is the engine's part: where each stage's file is handed in, the limits a file must
respect before anything of it is decoded, and the time budget hardened grading sets. Grading a
checkpoint is the graders' job: stage 07's BLEU in :mod:`autograder.graders.translation_bleu`,
stage 08's perplexity in :mod:`autograder.graders.lm_checkpoint`, stage 09's accuracy in
:mod:`autograder.graders.bert_oracles`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .catalogue import phrase, text
from .failures import Evidence, GraderFailure

CHECKPOINT_NAME = "translator.safetensors"
# The file each stage's graded checkpoint is handed in as, next to the notebook: hardened grading
# (batch.stage_checkpoint) copies the one of the submission's stage for the trusted process.
HANDED_IN = {"07_training": CHECKPOINT_NAME, "08_decoder_only": "gpt.safetensors", "09_encoder_only": "agreement.safetensors"}


def handed_in_name(stage_id: str) -> str:
    """The checkpoint file name of ``stage_id`` (stage 07's for a stage without its own)."""
    return HANDED_IN.get(stage_id, CHECKPOINT_NAME)


# Stage 07's model: what the notebook trains and the benchmark times. Vocabulary sizes are the
# course vocabularies' (tests/test_course_data.py checks).
DEFAULT_CONFIG = {"src_vocab": 127, "tgt_vocab": 204, "d_model": 64, "num_heads": 4, "num_layers": 2,
                  "d_ff": 256, "dropout": 0.1, "max_len": 64}


REQUIRED = ("src_vocab", "tgt_vocab", "d_model", "num_heads", "num_layers", "d_ff", "max_len")
# Far above anything this course trains; a config beyond these is refused before anything is built.
LIMITS = {"d_model": 2048, "num_heads": 64, "num_layers": 24, "d_ff": 16384, "max_len": 8192}
# The largest model of this course is the contract's default Transformer (d_model 512, 6 layers,
# d_ff 2048) on the course vocabularies: about 44 M parameters. Bigger ones are refused unread.
MAX_PARAMETERS = 48_000_000
MAX_HEADER_BYTES = 1 << 20  # a safetensors header of the largest model is about 20 kB
MAX_TENSORS = 1024  # the largest model has under 250 tensors
# float32 tensors of MAX_PARAMETERS plus room for the header: a bigger file is refused unread.
MAX_CHECKPOINT_BYTES = 4 * MAX_PARAMETERS + (16 << 20)


class CheckpointError(GraderFailure):
    """The checkpoint cannot be graded; the message says why and what to do."""


class CheckpointTimeout(CheckpointError):
    """Grading the checkpoint ran past the submission's time budget (never cached: the budget left varies)."""


# When set (time.monotonic()), the moment by which evaluating a checkpoint must end. Hardened grading
# sets it to the end of the submission's time budget, so that decoding and translating a huge model
# count against --submission-timeout like the student's own code does.
_DEADLINE: float | None = None


@contextlib.contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Evaluations inside this block stop with a CheckpointTimeout after ``seconds`` (None: no limit)."""
    global _DEADLINE
    saved = _DEADLINE
    _DEADLINE = None if seconds is None else time.monotonic() + seconds
    try:
        yield
    finally:
        _DEADLINE = saved


def _check_time(path: Path) -> None:
    if _DEADLINE is not None and time.monotonic() > _DEADLINE:
        raise CheckpointTimeout(text("ckpt.too_slow", name=path.name))


# --- writing --------------------------------------------------------------------------------------
def save(model: Any, path: str | Path, config: dict, *, dtype: Any = None) -> Path:
    """Write ``model``'s state dict and ``config`` in the course's format (used by the benchmark and tests)."""
    from safetensors.torch import save_file

    state = {k: (v.detach().to(dtype) if dtype is not None and v.is_floating_point() else v.detach()).cpu().contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"config": json.dumps(config)})
    return Path(path)


# --- reading --------------------------------------------------------------------------------------
def check_tensors(path: Path, state: dict[str, Any], expected: dict[str, tuple[int, ...]], *,
                  optional: set[str] = frozenset()) -> None:
    """The tensors of a checkpoint are the contract's: the names of ``expected`` (but ``optional``), their
    shapes, floating point and finite; otherwise a CheckpointError that lists what differs (stages 07-09)."""
    import torch

    missing = sorted(k for k in expected if k not in state and k not in optional)
    extra = sorted(k for k in state if k not in expected)
    wrong = sorted(k for k in expected if k in state and tuple(state[k].shape) != expected[k])
    if missing or extra or wrong:
        details = []
        if missing:
            details.append(text("ckpt.detail_missing", n=len(missing), names=_names(missing)))
        if extra:
            details.append(text("ckpt.detail_extra", n=len(extra), names=_names(extra)))
        for k in wrong[:3]:
            details.append(text("ckpt.detail_shape", name=k, got=tuple(state[k].shape), expected=expected[k]))
        raise CheckpointError(text("ckpt.tensors", name=Path(path).name), evidence=Evidence(details=details))
    for k, v in state.items():
        if not v.is_floating_point():
            raise _fail("ckpt.dtype", tensor=k, dtype=str(v.dtype).replace("torch.", ""))
        if not bool(torch.isfinite(v).all()):
            raise _fail("ckpt.not_finite", tensor=k)


def _fail(message_key: str, /, **params: Any) -> CheckpointError:
    return CheckpointError(text(message_key, **params))


def parameter_count(config: dict) -> int:
    """Parameters of ``Transformer(**config)``: embeddings, every layer's attention and FFN, norms, generator.

    Each of the ``num_layers`` encoder and decoder layers has its own FFN (2·d·d_ff weights plus
    biases), so the FFNs count twice per layer index.
    """
    d, n, f = config["d_model"], config["num_layers"], config["d_ff"]
    attn, ffn, norm = 4 * (d * d + d), 2 * d * f + f + d, 2 * d
    enc, dec = attn + ffn + 2 * norm, 2 * attn + ffn + 3 * norm
    return (config["src_vocab"] + config["tgt_vocab"]) * d + n * (enc + dec) + d * config["tgt_vocab"] + config["tgt_vocab"]


def read_header(path: str | Path) -> dict:
    """The safetensors header (tensor name -> dtype, shape, offsets), bounded before it is parsed."""
    import struct

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise _fail("ckpt.header", name=path.name, why=phrase("the file is shorter than a header"))
        (n,) = struct.unpack("<Q", head)
        if n + 8 > os.fstat(fh.fileno()).st_size:  # a zip from torch.save, a truncated file
            raise _fail("ckpt.not_safetensors", name=path.name, error=phrase("its header length is longer than the file"))
        if n > MAX_HEADER_BYTES:
            raise _fail("ckpt.header", name=path.name, why=phrase("{n:,d} bytes of header (at most {limit:,d})", n=n, limit=MAX_HEADER_BYTES))
        raw = fh.read(n)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        raise _fail("ckpt.header", name=path.name, why=phrase("it is not JSON")) from None
    if not isinstance(header, dict) or len(header) > MAX_TENSORS + 1:
        raise _fail("ckpt.header", name=path.name, why=phrase("more than {n} tensors", n=MAX_TENSORS))
    return header


def _check_header_shapes(path: Path, header: dict, expected: dict[str, tuple]) -> None:
    """Every tensor no larger than the reference model's tensor of that name: checked before any is decoded."""
    # A name outside the contract may be as large as the model's largest tensor (the check after
    # decoding names it); all of them together no larger than the model plus its positional table.
    largest = max((_numel(v) for v in expected.values()), default=1)
    total, budget = 0, sum(_numel(v) for v in expected.values()) + largest
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(x, int) and x >= 0 for x in shape):
            raise _fail("ckpt.header", name=path.name, why=phrase("tensor {name!r} has no valid shape", name=name[:60]))
        size = 1
        for x in shape:
            size *= x
        limit = expected.get(name)
        total += size
        if size > (largest if limit is None else max(1, _numel(limit))) or total > budget:
            got = tuple(shape) if len(shape) <= 8 else phrase("{n} dimensions", n=len(shape))
            raise CheckpointError(text("ckpt.tensors", name=path.name), evidence=Evidence(details=[
                text("ckpt.detail_shape", name=name[:80], got=got, expected=limit)]))


def _numel(shape: tuple) -> int:
    n = 1
    for x in shape:
        n *= x
    return n


def read_config(path: str | Path, required: tuple[str, ...] = REQUIRED, *, missing_key: str = "ckpt.missing") -> dict:
    """The config in the file's metadata, checked; raises CheckpointError with a clear reason.

    ``required``: the config's keys (stage 08's language model has its own, ``lm_checkpoint.REQUIRED``)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise _fail(missing_key, name=path.name)
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise _fail("ckpt.too_large", name=path.name, size_mb=path.stat().st_size >> 20,
                    limit_mb=MAX_CHECKPOINT_BYTES >> 20)
    read_header(path)  # bounded before safetensors parses it
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # torch.save's zip, a truncated file, anything else
        raise _fail("ckpt.not_safetensors", name=path.name, error=str(exc).splitlines()[0][:200]) from None
    if "config" not in meta:
        raise _fail("ckpt.no_config", name=path.name)
    try:
        config = json.loads(meta["config"])
    except ValueError:
        raise _fail("ckpt.config_not_json", name=path.name, got=meta["config"][:80]) from None
    if not isinstance(config, dict):
        raise _fail("ckpt.config_not_json", name=path.name, got=meta["config"][:80])
    missing = [k for k in required if k not in config]
    if missing:
        raise _fail("ckpt.config_keys", name=path.name, missing=", ".join(missing))
    for k in required:
        v = config[k]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1 or v > LIMITS.get(k, 10**7):
            raise _fail("ckpt.config_value", key=k, got=repr(v)[:40])
    if config["d_model"] % config["num_heads"]:
        raise _fail("ckpt.config_value", key="num_heads", got=f"{config['num_heads']} (d_model = {config['d_model']})")
    return config


def _file_key(path: Path) -> tuple:
    st = path.stat() if path.is_file() else None
    return str(path.resolve()), st and st.st_mtime_ns, st and st.st_size


def _fresh(exc: CheckpointError) -> CheckpointError:
    """A new exception with the same report: re-raising one cached object would grow its traceback."""
    return CheckpointError(exc.message, evidence=exc.evidence, hint=exc.hint)


def _names(names: list[str], n: int = 4) -> str:
    shown = ", ".join(f"`{x}`" for x in names[:n])
    return shown + (phrase(" and {n} more", n=len(names) - n) if len(names) > n else "")


# --- translating and scoring ------------------------------------------------------------------------


# --- the splits a checkpoint is graded on ------------------------------------------------------------


def submitted_path(folder: str | Path | None = None) -> Path:
    """Where the handed-in checkpoint is: ``folder``, else $AUTOGRADER_SUBMISSION_DIR, else the working directory.

    In a notebook (and under ``nbgrader autograde``) the working directory is the notebook's folder.
    """
    base = folder or os.environ.get("AUTOGRADER_SUBMISSION_DIR") or os.getcwd()
    return Path(base) / CHECKPOINT_NAME


# --- one call for a whole checkpoint ------------------------------------------------------------------


__all__ = ["CHECKPOINT_NAME", "CheckpointError", "CheckpointTimeout", "DEFAULT_CONFIG", "HANDED_IN", "MAX_CHECKPOINT_BYTES",
           "check_tensors", "handed_in_name", "parameter_count", "read_config", "read_header", "save", "submitted_path",
           "time_budget"]
