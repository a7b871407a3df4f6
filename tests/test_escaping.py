"""Issue 11.4: student text never forges a line, link, heading, formula or workflow command.

A hostile failure message (and a hostile student id) goes through every output: report.md,
the job summary, feedback Markdown, results.json, classroom.json and the Classroom reporter's
log, grades.csv, the grade CLI's stderr/stdout. Each checker below is first shown to catch a
naive renderer (so it can fail), then to pass a correct one written another way.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import mistune
import pytest

from autograder import catalogue, escape, registry
from autograder.grading import classroom, merge, outputs
from autograder.failures import Evidence
from autograder.report import item_text, score_badge_html
from autograder.results import GraderResult, ItemResult

STAGE = "01_dot_product_attention"
FORGED = "All checks passed: 10 / 10"
HOSTILE = ("boom\n```\n\n## " + FORGED + "\n\n[click me](https://evil.example/x) www.evil.example ada@evil.example\n"
           "<script>alert(1)</script><img src=x onerror=alert(1)>\n"
           "::error file=a.py::forged\n::add-mask::secret\n::stop-commands::tok\n##[error]old\n"
           '=HYPERLINK("http://evil.example","x")\r\n| fake | row |\n> quote\n- item\n'
           "\ud800 lone \udfff surrogates \x1b[31mred\x1b[0m \x1b]0;title\x07 \u202egnp.exe\u202c \u2066iso\u2069\x00")
STUDENT = "-eve\n::error::x =1+1 `x` [l](http://e.example)"  # a folder name may hold all of these


def _hostile_result(student: str = STUDENT) -> outputs.SubmissionResult:
    items = []
    for n, item in enumerate(registry.items_of(STAGE)):
        graders = [GraderResult(item.id, "test_a", "a check", "public", status="failed", message=HOSTILE,
                                evidence=Evidence(HOSTILE, HOSTILE, [HOSTILE]), hint=HOSTILE, misconception=HOSTILE),
                   GraderResult(item.id, "test_b", "another check", "hidden", status="passed")]
        items.append(ItemResult(item, graders, notes=[HOSTILE] if n == 0 else []))
    return outputs.SubmissionResult(student, STAGE, items, notes=[HOSTILE])


# --- the checkers ------------------------------------------------------------------------------
_RENDER = mistune.create_markdown(plugins=["table", "url", "strikethrough"])
_ALLOWED_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "pre", "code", "blockquote", "table", "thead", "tbody",
                 "tr", "th", "td", "strong"}
_EVIL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def markdown_problems(md: str, headings: int) -> list[str]:
    """What a Markdown report forged: tags it should not have, links, more headings than the
    renderer wrote (``headings``), the forged sentence outside a code block, control characters."""
    problems = []
    if _EVIL_CHARS.search(md):
        problems.append("control, bidi or surrogate characters")
    page = _RENDER(md)
    tags = set(re.findall(r"<([a-z0-9]+)[\s>]", page))
    if tags - _ALLOWED_TAGS:
        problems.append(f"tags {sorted(tags - _ALLOWED_TAGS)}")
    if len(re.findall(r"<h[1-6]", page)) != headings:
        problems.append("a forged heading")
    outside_code = re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)
    if re.search(r"<h[1-6][^>]*>[^<]*" + re.escape(FORGED), page) or "<li>item" in outside_code:
        problems.append("student text rendered as report structure")
    if len(re.findall(r"<td>", outside_code)) % 3:
        problems.append("a forged table cell")
    return problems


def workflow_problems(text: str) -> list[str]:
    """Lines GitHub's runner would read as a workflow command (it trims leading white space)."""
    return [ln for ln in re.split(r"\r\n|\r|\n", text) if re.match(r"\s*(::|##\[|##vso\[)", ln) or "\x1b" in ln]


def csv_problems(data: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data)) for c in row
            if c[:1] in ("=", "+", "-", "@", "\t", "\r") or "\n" in c or _EVIL_CHARS.search(c)]


def plain_problems(text: str, frame: set[str]) -> list[str]:
    """A plain-text report: no line may be a line of the report's own frame unless we wrote it."""
    return [ln for ln in text.splitlines() if ln.strip() in frame] + (
        ["control characters"] if _EVIL_CHARS.search(text) else [])


