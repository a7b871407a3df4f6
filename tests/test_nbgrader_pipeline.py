"""The real nbgrader pipeline, end to end, on a small class with bad input in it.

generate_assignment -> submissions (reference, skeleton, a mutant, four kinds of bad input) ->
nbgrader autograde -> the gradebook -> generate_feedback. The scores nbgrader stores must be
exactly what the registry and the in-process graders say.
"""

from __future__ import annotations

import re

import pytest

from kit import MUTANTS, grade, mutants
from autograder import registry
from autograder.course import new_course
from autograder.demo import Student, grade_class
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


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("course") / "course")
    grades = grade_class(course, CLASS, log=lambda *_: None)
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
    assert set(g.scores.values()) == {None}
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
    assert g.problems[0] == "`self_attention` is not defined. Did you rename it? I found `self_attn`."


def test_import_error_is_named(graded):
    _, grades = graded
    g = grades[("ines", S3)]
    assert g.scores == {"scaled_dot_product_attention": 0, "causal_mask": 3, "padding_mask": 3}
    assert g.problems[0] == ("`scaled_dot_product_attention` is not defined: an earlier cell raised "
                             "ModuleNotFoundError: No module named 'attention_tricks', so its definitions never ran.")


def test_feedback_html_shows_reports_and_never_grader_source(graded):
    course, _ = graded
    pages = list((course / "feedback").rglob("*.html"))
    assert len(pages) == sum(len(s.work) for s in CLASS)
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
