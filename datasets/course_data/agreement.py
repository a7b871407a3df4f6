"""Stage 09's task: does this Spanish sentence agree in gender and number?

Positives are the Spanish side of the course grammar's sentences (:mod:`course_data.grammar`),
where determiners and adjectives always take the noun's gender and number. A negative is a
positive with ONE determiner or adjective replaced by another form of the same word (other gender,
other number, or both) that differs in spelling: *el gato negro* → *la gato negro*, *las vacas
negras* → *las vacas negro*. The noun keeps its form, so a negative never agrees.

Nothing is stored: a split is generated from a seed (``random.Random(seed).random()`` only, stable
across platforms). The public splits use :data:`PUBLIC_SEED`; the hidden test split is made at
grading time from a seed that only the instructor's repository holds.

Tokens are word-level over every Spanish word the grammar can write (:func:`vocabulary`), with
BERT's special tokens first::

    [PAD]=0  [CLS]=1  [SEP]=2  [MASK]=3  then the words in sorted order

``encode(sentence)`` gives ``[CLS] words [SEP]``; :func:`batch` pads a list of them.
"""

from __future__ import annotations

import functools
import random

from . import grammar

PAD, CLS, SEP, MASK = "[PAD]", "[CLS]", "[SEP]", "[MASK]"
SPECIALS = (PAD, CLS, SEP, MASK)
PAD_ID, CLS_ID, SEP_ID, MASK_ID = 0, 1, 2, 3
SPECIAL_IDS = (PAD_ID, CLS_ID, SEP_ID, MASK_ID)

PUBLIC_SEED = 1810  # BERT's arXiv number is 1810.04805
SIZES = {"train": 4000, "valid": 500}
_SPLIT_OFFSET = {"train": 0, "valid": 1}


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    """The special tokens, then every Spanish word form of the grammar, sorted (the id is the index)."""
    return SPECIALS + tuple(sorted(grammar.every_word_form()[1]))


VOCAB_SIZE = len(SPECIALS) + len(grammar.every_word_form()[1])


@functools.lru_cache(maxsize=1)
def _ids() -> dict[str, int]:
    return {w: i for i, w in enumerate(vocabulary())}


def encode(sentence: str) -> list[int]:
    """``[CLS] w1 ... wn [SEP]`` as ids; a word outside the grammar raises KeyError."""
    ids = _ids()
    return [CLS_ID, *(ids[w] for w in sentence.split()), SEP_ID]


def decode(ids) -> str:
    """The words of ``ids``, special tokens left out."""
    words = vocabulary()
    return " ".join(words[i] for i in ids if i not in SPECIAL_IDS)


def batch(sentences: list[str]) -> list[list[int]]:
    """Encoded sentences padded with [PAD] on the right to the longest one."""
    rows = [encode(s) for s in sentences]
    width = max(len(r) for r in rows)
    return [r + [PAD_ID] * (width - len(r)) for r in rows]


@functools.lru_cache(maxsize=1)
def _other_forms() -> dict[str, tuple[str, ...]]:
    """Each agreeing word (determiner or adjective form) -> the spellings of its other forms."""
    out: dict[str, set[str]] = {}
    for forms in [d.es for d in grammar.DETERMINERS] + [a.es for a in grammar.ADJECTIVES]:
        spelled = {f for f in forms if f}
        for f in spelled:
            out.setdefault(f, set()).update(spelled - {f})
    return {w: tuple(sorted(o)) for w, o in out.items() if o}


def break_agreement(sentence: str, rng: random.Random) -> str | None:
    """The sentence with one determiner or adjective in another form, or None when it has none to change."""
    words = sentence.split()
    others = _other_forms()
    places = [i for i, w in enumerate(words) if w in others]
    if not places:
        return None
    i = places[min(int(rng.random() * len(places)), len(places) - 1)]
    options = others[words[i]]
    words[i] = options[min(int(rng.random() * len(options)), len(options) - 1)]
    return " ".join(words)


def make_split(seed: int, n: int) -> list[tuple[str, int]]:
    """``n`` distinct (spanish sentence, label) pairs, label 1 = agrees, 0 = does not; about half each."""
    return list(_made_split(seed, n))


@functools.lru_cache(maxsize=8)  # the graders score every checkpoint on the same splits: generated once
def _made_split(seed: int, n: int) -> tuple[tuple[str, int], ...]:
    rng = random.Random(seed)
    sentences = [es for _, es in grammar.generate(seed, 2 * n)]
    seen: set[str] = set()
    out: list[tuple[str, int]] = []
    for es in sentences:
        if len(out) == n:
            break
        if rng.random() < 0.5:
            broken = break_agreement(es, rng)
            if broken is not None and broken not in seen:
                seen.add(broken)
                out.append((broken, 0))
                continue
        if es not in seen:
            seen.add(es)
            out.append((es, 1))
    if len(out) < n:
        raise RuntimeError(f"could not make {n} examples (made {len(out)})")
    return tuple(out)


def load_split(split: str) -> list[tuple[str, int]]:
    """The public ``"train"`` or ``"valid"`` split (generated; the same on every machine)."""
    if split not in SIZES:
        raise ValueError(f"unknown split {split!r}: the public splits are {', '.join(SIZES)}")
    return make_split(PUBLIC_SEED * 10 + _SPLIT_OFFSET[split], SIZES[split])


def spanish_sentences(split: str = "train") -> list[str]:
    """Spanish sentences for pre-training (the positives' side of the translation corpus)."""
    from . import load_pairs

    return [es for _, es in load_pairs(split)]
