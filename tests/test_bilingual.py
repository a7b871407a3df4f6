"""One source, two languages (issue 13): every prose cell of every stage in English and Spanish,
the two releases share their code cells, and the translators' dump/load keeps the pairing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kit import REPO, SOLUTIONS, notebook
from autograder.instructor import bilingual, submissions
from autograder import registry
from autograder.check import RESULT_MIME
from autograder.notebook import is_check_cell, nbgrader_meta

ASSIGNMENTS_EN = REPO / "assignments"
ASSIGNMENTS_ES = REPO / "assignments_es"
STAGE_IDS = [s.id for s in registry.STAGES]


def _cells(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _md(text: str, cid: str, **meta) -> dict:
    return {"cell_type": "markdown", "id": cid, "metadata": meta, "source": text.splitlines(keepends=True)}


def _code(text: str, cid: str) -> dict:
    return {"cell_type": "code", "id": cid, "metadata": {}, "source": text, "outputs": [], "execution_count": None}


# --- the source: every English cell has its Spanish, up to date ------------------------------------
@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_every_prose_cell_of_the_source_is_in_both_languages(stage_id: str) -> None:
    assert bilingual.problems(_cells(notebook(SOLUTIONS, stage_id))) == []


@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_the_two_releases_share_every_code_cell_and_differ_in_prose(stage_id: str) -> None:
    en, es = _cells(notebook(ASSIGNMENTS_EN, stage_id)), _cells(notebook(ASSIGNMENTS_ES, stage_id))
    code = lambda cells: [(c.get("id"), c["source"], c["metadata"]) for c in cells if c["cell_type"] == "code"]  # noqa: E731
    assert code(en) == code(es)  # same graded cells, ids, checksums: one gradebook for both editions
    prose_en = [c for c in en if c["cell_type"] == "markdown"]
    prose_es = [c for c in es if c["cell_type"] == "markdown"]
    assert len(prose_en) == len(prose_es) > 0
    assert all("lang" not in c["metadata"] and "translates" not in c["metadata"] for c in prose_en + prose_es)
    assert {c["id"] for c in prose_es} == {f"{c['id']}-es" for c in prose_en}
    # the Spanish edition reads as Spanish: its headings differ from the English ones
    heads = lambda cells: ["".join(c["source"]).splitlines()[0] for c in cells]  # noqa: E731
    assert sum(a != b for a, b in zip(heads(prose_en), heads(prose_es))) >= len(prose_en) // 2


# --- the mechanism, on small notebooks --------------------------------------------------------------
def test_problems_names_untagged_unpaired_stale_and_orphan_cells() -> None:
    en = _md("## Setup\n\nRun this cell first.", "a1", lang="en")
    es = _md("## Preparación\n\nEjecuta primero esta celda.", "a1-es", lang="es",
             translates=bilingual.fingerprint("".join(en["source"])))
    assert bilingual.problems([en, es, _code("x = 1", "c1")]) == []
    assert "without \"lang\"" in bilingual.problems([_md("Hi", "u1")])[0]
    assert "without its Spanish" in bilingual.problems([en, _code("x = 1", "c1"), es])[0]
    edited = {**en, "source": ["## Setup\n\nRun this cell second."]}
    assert "changed after its Spanish" in bilingual.problems([edited, es])[0]
    assert "follows no English" in bilingual.problems([_code("x = 1", "c1"), es])[0]


def test_dump_then_load_pairs_each_cell_and_replaces_an_old_translation() -> None:
    cells = [_md("# Stage 01\n\nHello.", "h1"), _code("x = 1", "c1"), _md("## Setup", "s1")]
    text = bilingual.dump(cells)
    assert re.findall(r"<!-- cell: (\S+) -->", text) == ["h1", "s1"]
    spanish = text.replace("# Stage 01\n\nHello.", "# Etapa 01\n\nHola.").replace("## Setup", "## Preparación")
    loaded, unknown = bilingual.load(cells, bilingual.parse(spanish))
    assert unknown == [] and bilingual.problems(loaded) == []
    assert ["".join(c["source"]) for c in loaded if c["metadata"].get("lang") == "es"] == ["# Etapa 01\n\nHola.", "## Preparación"]
    again, _ = bilingual.load(loaded, {"s1": "## Puesta a punto"})
    assert [c["id"] for c in again] == ["h1", "h1-es", "c1", "s1", "s1-es"]  # replaced, not doubled
    assert "".join(again[-1]["source"]) == "## Puesta a punto"
    assert bilingual.dump(again, only_stale=True) == ""
    _, unknown = bilingual.load(cells, {"nope": "x"})
    assert unknown == ["nope"]


def test_keep_language_keeps_one_edition_and_every_code_cell() -> None:
    en = _md("Hello", "a", lang="en")
    es = _md("Hola", "a-es", lang="es", translates=bilingual.fingerprint("Hello"))
    code = _code("x = 1", "c")
    kept = bilingual.keep_language([dict(en, metadata=dict(en["metadata"])), dict(es, metadata=dict(es["metadata"])), code], "es")
    assert [c["id"] for c in kept] == ["a-es", "c"] and kept[0]["metadata"] == {}
    kept = bilingual.keep_language([dict(en, metadata=dict(en["metadata"])), dict(es, metadata=dict(es["metadata"])), code], "en")
    assert [c["id"] for c in kept] == ["a", "c"]
    with pytest.raises(ValueError, match="must be one of"):
        bilingual.release_directory("fr")


# --- the Spanish release in a real kernel -----------------------------------------------------------
def _execute(nb_dict: dict, cwd, monkeypatch, lang: str) -> list:
    nb = nbformat.reads(json.dumps(nb_dict), as_version=4)
    monkeypatch.setenv("AUTOGRADER_LANG", lang)  # the kernel inherits the course language, as under nbgrader
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code" and is_check_cell(c)]


STAGE = "01_dot_product_attention"


@pytest.mark.slow
def test_spanish_release_filled_with_the_reference_scores_full_marks_in_spanish(tmp_path, monkeypatch) -> None:
    release = submissions.load(notebook(ASSIGNMENTS_ES, STAGE))
    solution = submissions.load(notebook(SOLUTIONS, STAGE))
    for cell in _execute(submissions.fill(release, solution), tmp_path, monkeypatch, "es"):
        item = registry.item(nbgrader_meta(cell)["grade_id"])
        [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert result.data[RESULT_MIME]["score"] == item.points
        stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert f"{item.points:g} / {item.points:g} puntos" in stdout and " points" not in stdout


@pytest.mark.slow
def test_untouched_spanish_release_scores_zero_with_spanish_reasons(tmp_path, monkeypatch) -> None:
    from autograder.catalogue_es import ES

    for cell in _execute(submissions.load(notebook(ASSIGNMENTS_ES, STAGE)), tmp_path, monkeypatch, "es"):
        [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert float(result.data["text/plain"]) == 0
        stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        name = nbgrader_meta(cell)["grade_id"]
        assert " ".join(ES["fail.not_implemented"].format(name=name).split()) in " ".join(stdout.split())
        assert "still raises" not in stdout and " points" not in stdout


# --- the instructor's commands (docs/instructors.md, "The course in Spanish") ----------------------
def test_translations_dump_stale_then_load_then_check(tmp_path, capsys) -> None:
    from autograder.__main__ import main

    nb_path = tmp_path / "nb.ipynb"
    nb = json.loads(notebook(SOLUTIONS, STAGE).read_text(encoding="utf-8"))
    first_en = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    first_en["source"] = ["# Stage 01 · reworded\n"]  # the English changed after its translation
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["translations", "dump", "--stale", str(nb_path)]) == 0
    stale = capsys.readouterr().out
    assert re.findall(r"<!-- cell: (\S+) -->", stale) == [first_en["id"]]
    (tmp_path / "es.md").write_text(stale.replace("# Stage 01 · reworded", "# Etapa 01 · reescrita"), encoding="utf-8")
    assert main(["translations", "load", str(nb_path), str(tmp_path / "es.md")]) == 0
    assert bilingual.problems(json.loads(nb_path.read_text(encoding="utf-8"))["cells"]) == []
    assert main(["translations", "check"]) == 0  # the repository's own notebooks
    assert "up to date" in capsys.readouterr().out


def test_the_spanish_student_export(tmp_path) -> None:
    from autograder.__main__ import main

    dest = tmp_path / "student-template-es"
    assert main(["export-student-repo", str(dest), "--lang", "es", "--stage", STAGE]) == 0
    nb = json.loads((dest / "assignments" / STAGE / registry.stage(STAGE).notebook).read_text(encoding="utf-8"))
    assert nb["cells"] == json.loads(notebook(ASSIGNMENTS_ES, STAGE).read_text(encoding="utf-8"))["cells"]
    assert (dest / "autograder" / "LANGUAGE").read_text(encoding="utf-8").strip() == "es"
    assert (dest / "docs" / "students.md").read_text(encoding="utf-8") == (REPO / "docs/students.es.md").read_text(encoding="utf-8")
    readme = (dest / "README.md").read_text(encoding="utf-8")
    assert "| etapa | cuaderno | puntos |" in readme and "Auto-atención con producto escalar" in readme
    assert not (dest / "autograder" / "instructor").exists()  # the instructor's tools stay home


def test_the_spanish_guides_give_the_same_commands_as_the_english_ones() -> None:
    from test_docs import commands

    assert commands(REPO / "docs/students.es.md") == commands(REPO / "docs/students.md")
    assert commands(REPO / ".github/student/README.es.md") == commands(REPO / ".github/student/README.md")
    assert "{{STAGES}}" in (REPO / ".github/student/README.es.md").read_text(encoding="utf-8")


# --- grading does not depend on the language (issue 13: no English text matching in grading logic) ---
@pytest.mark.parametrize("stage_id", ["01_dot_product_attention", "02_qkv_projections", "03_scaling_and_masking"])
def test_every_mutant_scores_the_same_in_spanish(stage_id: str, monkeypatch) -> None:
    """The same submissions, graded in English and in Spanish, get the same points check by check
    (the stages whose whole corpus grades in seconds; the later ones share the same engine)."""
    import kit

    def scores(lang: str) -> dict[str, list[tuple[str, bool]]]:
        monkeypatch.setenv("AUTOGRADER_LANG", lang)
        out = {}
        for m in kit.mutants(stage_id):
            results = kit.grade(kit.reference_namespace(stage_id, m.source), stage_id)
            out[m.path.stem] = [(f"{r.item.id}:{g.name}", g.passed) for r in results.values() for g in r.graders]
        return out

    english, spanish = scores("en"), scores("es")
    assert len(english) >= 5 and spanish == english


def test_no_grader_decides_by_matching_text() -> None:
    """No comparison in the graders or the engine's checks tests a message's words: a string literal
    with a space on either side of ``==``, ``!=``, ``in`` or ``not in`` (``"not defined" in message``)."""
    import ast

    package = Path(__file__).resolve().parents[1] / "autograder"
    files = [*package.glob("graders/**/*.py"), *(package / n for n in ("expect.py", "dsl.py", "runner.py", "check.py"))]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
                for side in [node.left, *node.comparators]:
                    if isinstance(side, ast.Constant) and isinstance(side.value, str) and " " in side.value.strip():
                        found.append(f"{path.relative_to(package)}:{node.lineno}: {side.value!r}")
    assert found == []
