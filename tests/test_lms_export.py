"""``export-grades``: the CSVs that Moodle's and Canvas's grade imports read.

The class is written with the grader's own writers (``outputs.write_submission`` for a hardened
class folder, ``outputs.write_gradebook`` for nbgrader's gradebook): nothing is graded here. The
expected numbers come from the ``score`` fields of the ``results.json`` files read as plain JSON,
not from the export's reader.

Formats, as documented:
- Moodle, Grades → Import → CSV file: https://docs.moodle.org/311/en/Grade_import (a column mapped
  to useridnumber / useremail / username, grade and feedback columns mapped to grade items).
- Canvas, Grades → Import: Canvas's gradebook CSV, "Student, ID, SIS User ID, SIS Login ID,
  Section", then one column per assignment, and the "Points Possible" row
  (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.instructor import lms_export
from autograder.grading import outputs
from autograder import registry
from autograder.__main__ import main as cli
from autograder.results import GraderResult, ItemResult
from test_docs import commands

REPO = Path(__file__).resolve().parents[1]
S1, S2 = (s.id for s in registry.STAGES[:2])
HOSTILE_NAME = '=HYPERLINK("http://evil.example","x")'
HOSTILE_ID = "@SUM(1+1)"  # a student's own folder name
FORMULA = tuple("=+-@")
ROSTER = [  # nbgrader's student columns, then the LMS ids
    {"id": "ada", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@upm.es", "idnumber": "A001",
     "username": "alovelace", "canvas_id": "101", "sis_user_id": "S-1", "sis_login_id": "ada.l", "section": "M1"},
    {"id": "carla", "first_name": "Carla", "last_name": "Núñez", "email": "carla@upm.es", "idnumber": "A002",
     "username": "cnunez", "canvas_id": "102", "sis_user_id": "S-2", "sis_login_id": "carla.n", "section": "M1"},
    {"id": HOSTILE_ID, "first_name": HOSTILE_NAME, "last_name": "-1+2", "email": "z@upm.es", "idnumber": "A003",
     "username": "z", "canvas_id": "103", "sis_user_id": "S-3", "sis_login_id": "z", "section": "M2"},
]
DOC_SECTION = "## Grades into Moodle or Canvas"


def _result(student: str, stage: str, failing: set[str]) -> outputs.SubmissionResult:
    """Every item with two graders; in the items named in ``failing``, the second one fails."""
    items = []
    for item in registry.items_of(stage):
        graders = [GraderResult(item.id, "test_a", "first check", "public"),
                   GraderResult(item.id, "test_b", "second check", "hidden",
                                status="failed" if item.id in failing else "passed", message="wrong <b>axis</b>")]
        items.append(ItemResult(item, graders))
    return outputs.SubmissionResult(student, stage, items)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """``build/class`` (a hardened class folder), ``gradebook.db`` and ``roster.csv`` in one folder.

    ada: both stages, one item of stage 02 half lost; ben: stage 01, not in the roster; the hostile
    id: stage 01; carla: in the roster, nothing graded.
    """
    root = tmp_path_factory.mktemp("lms")
    first_s2 = registry.items_of(S2)[0].id
    results = [_result("ada", S1, set()), _result("ada", S2, {first_s2}),
               _result("ben", S1, {registry.items_of(S1)[0].id}), _result(HOSTILE_ID, S1, set())]
    for r in results:
        outputs.write_submission(root / "build" / "class", r)
    outputs.write_gradebook(f"sqlite:///{root / 'gradebook.db'}", results)
    with (root / "roster.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ROSTER[0]))
        w.writeheader()
        w.writerows(ROSTER)
    return root


def _scores(course: Path) -> dict[tuple[str, str], float]:
    """(student, stage) -> the score results.json holds, read as Gradescope's JSON."""
    found = {}
    for path in (course / "build" / "class").glob("*/*/results.json"):
        found[(path.parent.parent.name, path.parent.name)] = json.loads(path.read_text(encoding="utf-8"))["score"]
    return found


def _export(course: Path, *args: str, capsys=None) -> tuple[int, list[list[str]], str]:
    out = course / "out.csv"
    code = cli(["export-grades", *args, "--out", str(out)])
    err = capsys.readouterr().err if capsys else ""
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    delimiter = ";" if "--decimal-comma" in args else ","
    out.unlink(missing_ok=True)
    return code, list(csv.reader(io.StringIO(text), delimiter=delimiter)), err