# --- the checkers catch naive renderers -----------------------------------------------------------
def test_the_checkers_catch_a_naive_renderer_and_pass_a_careful_one():
    fence = "```text\n" + HOSTILE + "\n```"
    assert markdown_problems(f"## t\n\n{fence}\n", headings=1)  # the fixed ``` fence of before
    assert markdown_problems(f"## t\n\n- {HOSTILE}\n", headings=1)  # a list item, unescaped
    careful = "## t\n\n<pre>" + escape.html(HOSTILE) + "</pre>\n"  # not our renderer, still safe
    assert not markdown_problems(careful, headings=1)
    assert not markdown_problems("## t\n\n" + escape.markdown_code(HOSTILE) + "\n", headings=1)  # ours
    assert not markdown_problems(f"## t\n\n- {escape.markdown_text(HOSTILE)}\n", headings=1)
    assert workflow_problems(f"warning: {HOSTILE}")
    encoded = base64.b64encode(HOSTILE.encode("utf-8", "surrogatepass")).decode()  # another safe way
    assert not workflow_problems(f"warning: {encoded}")
    buf = io.StringIO()
    csv.writer(buf).writerow(["=1+1", "ok"])
    assert csv_problems(buf.getvalue())
    buf = io.StringIO()
    csv.writer(buf).writerow([" '=1+1", "ok"])
    assert not csv_problems(buf.getvalue())


# --- every output -------------------------------------------------------------------------------
def test_report_md_and_results_json_forge_nothing(tmp_path):
    result = _hostile_result()
    folder = outputs.write_submission(tmp_path, result).parent
    failed_items = len(result.items)
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert markdown_problems(md, headings=1 + failed_items) == []
    assert md.count("<pre>") == 0 and "```` text" not in md
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert markdown_problems(data["output"], headings=1 + failed_items) == []
    frame = {catalogue.text("report.all_passed", n=2), FORGED, "## " + FORGED}
    for t in data["tests"]:
        assert t["output_format"] == "text"
        assert plain_problems(t["output"], frame) == [] and workflow_problems(t["output"]) == []
    stored = outputs.read_submission(tmp_path, result.student, STAGE)
    assert stored is not None and markdown_problems(outputs.markdown(stored), 1 + failed_items) == []


