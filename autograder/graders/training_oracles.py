"""Stage 07 (training): the reference model, trusted pieces and oracles, written for the graders.

- :class:`Transformer`: the course's model (DESIGN.md's contract, parameter names and all) on
  the trusted layers of :mod:`autograder.graders.blocks`. Stage 07's graders run the student's
  training code on it, and a submitted checkpoint is loaded into it in the grading process.
- :func:`causal_mask`, :func:`padding_mask`: stage 03's masks, for the student's batching and
  decoding code to run on while it is graded (a bug in stage 03 costs points only there).
- Oracles: the loss is PyTorch's ``F.cross_entropy(..., ignore_index, label_smoothing)`` in
  float64; the schedule is the paper's formula; one training step is done here with plain
  ``backward``, ``clip_grad_norm_`` and SGD; greedy decoding is written out below.
- Known mistakes (``mistake_*`` and keyword flags): what a wrong implementation gives, so that a
  failing check can name the misconception.
- Instrumented models (:class:`Recording`, :class:`CopyModel`) that graders hand to the
  student's code: they record how they were called (grad mode, autocast, train/eval) and
  :class:`CopyModel` answers with a known sequence, so that decoding is judged by its tokens.
- Recipes and readers: graders never build the objects the student's code works on; they ask
  ``student.trusted_object(factory, ...)`` with a factory below (:func:`trusted_model`,
  :func:`optimizer`, :func:`grad_scaler`, :func:`writable_path`, or :class:`CopyModel`), so
  that a sandboxed worker makes the same object from its staged copy of this module, and read
  it back afterwards with a reader (:func:`state_of`, :func:`grads_of`, :func:`calls_of`,
  :func:`take_file`), which returns data.

Nothing here comes from the reference notebook.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.graders import blocks

DT = torch.float64


# --- trusted pieces -----------------------------------------------------------------------------
def causal_mask(t: int) -> torch.Tensor:
    """(t, t) bool, True on and below the diagonal: token i may attend to tokens 0..i."""
    # torch.ops.aten, which the static policy refuses in student code (policy.INTERNALS): this
    # module ships to students, and a copy of the mask must be no answer to stage 03
    return torch.ops.aten.tril(torch.ones(t, t, dtype=torch.bool))


def padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """(batch, 1, 1, S) bool, True where the token is not padding."""
    return torch.ops.aten.ne(tokens, pad_id)[:, None, None, :]  # torch.ops.aten: as causal_mask


class Transformer(nn.Module):
    """The course's encoder-decoder Transformer (post-LN), as the contract names its parts."""

    def __init__(self, src_vocab, tgt_vocab, d_model=512, num_heads=8, num_layers=6, d_ff=2048,
                 dropout=0.1, max_len=512):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.pos_encoding = blocks.PositionalEncoding(d_model, max_len, dropout)
        self.encoder = blocks.Encoder(d_model, num_heads, num_layers, d_ff, dropout)
        self.decoder = blocks.Decoder(d_model, num_heads, num_layers, d_ff, dropout)
        self.generator = nn.Linear(d_model, tgt_vocab)

    def encode(self, src, src_mask=None):
        return self.encoder(self.pos_encoding(self.src_embed(src) * math.sqrt(self.d_model)), src_mask)

    def decode(self, tgt, memory, src_mask=None, tgt_mask=None):
        return self.decoder(self.pos_encoding(self.tgt_embed(tgt) * math.sqrt(self.d_model)), memory, src_mask, tgt_mask)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None):
        return self.generator(self.decode(tgt, self.encode(src, src_mask), src_mask, tgt_mask))


# The names stage 07's code runs on while it is graded.
TRUSTED = {"Transformer": Transformer, "causal_mask": causal_mask, "padding_mask": padding_mask}

# What ships to students as code (record_expected.REPLAYED replays the rest as recorded values:
# make_batch, noam and mistake_noam, so no batching or schedule formula ships). The rest runs on the
# student's own models, tensors or files, which no recording covers, and none of it answers an item:
# the losses call F.cross_entropy (forbidden in label_smoothed_loss) or compute named mistakes only,
# and the masks and greedy() go through torch.ops.aten, which the policy refuses (policy.INTERNALS).
_ON_THEIRS = "runs on the student's own model, tensors or files"
AS_CODE = {
    **dict.fromkeys(("Transformer", "Recording", "CopyModel"), "a trusted model the student's code is graded on"),
    **dict.fromkeys(("causal_mask", "padding_mask"), _ON_THEIRS + " (torch.ops.aten)"),
    **dict.fromkeys(("loss", "trusted_loss"), _ON_THEIRS + " (F.cross_entropy, forbidden in the item)"),
    "mistake_loss": _ON_THEIRS + " (the named mistakes only: any other kind raises)",
    "reference_step": _ON_THEIRS + " (one plain SGD step on a model; train_step's contract is another)",
    "greedy": _ON_THEIRS + " (the translation checkpoint is decoded with it; torch.ops.aten)",
    **dict.fromkeys(("flat", "trusted_model", "optimizer", "grad_scaler", "writable_path", "state_of", "grads_of",
                     "calls_of", "take_file"), _ON_THEIRS + " (recipes and readers of trusted objects)"),
}
INPUTS = ("random_model",)  # an input builder: the graders' seeded models