def test_moodle_columns_points_and_the_roster_mismatches(course, capsys):
    code, rows, err = _export(course, str(course / "build/class"), "--format", "moodle", "--roster",
                              str(course / "roster.csv"), "--id-column", "idnumber", capsys=capsys)
    assert rows[0] == ["idnumber", "first_name", "last_name", S1, S2]  # one column per stage, headed by its id
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"A001", "A002", "A003"}  # the roster's students, by the column Moodle maps
    scores = _scores(course)
    assert by_id["A001"][1:] == ["Ada", "Lovelace", f"{scores[('ada', S1)]:g}", f"{scores[('ada', S2)]:g}"]
    assert 0 < scores[("ada", S2)] < registry.max_points(S2)  # a partial grade, written as it is
    assert by_id["A002"][3:] == ["", ""]  # carla: nothing graded, an empty cell (Moodle leaves it ungraded)
    # ben was graded but has no LMS account in the roster: left out, listed, and the exit status says so
    assert code == 1 and "ben" in err.split("left out")[1].splitlines()[0]
    assert "carla (" + S1 in err  # and the roster student with no grade is listed too


def test_missing_as_zero_and_without_a_roster(course, capsys):
    code, rows, _ = _export(course, str(course / "build/class"), "--format", "moodle", "--roster",
                            str(course / "roster.csv"), "--missing", "zero", capsys=capsys)
    assert {r[0]: r[3:] for r in rows[1:]}["cnunez"] == ["0", "0"]  # --id-column username by default
    code, rows, err = _export(course, str(course / "build/class"), "--format", "moodle", capsys=capsys)
    assert code == 0 and "left out" not in err  # no roster: the course ids are the usernames, all are written
    assert f"ben ({S2})" in err  # ben handed in stage 01 only: his stage 02 cell is empty, and he is named
    assert sorted(r[0] for r in rows[1:]) == sorted(["ada", "ben", "'" + HOSTILE_ID])
    assert cli(["export-grades", str(course / "build/class"), "--format", "moodle", "--id-column", "email",
                "--out", str(course / "x.csv")]) == 2  # an e-mail cannot be made up from a folder name
    assert "needs a --roster" in capsys.readouterr().err


def test_scale_of_ten_decimal_comma_and_feedback(course, capsys):
    code, rows, _ = _export(course, str(course / "build/class"), "--format", "moodle", "--roster",
                            str(course / "roster.csv"), "--scale", "10", "--decimal-comma", "--feedback",
                            capsys=capsys)
    assert rows[0] == ["username", "first_name", "last_name", S1, f"{S1} feedback", S2, f"{S2} feedback"]
    ada = {h: v for h, v in zip(rows[0], next(r for r in rows if r[0] == "alovelace"))}
    expected = round(10 * _scores(course)[("ada", S2)] / registry.max_points(S2), 2)
    assert ada[S2] == f"{expected:g}".replace(".", ",") and "," in ada[S2] and ada[S1] == "10"
    item = registry.items_of(S2)[0]
    assert f"{item.title}: {item.points / 2:g} / {item.points:g}" in ada[f"{S2} feedback"]
    assert "<" not in ada[f"{S2} feedback"]  # Moodle shows feedback as HTML: nothing in it is markup


def test_canvas_columns_and_points_possible_row(course, capsys):
    code, rows, _ = _export(course, str(course / "build/class"), "--format", "canvas", "--roster",
                            str(course / "roster.csv"), capsys=capsys)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", S1, S2]
    assert rows[1] == ["Points Possible", "", "", "", "", f"{registry.max_points(S1):g}", f"{registry.max_points(S2):g}"]
    ada = next(r for r in rows if r[1] == "101")
    assert ada == ["Lovelace, Ada", "101", "S-1", "ada.l", "M1", f"{_scores(course)[('ada', S1)]:g}",
                   f"{_scores(course)[('ada', S2)]:g}"]
    _, rows, _ = _export(course, str(course / "build/class"), "--format", "canvas", "--scale", "10", capsys=capsys)
    assert rows[1][5:] == ["10", "10"]
    assert cli(["export-grades", str(course / "build/class"), "--format", "canvas", "--feedback",
                "--out", str(course / "x.csv")]) == 2  # Canvas's import has no comment column


