"""``make demo``: release the course, grade an example class, show it in nbgrader, print the table.

The class is made from the repository itself: the reference solutions, the untouched release,
realistic wrong implementations from ``tests/mutants`` and four kinds of bad input (a notebook
that is not valid JSON, tampered check cells, a renamed function, an import that fails). In a fresh
course directory (``build/demo`` by default): nbgrader's ``generate_assignment``, the hardened
grader (``python -m autograder grade``) over the whole class, writing nbgrader's gradebook, then
nbgrader's own ``autograde`` and ``generate_feedback`` for stage 01 (``--full``: every stage), which
execute the notebooks in a kernel and take the hardened scores already computed
(``--HardenedScores.results``) instead of grading again.
"""

from __future__ import annotations

import csv
import html
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import escape, registry
from . import intake, submissions
from ..grading import outputs
from ..catalogue import text
from .course import REPO, generate_release, nbgrader, new_course

MUTANTS = REPO / "tests" / "mutants"
HANDIN = REPO / "tests" / "handin"


@dataclass(frozen=True)
class Student:
    id: str
    story: str  # what this submission is, for the table's last column
    # stage id -> "reference" | "skeleton" | "mutant:<file stem>" | "broken_json" | "tampered" | "renamed" | "import_error"
    work: dict[str, str] = field(default_factory=dict)
    name: str = ""  # "First Last": the roster's names, so formgrader lists names, not "None, None"


STAGE_IDS = tuple(s.id for s in registry.STAGES)
S1, S2, S3 = STAGE_IDS[:3]


def _mutants(stage_id: str, chosen: dict[str, str], index: int) -> str:
    """The chosen mutant of a stage, else the index-th in the corpus (the reference if none)."""
    if stage_id in chosen:
        return f"mutant:{chosen[stage_id]}"
    files = sorted((MUTANTS / stage_id).glob("*.py"))
    return f"mutant:{files[index % len(files)].stem}" if files else "reference"


S8, S9 = "08_decoder_only", "09_encoder_only"
# The classic mistakes of the GPT and BERT stages (issue 12), not just the corpus' n-th file.
_CARMEN = {S1: "softmax_no_max_subtraction", S2: "qkv_no_transpose", S3: "sdpa_no_scale",
           S8: "block_post_ln", S9: "mask_specials"}
_DARIO = {S1: "dpa_softmax_over_queries", S2: "cross_queries_from_x", S3: "sdpa_mask_inverted",
          S8: "gpt_untied_head", S9: "loss_all_positions"}

CLASS: tuple[Student, ...] = (
    Student("ada", "reference solutions", {s: "reference" for s in STAGE_IDS}, name="Ada Lovelace"),
    Student("ben", "untouched release", {s: "skeleton" for s in STAGE_IDS}, name="Ben Okafor"),
    Student("carmen", "a mistake per stage: no max-subtraction, x @ W, no 1/√d_k, …, a post-LN GPT block, [MASK] on special tokens",
            {s: _mutants(s, _CARMEN, 0) for s in STAGE_IDS}, name="Carmen Ruiz"),
    Student("dario", "a mistake per stage: softmax over queries, queries from x, mask inverted, …, an untied GPT head, the MLM loss over every position",
            {s: _mutants(s, _DARIO, 1) for s in STAGE_IDS}, name="Darío Fernández"),
    Student("elena", "calls F.scaled_dot_product_attention", {
        S1: "reference", S2: "reference", S3: "mutant:sdpa_calls_builtin"}, name="Elena García"),
    Student("fede", "notebook is not valid JSON", {S1: "broken_json"}, name="Federico Sanz"),
    Student("gala", "deleted and edited check cells", {S1: "tampered"}, name="Gala Pérez"),
    Student("hugo", "renamed self_attention", {S2: "renamed"}, name="Hugo Martín"),
    Student("ines", "an import that fails", {S3: "import_error"}, name="Inés Moreno"),
)