def test_classroom_text_and_the_reporter_log_forge_nothing(tmp_path):
    result = _hostile_result()
    data = outputs.classroom(result)
    frame = {catalogue.text("report.all_passed", n=2), FORGED, "## " + FORGED}
    for t in data["tests"]:
        assert plain_problems(t["message"], frame) == []
    path = tmp_path / "r.json"
    # a runner result straight from a (student-owned) job: names and messages not escaped at all
    raw = {**data, "tests": [{**t, "name": STUDENT, "message": HOSTILE} for t in data["tests"]]}
    path.write_text(json.dumps(raw), encoding="utf-8")
    summary = tmp_path / "summary.md"
    # as the report job runs it: a plain script, escape.py beside it, no package
    proc = subprocess.run([sys.executable, str(Path(classroom.__file__)), "notify", "--json", str(path)],
                          env={"PATH": "", "GITHUB_STEP_SUMMARY": str(summary)}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Points" in proc.stdout
    assert workflow_problems(proc.stdout + proc.stderr) == []
    assert workflow_problems(classroom.console(json.loads(path.read_text()))) == []


def test_csv_and_feedback_forge_nothing(tmp_path):
    result = _hostile_result()
    data = outputs.class_csv([result])
    assert csv_problems(data) == []
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[1][0].startswith("'-eve")  # the id is still readable
    [page] = merge.feedback_files(tmp_path, [result])
    assert markdown_problems(page.read_text(encoding="utf-8"), headings=2 + len(result.items)) == []


def test_grade_cli_output_and_job_summary_forge_nothing(tmp_path, monkeypatch, capsys):
    from autograder.grading import batch, grade_cli

    student = "eve\n::error::x"
    result = _hostile_result(student)
    outputs.write_submission(tmp_path / "out", result)
    sub = batch.Submission(student, STAGE, tmp_path)
    report = batch.BatchReport(discovered=1, warnings=[HOSTILE],
                               failed=[batch.Outcome(sub.key, False, error=HOSTILE)])
    monkeypatch.setattr(batch, "run", lambda *a, **k: report)
    monkeypatch.setattr(batch, "discover", lambda paths: ([sub], []))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    p = argparse.ArgumentParser()
    grade_cli.add_arguments(p)
    assert grade_cli.main(p.parse_args([str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"])) == 1
    out = capsys.readouterr()
    assert workflow_problems(out.out) == [] and workflow_problems(out.err) == []
    assert markdown_problems(summary.read_text(encoding="utf-8"), headings=2 + len(result.items)) == []


def test_html_and_the_check_cell_text_forge_nothing():
    page = escape.html(HOSTILE)
    assert "<" not in page and ">" not in page and not _EVIL_CHARS.search(page)
    r = _hostile_result().items[0]
    assert "<" not in re.sub(r"<span[^>]*>|</span>", "", score_badge_html(r))
    text = item_text(r)
    assert plain_problems(text, {FORGED, "## " + FORGED, "```"}) == []
    assert text.splitlines()[0] == catalogue.text("report.header", title=r.item.title, item=r.item.id,
                                                  score=r.score, points=r.max_points)


def test_results_are_cleaned_at_the_data_boundary_however_they_are_filled_in():
    g = GraderResult("softmax", "t", "t", "public")
    g.message, g.hint, g.evidence = HOSTILE, HOSTILE, Evidence(got=HOSTILE)  # as the runner fills them in
    r = ItemResult(registry.items_of(STAGE)[0], [g])
    r.notes.append(HOSTILE)
    for text in (g.message, g.hint, g.evidence.got, json.dumps(r.to_json(), ensure_ascii=False)):
        assert not _EVIL_CHARS.search(text.replace("\n", "")), text
    json.dumps(r.to_json(), ensure_ascii=False).encode("utf-8")  # a lone surrogate could not be written
    assert "\n" in g.message and "```" in g.message  # text stays text: renderers escape it per format


@pytest.mark.parametrize("s", [HOSTILE, STUDENT, "plain text", "", "a\u00e9\u4e2d"])
def test_escapes_are_idempotent_where_they_should_be_and_keep_ordinary_text(s):
    assert escape.clean(escape.clean(s)) == escape.clean(s)
    assert "\n" not in escape.one_line(s) and "\n" not in escape.markdown_text(s)
    assert escape.clean("Cell 3 raised ValueError: d_model 6 % 4 != 0\n  detail") == (
        "Cell 3 raised ValueError: d_model 6 % 4 != 0\n  detail")
    assert escape.csv_cell("ada") == "ada" and escape.csv_cell("1.5") == "1.5"


# --- 11.9: per-test points add up, and the article ------------------------------------------------
@pytest.mark.parametrize("weights", [[1, 1, 1], [1] * 7, [2, 1, 1], [1, 1, 1, 1, 1, 1], [0.3, 0.3, 0.4], [5]])
def test_per_test_max_scores_add_up_exactly_to_the_items_points(weights):
    for item in registry.ITEMS:
        r = ItemResult(item, [GraderResult(item.id, f"t{n}", "t", "public", weight=w) for n, w in enumerate(weights)])
        tests = [t for t in outputs.gradescope(outputs.SubmissionResult("ada", item.stage, [r]))["tests"]]
        parts = [t["max_score"] for t in tests]
        assert round(sum(parts), 9) == item.points, (item.id, parts)
        assert all(abs(p - item.points * w / sum(weights)) <= 1e-4 for p, w in zip(parts, weights))
        assert sum(t["score"] for t in tests) == pytest.approx(item.points, abs=1e-9)


def test_naive_rounding_would_not_add_up():  # the test above can fail: what the old code did
    assert round(sum(round(10 / 3, 4) for _ in range(3)), 9) != 10


@pytest.mark.parametrize("word, expected", [
    ("MultiHeadAttention", "a MultiHeadAttention"), ("Identity", "an Identity"), ("MLP", "an MLP"),
    ("ModuleList", "a ModuleList"), ("Unit", "a Unit"), ("Upsample", "an Upsample"), ("int", "an int"),
    ("float", "a float"), ("hour", "an hour"), ("LSTM", "an LSTM"), ("GELU", "a GELU"), ("x", "an x"),
    ("8-bit tensor", "an 8-bit tensor"), ("Embedding", "an Embedding"), ("LayerNorm", "a LayerNorm")])
def test_the_article_follows_the_sound(word, expected):
    assert catalogue.with_article(word) == expected


def test_the_catalogue_uses_the_article():
    msg = catalogue.text("fail.submodule_type", name="mha", sub="w_q", cls="MultiHeadAttention", got="Identity")
    assert "should be a MultiHeadAttention, but it is an Identity" in msg
    assert "an MultiHeadAttention" not in msg
    assert catalogue.text("report.header", title="t", item="i", score=1.5, points=3) == "t (i): 1.5 / 3 points"
