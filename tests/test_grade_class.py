"""The instructor's grading workflow (.github/workflows/grade-class.yml), its steps run here:
collect from git repositories (local ones standing in for GitHub), grade in two shards with the
hidden graders, merge into one class CSV, one gradebook and per-student feedback."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from workflow_kit import REPO, load, run_step, step
from autograder.grading import outputs
from autograder import registry
from autograder.instructor import submissions

WORKFLOW = REPO / ".github/workflows/grade-class.yml"
S1 = registry.STAGES[0].id
NB = registry.stage(S1).notebook

pytestmark = pytest.mark.slow


def _git(repo: Path, *args: str, date: str = "2026-01-10T12:00:00Z") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@example.org", "GIT_COMMITTER_NAME": "s",
           "GIT_COMMITTER_EMAIL": "s@example.org", "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _student_repo(remotes: Path, name: str, commits: list[tuple[str, dict | None]]) -> None:
    repo = remotes / "course" / f"{name}.git"  # as GitHub serves it: <base>/<owner>/<repo>.git
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    for date, nb in commits:
        path = repo / "assignments" / S1 / NB
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(nb, indent=1) if nb is not None else "not a notebook")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "work", date=date)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Three student repositories collected, graded in two shards and merged, as the workflow does."""
    tmp = tmp_path_factory.mktemp("grade-class")
    release = submissions.load(REPO / "assignments" / S1 / NB)
    solution = submissions.load(REPO / "solutions" / S1 / NB)
    mutant = (REPO / "tests/mutants" / S1 / "dpa_softmax_over_queries.py").read_text()
    remotes = tmp / "remotes"
    _student_repo(remotes, "ada-work", [("2026-01-10T12:00:00Z", submissions.fill(release, solution))])
    # ben's reference came after the deadline: the skeleton he had before it is what is graded
    _student_repo(remotes, "ben-work", [("2026-01-10T12:00:00Z", release),
                                        ("2026-03-01T12:00:00Z", submissions.fill(release, solution))])
    _student_repo(remotes, "cara-work", [("2026-01-10T12:00:00Z", submissions.fill(release, solution, mutant))])
    os.symlink("/etc/hostname", remotes / "course/cara-work.git/assignments" / S1 / "link.txt")
    _git(remotes / "course/cara-work.git", "add", "-A")
    _git(remotes / "course/cara-work.git", "commit", "-q", "-m", "a link")

    wf = load(WORKFLOW)
    work = tmp / "runner"
    work.mkdir()
    listed = run_step(step(wf, "collect", "List the repositories"), work,
                      {"REPOSITORIES": "course/ada-work ben=course/ben-work,cara=course/cara-work"})
    assert listed.returncode == 0, listed.stderr
    cloned = run_step(step(wf, "collect", "Clone them and keep the notebooks"), work,
                      {"GIT_BASE_URL": f"file://{remotes}", "DEADLINE": "2026-02-01T00:00:00Z"})
    assert cloned.returncode == 0, cloned.stdout + cloned.stderr
    planned = run_step(step(wf, "collect", "Plan the shards"), work, {"SHARDS": "2"})
    assert planned.returncode == 0, planned.stderr
    shards = json.loads(planned.outputs["shards"])
    # the course's checkout: the grade jobs run in the course repository, with submissions/ beside it
    course = tmp / "course"
    course.mkdir()
    shutil.copytree(work / "submissions", course / "submissions")
    for shard in shards:  # the matrix: one job per shard (python -m autograder is this repository's package)
        g = run_step(step(wf, "grade", "Grade"), course,
                     {"SHARD": str(shard), "TOTAL": planned.outputs["total"], "ISOLATION": "auto"})
        assert g.returncode == 0, g.stdout + g.stderr
    merged = run_step(step(wf, "merge", "Merge"), course)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    return {"work": work, "course": course, "listed": listed, "planned": planned, "merged": merged}


def test_collect_lists_input_repositories_with_student_ids(graded_class):
    repos = (graded_class["work"] / "repos.txt").read_text().split("\n")
    assert repos[:3] == ["ada-work course/ada-work", "ben course/ben-work", "cara course/cara-work"]


def test_collect_keeps_notebooks_only_as_of_the_deadline(graded_class):
    subs = graded_class["work"] / "submissions"
    files = sorted(str(p.relative_to(subs)) for p in subs.rglob("*") if p.is_file() or p.is_symlink())
    assert files == [f"{s}/{S1}/{NB}" for s in ("ada-work", "ben", "cara")]  # no .git, no link
    ben = json.loads((subs / "ben" / S1 / NB).read_text())
    assert ben == submissions.load(REPO / "assignments" / S1 / NB)  # the pre-deadline skeleton
    assert not (graded_class["work"] / "clones").exists()
    assert graded_class["planned"].outputs == {"total": "2", "shards": "[1,2]"}


def test_shards_split_the_class_without_overlap(graded_class):
    course = graded_class["course"]
    seen = [sorted(str(p.parent.relative_to(course / "graded" / f"shard-{i}"))
                   for p in (course / "graded" / f"shard-{i}").glob("*/*/results.json")) for i in (1, 2)]
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == [f"{s}/{S1}" for s in ("ada-work", "ben", "cara")]


def test_merge_writes_the_class_csv_gradebook_and_feedback(graded_class):
    course = graded_class["course"]
    full = registry.max_points(S1)
    with (course / "class/grades.csv").open() as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"ada-work", "ben", "cara"}
    assert float(rows["ada-work"]["total"]) == full and float(rows["ben"]["total"]) == 0
    assert 0 < float(rows["cara"]["total"]) < full

    # the hidden graders ran (this is the instructor's grading)
    ada = json.loads((course / "class/ada-work" / S1 / "results.json").read_text())
    assert any(t["visibility"] == "after_published" for t in ada["tests"])

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'class/gradebook.db'}") as gb:
        for student in rows:
            sub = gb.find_submission(S1, student)
            assert sub.score == pytest.approx(float(rows[student]["total"]))

    for student in rows:
        fb = (course / "class/feedback" / f"{student}.md").read_text()
        assert fb.startswith(f"# Feedback for {student}: {float(rows[student]['total']):g} / {full:g} points")
    assert "3 students graded" in graded_class["merged"].summary


def test_merge_keeps_the_latest_result_of_a_submission_graded_twice(graded_class, tmp_path):
    course = graded_class["course"]
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(course / "class" / "ada-work", old / "ada-work")
    shutil.copytree(course / "class" / "cara", new / "ada-work")  # a later, different result for ada
    data = json.loads((new / "ada-work" / S1 / "results.json").read_text())
    data["extra_data"]["student"] = "ada-work"
    data["extra_data"]["graded_at"] += 3600
    (new / "ada-work" / S1 / "results.json").write_text(json.dumps(data))
    from autograder.grading.merge import merge

    [result] = merge([old, new], tmp_path / "out")
    assert result.score == outputs.read_submission(course / "class", "cara", S1).score
    [result] = merge([new, old], tmp_path / "out2")  # the order of the folders does not matter
    assert result.score == outputs.read_submission(course / "class", "cara", S1).score
