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


def test_the_scan_finds_a_public_oracle_that_answers_an_item(stage_export):
    # torch_oracles.causal is the causal mask: it ships with stage 03 today, and the scan says so.
    problems = scan_answers(stage_export, [STAGE])
    assert any("causal()" in p and "torch_oracles.py" in p and "causal_mask" in p for p in problems), problems


def test_a_planted_answer_is_found_with_its_file_and_name(stage_export, tmp_path):
    dest = tmp_path / "doctored"
    shutil.copytree(stage_export, dest)
    (dest / "autograder/graders/helpers.py").write_text(PLANTED)
    (dest / "autograder/graders/wrong.py").write_text(WRONG)
    before = set(scan_answers(stage_export, [STAGE]))
    new = [p for p in scan_answers(dest, [STAGE]) if p not in before]
    assert len(new) == 1, new  # the planted answer, and not the wrong one
    assert "lower_triangle()" in new[0] and "autograder/graders/helpers.py" in new[0] and "causal_mask" in new[0]


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
