"""autograder/grading/classroom.py: GitHub Classroom's runner result from the grader's reports, and the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workflow_kit import FakeGitHub
from autograder.grading import classroom

SCRIPT = Path(classroom.__file__)


def _write(out: Path, student: str, stage: str, status: str, max_score: float, scores: list[float]) -> None:
    folder = out / student / stage
    folder.mkdir(parents=True)
    tests = [{"name": f"item {n}", "status": "pass" if s else "fail", "score": s, "message": f"hint {n}"}
             for n, s in enumerate(scores)]
    (folder / "classroom.json").write_text(json.dumps({"version": 1, "status": status, "max_score": max_score,
                                                       "tests": tests}))


def test_combine_adds_up_every_stage(tmp_path):
    _write(tmp_path, "me", "01_dot_product_attention", "pass", 10, [4, 6])
    _write(tmp_path, "me", "02_qkv_projections", "fail", 10, [3, 0, 1.5])
    result = classroom.combine(tmp_path)
    assert result["version"] == 1 and result["max_score"] == 20 and result["status"] == "fail"
    assert [t["name"] for t in result["tests"]] == ["01 · item 0", "01 · item 1", "02 · item 0", "02 · item 1",
                                                     "02 · item 2"]
    assert classroom.points(result) == (14.5, 20.0)
    assert classroom.decode(classroom.encode(result)) == result


@pytest.mark.parametrize("statuses, overall", [(["pass", "pass"], "pass"), (["pass", "fail"], "fail"),
                                               (["fail", "error"], "error"), ([], "error")])
def test_combined_status(tmp_path, statuses, overall):
    for n, st in enumerate(statuses):
        _write(tmp_path, "me", f"0{n + 1}_stage", st, 1, [1 if st == "pass" else 0])
    assert classroom.combine(tmp_path)["status"] == overall


def test_combine_writes_the_job_output(tmp_path):
    _write(tmp_path, "me", "01_dot_product_attention", "fail", 10, [2, 0])
    github_output = tmp_path / "github_output"
    proc = subprocess.run([sys.executable, str(SCRIPT), "combine", str(tmp_path), "--github-output", "result"],
                          env={"GITHUB_OUTPUT": str(github_output), "PATH": ""}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    name, value = github_output.read_text().strip().split("=", 1)
    assert name == "result" and classroom.points(classroom.decode(value)) == (2.0, 10.0)
    assert "Points 2/10" in proc.stdout


def test_combine_without_reports_fails(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "combine", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "no classroom.json" in proc.stderr


def _notify(result: dict, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "notify", "--result-base64", classroom.encode(result)],
                          env={"PATH": "", **env}, capture_output=True, text=True)


RESULT = {"version": 1, "status": "fail", "max_score": 10, "tests": [
    {"name": "01 · softmax", "status": "fail", "score": 2.85, "message": "✗ inputs as large as 1000"},
    {"name": "01 · attention", "status": "pass", "score": 6, "message": ""}]}


def test_notify_prints_the_tests_and_points_without_a_token(tmp_path):
    summary = tmp_path / "summary.md"
    proc = _notify(RESULT, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 0
    assert "❌ 01 · softmax: 2.85" in proc.stdout and "✗ inputs as large as 1000" in proc.stdout
    assert "Points 8.85/10" in proc.stdout and "not updated" in proc.stdout
    assert "### Points 8.85/10" in summary.read_text()


def test_notify_updates_the_autograding_check_run():
    server = FakeGitHub()
    try:
        proc = _notify(RESULT, {"GITHUB_TOKEN": "abc", "GITHUB_REPOSITORY": "org/repo", "GITHUB_RUN_ID": "42",
                                "GITHUB_API_URL": server.url})
    finally:
        server.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["method"] for r in server.requests] == ["GET", "GET", "PATCH"]
    assert server.requests[0]["path"] == "/repos/org/repo/actions/runs/42"
    assert server.requests[1]["path"] == "/repos/org/repo/check-suites/7/check-runs?check_name=Autograding+Tests"
    output = server.requests[2]["body"]["output"]
    assert output["summary"] == output["text"] == "Points 8.85/10"
    assert output["annotations"][0]["message"] == "Points 8.85/10"


def test_notify_survives_an_api_failure():
    proc = _notify(RESULT, {"GITHUB_TOKEN": "abc", "GITHUB_REPOSITORY": "org/repo", "GITHUB_RUN_ID": "404",
                            "GITHUB_API_URL": "http://127.0.0.1:9"})
    assert proc.returncode == 0 and "::warning::could not report the points" in proc.stdout
    assert "Points 8.85/10" in proc.stdout


def test_notify_rejects_what_is_not_a_result():
    proc = subprocess.run([sys.executable, str(SCRIPT), "notify", "--result-base64", "bm90IGpzb24="],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "not a runner result" in proc.stderr


def test_the_job_summary_is_in_the_graders_language(tmp_path):
    """The reporting job has no catalogue: classroom.json names the language, and the summary follows it
    (the check run keeps "Points x/y", which GitHub Classroom reads)."""
    summary = tmp_path / "summary.md"
    proc = _notify({**RESULT, "language": "es"}, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 0 and "Points 8.85/10" in proc.stdout
    assert summary.read_text(encoding="utf-8").startswith("### Puntos 8,85/10\n\nSolo las comprobaciones públicas")
    other = tmp_path / "other.md"
    _notify({**RESULT, "language": "<script>"}, {"GITHUB_STEP_SUMMARY": str(other)})
    assert other.read_text(encoding="utf-8").startswith("### Points 8.85/10")  # an unknown language is English


def test_combine_passes_the_language_on(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    from autograder.grading import outputs
    from autograder import registry
    from autograder.results import ItemResult

    result = outputs.SubmissionResult("ana", "01_dot_product_attention",
                                      [ItemResult(i) for i in registry.items_of("01_dot_product_attention")])
    folder = tmp_path / "ana" / "01_dot_product_attention"
    folder.mkdir(parents=True)
    (folder / "classroom.json").write_text(json.dumps(outputs.classroom(result)), encoding="utf-8")
    assert classroom.combine(tmp_path)["language"] == "es"
