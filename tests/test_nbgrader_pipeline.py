"""The real nbgrader pipeline, end to end, on a small class with bad input in it.

generate_assignment -> submissions (reference, skeleton, a mutant, four kinds of bad input) ->
nbgrader autograde -> the gradebook -> generate_feedback. The scores nbgrader stores must be
exactly what the registry and the in-process graders say.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from kit import MUTANTS, grade, mutants
from autograder import registry
from autograder.instructor.course import new_course
from autograder.instructor.demo import Student, grade_class
from autograder.notebook import load_namespace
from autograder.runner import HIDDEN_DIR, PUBLIC_DIR

S1, S2, S3 = (s.id for s in registry.STAGES[:3])
CLASS = (
    Student("ada", "reference", {S1: "reference", S2: "reference", S3: "reference"}),
    Student("ben", "skeleton", {S1: "skeleton"}),
    Student("dario", "mutant", {S3: "mutant:sdpa_mask_inverted"}),
    Student("fede", "broken JSON", {S1: "broken_json"}),
    Student("gala", "tampered", {S1: "tampered"}),
    Student("hugo", "renamed", {S2: "renamed"}),
    Student("ines", "import error", {S3: "import_error"}),
)

pytestmark = pytest.mark.slow


# As `make demo` does: the hardened grader grades every stage into the gradebook, nbgrader
# autogrades some of them (here 01 and 03) and takes the scores already computed; stage 02 is in
# the gradebook from the hardened grader alone.
THROUGH_NBGRADER = [S1, S3]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("course") / "course")
    grades = grade_class(course, CLASS, log=lambda *_: None, nbgrader_stages=THROUGH_NBGRADER)
    return course, grades


def _points(stage_id):
    return {i.id: i.points for i in registry.items_of(stage_id)}


def test_reference_gets_every_point_in_the_gradebook(graded):
    _, grades = graded
    for stage in registry.STAGES[:3]:
        g = grades[("ada", stage.id)]
        assert g.scores == _points(stage.id) and g.problems == []


def test_skeleton_gets_zero(graded):
    _, grades = graded
    assert grades[("ben", S1)].scores == {i: 0.0 for i in _points(S1)}


def test_mutant_scores_what_the_graders_say_in_process(graded):
    course, grades = graded
    nb = course / "submitted" / "dario" / S3 / registry.stage(S3).notebook
    expected = {i: r.score for i, r in grade(load_namespace(nb), S3).items()}
    assert grades[("dario", S3)].scores == expected
    assert expected["scaled_dot_product_attention"] < 9 and expected["causal_mask"] == 3


def test_broken_json_is_reported_and_the_rest_of_the_class_is_graded(graded):
    course, grades = graded
    g = grades[("fede", S1)]
    # nbgrader cannot read it; the hardened grader's row for it (0, with its reason) is in the gradebook
    assert set(g.scores.values()) == {0.0}
    assert re.match(r"dot_product_attention\.ipynb is not a valid notebook: broken JSON at line \d+", g.problems[0])
    page = (course / "feedback" / "fede" / S1 / "dot_product_attention.html").read_text()
    assert "is not a valid notebook" in page
    assert grades[("gala", S1)].scores == _points(S1)  # graded as usual, right after it


def test_deleted_and_edited_check_cells_are_restored_and_named(graded):
    course, grades = graded
    g = grades[("gala", S1)]
    assert g.scores == _points(S1)
    assert "The check cell of `softmax` was deleted; it was put back before grading." in g.problems
    assert "The check cell of `dot_product_attention` was edited; the original was restored before grading." in g.problems
    assert "was deleted" in (course / "feedback" / "gala" / S1 / "dot_product_attention.html").read_text()


def test_renamed_function_is_named(graded):
    _, grades = graded
    g = grades[("hugo", S2)]
    assert g.scores == {"project_qkv": 3, "self_attention": 0, "cross_attention": 4}
    # stage 02 went through the hardened grader only: the note is its first failed check
    assert g.problems[0] == "self_attention: `self_attention` is not defined. Did you rename it? I found `self_attn`."


def test_a_stage_nbgrader_did_not_run_is_in_the_gradebook_from_the_hardened_grader(graded):
    course, grades = graded
    assert not (course / "autograded" / "ada" / S2).exists()
    assert grades[("ada", S2)].scores == _points(S2) and grades[("ada", S2)].problems == []
    assert (course / "hardened" / "ada" / S2 / "report.md").is_file()


def test_nbgrader_takes_the_scores_already_computed_instead_of_grading_again(graded):
    course, _ = graded
    log = "".join(p.read_text() for p in (course / "logs").glob(f"autograde-{S3}-lane*.log"))
    assert "already graded in" in log
    # ada, dario and ines of stage 03: every result was stored, none graded a second time
    assert "one batch graded" not in log and "graded alone" not in log


def test_import_error_is_named(graded):
    _, grades = graded
    g = grades[("ines", S3)]
    assert g.scores == {"scaled_dot_product_attention": 0, "causal_mask": 3, "padding_mask": 3}
    assert g.problems[0] == ("`scaled_dot_product_attention` is not defined: an earlier cell raised "
                             "ModuleNotFoundError: No module named 'attention_tricks', so its definitions never ran.")


def test_feedback_html_shows_reports_and_never_grader_source(graded):
    course, _ = graded
    pages = list((course / "feedback").rglob("*.html"))
    # nbgrader's pages (stage 02's feedback is the hardened grader's report.md)
    assert len(pages) == sum(len(set(s.work) & set(THROUGH_NBGRADER)) for s in CLASS)
    ada = (course / "feedback" / "ada" / S3 / "scaling_and_masking.html").read_text()
    assert "checks passed" in ada
    dario = (course / "feedback" / "dario" / S3 / "scaling_and_masking.html").read_text()
    assert "True means &#x27;may attend&#x27;" in dario or "True means 'may attend'" in dario
    grader_lines = {
        line.strip()
        for module in [*PUBLIC_DIR.glob("*.py"), *HIDDEN_DIR.glob("*.py")]
        for line in module.read_text().splitlines()
        if len(line.strip()) > 30 and not line.strip().startswith(("#", '"""', "from ", "import "))
    }
    for page in pages:
        text = page.read_text()
        leaked = [line for line in grader_lines if line in text]
        assert not leaked, f"{page}: grader source in feedback: {leaked[:3]}"


