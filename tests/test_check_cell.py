"""check() in a real kernel: the report a student sees, the number nbgrader reads, no stderr."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from kit import ASSIGNMENTS, SOLUTIONS, notebook
from autograder import check, registry
from autograder.instructor import submissions
from autograder.check import RESULT_MIME
from autograder.notebook import is_check_cell, nbgrader_meta

STAGE = "01_dot_product_attention"


def _execute(nb_dict, cwd):
    nb = nbformat.reads(json.dumps(nb_dict), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code" and is_check_cell(c)]


def _release_and_solution():
    return (submissions.load(notebook(ASSIGNMENTS, STAGE)), submissions.load(notebook(SOLUTIONS, STAGE)))


@pytest.mark.slow
def test_check_cells_of_a_finished_notebook_report_full_points(tmp_path):
    release, solution = _release_and_solution()
    for cell in _execute(submissions.fill(release, solution), tmp_path):
        item = registry.item(nbgrader_meta(cell)["grade_id"])
        kinds = [o.output_type for o in cell.outputs]
        assert "error" not in kinds
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert float(result.data["text/plain"]) == item.points  # nbgrader's partial credit
        assert result.data[RESULT_MIME]["score"] == item.points
        stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert f"{item.points:g} / {item.points:g} points" in stdout and "checks passed" in stdout


@pytest.mark.slow
def test_check_cells_of_the_untouched_release_score_zero_without_traceback(tmp_path):
    release, _ = _release_and_solution()
    for cell in _execute(release, tmp_path):
        assert "error" not in [o.output_type for o in cell.outputs]
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert float(result.data["text/plain"]) == 0
        stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert "still raises NotImplementedError" in stdout
        assert "Traceback" not in stdout


def _run_check(capsys, source, item="softmax", **kwargs):
    ns: dict = {}
    exec(source, ns)
    result = check(item, namespace=ns, **kwargs)
    out, err = capsys.readouterr()
    assert err == ""
    return float(result), out


def test_infinite_loop_is_stopped_and_reported(capsys):
    score, out = _run_check(capsys, "def softmax(x, axis=-1):\n    while True:\n        pass\n", time_limit=0.2)
    assert score == 0 and "did not finish within 0.2 s" in out


def test_missing_and_renamed_functions_are_named(capsys):
    score, out = _run_check(capsys, "def soft_max(x, axis=-1):\n    return x\n")
    assert score == 0 and "`softmax` is not defined. Did you rename it? I found `soft_max`." in out
    score, out = _run_check(capsys, "x = 1\n")
    assert score == 0 and "`softmax` is not defined." in out


def test_student_exception_points_at_their_line_not_the_graders(capsys):
    source = "import numpy as np\ndef softmax(x, axis=-1):\n    return np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=Tru)\n"
    score, out = _run_check(capsys, source)
    assert score == 0
    assert "raised NameError: name 'Tru' is not defined" in out
    assert "line 3" in out and "autograder" not in out


def test_prints_and_warnings_of_correct_code_cost_nothing(capsys):
    source = (
        "import sys, warnings, numpy as np\n"
        "def softmax(x, axis=-1):\n"
        "    print('debugging', file=sys.stderr); warnings.warn('careful')\n"
        "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
        "    return e / e.sum(axis=axis, keepdims=True)\n"
    )
    score, _ = _run_check(capsys, source)
    assert score == 4


def test_unknown_item_is_a_clear_error():
    with pytest.raises(KeyError, match="no graded item called 'sofmax'"):
        check("sofmax", namespace={})
