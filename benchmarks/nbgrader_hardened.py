"""``nbgrader autograde`` of one stage through the hardened grader: one grader per notebook vs one batch.

    .venv/bin/python benchmarks/nbgrader_hardened.py [--students 6] [--stage 01_dot_product_attention] [--out DIR]

A temp course gets the stage's release and a class of ``--students`` submissions (the reference,
the skeleton and mutants from tests/mutants, round-robin). Then ``nbgrader autograde STAGE
--force`` runs twice in it: with ``--HardenedScores.batch=False`` (before: ``python -m autograder
grade --jobs 1`` per notebook) and with the default (after: one ``grade`` batch for the class).
Printed: the wall time of each run, the ratio, and whether both recorded the same gradebook scores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import registry  # noqa: E402
from autograder.instructor.course import generate_release, nbgrader, new_course  # noqa: E402
from autograder.instructor.demo import MUTANTS, Student, read_gradebook, write_class  # noqa: E402


def make_class(stage_id: str, n: int) -> tuple[Student, ...]:
    kinds = ["reference", "skeleton", *(f"mutant:{p.stem}" for p in sorted((MUTANTS / stage_id).glob("*.py")))]
    return tuple(Student(f"s{k:03d}", kinds[k % len(kinds)], {stage_id: kinds[k % len(kinds)]}) for k in range(n))


def timed_autograde(course: Path, stage_id: str, *extra: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = nbgrader("autograde", stage_id, "--force", *extra, course=course)
    return time.perf_counter() - start, result.log


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=6)
    ap.add_argument("--stage", default=registry.STAGES[0].id)
    ap.add_argument("--out", default=None, help="course folder (default: a temp folder)")
    args = ap.parse_args()
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-nbgrader-hardened-"))
    course = new_course(root / "course")
    students = make_class(args.stage, args.students)
    generate_release(course, [args.stage])
    write_class(course, students)
    nbgrader("autograde", args.stage, "--create", "--HardenedScores.enabled=False", course=course)  # students in the db

    before, _ = timed_autograde(course, args.stage, "--HardenedScores.batch=False")
    scores_before = {k: g.scores for k, g in read_gradebook(course, students).items()}
    after, log = timed_autograde(course, args.stage)
    scores_after = {k: g.scores for k, g in read_gradebook(course, students).items()}

    batches = log.count("HardenedScores: one batch graded")
    alone = log.count("graded alone")
    print(f"nbgrader autograde {args.stage}, {args.students} students, course {course}")
    print(f"  before (one grader per notebook): {before:6.1f} s")
    print(f"  after  (one batch for the class): {after:6.1f} s  ({batches} batch, {alone} graded alone)")
    print(f"  speed-up: {before / after:.2f}x; same gradebook scores: {scores_before == scores_after}")
    return 0 if scores_before == scores_after else 1


if __name__ == "__main__":
    sys.exit(main())