def _submission_text(kind: str, release_nb: dict, solution_nb: dict, stage_id: str) -> str:
    if kind == "skeleton":
        nb = release_nb
    elif kind == "reference":
        nb = submissions.fill(release_nb, solution_nb)
    elif kind.startswith("mutant:"):
        source = (MUTANTS / stage_id / f"{kind.split(':', 1)[1]}.py").read_text()
        nb = submissions.fill(release_nb, solution_nb, source)
    elif kind == "broken_json":
        return submissions.broken_json(submissions.fill(release_nb, solution_nb))
    elif kind == "tampered":
        items = [i.id for i in registry.items_of(stage_id)]
        nb = submissions.tamper_check_cells(submissions.fill(release_nb, solution_nb), delete=items[0], edit=items[-1])
    elif kind == "renamed":
        nb = submissions.rename_function(submissions.fill(release_nb, solution_nb), "self_attention", "self_attn")
    elif kind == "import_error":
        nb = submissions.import_error(submissions.fill(release_nb, solution_nb), "scaled_dot_product_attention_solution")
    else:
        raise ValueError(f"unknown kind of submission {kind!r}")
    return submissions.json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _released() -> str:
    """The release folder of the course's language (assignments/, or assignments_es/ in Spanish)."""
    from .bilingual import release_directory
    from ..catalogue import language

    return release_directory(language())


def write_class(course: Path, students: tuple[Student, ...] = CLASS) -> None:
    """Put every student's notebooks under ``course/submitted/<student>/<stage>/``."""
    for stage in _stages_of(students):
        release_nb = submissions.load(course / _released() / stage.id / stage.notebook)
        solution_nb = submissions.load(course / "solutions" / stage.id / stage.notebook)
        for st in students:
            if stage.id in st.work:
                path = course / "submitted" / st.id / stage.id / stage.notebook
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(_submission_text(st.work[stage.id], release_nb, solution_nb, stage.id), encoding="utf-8")
                handin = HANDIN / stage.id  # what the reference hands in besides its notebook (a checkpoint)
                if st.work[stage.id] == "reference" and handin.is_dir():
                    for extra in handin.iterdir():
                        if extra.is_file():
                            shutil.copy2(extra, path.parent / extra.name)


@dataclass
class Grade:
    scores: dict[str, float | None]  # item id -> points (None: not graded)
    problems: list[str]


def read_gradebook(course: Path, students: tuple[Student, ...] = CLASS) -> dict[tuple[str, str], Grade]:
    """(student, stage) -> the item scores nbgrader stored, and the problems found."""
    from nbgrader.api import Gradebook, MissingEntry

    grades: dict[tuple[str, str], Grade] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for st in students:
            for stage in registry.STAGES:
                if stage.id not in st.work:
                    continue
                submitted = course / "submitted" / st.id / stage.id / stage.notebook
                release = course / _released() / stage.id / stage.notebook
                problems = intake.before_grading(submitted, release)
                scores: dict[str, float | None] = {}
                for item in registry.items_of(stage.id):
                    try:
                        g = gb.find_grade(item.id, Path(stage.notebook).stem, stage.id, st.id)
                        graded = g.auto_score is not None or g.manual_score is not None
                        scores[item.id] = float(g.score) if graded else None
                    except MissingEntry:
                        scores[item.id] = None
                autograded = course / "autograded" / st.id / stage.id / stage.notebook
                if autograded.exists():
                    problems += intake.after_grading(autograded)
                elif (hardened := outputs.read_submission(course / HARDENED, st.id, stage.id)) is not None:
                    problems += hardened_notes(hardened)  # a stage nbgrader did not run: the hardened grader's
                elif not problems:
                    problems.append(text("intake.not_graded"))
                grades[(st.id, stage.id)] = Grade(scores, list(dict.fromkeys(problems)))
    return grades


def hardened_notes(result: outputs.SubmissionResult) -> list[str]:
    """What the table says of a submission nbgrader did not execute: the grader's notes on it, else
    the first check it failed (with its item), else nothing."""
    if result.notes:
        return list(result.notes)
    for r in result.items:
        failed = next((g for g in r.graders if g.status != "passed" and g.message), None)
        if failed is not None:
            return [f"{r.item.id}: {failed.message}"]
    return []