# --- issue 10 item 6: `nbgrader autograde` records the hardened grader's scores ----------------
# A wrong softmax (normalised over the wrong axis) whose definitions also make every comparison
# pass: a class body runs when the definitions load, in the kernel and in the sandboxed worker.
PATCHED_CHECKS = '''
class _EverythingMatches:
    import numpy as np

    np.allclose = np.array_equal = lambda *args, **kwargs: True
    np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
'''


def _gradebook_scores(course, student, stage_id):
    from nbgrader.api import Gradebook

    notebook = registry.stage(stage_id).notebook.removesuffix(".ipynb")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {i.id: float(gb.find_grade(i.id, notebook, stage_id, student).score) for i in registry.items_of(stage_id)}


def _tests_failed(course, student, stage_id):
    """formgrader's "Tests failed?" column: nbgrader's ``SubmittedNotebook.failed_tests`` (a code grade
    cell whose auto score is below its maximum, nbgrader/api.py)."""
    from nbgrader.api import Gradebook

    notebook = registry.stage(stage_id).notebook.removesuffix(".ipynb")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return bool(gb.find_submission_notebook(notebook, stage_id, student).failed_tests)


@pytest.fixture(scope="module")
def through_nbgrader(tmp_path_factory):
    """Stage 01 under the repository's nbgrader_config.py: hardened scores, then plain in-kernel ones."""
    import hardened_kit as hk

    from autograder.instructor.course import generate_release, nbgrader

    course = new_course(tmp_path_factory.mktemp("hardened") / "course")
    generate_release(course, [S1])  # registers the stage in the gradebook
    wrong = hk.definitions_by_function((hk.MUTANTS / S1 / "softmax_wrong_axis.py").read_text())
    hk.write(course / "submitted", "ada", S1, hk.notebook(S1))
    hk.write(course / "submitted", "eve", S1, hk.notebook(S1, replace=wrong, extra_cells=[PATCHED_CHECKS]))
    hk.write(course / "submitted", "omar", S1,
             hk.mutant_notebook(hk.ATTACKS / S1 / "os_exit_in_function.py"))  # os._exit(0) in softmax
    # zoe hands in the reference, then the wrong softmax again while the class is being graded: after
    # the class batch (run at ada's notebook), before nbgrader reads hers (its pre-convert hook)
    hk.write(course / "submitted", "zoe", S1, hk.notebook(S1))
    late = hk.write(course / "late", "zoe", S1, hk.notebook(S1, replace=wrong))
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write(RESUBMIT_HOOK.format(late=str(late)))
    students = ("ada", "eve", "omar", "zoe")
    log = nbgrader("autograde", S1, "--create", course=course).log
    hardened = {s: _gradebook_scores(course, s, S1) for s in students}
    failed = {s: _tests_failed(course, s, S1) for s in students}
    autograded = {s: (course / "autograded" / s / S1 / NB1).read_text(encoding="utf-8") for s in students}
    # the same submissions graded by `python -m autograder grade` itself, outside nbgrader
    cli = tmp_path_factory.mktemp("cli")
    ran = subprocess.run([sys.executable, "-m", "autograder", "grade", str(course / "submitted"), "--out", str(cli),
                          "--no-gradebook", "--quiet", "--jobs", "1"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    direct = {s: hk.scores(cli, s, S1) for s in students}
    # the documented switch back to in-kernel scores (what plain nbgrader records)
    nbgrader("autograde", S1, "--force", "--HardenedScores.enabled=False", course=course)
    plain = {s: _gradebook_scores(course, s, S1) for s in students}
    return hardened, direct, plain, autograded, log, failed


RESUBMIT_HOOK = """
import shutil as _shutil


def _zoe_resubmits(assignment, student, notebooks):
    for path in notebooks:
        if "/zoe/" in path:
            _shutil.copyfile({late!r}, path)


c.Autograde.pre_convert_hook = _zoe_resubmits
"""


NB1 = registry.stage(S1).notebook


def test_nbgrader_records_full_marks_for_the_reference(through_nbgrader):
    hardened, direct, plain, _, _, _ = through_nbgrader
    assert hardened["ada"] == direct["ada"] == plain["ada"] == _points(S1)


def test_patched_comparisons_gain_nothing_under_nbgrader(through_nbgrader):
    hardened, direct, plain, autograded, _, _ = through_nbgrader
    assert hardened["eve"] == direct["eve"]  # what the hardened grader gives the same notebook
    assert hardened["eve"]["softmax"] < _points(S1)["softmax"]
    assert hardened["eve"]["dot_product_attention"] == _points(S1)["dot_product_attention"]
    # the patch fools the in-kernel checks: that is the score plain nbgrader would have recorded
    assert plain["eve"]["softmax"] > hardened["eve"]["softmax"]
    # the student reads the hardened report, and which number counts
    from autograder.catalogue import text

    kernel, score = plain["eve"]["softmax"], hardened["eve"]["softmax"]
    said = text("nbgrader.kernel_differs", kernel=f"{kernel:g}", score=f"{score:g}")
    assert said in autograded["eve"].replace("\\n", "\n").replace('\\"', '"')


def test_formgrader_says_tests_failed_for_a_check_that_lost_points(through_nbgrader):
    hardened, _, _, _, _, failed = through_nbgrader
    assert failed == {"ada": False, "eve": True, "omar": True, "zoe": True}
    assert 0 < sum(hardened["eve"].values()) < sum(_points(S1).values())  # partial credit, and still "failed"


def test_os_exit_in_one_function_loses_only_that_item_under_nbgrader(through_nbgrader):
    hardened, direct, plain, _, _, _ = through_nbgrader
    assert hardened["omar"] == direct["omar"] == {"softmax": 0.0, "dot_product_attention": _points(S1)["dot_product_attention"]}
    # in the kernel the exit stops the notebook: the checks that never ran score 0, not full marks
    assert plain["omar"] == {i: 0.0 for i in _points(S1)}


def test_one_batch_grades_the_class_and_a_changed_notebook_is_graded_alone(through_nbgrader):
    hardened, direct, _, _, log, _ = through_nbgrader
    # one `python -m autograder grade` for the four submissions, not one per notebook
    assert log.count("HardenedScores: one batch graded") == 1
    assert "one batch graded 4 submissions of " + S1 in log
    # zoe's notebook changed after the batch graded her reference: only she is graded alone, and
    # she gets the score of what nbgrader autograded (the wrong softmax), not the batch's full marks
    assert re.findall(r"HardenedScores: (\S+)/\S+ graded alone", log) == ["zoe"]
    assert hardened["zoe"] == direct["zoe"]
    assert hardened["zoe"]["softmax"] < _points(S1)["softmax"]
    assert hardened["zoe"]["dot_product_attention"] == _points(S1)["dot_product_attention"]


def test_a_failing_hardened_grader_scores_zero_not_the_kernel(monkeypatch, tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook, new_output
    from nbgrader.utils import determine_grade

    from autograder.instructor import nbgrader_hardened as nh

    monkeypatch.setattr(nh, "hardened_grade", lambda *a, **k: nh.Hardened(error="the grader broke on purpose"))
    meta = {"nbgrader": {"grade": True, "solution": False, "grade_id": "softmax", "points": 4}}
    cell = new_code_cell('check("softmax")', metadata=meta)
    cell.outputs = [new_output("execute_result", data={"text/plain": "4"}, execution_count=1)]  # the kernel's 4
    other = new_code_cell("x = 1", metadata={})
    resources = {"nbgrader": {"student": "x", "assignment": S1}, "metadata": {"path": str(tmp_path)}}
    nb, _ = nh.HardenedScores().preprocess(new_notebook(cells=[cell, other]), resources)
    assert determine_grade(nb.cells[0])[0] == 0
    assert nb.cells[0].outputs[0]["text"] == "the grader broke on purpose\n"
    assert nb.cells[1].outputs == []  # not a check cell: untouched
    # switched off, the kernel's score stands
    cell.outputs = [new_output("execute_result", data={"text/plain": "4"}, execution_count=1)]
    nb, _ = nh.HardenedScores(enabled=False).preprocess(new_notebook(cells=[cell]), resources)
    assert determine_grade(nb.cells[0])[0] == 4
