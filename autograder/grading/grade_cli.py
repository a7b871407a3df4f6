"""The ``grade`` command of ``python -m autograder`` (its options, and printing the outcome).

    python -m autograder grade submitted/ --out build/graded              # the whole class
    python -m autograder grade submitted/ada --out build/graded           # one student
    python -m autograder grade submitted/ --out build/graded --shard 2/4  # one of four CI jobs

Student code runs in a sandboxed worker, never in this process; see ``autograder/grading/batch.py``
and ``autograder/sandbox/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submissions", nargs="+", metavar="SUBMISSIONS",
                   help="a folder of <student>/<assignment>/*.ipynb (like nbgrader's submitted/), "
                        "or one student's folder, or one assignment folder")
    p.add_argument("--out", required=True, help="where reports go: <out>/<student>/<assignment>/results.json, "
                                                "report.md, classroom.json; <out>/grades.csv")
    p.add_argument("--jobs", "-j", type=int, default=None, help="submissions graded in parallel (default: cores)")
    p.add_argument("--force", action="store_true", help="regrade submissions that already have results")
    p.add_argument("--shard", metavar="i/N", help="grade only shard i of N (1-based), e.g. for a CI matrix")
    p.add_argument("--isolation", choices=("auto", "bwrap", "rlimits"), default="auto",
                   help="auto: bubblewrap where it works, else resource limits only (always reported)")
    p.add_argument("--public-only", action="store_true", help="run the public graders only")
    p.add_argument("--gradebook", default="auto",
                   help="nbgrader gradebook (path or database URL) to write the scores to; default: the "
                        "course's gradebook.db when SUBMISSIONS is a course's submitted/, else <out>/gradebook.db")
    p.add_argument("--no-gradebook", action="store_true", help="do not write a gradebook")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per call of student code (default 10)")
    p.add_argument("--memory-mb", type=int, default=2048, help="memory a worker may add (default 2048 MB)")
    p.add_argument("--function-timeout", type=float, default=120.0,
                   help="seconds for all calls of one of the student's functions together (default 120)")
    p.add_argument("--submission-timeout", type=float, default=600.0,
                   help="seconds for all of one submission's checks (default 600)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    from . import batch
    from ..catalogue import text
    from ..escape import markdown_text, workflow_safe  # student text on CI's log and job summary
    from ..sandbox.cage import CageError, Limits

    limits = Limits(call_seconds=args.time_limit, memory_mb=args.memory_mb,
                    function_seconds=args.function_timeout, submission_seconds=args.submission_timeout)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr))
    try:
        report = batch.run(args.submissions, args.out, jobs=args.jobs, force=args.force, shard_spec=args.shard,
                           isolation=args.isolation, hidden=not args.public_only, limits=limits,
                           gradebook=None if args.no_gradebook else args.gradebook,
                           progress=not args.quiet and sys.stderr.isatty(), log=log)
    except (ValueError, CageError) as exc:
        print(f"grade: {workflow_safe(exc)}", file=sys.stderr)
        return 2
    for w in report.warnings:
        print(f"warning: {workflow_safe(w)}", file=sys.stderr)  # warnings name student folders
    if report.discovered == 0:
        print("grade: no submissions found (expected <student>/<assignment>/*.ipynb).", file=sys.stderr)
        return 2
    graded = text("batch.submission") if report.graded == 1 else text("batch.submissions", n=report.graded)
    print(text("batch.summary", n=graded, seconds=report.seconds, skipped=report.skipped,
               failed=len(report.failed)))
    for o in report.failed:
        print(f"  could not grade {workflow_safe(o.key)}: {workflow_safe(o.error)}")
    if report.csv:
        print(f"  class CSV:  {report.csv}")
    print(f"  reports:    {Path(args.out) / '<student>' / '<assignment>'}/results.json, report.md, classroom.json")
    if report.gradebook:
        print(f"  gradebook:  {report.gradebook}")
    elif report.gradebook_error:
        print(f"  gradebook not written: {report.gradebook_error}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and report.discovered:
        from . import outputs

        subs, _ = batch.discover(args.submissions)
        with open(summary, "a", encoding="utf-8") as fh:
            for s in subs:
                r = outputs.read_submission(Path(args.out), s.student, s.assignment)
                if r is not None:
                    fh.write(f"### {markdown_text(s.student)}\n\n{outputs.markdown(r)}\n")
    return 1 if report.failed else 0