# The greedy grader's Transformer (public grader): weights from this seed decode differently without the
# causal mask and when reading the first position instead of the last (tests/test_training_oracles.py).
GREEDY_CONFIG = dict(src_vocab=11, tgt_vocab=13, d_model=16, num_heads=2, num_layers=2, d_ff=24, dropout=0.0, max_len=32)
GREEDY_SEED = 735
GREEDY_SRC = ((4, 5, 6, 7, 2), (8, 9, 10, 2, 0), (3, 6, 9, 5, 2))  # eos = 2, pad = 0


def random_model(config: dict, seed: int, dtype: torch.dtype = DT, cls: type = Transformer) -> nn.Module:
    """A reference model with seeded weights (dropout as in ``config``)."""
    torch.manual_seed(seed)  # nn's initialisation; only the grader's own models are built here
    return cls(**config).to(dtype)


# --- batching -----------------------------------------------------------------------------------
def make_batch(src_seqs, tgt_seqs, pad_id, bos_id, eos_id, *, bos=True, shift=True, src_bos=False,
               tgt_mask_padding=True, src_eos=True):
    """The batch layout of the course: sources end in <eos>; targets are <bos> ... <eos>, shifted."""
    def pad(rows):
        width = max(len(r) for r in rows)
        return torch.tensor([list(r) + [pad_id] * (width - len(r)) for r in rows], dtype=torch.long)

    src = pad([([bos_id] if src_bos else []) + list(s) + ([eos_id] if src_eos else []) for s in src_seqs])
    full = pad([([bos_id] if bos else []) + list(t) + [eos_id] for t in tgt_seqs])
    tgt_in, tgt_out = (full[:, :-1], full[:, 1:]) if shift else (full, full)
    t = tgt_in.shape[1]
    tgt_mask = causal_mask(t)[None, None] & (padding_mask(tgt_in, pad_id) if tgt_mask_padding else True)
    tgt_mask = tgt_mask.expand(len(tgt_seqs), 1, t, t).clone()
    return {"src": src, "src_mask": padding_mask(src, pad_id), "tgt_in": tgt_in, "tgt_out": tgt_out,
            "tgt_mask": tgt_mask}


# --- loss ---------------------------------------------------------------------------------------
def loss(logits, target, pad_id, smoothing):
    """PyTorch's own label-smoothed cross-entropy (float64), padding ignored."""
    v = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, v).to(DT), target.reshape(-1), ignore_index=pad_id,
                           label_smoothing=smoothing)


def trusted_loss(logits, target, pad_id, smoothing):
    """The loss as a building block for train_step: differentiable, float32 or more."""
    v = logits.shape[-1]
    dtype = logits.dtype if logits.dtype in (torch.float32, torch.float64) else torch.float32
    return F.cross_entropy(logits.reshape(-1, v).to(dtype), target.reshape(-1), ignore_index=pad_id,
                           label_smoothing=smoothing)


MISTAKEN_LOSSES = ("k_minus_1", "no_smoothing", "pad_included", "divide_by_all", "sum")


def mistake_loss(logits, target, pad_id, smoothing, kind):
    """What a known wrong loss returns (float64). Only the mistakes: another ``kind`` raises, so that
    this function, which ships to students, never computes the right loss."""
    if kind not in MISTAKEN_LOSSES:
        raise ValueError(f"not a known mistake: {kind!r}")
    v = logits.shape[-1]
    logp = logits.reshape(-1, v).to(DT).log_softmax(-1)
    y = target.reshape(-1)
    keep = (y != pad_id).to(DT)
    nll = -logp.gather(-1, y[:, None])[:, 0]
    if kind == "k_minus_1":  # ε spread over the K − 1 wrong classes only
        other = -logp.sum(-1) - nll  # Σ over k ≠ y of −log p_k
        per = (1 - smoothing) * nll + smoothing / (v - 1) * other
    elif kind == "no_smoothing":
        per = nll
    else:
        per = (1 - smoothing) * nll + smoothing * (-logp.mean(-1))
    if kind == "pad_included":
        return per.mean()
    if kind == "divide_by_all":
        return (per * keep).sum() / y.numel()
    if kind == "sum":
        return (per * keep).sum()
    return (per * keep).sum() / keep.sum()


