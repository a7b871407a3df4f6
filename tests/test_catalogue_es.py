"""The Spanish catalogue has every English key with the same placeholders (issue 13), and the
checker that says so catches what it should."""

from __future__ import annotations

from autograder.catalogue import EN
from autograder.instructor.catalogue_check import problems
from autograder.catalogue_es import ES


def test_spanish_table_matches_english() -> None:
    assert problems(EN, ES) == []


def test_every_stage_and_item_has_its_spanish_title(monkeypatch) -> None:
    from autograder import registry
    from autograder.catalogue_es import TITLES_ES

    wanted = {f"stage.{s.id}" for s in registry.STAGES} | {f"item.{i.id}" for i in registry.ITEMS}
    assert sorted(wanted - set(TITLES_ES)) == [] and sorted(set(TITLES_ES) - wanted) == []
    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    assert registry.stage("05_positional_encoding").title == "Codificación posicional"
    assert registry.item("causal_mask").title == "La máscara causal"
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    assert registry.item("causal_mask").title == "The causal mask"


def test_missing_key_is_reported() -> None:
    reference = {"fail.missing": "`{name}` is not defined.", "report.hint": "Hint"}
    translated = {"fail.missing": "`{name}` no está definido."}
    assert problems(reference, translated) == ["missing key: report.hint"]


def test_extra_key_is_reported() -> None:
    reference = {"report.hint": "Hint"}
    translated = {"report.hint": "Pista", "report.hnit": "Pista"}
    assert problems(reference, translated) == ["extra key: report.hnit"]


def test_dropped_placeholder_is_reported() -> None:
    reference = {"fail.timeout": "`{name}` did not finish within {seconds:g} s."}
    translated = {"fail.timeout": "`{name}` no terminó a tiempo."}
    found = problems(reference, translated)
    assert len(found) == 1 and found[0].startswith("fail.timeout: ") and "{seconds:g}" in found[0]


def test_changed_spec_and_count_are_reported() -> None:
    reference = {"k.spec": "{seconds:g} s", "k.count": "{n} of {n}"}
    translated = {"k.spec": "{seconds} s", "k.count": "{n}"}
    assert [p.split(":")[0] for p in problems(reference, translated)] == ["k.spec", "k.count"]


def test_english_article_spec_becomes_a_bare_field() -> None:
    reference = {"fail.wrong_type": "expected {expected:a}, got {got:a}"}
    assert problems(reference, {"fail.wrong_type": "se esperaba {expected} y llegó {got}"}) == []
    kept = problems(reference, {"fail.wrong_type": "se esperaba {expected:a} y llegó {got}"})
    assert len(kept) == 1 and "':a'" in kept[0]


def test_malformed_template_is_reported() -> None:
    found = problems({"report.got": "got {x}"}, {"report.got": "llegó {x"})
    assert len(found) == 1 and "not a valid format template" in found[0]


def test_changed_figure_is_reported_and_separators_are_not() -> None:
    reference = {"lmckpt.valid_threshold": "perplexity below 10.5", "count.table": "196,608 for k = 256"}
    stale = {"lmckpt.valid_threshold": "perplejidad por debajo de 4,0", "count.table": "196.608 para k = 256"}
    assert problems(reference, stale) == ["lmckpt.valid_threshold: lacks the figure(s) 105 of the reference"]
    assert problems(reference, {**stale, "lmckpt.valid_threshold": "perplejidad por debajo de 10,5"}) == []


# --- the language a course chooses: AUTOGRADER_LANG=es, in the kernel and in hardened grading -------
def test_a_check_reports_in_spanish_when_the_course_chooses_it(monkeypatch) -> None:
    from autograder.check import check
    from autograder.notebook import load_namespace
    from kit import ASSIGNMENTS, notebook

    skeleton = load_namespace(notebook(ASSIGNMENTS, "01_dot_product_attention"))
    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    result = check("softmax", namespace=skeleton)
    assert float(result) == 0
    from autograder.report import item_text

    shown = item_text(result.result)
    assert ES["report.header"].split("{")[0] in shown or "puntos" in shown
    assert "points" not in shown  # the English frame is gone, not doubled
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    assert "points" in item_text(check("softmax", namespace=skeleton).result)


def test_hardened_reports_follow_the_course_language(tmp_path, monkeypatch) -> None:
    import hardened_kit as hk
    from autograder.grading import batch

    hk.write(tmp_path / "class", "ana", "01_dot_product_attention", hk.notebook("01_dot_product_attention", skeleton=True))
    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    report = batch.run([tmp_path / "class"], tmp_path / "out", jobs=1, gradebook=None, progress=False,
                       log=lambda s: None)
    assert not report.failed
    md = (tmp_path / "out" / "ana" / "01_dot_product_attention" / "report.md").read_text(encoding="utf-8")
    assert "puntos" in md and " points" not in md, md[:600]


