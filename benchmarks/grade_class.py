"""A class of 100 submissions graded twice: hardened (sandboxed) and by ``nbgrader autograde``.

    .venv/bin/python benchmarks/grade_class.py [--n 100] [--jobs 2] [--skip-nbgrader] [--out build/bench-class]

The class holds stages 01-03 in turn; each submission is the released notebook filled in with
the reference, left untouched (the skeleton), or filled with one of the mutants in tests/mutants
(round-robin). Both graders see the same notebooks:

1. ``python -m autograder grade submitted/ --out graded/ --jobs N``: a fresh command, so the
   time includes starting Python, the pre-forked sandbox workers and writing every report.
2. ``nbgrader autograde <stage>`` for each stage in the same course directory (one kernel per
   notebook, every cell executed, hidden tests restored), after ``generate_assignment``.

Printed and written to ``<out>/grade_class.json``: total wall time of each, the ratio, the
time per submission, and the time to grade one complete submission on its own (a fresh
``grade`` command on the reference of stage 03: what a student's CI job pays). Also the
isolation level the sandbox ran with, and a check that both graders agree on the scores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import hardened_kit as hk  # noqa: E402
from autograder.grading import outputs  # noqa: E402
from autograder import registry
from autograder.instructor.course import generate_release, nbgrader, new_course  # noqa: E402

STAGES = ["01_dot_product_attention", "02_qkv_projections", "03_scaling_and_masking"]


def make_class(course: Path, n: int) -> dict[tuple[str, str], str]:
    """``course/submitted/<student>/<stage>/<notebook>``; returns (student, stage) -> kind."""
    kinds_by_stage = {s: ["reference", "skeleton", *[f"mutant:{m.stem}" for m in sorted((hk.MUTANTS / s).glob("*.py"))]]
                      for s in STAGES}
    made = {}
    for k in range(n):
        stage = STAGES[k % len(STAGES)]
        student = f"s{k // len(STAGES):03d}"
        kinds = kinds_by_stage[stage]
        kind = kinds[(k // len(STAGES)) % len(kinds)]
        if kind == "reference":
            nb = hk.notebook(stage)
        elif kind == "skeleton":
            nb = hk.notebook(stage, skeleton=True)
        else:
            nb = hk.mutant_notebook(hk.MUTANTS / stage / f"{kind.split(':', 1)[1]}.py")
        hk.write(course / "submitted", student, stage, nb)
        made[(student, stage)] = kind
    return made


def run(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t0, proc


def nbgrader_scores(course: Path, made: dict[tuple[str, str], str]) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for (student, stage) in made:
            try:
                scores[(student, stage)] = round(float(gb.find_submission(stage, student).score), 2)
            except MissingEntry:
                scores[(student, stage)] = float("nan")
    return scores


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="submissions in the class (default 100)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel slots for hardened grading")
    ap.add_argument("--out", default=str(REPO / "build" / "bench-class"))
    ap.add_argument("--skip-nbgrader", action="store_true", help="time hardened grading only")
    args = ap.parse_args()

    course = new_course(Path(args.out).resolve())
    print(f"course directory: {course}")
    generate_release(course, STAGES)
    made = make_class(course, args.n)
    kinds = [k.split(":")[0] for k in made.values()]
    print(f"{len(made)} submissions: {kinds.count('reference')} references, {kinds.count('skeleton')} skeletons, "
          f"{kinds.count('mutant')} mutants, stages {STAGES[0][:2]}-{STAGES[-1][:2]}")

    py = sys.executable
    graded = course / "graded"
    t_hard, proc = run([py, "-m", "autograder", "grade", str(course / "submitted"), "--out", str(graded),
                        "--jobs", str(args.jobs), "--no-gradebook", "-q"], cwd=REPO)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr)
        return 1
    results = {key: outputs.read_submission(graded, *key) for key in made}
    per_sub = [r.duration_s for r in results.values()]
    isolation = next(iter(results.values())).isolation
    print(f"hardened:  {t_hard:7.1f} s for {len(made)} submissions ({args.jobs} slots, isolation: {isolation['level']}); "
          f"per submission in its slot: median {statistics.median(per_sub):.2f} s, max {max(per_sub):.2f} s")

    one = course / "one"
    stage = STAGES[-1]
    hk.write(one, "solo", stage, hk.notebook(stage))
    t_one, proc = run([py, "-m", "autograder", "grade", str(one / "solo"), "--out", str(course / "graded-one"),
                       "--jobs", "1", "--no-gradebook", "-q"], cwd=REPO)
    print(f"one complete submission on its own (fresh command, stage {stage[:2]} reference): {t_one:.1f} s")

    summary = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "submissions": len(made), "jobs": args.jobs, "isolation": isolation,
        "hardened_total_s": round(t_hard, 2),
        "hardened_per_submission_median_s": round(statistics.median(per_sub), 3),
        "hardened_per_submission_mean_s": round(statistics.mean(per_sub), 3),
        "hardened_throughput_s_per_submission": round(t_hard / len(made), 3),
        "one_submission_cold_s": round(t_one, 2),
    }
    if not args.skip_nbgrader:
        t_nb = 0.0
        for s in STAGES:
            dt, proc = run([py, "-m", "nbgrader", "autograde", s, "--force"], cwd=course,
                           env={**os.environ, "PATH": os.pathsep.join([str(Path(py).parent), os.environ.get("PATH", "")])})
            (course / f"autograde-{s}.log").write_text(proc.stdout + proc.stderr)
            print(f"nbgrader autograde {s}: {dt:.1f} s")
            t_nb += dt
        nb_scores = nbgrader_scores(course, made)
        hard_scores = {k: r.score for k, r in results.items()}
        disagree = sorted(k for k in made if abs(nb_scores[k] - hard_scores[k]) > 0.011)
        print(f"nbgrader:  {t_nb:7.1f} s for {len(made)} submissions ({t_nb / len(made):.2f} s each)")
        print(f"ratio:     hardened grading is {t_nb / t_hard:.1f}x faster than nbgrader autograde")
        print(f"scores:    {len(made) - len(disagree)} of {len(made)} submissions score the same in both")
        for k in disagree[:10]:
            print(f"           {k[0]}/{k[1]} ({made[k]}): nbgrader {nb_scores[k]}, hardened {hard_scores[k]}")
        summary.update({"nbgrader_total_s": round(t_nb, 2), "nbgrader_per_submission_s": round(t_nb / len(made), 3),
                        "speedup": round(t_nb / t_hard, 2), "score_disagreements": [f"{a}/{b}" for a, b in disagree]})
    (course / "grade_class.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"written: {course / 'grade_class.json'}")
    shutil.rmtree(course / "one", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