def add_feedback_notes(course: Path, grades: dict[tuple[str, str], Grade],
                       nbgrader_stages: list[str] | None = None) -> list[Path]:
    """Put each submission's problems at the top of its feedback page (or write one if nbgrader could
    not). ``nbgrader_stages``: the stages nbgrader ran (default: all); the others' feedback is the
    hardened grader's report.md, and they get no page here."""
    written = []
    for (student, stage_id), grade in grades.items():
        if nbgrader_stages is not None and stage_id not in nbgrader_stages:
            continue
        page = course / "feedback" / student / stage_id / (Path(registry.stage(stage_id).notebook).stem + ".html")
        if not grade.problems and page.exists():
            written.append(page)
            continue
        items = "".join(f"<li>{escape.html(p)}</li>" for p in grade.problems)
        note = (f'<div style="border:2px solid #cf222e;padding:8px 12px;margin:12px;font-family:sans-serif">'
                f"<strong>{html.escape(text('feedback.notes_title'))}</strong><ul>{items}</ul></div>")
        if page.exists():
            body = page.read_text(encoding="utf-8")
            at = body.find(">", body.find("<body")) + 1
            page.write_text(body[:at] + note + body[at:], encoding="utf-8")
        else:
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(f"<!DOCTYPE html><html><body>{note}<p>{html.escape(text('feedback.no_score'))}</p>"
                            f"</body></html>", encoding="utf-8")
        written.append(page)
    return written


def _stages_of(students: tuple[Student, ...]) -> list[registry.Stage]:
    return [s for s in registry.STAGES if any(s.id in st.work for st in students)]


NOTE_WIDTH = 100  # the notes column wraps at this width: a note is never cut short


