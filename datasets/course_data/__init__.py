"""The course's own translation data: English→Spanish sentences from a small grammar.

Nothing is downloaded. The public splits are files in this package, checked against the
SHA-256 sums below whenever they are read::

    from course_data import load_pairs, load_vocabs
    train = load_pairs("train")            # [("the black cows walk to the park", "las vacas negras caminan al parque"), ...]
    src_vocab, tgt_vocab = load_vocabs()   # English and Spanish word-level vocabularies
    src_vocab.encode("the black cows")     # [ids...]; unknown words map to <unk>

- ``train`` (6,000 pairs) and ``valid`` (500 pairs): fixed, made by :mod:`course_data.grammar`
  with seed :data:`PUBLIC_SEED` (regenerate with ``python -m course_data --write``; a test
  regenerates them and compares).
- The hidden test split is made at grading time by :func:`make_test_split` from a seed that only the
  instructor's repository holds, with a *hard* tier of noun-adjective combinations that the
  public splits never contain.
- :func:`copy_task` and :func:`reverse_task`: toy sequence tasks for quick experiments and tests.

The package is called ``course_data`` (not ``datasets``, which is Hugging Face's package) and
lives in the repository's ``datasets/`` folder.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import grammar

DATA_DIR = Path(__file__).parent / "data"

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

PUBLIC_SEED = 2017  # the year of "Attention is all you need"
SIZES = {"train": 6000, "valid": 500}

# SHA-256 of every data file. A file that differs (edited, truncated, line endings converted)
# is refused with a message that says how to get it back.
CHECKSUMS = {
    "train.tsv": "9848a63e4cf0e897c888798ffdd56a1166a8fa71e3ccdc00d78a7584b3e40f0b",
    "valid.tsv": "94b15f072d0743e9642005016192f9b5522a0eb6e82a3c7f1d024a1945b70bf7",
    "vocab.en.txt": "069bf6292c3b520992906600e7ebb1f4efc19e3aba71664f6122f726d16e241c",
    "vocab.es.txt": "0abd6248f1b8e67a1a12fd63d6bd815ea624ebb5427e5988ea2136cb83168af8",
}


class DataChecksumError(RuntimeError):
    """A data file is not the one this package was released with."""


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _verified(name: str) -> str:
    path = DATA_DIR / name
    if not path.is_file():
        raise DataChecksumError(f"{path} is missing. Reinstall the course package, or regenerate the data "
                                f"with `python -m course_data --write`.")
    got = sha256(path)
    if got != CHECKSUMS[name]:
        raise DataChecksumError(
            f"{path} does not match its checksum (expected sha256 {CHECKSUMS[name][:12]}…, got {got[:12]}…): "
            f"the file was changed. Restore it (`git checkout -- {path.name}` in datasets/course_data/data/, "
            f"or reinstall the course package) or regenerate it with `python -m course_data --write`.")
    return path.read_text(encoding="utf-8")


def load_pairs(split: str) -> list[tuple[str, str]]:
    """The public ``"train"`` or ``"valid"`` split as (english, spanish) pairs, checksum verified."""
    if split not in SIZES:
        raise ValueError(f"unknown split {split!r}: the public splits are {', '.join(SIZES)}; "
                         f"the test split is generated at grading time")
    text = _verified(f"{split}.tsv")
    return [tuple(line.split("\t")) for line in text.splitlines() if line]  # type: ignore[misc]


class Vocab:
    """Word-level vocabulary: ids 0-3 are <pad>, <bos>, <eos>, <unk>; then the words."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("a vocabulary lists every token once")

    @classmethod
    def build(cls, sentences: Iterable[str]) -> Vocab:
        """Specials first, then words by decreasing frequency (ties alphabetical)."""
        counts = Counter(w for s in sentences for w in s.split())
        return cls([*SPECIALS, *sorted(counts, key=lambda w: (-counts[w], w))])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, sentence: str | Sequence[str]) -> list[int]:
        """Word ids of a sentence (a string is split on spaces); no <bos>/<eos> added."""
        words = sentence.split() if isinstance(sentence, str) else sentence
        return [self.stoi.get(w, UNK_ID) for w in words]

    def decode(self, ids: Iterable[int], *, strip: bool = True) -> str:
        """The sentence of ``ids``; with ``strip``, stops at <eos> and drops <bos> and <pad>."""
        words = []
        for i in (int(i) for i in ids):
            if strip and i == EOS_ID:
                break
            if strip and i in (PAD_ID, BOS_ID):
                continue
            words.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return " ".join(words)

    def text(self) -> str:
        return "".join(t + "\n" for t in self.itos)


