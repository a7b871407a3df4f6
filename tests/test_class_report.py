"""`python -m autograder class-report`: the numbers in the HTML are the class's, ranked, and escaped.

The class is written with the grader's own writer (``outputs.write_submission``), so the report is
read back from results.json exactly as after ``grade`` or ``merge``; nothing is graded (cheap).

Stage 01 (softmax: 4 points, two checks; dot_product_attention: 6 points, two checks):

========  ===============================================  ==========================
ada       everything passes                                10 / 10
bea       softmax rows fail (why.softmax_axis)             8 / 10
carl      both softmax checks fail (axis, unstable), one   3 / 10
          attention check fails (the axis again)
HOSTILE   the notebook could not be read (every item 0)    0 / 10, not in the rates
========  ===============================================  ==========================

Stage 03 is handed in by ada alone, so stage 02 is a stage nobody handed in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.grading import merge
from autograder import registry
from autograder.__main__ import main as cli
from autograder.catalogue import CATALOGUES, text
from autograder.instructor.class_report import StageStats, class_stats, load_class, render
from autograder.grading.outputs import SubmissionResult, write_submission
from autograder.results import GraderResult, ItemResult
from test_docs import commands

S1, S2, S3 = (s.id for s in registry.STAGES[:3])
HOSTILE = "<img src=x onerror=alert(1)>"
REPO = Path(__file__).resolve().parents[1]
DOC_SECTION = "## After grading: the class report and similar submissions"
HOSTILE_NOTE = "nb.ipynb is not a valid notebook: <script>alert(2)</script>"

# item -> [(check name, why.* key of its failure, or "" for a pass, or None for a failure without one)]
PLANS = {
    "ada": {"softmax": [("test_rows", ""), ("test_finite", "")], "dot_product_attention": [("test_shape", ""), ("test_values", "")]},
    "bea": {"softmax": [("test_rows", "why.softmax_axis"), ("test_finite", "")],
            "dot_product_attention": [("test_shape", ""), ("test_values", "")]},
    "carl": {"softmax": [("test_rows", "why.softmax_axis"), ("test_finite", "why.softmax_unstable")],
             "dot_product_attention": [("test_shape", ""), ("test_values", "why.softmax_axis")]},
}


def _result(student: str, stage: str, plan: dict[str, list[tuple[str, str | None]]] | None) -> SubmissionResult:
    items = []
    for item in registry.items_of(stage):
        if plan is None:  # as batch._synthetic writes a submission that could not be read
            graders = [GraderResult(item.id, "submission", "the notebook could be read", "public", status="failed",
                                    message=HOSTILE_NOTE)]
        else:
            graders = [GraderResult(item.id, name, f"check {name}", "public", status="failed" if why != "" else "passed",
                                    message="wrong" if why != "" else "", misconception=text(why) if why else None)
                       for name, why in plan.get(item.id, [("test_all", "")])]
        items.append(ItemResult(item, graders))
    return SubmissionResult(student, stage, items, notes=[HOSTILE_NOTE] if plan is None else [])


def _write_class(out: Path, students: list[str]) -> Path:
    for s in students:
        if s == HOSTILE:
            write_submission(out, _result(s, S1, None))
        else:
            write_submission(out, _result(s, S1, PLANS[s]))
    if "ada" in students:
        write_submission(out, _result("ada", S3, {}))
    return out


class _Rows(HTMLParser):
    """Every element with a class: (class, its data-* attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, dict[str, str]]] = []
        self.sections: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = {k: v or "" for k, v in attrs}
        if "class" in a:
            self.rows.append((a["class"], {k[5:]: v for k, v in a.items() if k.startswith("data-")}))
        if tag == "section" and "id" in a:
            self.sections[a["id"]] = {k[5:]: v for k, v in a.items() if k.startswith("data-")}


def _parse(html: str) -> _Rows:
    p = _Rows()
    p.feed(html)
    return p


def _of(rows: _Rows, cls: str) -> list[dict[str, str]]:
    return [d for c, d in rows.rows if c == cls]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    return _write_class(tmp_path_factory.mktemp("graded"), ["ada", "bea", "carl", HOSTILE])


@pytest.fixture(scope="module")
def report(graded) -> str:
    return render(load_class([graded]), threshold=50)


def test_results_json_keeps_the_misconception_key(graded):
    data = json.loads((graded / "carl" / S1 / "results.json").read_text(encoding="utf-8"))
    keys = {g.get("misconception_key") for i in data["extra_data"]["items"] for g in i["graders"]}
    assert keys == {None, "why.softmax_axis", "why.softmax_unstable"}


def test_every_misconception_sentence_names_one_key():
    # results.misconception_key recovers the key from the sentence: that needs one key per sentence
    for table in CATALOGUES.values():
        whys = [v for k, v in table.items() if k.startswith("why.")]
        assert len(whys) == len(set(whys))


