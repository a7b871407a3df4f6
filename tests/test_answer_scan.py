"""The export's answer scan: code that ships and *works* as an answer refuses the export.

Reference-text matching misses an answer written differently (a public oracle); the scan grades
every def and class of the exported package under each item's contract name instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.instructor.export import ExportLeak, export_student_repo, scan_answers

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
    # the same answer in a module that drives files elsewhere (stage 07's oracles copy with shutil):
    # only the definitions that reach the machinery are left untried, not the whole module
    (dest / "autograder/graders/with_machinery.py").write_text(
        PLANTED.replace("lower_triangle", "tril_mask") + "\n\ndef tidy(path):\n    import shutil\n"
        "    shutil.rmtree(path)\n\n\ndef tidy_twice(path):\n    tidy(path)\n")
    # and a correct one through PyTorch's internals, as the trusted blocks are written: the policy
    # refuses it in every item, so it is no answer (policy.INTERNALS)
    (dest / "autograder/graders/internal.py").write_text(
        "import torch\n\n\ndef aten_triangle(n):\n    return torch.ops.aten.tril(torch.ones(n, n, dtype=torch.bool))\n")
    new = scan_answers(dest, [STAGE])
    # The planted answers, and nothing else: not the wrong one, not the internal one, and nothing of the
    # real export, whose oracles ship as recorded values (issue 10 item 2). (One scan proves all.)
    assert len(new) == 2, new
    assert any("lower_triangle()" in p and "autograder/graders/helpers.py" in p and "causal_mask" in p for p in new), new
    assert any("tril_mask()" in p and "with_machinery.py" in p for p in new), new


def test_the_machinery_filter_leaves_out_only_what_reaches_machinery():
    import ast

    from autograder.instructor.answer_scan import machinery_definitions

    tree = ast.parse("import shutil\nfrom signal import alarm\n\ndef answer(x):\n    return x\n\n"
                     "def wipe(p):\n    shutil.rmtree(p)\n\ndef arm():\n    alarm(1)\n\n"
                     "def wipe_later(p):\n    return wipe(p)\n\nclass Keeper:\n    def go(self):\n"
                     "        import subprocess\n        subprocess.run(['true'])\n")
    assert machinery_definitions(tree) == {"wipe", "arm", "wipe_later", "Keeper"}


def test_an_export_of_stage_05_holds_no_working_answer_and_a_pasted_formula_is_found(tmp_path):
    # blocks.sinusoidal_positional_encoding ships as recorded values, and the trusted PositionalEncoding
    # class as code that computes through torch.ops.aten (refused in student code): nothing answers.
    # (The live blocks.sinusoidal_positional_encoding would not either: it calls the course's oracle,
    # which the policy refuses.)
    stage = "05_positional_encoding"
    dest = export_student_repo(tmp_path / "repo", stages=[stage], scan=False).dest
    assert scan_answers(dest, [stage]) == []
    # the instructor's float64 formula (transformer_oracles.positional_encoding) as blocks.py wraps it,
    # in one module: that is an answer, and the scan of this export finds it
    source = (REPO / "autograder/graders/transformer_oracles.py").read_text()
    formula = source[source.index("def positional_encoding"):source.index("def qkv_parameter_count")]
    (dest / "autograder/graders/pe_helpers.py").write_text(
        "import numpy as np\nimport torch\n\n\n" + formula + "\ndef pe_table(max_len, d_model):\n"
        "    return torch.from_numpy(positional_encoding(max_len, d_model)).to(torch.float32)\n")
    problems = scan_answers(dest, [stage])
    assert any("pe_table() in autograder/graders/pe_helpers.py" in p for p in problems), problems


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