# --- phrases: what graders build into sentences (catalogue.phrase) --------------------------------
from pathlib import Path  # noqa: E402

from autograder.instructor.catalogue_check import english_literals, phrase_problems, phrase_templates  # noqa: E402
from autograder.phrases_es import PHRASES_ES  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
# Where the text a student reads is made: the graders, and the engine pieces whose phrases reach
# reports (expected/got, reasons a file is refused, a notebook that cannot be read, the job summary).
STUDENT_FACING = sorted([
    *PACKAGE.glob("graders/public/test_*.py"), *PACKAGE.glob("graders/hidden/test_*.py"),
    *(PACKAGE / name for name in ("graders/module_checks.py", "expect.py", "checkpoint.py", "carry.py",
                                  "student.py", "report.py", "grading/batch.py", "policy.py", "sandbox/worker.py")),
])
# The instructor's command line, in those modules: stays English (the course's language is the
# students'). classroom.py's job summary is tested in tests/test_classroom.py (it has no catalogue).
FOR_THE_INSTRUCTOR = {
    ("grading/batch.py", "{}: not an assignment of this course (known: {}); skipped."),
    ("grading/batch.py", "{}: not a folder; skipped."),
    ("grading/batch.py", "nbgrader is not installed (pip install '.[instructor]')"),
    # a grading slot that cannot take a submission: the grader reports the slot, not the student
    ("sandbox/worker.py", "no working directory ({})"),
    ("sandbox/worker.py", "cannot write the submission's files ({})"),
}


def test_every_phrase_has_its_spanish() -> None:
    templates, not_literal = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, template in phrase_templates(path.read_text(encoding="utf-8")):
            if template is None:
                not_literal.append(f"{path.relative_to(PACKAGE)}:{line}")
            else:
                templates.append(template)
    assert not_literal == [], "phrase() needs one literal template (no f-string): " + ", ".join(not_literal)
    assert phrase_problems(templates, PHRASES_ES) == []


def test_no_english_phrase_reaches_a_student_untranslated() -> None:
    found = [f"{path.relative_to(PACKAGE)}:{line}: {value!r}"
             for path in STUDENT_FACING for line, value in english_literals(path.read_text(encoding="utf-8"))
             if (str(path.relative_to(PACKAGE)), value) not in FOR_THE_INSTRUCTOR]
    assert found == [], "wrap these in catalogue.phrase(...) and translate them in phrases_es.py:\n" + "\n".join(found)


SAMPLE = '''
"""A docstring in English is not feedback."""
from autograder.catalogue import phrase

def grader(student):
    """Neither is this one."""
    if student is None:
        raise ValueError("the student is not there")  # as Python's own errors: English
    table = {"the key of a dict": 1}
    got = student("causal_mask(7)", padding_mask_call="padding_mask(tokens, 0)")
    fail("fail.values", what=phrase("the output y"), expected=phrase("{n} values", n=3))
    fail("fail.values", what="the attention weights w")
    fail("fail.shape", what=f"the output for {got} tokens")
'''


def test_the_english_check_finds_a_bare_phrase_and_nothing_else() -> None:
    assert [value for _line, value in english_literals(SAMPLE)] == [
        "the attention weights w", "the output for {} tokens"]


def test_a_phrase_template_must_be_literal_and_translated() -> None:
    source = 'phrase("the output y")\nphrase(f"the output {x}")\n'
    assert phrase_templates(source) == [(1, "the output y"), (2, None)]
    assert phrase_problems(["the output y", "{n} values"], {"the output y": "la salida y", "{n} values": "valores"}) \
        == ["{n} values: placeholders none, expected {n}"]
    assert phrase_problems(["the output y"], {}) == ["missing key: the output y"]
    assert phrase_problems([], {"the output y": "la salida y"}) == ["extra key: the output y"]


def test_a_phrase_is_said_in_the_course_language(monkeypatch) -> None:
    from autograder.catalogue import phrase

    english = next(t for t in PHRASES_ES if "{" not in t)
    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    assert phrase(english) == PHRASES_ES[english] != english
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    assert phrase(english) == english


def test_spanish_numbers_in_sentences_and_phrases(monkeypatch) -> None:
    """Scores and sizes in a sentence take Spanish marks; in a phrase only grouped digits do, since
    its other numbers are values as Python prints them (next to array excerpts)."""
    from autograder.catalogue import _PHRASE_FORMATTER, number, phrase, text

    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    assert text("report.badge", score=9.11, points=10) == "9,11 / 10 puntos"
    assert number(1234.5) == "1234,5"
    assert phrase("{n:,d} parameters", n=786432) == "786.432 parámetros"
    assert _PHRASE_FORMATTER.format("= {v:.4g}", v=11.2137) == "= 11.21"
    monkeypatch.setenv("AUTOGRADER_LANG", "en")
    assert text("report.badge", score=9.11, points=10) == "9.11 / 10 points"
    assert phrase("{n:,d} parameters", n=786432) == "786,432 parameters"
