"""The export's answer scan: code that ships and *works* as an answer refuses the export.

Reference-text matching misses an answer written differently (a public oracle); the scan grades
every def and class of the exported package under each item's contract name instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.export import ExportLeak, export_student_repo, scan_answers

REPO = Path(__file__).resolve().parents[1]

STAGE = "03_scaling_and_masking"
# A correct causal mask, written unlike the reference, under a name no check cell grades.
PLANTED = ("import torch\n\n\ndef lower_triangle(n):\n"
           "    rows = torch.arange(n)\n    return rows[:, None] >= rows[None, :]\n")
# A wrong one (the upper triangle): the scan must not report what does not score full marks.
WRONG = ("import torch\n\n\ndef upper_triangle(n):\n"
         "    rows = torch.arange(n)\n    return rows[:, None] <= rows[None, :]\n")


@pytest.fixture(scope="module")
def stage_export(tmp_path_factory):
    return export_student_repo(tmp_path_factory.mktemp("scan") / "repo", stages=[STAGE], scan=False).dest


def test_the_scan_finds_a_live_oracle_that_answers_an_item(stage_export, tmp_path):
    # The instructor's torch_oracles.py computes (its causal() is the causal mask): shipped as code
    # instead of its stub, the scan names it.
    dest = tmp_path / "live-oracles"
    shutil.copytree(stage_export, dest)
    shutil.copy(REPO / "autograder/graders/torch_oracles.py", dest / "autograder/graders/torch_oracles.py")
    problems = scan_answers(dest, [STAGE])
    assert any("causal()" in p and "torch_oracles.py" in p and "causal_mask" in p for p in problems), problems


def test_the_real_export_holds_no_working_answer_and_a_planted_one_is_found(stage_export, tmp_path):
    dest = tmp_path / "doctored"
    shutil.copytree(stage_export, dest)
    (dest / "autograder/graders/helpers.py").write_text(PLANTED)
    (dest / "autograder/graders/wrong.py").write_text(WRONG)
    new = scan_answers(dest, [STAGE])
    # The planted answer, and nothing else: not the wrong one, and nothing of the real export, whose
    # public oracles ship as recorded values (issue 10 item 2). (One scan proves both.)
    assert len(new) == 1, new
    assert "lower_triangle()" in new[0] and "autograder/graders/helpers.py" in new[0] and "causal_mask" in new[0]
    # a definition known to ship as code (record_expected.NOT_CONVERTED) is reported, not refused
    known: list[str] = []
    assert scan_answers(dest, [STAGE], tolerate=["autograder/graders/helpers.py:lower_triangle",
                                                 "autograder/graders/helpers.py:upper_triangle"],
                        tolerated=known) == []
    assert known == new


def test_in_an_export_of_stage_05_only_the_declared_classes_answer(tmp_path):
    # blocks.sinusoidal_positional_encoding and the oracles ship as recorded values; the trusted
    # PositionalEncoding class still ships as code (blocks.AS_CODE) and is reported, not refused.
    from autograder.record_expected import NOT_CONVERTED

    stage = "05_positional_encoding"
    dest = export_student_repo(tmp_path / "repo", stages=[stage], scan=False).dest
    known: list[str] = []
    assert scan_answers(dest, [stage], tolerate=NOT_CONVERTED, tolerated=known) == []
    assert known and all("PositionalEncoding() in autograder/graders/blocks.py" in k for k in known), known
    shutil.copy(REPO / "autograder/graders/blocks.py", dest / "autograder/graders/blocks.py")  # the live one
    problems = scan_answers(dest, [stage], tolerate=NOT_CONVERTED)
    assert any("sinusoidal_positional_encoding() in autograder/graders/blocks.py" in p for p in problems), problems


def test_the_export_command_refuses_a_planted_answer_and_deletes_it(tmp_path):
    repo = Path(__file__).resolve().parents[1]
    course = tmp_path / "course"
    for part in ("assignments", "autograder", "datasets", "solutions", "docs", ".github/student"):
        if (repo / part).is_dir():
            shutil.copytree(repo / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo / "pyproject.toml", course)
    (course / "autograder/planted.py").write_text(PLANTED)
    with pytest.raises(ExportLeak) as exc:
        export_student_repo(tmp_path / "out", stages=[STAGE], repo=course, scan=True)
    assert "lower_triangle() in autograder/planted.py" in str(exc.value)
    assert not (tmp_path / "out").exists()
