"""The Spanish catalogue has every English key with the same placeholders (issue 13), and the
checker that says so catches what it should."""

from __future__ import annotations

from autograder.catalogue import EN
from autograder.catalogue_check import problems
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
    from autograder import batch

    hk.write(tmp_path / "class", "ana", "01_dot_product_attention", hk.notebook("01_dot_product_attention", skeleton=True))
    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    report = batch.run([tmp_path / "class"], tmp_path / "out", jobs=1, gradebook=None, progress=False,
                       log=lambda s: None)
    assert not report.failed
    md = (tmp_path / "out" / "ana" / "01_dot_product_attention" / "report.md").read_text(encoding="utf-8")
    assert "puntos" in md and " points" not in md, md[:600]