def test_pass_rate_of_every_check(report):
    checks = {(d["item"], d["check"]): (int(d["passed"]), int(d["n"])) for d in _of(_parse(report), "check")}
    assert checks == {("softmax", "test_rows"): (1, 3), ("softmax", "test_finite"): (2, 3),
                      ("dot_product_attention", "test_shape"): (3, 3),
                      ("dot_product_attention", "test_values"): (2, 3)} | {
        (i.id, "test_all"): (1, 1) for i in registry.items_of(S3)}
    s1 = [(d["item"], d["check"]) for d in _of(_parse(report), "check") if d["item"] in ("softmax", "dot_product_attention")]
    assert s1[0] == ("softmax", "test_rows")  # the lowest pass rate first
    assert s1[-1] == ("dot_product_attention", "test_shape")


def test_misconceptions_ranked_by_students(report):
    rows = [(int(d["rank"]), d["key"], int(d["students"])) for d in _of(_parse(report), "misconception")]
    # students, not failed checks: carl's wrong axis fails two checks of two items and counts once
    assert rows == [(1, "why.softmax_axis", 2), (2, "why.softmax_unstable", 1)]
    assert "<td><code>dot_product_attention</code>, <code>softmax</code></td>" in report  # where it was seen
    assert escape_html(text("why.softmax_axis")) in report  # with the catalogue's sentence


def test_items_most_students_fail(report):
    rows = [(int(d["rank"]), d["item"], int(d["failed"]), int(d["n"])) for d in _of(_parse(report), "item-fail")]
    assert rows == [(1, "softmax", 2, 3), (2, "dot_product_attention", 1, 3)]


def test_students_below_the_threshold(report, graded):
    rows = [(d["stage"], d["student"], d["percent"]) for d in _of(_parse(report), "below")]
    assert rows == [(S1, HOSTILE, "0.0"), (S1, "carl", "30.0"),  # bea has 80%, ada 100%
                    (S3, HOSTILE, ""), (S3, "bea", ""), (S3, "carl", "")]  # not handed in (sorted by id)
    def below(threshold: float) -> list[tuple[str, str]]:  # the figures the HTML shows, without drawing the plots
        return [(st.stage.id, student) for st in class_stats(load_class([graded]), threshold)
                if isinstance(st, StageStats) for student, _ in st.below]

    assert (S1, "bea") in below(90) and (S1, "ada") not in below(90)
    assert (S1, "bea") not in below(80)  # 80% is not below 80%


def test_a_stage_nobody_handed_in_and_an_ungradable_submission_render(report):
    parsed = _parse(report)
    assert parsed.sections[f"stage-{S2}"] == {"handed-in": "0"}
    assert f"stage-{registry.STAGES[3].id}" not in parsed.sections  # nothing after the last stage handed in
    assert [d for d in _of(parsed, "ungradable")] == [{}]
    assert report.count('src="data:image/png;base64,') >= 3  # histograms and item charts, inline
    assert "http://" not in report and "https://" not in report  # no external asset


def test_student_strings_are_escaped(report):
    assert HOSTILE not in report and "<script>" not in report
    assert escape_html(HOSTILE) in report
    assert escape_html("<script>alert(2)</script>") in report


def test_one_student(tmp_path):
    html = render(load_class([_write_class(tmp_path, ["ada"])]))
    parsed = _parse(html)
    assert parsed.sections[f"stage-{S1}"]["handed-in"] == "1"
    assert _of(parsed, "below") == [] and _of(parsed, "misconception") == []


def test_a_merged_class_reads_the_same(tmp_path, report):
    a = _write_class(tmp_path / "shard-1", ["ada", "bea"])
    b = _write_class(tmp_path / "shard-2", ["carl", HOSTILE])
    merge.merge([a, b], tmp_path / "class")
    merged = _parse(render(load_class([tmp_path / "class"])))
    assert merged.rows == _parse(report).rows
    assert _parse(render(load_class([a, b]))).rows == merged.rows  # shard folders, unmerged, too


def test_the_command(graded, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert cli(["class-report", str(graded), "--out", str(out), "--threshold", "50"]) == 0
    assert "4 students, 5 graded submissions" in capsys.readouterr().out
    assert _of(_parse(out.read_text(encoding="utf-8")), "below")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(["class-report", str(empty), "--out", str(tmp_path / "x.html")]) == 2


def test_the_documented_command_as_written(tmp_path):
    """docs/instructors.md's line, in a course folder whose build/class the grader's writers made."""
    lines = [c for c in commands(REPO / "docs/instructors.md", DOC_SECTION) if " class-report " in c]
    assert len(lines) == 1
    _write_class(tmp_path / "build" / "class", ["ada", "bea", "carl", HOSTILE])
    ran = subprocess.run(lines[0].replace(".venv/bin/python", sys.executable).split(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = _of(_parse((tmp_path / "build/class/report.html").read_text(encoding="utf-8")), "misconception")
    assert [d["key"] for d in rows] == ["why.softmax_axis", "why.softmax_unstable"]


def escape_html(s: str) -> str:
    from autograder.escape import html

    return html(s)
