"""The course's translation data: reproducible from the grammar, checksummed, and what the grammar promises."""

from __future__ import annotations

import re
import shutil

import pytest

import course_data
from course_data import grammar

NOUN = {form: (n.gender, plural) for n in grammar.NOUNS for form, plural in ((n.es, False), (n.es_plural, True))}
ADJ_FORMS = {}
for _a in grammar.ADJECTIVES:
    for _g, _form in zip((("m", False), ("f", False), ("m", True), ("f", True)), _a.es):
        ADJ_FORMS.setdefault(_form, set()).add(_g)


def test_files_are_what_the_generator_makes_and_match_their_checksums():
    for name, text in course_data.file_contents().items():
        data = (course_data.DATA_DIR / name).read_bytes()
        assert data == text.encode("utf-8"), f"{name} differs from a fresh generation (python -m course_data --check)"
        assert course_data.sha256(course_data.DATA_DIR / name) == course_data.CHECKSUMS[name], name


def test_a_changed_file_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    shutil.copytree(course_data.DATA_DIR, tmp_path / "data")
    path = tmp_path / "data" / "train.tsv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n", 1))  # what a line-ending conversion does
    monkeypatch.setattr(course_data, "DATA_DIR", tmp_path / "data")
    with pytest.raises(course_data.DataChecksumError, match=r"train\.tsv does not match its checksum"):
        course_data.load_pairs("train")
    assert course_data.load_pairs("valid")  # the untouched file still loads
    (tmp_path / "data" / "vocab.es.txt").unlink()
    with pytest.raises(course_data.DataChecksumError, match="is missing"):
        course_data.load_vocabs()


def test_splits_sizes_and_no_overlap():
    train, valid = course_data.load_pairs("train"), course_data.load_pairs("valid")
    assert (len(train), len(valid)) == (course_data.SIZES["train"], course_data.SIZES["valid"])
    train_en = {en for en, _ in train}
    assert len(train_en) == len(train) and not train_en & {en for en, _ in valid}
    with pytest.raises(ValueError, match="generated at grading time"):
        course_data.load_pairs("test")


def test_vocabularies_cover_every_word_the_grammar_can_write():
    src, tgt = course_data.load_vocabs()
    en, es = grammar.every_word_form()
    assert en <= set(src.itos) and es <= set(tgt.itos)
    assert src.itos[:4] == list(course_data.SPECIALS) == tgt.itos[:4]
    ids = tgt.encode("el gato negro")
    assert tgt.decode([course_data.BOS_ID, *ids, course_data.EOS_ID, course_data.PAD_ID]) == "el gato negro"
    assert src.encode("the purple cat")[1] == course_data.UNK_ID


def _held_out_in(english: str) -> set[tuple[str, str]]:
    """The held-out (noun, adjective) pairs an English sentence shows: 'red car(s)' or 'the car(s) is/are red'."""
    found = set()
    for noun, adj in grammar.HELD_OUT:
        n = next(x for x in grammar.NOUNS if x.en == noun)
        forms = f"(?:{n.en}|{n.en_plural})"
        if re.search(rf"\b{adj} {forms}\b", english) or re.fullmatch(rf"\w+ {forms} (?:is|are) {adj}", english):
            found.add((noun, adj))
    return found


def test_public_splits_never_show_a_held_out_combination():
    for split in ("train", "valid"):
        bad = [en for en, _ in course_data.load_pairs(split) if _held_out_in(en)]
        assert not bad, bad[:3]


def test_test_splits_are_new_sentences_and_the_hard_tier_holds_held_out_combinations():
    public = {en for s in ("train", "valid") for en, _ in course_data.load_pairs(s)}
    regular = course_data.make_test_split(12345, 200, "regular")
    hard = course_data.make_test_split(12345, 200, "hard")
    assert len({en for en, _ in regular}) == 200 and not {en for en, _ in regular} & public
    assert not {en for en, _ in hard} & public
    assert all(_held_out_in(en) for en, _ in hard)
    assert not any(_held_out_in(en) for en, _ in regular)
    assert course_data.make_test_split(12345, 200, "hard") == hard  # a seed is a split
    assert course_data.make_test_split(54321, 200, "hard") != hard


def test_spanish_agreement_and_contractions():
    """Attributive adjectives agree with the noun before them; 'a el' and 'de el' never appear."""
    checked = 0
    for _, es in course_data.load_pairs("train"):
        words = es.split()
        assert " a el " not in f" {es} " and " de el " not in f" {es} ", es
        for i, w in enumerate(words):
            if w in ADJ_FORMS and i > 0 and words[i - 1] in NOUN:
                assert NOUN[words[i - 1]] in ADJ_FORMS[w], es
                checked += 1
    assert checked > 1000


def test_toy_tasks():
    pairs = course_data.copy_task(50, seed=3, vocab_size=12, min_len=2, max_len=6)
    assert pairs == course_data.copy_task(50, seed=3, vocab_size=12, min_len=2, max_len=6)
    assert all(s == t and 2 <= len(s) <= 6 and all(4 <= x < 12 for x in s) for s, t in pairs)
    rev = course_data.reverse_task(50, seed=3, vocab_size=12, min_len=2, max_len=6)
    assert [t for _, t in rev] == [s[::-1] for s, _ in pairs]