def load_vocabs() -> tuple[Vocab, Vocab]:
    """(English vocabulary, Spanish vocabulary), built from the train split and checksum verified."""
    return (Vocab(_verified("vocab.en.txt").splitlines()), Vocab(_verified("vocab.es.txt").splitlines()))


# --- making the files ----------------------------------------------------------------------------
def public_splits() -> dict[str, list[tuple[str, str]]]:
    """What the public split files hold, made from scratch by the grammar."""
    pairs = grammar.generate(PUBLIC_SEED, SIZES["train"] + SIZES["valid"])
    return {"train": pairs[: SIZES["train"]], "valid": pairs[SIZES["train"]:]}


def file_contents() -> dict[str, str]:
    """name -> the exact text of every data file, made from scratch."""
    splits = public_splits()
    out = {f"{name}.tsv": "".join(f"{en}\t{es}\n" for en, es in pairs) for name, pairs in splits.items()}
    out["vocab.en.txt"] = Vocab.build(en for en, _ in splits["train"]).text()
    out["vocab.es.txt"] = Vocab.build(es for _, es in splits["train"]).text()
    return out


def make_test_split(seed: int, n: int = 500, tier: str = "regular") -> list[tuple[str, str]]:
    """A test split: ``n`` pairs none of whose English sentences is in the public splits.

    The graders call it with the instructor's hidden seed. ``tier="hard"``: every sentence holds
    a noun-adjective combination that the public splits never show (:data:`grammar.HELD_OUT`).
    """
    public = {en for split in SIZES for en, _ in load_pairs(split)}
    return grammar.generate(seed, n, tier=tier, exclude=public)


# --- toy tasks -------------------------------------------------------------------------------------
def _toy(n: int, seed: int, vocab_size: int, min_len: int, max_len: int, reverse: bool) -> list[tuple[list[int], list[int]]]:
    if vocab_size <= len(SPECIALS):
        raise ValueError(f"vocab_size must leave room for words after the {len(SPECIALS)} special tokens")
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = min_len + int(rng.random() * (max_len - min_len + 1))
        src = [len(SPECIALS) + int(rng.random() * (vocab_size - len(SPECIALS))) for _ in range(length)]
        out.append((src, src[::-1] if reverse else list(src)))
    return out


def copy_task(n: int, seed: int = 0, vocab_size: int = 16, min_len: int = 3, max_len: int = 10):
    """``n`` (source ids, target ids) pairs where the target is the source (no special tokens)."""
    return _toy(n, seed, vocab_size, min_len, max_len, reverse=False)


def reverse_task(n: int, seed: int = 0, vocab_size: int = 16, min_len: int = 3, max_len: int = 10):
    """``n`` (source ids, target ids) pairs where the target is the source reversed."""
    return _toy(n, seed, vocab_size, min_len, max_len, reverse=True)


__all__ = [
    "BOS", "BOS_ID", "CHECKSUMS", "DataChecksumError", "EOS", "EOS_ID", "PAD", "PAD_ID", "SPECIALS", "UNK",
    "UNK_ID", "Vocab", "copy_task", "load_pairs", "load_vocabs", "make_test_split", "reverse_task",
]