def _table(rows: list[list[str]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers, the last column free text (wrapped, whole)."""
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        head = "  ".join(cell.rjust(w) if c else cell.ljust(w) for c, (cell, w) in enumerate(zip(r, widths))) + "  "
        parts = textwrap.wrap(r[-1], NOTE_WIDTH, break_long_words=False, break_on_hyphens=False) or [""]
        lines += [head + parts[0], *(" " * len(head) + p for p in parts[1:])]
    return [lines[0], "-" * len(lines[0]), *lines[1:]]


def class_table(grades: dict[tuple[str, str], Grade], students: tuple[Student, ...] = CLASS) -> str:
    """One student × item table per stage, then student × stage totals with the notes."""
    out: list[str] = []
    stages = _stages_of(students)
    for stage in stages:
        items = registry.items_of(stage.id)
        rows = [["student", *[i.id for i in items], "total", ""],
                ["(max)", *[f"{i.points:g}" for i in items], f"{registry.max_points(stage.id):g}", ""]]
        for st in students:
            g = grades.get((st.id, stage.id))
            if g is None:
                continue
            scores = [g.scores.get(i.id) for i in items]
            rows.append([st.id, *["—" if v is None else f"{v:g}" for v in scores],
                         f"{sum(v or 0.0 for v in scores):g}", ""])
        out += [f"{stage.id}: {stage.title}", *_table(rows), ""]
    rows = [["student", *[s.number for s in stages], "total", "notes"],
            ["(max)", *[f"{registry.max_points(s.id):g}" for s in stages],
             f"{sum(registry.max_points(s.id) for s in stages):g}", ""]]
    for st in students:
        cells, total, notes = [st.id], 0.0, []
        for stage in stages:
            g = grades.get((st.id, stage.id))
            value = sum(v or 0.0 for v in g.scores.values()) if g else None
            cells.append("·" if g is None else f"{value:g}")
            total += value or 0.0
            if g and g.problems:
                notes.append(f"{stage.number}: {escape.workflow_safe(g.problems[0])}")  # student text, on CI's log
        note = "; ".join(notes) or st.story
        rows.append([*cells, f"{total:g}", note])
    out += ["Class summary (points per stage; · = not submitted)", *_table(rows)]
    return "\n".join(out)


def write_csv(path: Path, grades: dict[tuple[str, str], Grade], students: tuple[Student, ...] = CLASS) -> None:
    items = [i for s in _stages_of(students) for i in registry.items_of(s.id)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["student", *[i.id for i in items], "total", "problems"])
        for st in students:
            row, total, problems = [st.id], 0.0, []
            for i in items:
                g = grades.get((st.id, i.stage))
                score = g.scores.get(i.id) if g else None
                row.append("" if score is None else f"{score:g}")
                total += score or 0.0
            for s in _stages_of(students):
                g = grades.get((st.id, s.id))
                problems += [f"{s.number}: {p}" for p in (g.problems if g else [])]
            out.writerow([*row, f"{total:g}", escape.csv_cell(" | ".join(problems))])


def write_roster(course: Path, students: tuple[Student, ...] = CLASS) -> Path | None:
    """``<course>/roster.csv`` (nbgrader's student columns, what ``nbgrader db student import`` and
    ``export-grades --roster`` read) and the same names in the gradebook, so formgrader lists names."""
    import warnings

    from nbgrader.api import Gradebook

    named = [(st.id, *st.name.split(" ", 1)) for st in students if " " in st.name]
    if not named:
        return None
    path = course / "roster.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "first_name", "last_name", "email", "username"])
        out.writerows([sid, first, last, f"{sid}@example.org", sid] for sid, first, last in named)
    with warnings.catch_warnings():  # SQLAlchemy's notes about nbgrader's own session handling
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # as `nbgrader db student import` does
            for sid, first, last in named:
                gb.update_or_create_student(sid, first_name=first, last_name=last, email=f"{sid}@example.org")
    return path


def class_lanes(students: tuple[Student, ...], jobs: int) -> list[list[Student]]:
    """The class cut into ``jobs`` lanes of about as many notebooks each (the largest first).

    A lane runs nbgrader's commands stage after stage for its own students, so a student's later
    stage still finds the earlier ones already autograded beside it (``carry_forward`` reads them
    there); lanes run side by side, each on a core.
    """
    lanes: list[list[Student]] = [[] for _ in range(max(1, min(jobs, len(students))))]
    load = [0] * len(lanes)
    for st in sorted(students, key=lambda st: -len(st.work)):
        i = load.index(min(load))
        lanes[i].append(st)
        load[i] += len(st.work)
    return [lane for lane in lanes if lane]


def _in_lanes(course: Path, command: str, stages: list[registry.Stage], lanes: list[list[Student]],
              students: tuple[Student, ...], logs: Path, log, *options: str) -> None:
    """``nbgrader COMMAND <stage> --force`` for every stage, one lane of students per process."""
    from concurrent.futures import ThreadPoolExecutor

    def lane_run(index: int, lane: list[Student]) -> None:
        others = ",".join(st.id for st in students if st not in lane)
        only = ([f"--CourseDirectory.student_id_exclude={others}"] if others else [])
        for stage in stages:
            n = sum(stage.id in st.work for st in lane)
            if not n:
                continue
            start = time.perf_counter()
            result = nbgrader(command, stage.id, "--force", *only, *options, course=course, check=False)
            name = command.replace("generate_", "")
            (logs / f"{name}-{stage.id}-lane{index + 1}.log").write_text(result.log, encoding="utf-8")
            took = time.perf_counter() - start
            if log is not None:
                log(f"    {stage.id} ({', '.join(st.id for st in lane if stage.id in st.work)}): "
                    f"{n} notebook{'s' if n != 1 else ''} in {took:.1f} s")

    with ThreadPoolExecutor(len(lanes)) as pool:
        for future in [pool.submit(lane_run, i, lane) for i, lane in enumerate(lanes)]:
            future.result()


HARDENED = "hardened"  # the course folder the hardened grader writes its reports to (grade --out)


def hardened_grade_class(course: Path, jobs: int) -> subprocess.CompletedProcess:
    """``python -m autograder grade submitted/ --out hardened/``: every submission, sandboxed, its
    scores written to the course's gradebook (the grade command's default for a course's submitted/)."""
    cmd = [sys.executable, "-m", "autograder", "grade", str(course / "submitted"), "--out", str(course / HARDENED),
           "--jobs", str(jobs), "--quiet"]
    return subprocess.run(cmd, cwd=course, capture_output=True, text=True)


def grade_class(course: Path, students: tuple[Student, ...] = CLASS, log=print,
                jobs: int | None = None, nbgrader_stages: list[str] | None = None) -> dict[tuple[str, str], Grade]:
    """Release, write the submissions, grade them (hardened grader), autograde and generate feedback
    with nbgrader, read the gradebook.

    ``jobs``: grading slots and lanes of students side by side (default: up to 2, one per core).
    ``nbgrader_stages``: the stages nbgrader autogrades too (default: every stage of the class); the
    others are in the gradebook from the hardened grader alone.
    """
    import os

    jobs = jobs or max(1, min(2, os.cpu_count() or 1))
    stages = _stages_of(students)
    through_nbgrader = [s for s in stages if nbgrader_stages is None or s.id in nbgrader_stages]
    log("1/5 nbgrader generate_assignment (the release)")
    generate_release(course, [s.id for s in stages])
    write_class(course, students)
    write_roster(course, students)
    logs = course / "logs"
    logs.mkdir(exist_ok=True)
    start = time.perf_counter()
    n = sum(len(st.work) for st in students)
    log(f"2/5 python -m autograder grade (hardened grading of all {n} notebooks, {jobs} at a time, into the gradebook)")
    done = hardened_grade_class(course, jobs)
    (logs / "hardened-grade.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    log(f"    {n} notebooks in {time.perf_counter() - start:.1f} s" if done.returncode == 0 else
        f"    the hardened grader stopped with exit code {done.returncode}: see {logs / 'hardened-grade.log'}")
    lanes = class_lanes(tuple(st for st in students if any(s.id in st.work for s in through_nbgrader)), jobs)
    names = ", ".join(s.number for s in through_nbgrader)
    log(f"3/5 nbgrader autograde of stage {names} (executes each notebook in a kernel; "
        f"scores from step 2; {len(lanes)} lane(s) of students at a time)")
    _in_lanes(course, "autograde", through_nbgrader, lanes, students, logs, log,
              f"--HardenedScores.results={course / HARDENED}")
    log(f"4/5 nbgrader generate_feedback (HTML) of stage {names}")
    _in_lanes(course, "generate_feedback", through_nbgrader, lanes, students, logs, None)
    log("5/5 reading the gradebook")
    grades = read_gradebook(course, students)
    add_feedback_notes(course, grades, [s.id for s in through_nbgrader])
    write_csv(course / "grades.csv", grades, students)
    return grades


def run_demo(out: str = "build/demo", jobs: int | None = None, full: bool = False) -> int:
    """``full``: nbgrader autogrades every stage, not only stage 01 (minutes longer, same scores)."""
    course = new_course(Path(out).resolve())
    start = time.perf_counter()
    grades = grade_class(course, jobs=jobs, nbgrader_stages=None if full else [S1])
    print()
    print(class_table(grades))
    print()
    print(f"Graded {len(grades)} notebooks in {time.perf_counter() - start:.0f} s "
          f"({'every stage' if full else 'stage 01'} through nbgrader autograde as well).")
    print(f"  class CSV:     {course / 'grades.csv'}")
    print(f"  reports:       {course / HARDENED}/<student>/<assignment>/report.md (the hardened grader's)")
    print(f"  feedback HTML: {course / 'feedback'}/<student>/<assignment>/  (nbgrader's)")
    print(f"  gradebook:     {course / 'gradebook.db'}  (formgrader: cd {course} && jupyter lab)")
    print(f"  logs:          {course / 'logs'}")
    if (course / "roster.csv").exists():
        print(f"  roster:        {course / 'roster.csv'}  (python -m autograder export-grades "
              f"{course / 'gradebook.db'} --format moodle --roster {course / 'roster.csv'} --out moodle.csv)")
    if not full:
        print("Every stage through nbgrader autograde: python -m autograder demo --full")
    return 0
