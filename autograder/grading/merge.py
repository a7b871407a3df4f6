"""``python -m autograder merge``: one class from the reports of several grading shards.

    python -m autograder grade submissions/ --out graded/shard-1 --shard 1/4 --no-gradebook   # x4, in CI
    python -m autograder merge graded/shard-* --out class/

Each shard's ``--out`` folder holds ``<student>/<assignment>/{results.json, report.md,
classroom.json}``. The merge copies every submission's folder into ``--out`` (a submission
graded in two shards keeps the result graded last), then writes from the stored results alone:

- ``grades.csv``: the class CSV (one row per student), as ``grade`` writes it;
- ``gradebook.db``: nbgrader's gradebook with every item's score (``--gradebook`` to choose it,
  ``--no-gradebook`` to skip), so formgrader shows the class;
- ``feedback/<student>.md``: each student's reports, every assignment in one file, to return.

Nothing is graded again and no student code runs: this is bookkeeping on trusted JSON.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .. import escape, registry
from . import outputs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("graded", nargs="+", metavar="GRADED", help="--out folders of `python -m autograder grade` (shards)")
    p.add_argument("--out", required=True, help="the merged class: <out>/<student>/<assignment>/, grades.csv, "
                                                "gradebook.db, feedback/")
    p.add_argument("--gradebook", default=None, help="gradebook path or database URL (default: <out>/gradebook.db)")
    p.add_argument("--no-gradebook", action="store_true", help="do not write a gradebook")


def _submissions(folder: Path) -> list[tuple[str, str, Path]]:
    stages = {s.id for s in registry.STAGES}
    found = []
    for results in sorted(folder.glob("*/*/results.json")):
        sub = results.parent
        if sub.name in stages:
            found.append((sub.parent.name, sub.name, sub))
    return found


def merge(graded: list[str | Path], out: str | Path) -> list[outputs.SubmissionResult]:
    """Copy every graded submission into ``out``; returns the results stored there, sorted."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    latest: dict[tuple[str, str], tuple[float, Path]] = {}
    for folder in map(Path, graded):
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
        for student, assignment, sub in _submissions(folder):
            result = outputs.read_submission(folder, student, assignment)
            if result is None:  # unreadable: its shard will grade it again on the next run
                continue
            key = (student, assignment)
            if key not in latest or result.graded_at >= latest[key][0]:
                latest[key] = (result.graded_at, sub)
    for (student, assignment), (_, sub) in sorted(latest.items()):
        target = outputs.submission_dir(out, student, assignment)
        if target.resolve() == sub.resolve():
            continue
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        # results.json last, as grade writes it: a folder with results.json is complete
        files = sorted(p for p in sub.iterdir() if p.is_file())
        target.mkdir()
        for p in sorted(files, key=lambda p: p.name == "results.json"):
            shutil.copy2(p, target / p.name)
    results = [outputs.read_submission(out, s, a) for (s, a) in sorted(latest)]
    return [r for r in results if r is not None]


def feedback_files(out: str | Path, results: list[outputs.SubmissionResult]) -> list[Path]:
    """``<out>/feedback/<student>.md``: every report of one student, in stage order."""
    order = {s.id: n for n, s in enumerate(registry.STAGES)}
    by_student: dict[str, list[outputs.SubmissionResult]] = {}
    for r in results:
        by_student.setdefault(r.student, []).append(r)
    written = []
    for student, rs in sorted(by_student.items()):
        rs.sort(key=lambda r: order.get(r.assignment, len(order)))
        total = round(sum(r.score for r in rs), 2)
        max_total = sum(r.max_score for r in rs)
        text = [f"# Feedback for {escape.markdown_text(student)}: {total:g} / {max_total:g} points", ""]
        text += [outputs.markdown(r).rstrip() + "\n" for r in rs]
        path = Path(out) / "feedback" / f"{student}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(text), encoding="utf-8")
        written.append(path)
    return written


def main(args: argparse.Namespace) -> int:
    try:
        results = merge(args.graded, args.out)
    except ValueError as exc:
        print(f"merge: {exc}", file=sys.stderr)
        return 2
    if not results:
        print("merge: no graded submissions found (expected <student>/<assignment>/results.json).", file=sys.stderr)
        return 2
    out = Path(args.out)
    csv_path = outputs.write_class_csv(out, results)
    feedback = feedback_files(out, results)
    students = len({r.student for r in results})
    print(f"Merged {len(results)} graded submissions of {students} students from {len(args.graded)} folders.")
    print(f"  class CSV:  {csv_path}")
    print(f"  feedback:   {out / 'feedback'}/<student>.md ({len(feedback)} files)")
    if not args.no_gradebook:
        url = args.gradebook or str(out / "gradebook.db")
        url = url if "://" in url else f"sqlite:///{Path(url).resolve()}"
        try:
            n = outputs.write_gradebook(url, results)
        except ImportError:
            print("  gradebook not written: nbgrader is not installed (pip install '.[instructor]')")
            return 1
        print(f"  gradebook:  {url} ({n} grades)")
    return 0