def test_no_cell_a_person_controls_is_a_formula(course, capsys):
    for fmt in ("moodle", "canvas"):
        for roster in ([], ["--roster", str(course / "roster.csv")]):
            _, rows, _ = _export(course, str(course / "build/class"), "--format", fmt, *roster, capsys=capsys)
            cells = [c for r in rows for c in r]
            assert not [c for c in cells if c.lstrip().startswith(FORMULA)], (fmt, roster)
    _, rows, _ = _export(course, str(course / "build/class"), "--format", "moodle", "--roster",
                         str(course / "roster.csv"), capsys=capsys)
    z = next(r for r in rows if r[0] == "z")
    assert z[1:3] == ["'" + HOSTILE_NAME, "'-1+2"]  # shown as typed, never run


def test_the_gradebook_gives_the_same_grades_and_its_names(course, capsys):
    _, from_folder, _ = _export(course, str(course / "build/class"), "--format", "canvas", capsys=capsys)
    _, from_gradebook, _ = _export(course, str(course / "gradebook.db"), "--format", "canvas", capsys=capsys)
    strip = lambda rows: sorted((r[3], r[5:]) for r in rows[2:])  # noqa: E731 (login, grades)
    assert strip(from_gradebook) == strip(from_folder)


def _documented() -> list[str]:
    return commands(REPO / "docs/instructors.md", DOC_SECTION)


def test_the_documented_commands_as_written(course, tmp_path):
    """docs/instructors.md's section, in a copy of the course folder; formgrader's names come from the roster."""
    work = tmp_path / "course"
    shutil.copytree(course, work)
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")])}
    lines = _documented()
    assert lines and lines[0] == "nbgrader db student import roster.csv"
    for line in lines:
        ran = subprocess.run(["bash", "-c", line.replace(".venv/bin/python", sys.executable)], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
        assert ran.returncode in (0, 1), line + "\n" + ran.stdout + ran.stderr  # 1: ben is not in the roster
        assert "Wrote" in ran.stdout or line.startswith("nbgrader"), ran.stdout + ran.stderr
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:  # formgrader lists "Lovelace, Ada", not "None, None"
        assert (gb.find_student("ada").first_name, gb.find_student("ada").last_name) == ("Ada", "Lovelace")
    made = sorted(p.name for p in (work / "build").glob("*.csv"))
    assert made == ["canvas.csv", "moodle.csv"]
    moodle = list(csv.reader((work / "build/moodle.csv").open(encoding="utf-8")))
    assert moodle[0][:4] == ["idnumber", "first_name", "last_name", S1]


def test_roster_problems_are_refused_with_a_reason(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("student,first_name\nada,Ada\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'id' column"):
        lms_export.read_roster(bad)
    bad.write_text("\ufeffid,first_name\nada,Ada\nada,Ana\n", encoding="utf-8")  # Excel's BOM is read, twice is not
    with pytest.raises(ValueError, match="appears twice"):
        lms_export.read_roster(bad)


def test_the_demo_names_its_students_and_keeps_notes_whole(course, tmp_path):
    """`make demo`'s course: roster.csv and the gradebook's names (formgrader's "Lovelace, Ada"), and a
    class table whose long notes wrap instead of ending in "…"."""
    from autograder.instructor import demo

    shutil.copy2(course / "gradebook.db", tmp_path / "gradebook.db")  # a new one costs seconds (migrations)
    roster = demo.write_roster(tmp_path, demo.CLASS)
    assert lms_export.read_roster(roster)["dario"]["last_name"] == "Fernández"
    grades = lms_export.read_source(str(tmp_path / "gradebook.db"))
    assert grades.names["ada"] == ("Ada", "Lovelace") and grades.names["ines"] == ("Inés", "Moreno")
    long_note = "a cell raised ValueError: " + " ".join(f"word{i}" for i in range(60)) + " END"
    students = (demo.Student("ada", long_note, {S1: "reference"}),)
    grade = demo.Grade({i.id: float(i.points) for i in registry.items_of(S1)}, [])
    table = demo.class_table({("ada", S1): grade}, students)
    assert "END" in table and "…" not in table
    assert max(len(line) for line in table.splitlines()) < len(long_note)  # wrapped onto further lines
