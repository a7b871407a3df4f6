"""The GitHub Actions workflows: valid (actionlint, with shellcheck on every `run:`), pinned, least
privilege, and no secret where student code runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflow_kit import ALL_WORKFLOWS, REPO, actionlint, load

# actions/<name>@<full commit SHA> # <tag>: the tags these SHAs were taken from (see docs/instructors.md)
PINNED = {
    "actions/checkout": ("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "actions/setup-python": ("e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
}
RUNS_STUDENT_CODE = re.compile(r"python -m autograder grade\b|jupyter|nbgrader autograde|make test")


def _ids(paths):
    return [str(p.relative_to(REPO)) for p in paths]


def test_every_workflow_passes_actionlint():
    lint = actionlint(ALL_WORKFLOWS)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    """The lint is not a formality: an unquoted variable and an unknown job key both fail it."""
    bad = tmp_path / "bad.yml"
    text = (REPO / ".github/workflows/ci.yml").read_text()
    bad.write_text(text.replace("timeout-minutes: 40", "timeout-minute: 40").replace("run: make test", "run: make $TARGET"))
    lint = actionlint([bad])
    assert lint.returncode == 1
    assert "timeout-minute" in lint.stdout and "SC2086" in lint.stdout


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=_ids(ALL_WORKFLOWS))
def test_actions_are_pinned_by_commit_sha(path):
    uses = re.findall(r"uses:\s*([^\s#]+)(?:\s*#\s*(\S+))?", path.read_text())
    assert uses
    for ref, comment in uses:
        action, _, sha = ref.partition("@")
        assert action in PINNED, f"{action} is not one of the reviewed actions"
        assert (sha, comment) == PINNED[action], f"{ref} # {comment}"


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=_ids(ALL_WORKFLOWS))
def test_least_privilege(path):
    wf = load(path)
    assert wf["permissions"] == {"contents": "read"}, "the workflow's default token reads, and only contents"
    for name, job in wf["jobs"].items():
        perms = job.get("permissions", wf["permissions"])
        writes = {k for k, v in perms.items() if v == "write"}
        assert writes <= {"checks"}, f"{name} writes {writes}"
        for s in job["steps"]:
            if s.get("uses", "").startswith("actions/checkout@"):
                assert s.get("with", {}).get("persist-credentials") is False, f"{name}: checkout keeps the token"


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=_ids(ALL_WORKFLOWS))
def test_no_secret_or_token_in_a_job_that_runs_student_code(path):
    wf = load(path)
    for name, job in wf["jobs"].items():
        text = repr(job)
        if RUNS_STUDENT_CODE.search(text):
            assert "secrets." not in text and "github.token" not in text and "GITHUB_TOKEN" not in text, name
            assert not {k for k, v in job.get("permissions", wf["permissions"]).items() if v == "write"}, name


def test_only_the_collect_job_sees_the_classroom_token():
    wf = load(REPO / ".github/workflows/grade-class.yml")
    holders = [name for name, job in wf["jobs"].items() if "secrets." in repr(job)]
    assert holders == ["collect"]
    collect = wf["jobs"]["collect"]
    assert collect["permissions"] == {}
    assert not any("actions/checkout" in s.get("uses", "") for s in collect["steps"]), "collect runs no course code"
    assert not RUNS_STUDENT_CODE.search(repr(collect))


def test_the_student_repository_token_that_writes_is_in_a_job_without_student_code():
    wf = load(REPO / ".github/student/grade.yml")
    report = wf["jobs"]["report"]
    assert report["name"] == "Autograding Tests"  # the check run GitHub Classroom reads
    assert report["permissions"]["checks"] == "write"
    assert [s["with"]["sparse-checkout"].split() for s in report["steps"] if "uses" in s] == [
        ["autograder/grading/classroom.py", "autograder/escape.py"]]  # escape.py: classroom.py's only import
    assert [s["run"] for s in report["steps"] if "run" in s] == [
        'python3 autograder/grading/classroom.py notify --result-base64 "$RESULT"']


def test_ci_runs_make_test_and_check_release_on_every_supported_python():
    wf = load(REPO / ".github/workflows/ci.yml")
    assert set(wf["on"]) >= {"push", "pull_request"}
    job = wf["jobs"]["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12"]
    runs = [s.get("run") for s in job["steps"]]
    assert "make test" in runs and "make check-release" in runs
    assert job["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert [u["with"]["path"] for u in uploads] == ["build/screenshots/"]
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.10"' in pyproject