# --- the schedule -------------------------------------------------------------------------------
def noam(step, d_model, warmup):
    """lr = d_model^-0.5 · min(s^-0.5, s · warmup^-1.5), with s = max(step, 1) (float64 arithmetic)."""
    s = float(step) if step > 1 else 1.0
    rising, falling = s / (warmup * math.sqrt(warmup)), 1.0 / math.sqrt(s)
    return (rising if rising < falling else falling) / math.sqrt(d_model)


def mistake_noam(step, d_model, warmup, kind):
    if kind == "off_by_one":
        s = step + 1
        return d_model ** -0.5 * min(s ** -0.5, s * warmup ** -1.5)
    s = max(step, 1)
    if kind == "no_warmup":
        return d_model ** -0.5 * s ** -0.5
    if kind == "warmup_power":
        return d_model ** -0.5 * min(s ** -0.5, s * warmup ** -0.5)
    if kind == "no_d_model":
        return min(s ** -0.5, s * warmup ** -1.5)
    raise ValueError(kind)


# --- one training step --------------------------------------------------------------------------
def reference_step(model, batch, *, lr, pad_id, smoothing, max_norm, stale=None, mistake=None):
    """Weights after one SGD step done right (or with ``mistake``), and the loss before it.

    ``stale``: gradients already sitting in ``.grad`` when the step starts (a correct step
    discards them). Works on a copy: ``model`` is left as it was.
    """
    import copy

    m = copy.deepcopy(model)
    m.train()
    params = list(m.parameters())
    for p, g in zip(params, stale or [None] * len(params)):
        p.grad = None if g is None else g.clone()
    if mistake != "no_zero_grad":
        for p in params:
            p.grad = None
    logits = m(batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"])
    value = trusted_loss(logits, batch["tgt_out"], pad_id, smoothing)
    value.backward()
    opt = torch.optim.SGD(params, lr=lr)
    if mistake == "clip_after_step":
        opt.step()
        torch.nn.utils.clip_grad_norm_(params, max_norm)
    else:
        if mistake != "no_clip":
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
    return {k: v.detach().clone() for k, v in m.state_dict().items()}, float(value.detach())


def flat(state: dict) -> torch.Tensor:
    """Every floating tensor of a state dict, flattened into one float64 vector (sorted by name)."""
    return torch.cat([state[k].detach().to(DT).reshape(-1) for k in sorted(state) if state[k].is_floating_point()])


# --- greedy decoding ----------------------------------------------------------------------------
@torch.no_grad()
def greedy(model, src, src_mask, max_len, bos_id, eos_id, *, causal=True, position="last", stop=True, pad_eos=True,
           bos=True):
    """Greedy decoding done right (or with a known mistake switched on)."""
    memory = model.encode(src, src_mask)
    ys = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    while ys.shape[1] < max_len:
        t = ys.shape[1]
        mask = causal_mask(t).to(src.device) if causal else None
        states = model.decode(ys, memory, src_mask, mask)
        logits = model.generator(states[:, -1] if position == "last" else states[:, 0])
        # torch.ops.aten, which the policy refuses in student code: this decoder ships (the translation
        # checkpoint is decoded with it), and a copy must be no answer to greedy_decode
        nxt = torch.ops.aten.argmax(logits, -1)
        if pad_eos:
            nxt = nxt.masked_fill(done, eos_id)
        ys = torch.cat([ys, nxt[:, None]], dim=1)
        done |= nxt == eos_id
        if stop and bool(done.all()):
            break
    return ys if bos else ys[:, 1:]


class Recording(Transformer):
    """The reference Transformer, writing down how each call found torch: grad mode, autocast, training."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[dict] = []

    def _note(self, method, device_type):
        self.calls.append({"method": method, "grad": torch.is_grad_enabled(), "training": self.training,
                           "autocast": torch.is_autocast_enabled(device_type),
                           "autocast_dtype": torch.get_autocast_dtype(device_type)})

    def encode(self, src, src_mask=None):
        self._note("encode", src.device.type)
        return super().encode(src, src_mask)

    def decode(self, tgt, memory, src_mask=None, tgt_mask=None):
        self._note("decode", tgt.device.type)
        return super().decode(tgt, memory, src_mask, tgt_mask)


class CopyModel(nn.Module):
    """A stand-in 'trained' translator with a known answer: it copies the source, then says <eos>.

    Decoder position i (after <bos>) predicts source token i while i is inside the source, then
    <eos> at the source's end, then ``after`` (a word that is not <eos>): so code that keeps
    decoding a finished row, instead of padding it with <eos>, is seen. It has the contract's
    ``encode``/``decode``/``generator``/``forward`` and works with or without a causal mask.
    """

    def __init__(self, vocab: int, pad_id: int, eos_id: int, after: int, never_eos: bool = False):
        super().__init__()
        self.vocab, self.pad_id, self.eos_id, self.after, self.never_eos = vocab, pad_id, eos_id, after, never_eos
        self.generator = nn.Identity()
        self.calls: list[dict] = []

    def encode(self, src, src_mask=None):
        self.calls.append({"method": "encode", "grad": torch.is_grad_enabled()})
        return F.one_hot(src, self.vocab).to(torch.float32)  # (batch, S, vocab)

    def decode(self, tgt, memory, src_mask=None, tgt_mask=None):
        self.calls.append({"method": "decode", "grad": torch.is_grad_enabled()})
        b, t = tgt.shape
        s = memory.shape[1]
        src = memory.argmax(-1)
        ended = (src == self.pad_id) | (src == self.eos_id)  # a source ends at its <eos> or padding
        length = torch.where(ended.any(-1), ended.int().argmax(-1), torch.full_like(src[:, 0], s))
        out = torch.full((b, t, self.vocab), -10.0)
        for i in range(t):
            for r in range(b):
                if i < length[r] and i < s:
                    word = int(src[r, i])
                elif i == length[r] and not self.never_eos:
                    word = self.eos_id
                else:
                    word = self.after
                out[r, i, word] = 10.0
        return out

    def forward(self, src, tgt, src_mask=None, tgt_mask=None):
        return self.generator(self.decode(tgt, self.encode(src, src_mask), src_mask, tgt_mask))


# --- recipes: what the student's code gets, made from data (here or in the sandboxed worker) ----
OPTIMIZERS = ("SGD", "Adam", "AdamW")


def trusted_model(config: dict, state: dict, *, recording: bool = False, training: bool = True,
                  grads: dict | None = None, device: str = "cpu") -> nn.Module:
    """The reference Transformer (:class:`Recording` if ``recording``) with the weights ``state``.

    ``state``: a state dict of this config (its floating dtype is the model's); ``grads``: tensors
    to leave in ``.grad`` by parameter name (what an earlier step left behind); ``device``: "cpu"
    or "cuda". Built without touching the global random generator, so that making a model here
    or in the worker leaves the student's randomness as it was.
    """
    dtype = next((v.dtype for v in state.values() if v.is_floating_point()), torch.float32)
    with torch.random.fork_rng(devices=[]):
        model = (Recording if recording else Transformer)(**config).to(dtype)
    model.load_state_dict(state)
    model.train(training)
    model.to(device)
    params = dict(model.named_parameters())
    for name, g in (grads or {}).items():
        params[name].grad = g.to(device=device, dtype=params[name].dtype).clone()
    return model


def optimizer(model: nn.Module, name: str = "SGD", **hyper: float) -> torch.optim.Optimizer:
    """``torch.optim.<name>`` over ``model``'s parameters (``name`` one of :data:`OPTIMIZERS`)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is not one of {OPTIMIZERS}")
    return getattr(torch.optim, name)(model.parameters(), **hyper)


def grad_scaler(device: str = "cuda") -> torch.amp.GradScaler:
    """A fresh loss scaler for float16 training on ``device``."""
    return torch.amp.GradScaler(device)


def writable_path(name: str) -> str:
    """A path named ``name`` in a fresh private folder, for the student's code to write a file to."""
    import os
    import tempfile

    if os.sep in name or name in ("", ".", ".."):
        raise ValueError(f"{name!r} is not a file name")
    return os.path.join(tempfile.mkdtemp(prefix="autograder-file-"), name)


# --- readers: what the grader reads back, as data --------------------------------------------------
def state_of(model: nn.Module) -> dict:
    """The model's state dict, detached copies on the CPU (read through nn.Module's own method)."""
    return {k: v.detach().cpu().clone() for k, v in nn.Module.state_dict(model).items()}


def grads_of(model: nn.Module) -> list:
    """What each parameter holds in ``.grad`` (a CPU copy, or None), in parameter order."""
    return [None if p.grad is None else p.grad.detach().cpu().clone() for p in nn.Module.parameters(model)]


def calls_of(model: nn.Module) -> list:
    """How an instrumented model (:class:`Recording`, :class:`CopyModel`) was called, one dict per call."""
    return [dict(c) for c in model.calls]


def take_file(path: str) -> bytes | None:
    """The bytes written at ``path`` (None if there is no file), and its private folder removed."""
    import os
    import shutil

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        data = None
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return data
