"""Every report of hardened grading, rendered from one result model.

Per submission, in ``<out>/<student>/<assignment>/``:

- ``results.json``: Gradescope's format (score, tests with name, score, max_score, status,
  output, visibility). One test per grader; a hidden grader reports its title, pass/fail and its
  message, never its source or its function's name, and is shown once grades are published.
  ``extra_data`` holds the whole result model (items, graders, notes, isolation), from which the
  class outputs are rebuilt, so a run that resumes never needs anything else.
- ``classroom.json``: the result of a GitHub Classroom autograding runner (``{"version": 1,
  "status", "max_score", "tests": [...]}``; base64 it into ``<RUNNER>_RESULTS`` for
  ``autograding-grading-reporter``), one test per item.
- ``report.md``: the Markdown report (also the GitHub Actions step summary).

Per class, in ``<out>/``: ``grades.csv``, and the scores in nbgrader's gradebook.

Files are written to a temporary name and renamed into place, ``results.json`` last: a
submission whose ``results.json`` exists was graded completely.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .. import escape, registry
from ..catalogue import language, text
from ..failures import Evidence
from ..registry import Item
from ..report import item_text, items_markdown
from ..results import GraderResult, ItemResult

FORMAT_VERSION = 1
GRADER_FIELDS = {f.name for f in fields(GraderResult)}  # what results.json keeps of each grader


@dataclass
class SubmissionResult:
    """The one result model of a graded submission."""

    student: str
    assignment: str
    items: list[ItemResult]
    isolation: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # about the submission as a whole
    fingerprint: str = ""
    duration_s: float = 0.0
    graded_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        # Notes quote student errors and names (the data boundary, as in results.py). The
        # student id stays as it is: it names the submission's folder; renderers escape it.
        self.notes = [escape.clean(n) for n in self.notes]

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.items), 2)

    @property
    def max_score(self) -> float:
        return float(sum(r.max_points for r in self.items))

    # -- the model, as JSON (kept in results.json's extra_data) ------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "student": self.student,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "fingerprint": self.fingerprint,
            "duration_s": round(self.duration_s, 3),
            "graded_at": self.graded_at,
            "isolation": self.isolation,
            "notes": [escape.clean(n) for n in self.notes],
            "items": [r.to_json() | {"incomplete": r.incomplete} for r in self.items],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        items = []
        for d in data["items"]:
            item = registry.item(d["item"])
            graders = []
            for g in d.get("graders", []):
                ev = g.get("evidence")
                fields = {k: v for k, v in g.items() if k in GRADER_FIELDS and k != "evidence"}
                graders.append(GraderResult(**fields, evidence=Evidence(**ev) if isinstance(ev, dict) else None))
            items.append(ItemResult(item, graders, list(d.get("notes", [])), bool(d.get("incomplete", False))))
        return cls(data["student"], data["assignment"], items, data.get("isolation", {}), list(data.get("notes", [])),
                   data.get("fingerprint", ""), float(data.get("duration_s", 0.0)), float(data.get("graded_at", 0.0)))


# --- per submission ---------------------------------------------------------------------------
SHARE_DECIMALS = 4  # results.json's per-test points


def _grader_shares(r: ItemResult) -> list[float]:
    """Each grader's part of the item's points, rounded so that the parts add up exactly.

    Largest remainder in units of 10^-SHARE_DECIMALS: rounding each part alone gave 9.9996
    for three equal checks of 10 points, and Gradescope adds the parts.
    """
    unit = 10 ** SHARE_DECIMALS
    total = sum(x.weight for x in r.graders) or 1.0
    exact = [r.max_points * unit * g.weight / total for g in r.graders]
    parts = [int(x) for x in exact]
    short = round(r.max_points * unit) - sum(parts)
    for i in sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))[:max(short, 0)]:
        parts[i] += 1
    return [p / unit for p in parts]


def _zeroed(r: ItemResult) -> bool:
    return r.incomplete or any(g.forbidden for g in r.graders)


def _grader_output(g: GraderResult) -> str:
    if g.passed:
        return ""
    lines = [g.message]
    if g.visibility == "public" and g.evidence:
        if g.evidence.expected or g.evidence.got:
            lines.append(f"{text('report.expected')}: {g.evidence.expected}")
            lines.append(f"{text('report.got')}: {g.evidence.got}")
        lines += list(g.evidence.details)
    if g.misconception:
        lines.append(f"{text('report.likely')}: {g.misconception}")
    if g.hint:
        lines.append(f"{text('report.hint')}: {g.hint}")
    # One line per part: a student's newline cannot forge a line of the test's output.
    return "\n".join(escape.one_line(x) for x in lines if x)


def gradescope(result: SubmissionResult) -> dict[str, Any]:
    tests = []
    for r in result.items:
        zero = _zeroed(r)
        prefix = "\n".join(escape.one_line(n) for n in r.notes)
        for n, (g, share) in enumerate(zip(r.graders, _grader_shares(r)), start=1):
            hidden = g.visibility == "hidden"
            output = "\n".join(x for x in (prefix if zero else "", _grader_output(g)) if x)
            tests.append({
                "name": f"{r.item.title}: {g.title}" + (f" {text('report.hidden_note')}" if hidden else ""),
                "number": f"{r.item.id}.{n}",
                "score": 0.0 if zero or not g.passed else share,
                "max_score": share,
                "status": "passed" if g.passed and not zero else "failed",
                "output": output,
                "output_format": "text",  # student text: shown as typed, never rendered as Markdown/HTML
                "visibility": "after_published" if hidden else "visible",
                "tags": [r.item.id],
            })
        if not r.graders:  # nothing ran (hidden graders missing, a grader bug)
            tests.append({"name": r.item.title, "number": f"{r.item.id}.0", "score": 0.0,
                          "max_score": r.max_points, "status": "failed", "output": prefix, "output_format": "text",
                          "visibility": "visible",
                          "tags": [r.item.id]})
    return {
        "score": result.score,
        "output": markdown(result),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": round(result.duration_s, 2),
        "tests": tests,
        "extra_data": result.to_json(),
    }


def classroom(result: SubmissionResult) -> dict[str, Any]:
    tests = []
    for r in result.items:
        status = "error" if r.incomplete else ("pass" if r.score >= r.max_points else "fail")
        tests.append({"name": f"{r.item.title} ({r.item.id})", "status": status, "score": r.score,
                      "message": item_text(r), "test_code": "", "filename": registry.stage(result.assignment).notebook,
                      "line_no": 0, "duration": 0})
    overall = ("error" if any(t["status"] == "error" for t in tests)
               else "pass" if all(t["status"] == "pass" for t in tests) else "fail")
    # the language tells classroom.py's reporting job, which has no catalogue, its summary's language
    return {"version": 1, "status": overall, "max_score": result.max_score, "tests": tests, "language": language()}


def markdown(result: SubmissionResult) -> str:
    stage = registry.stage(result.assignment)
    lines = ["## " + text("report.stage_header", title=stage.title, stage=result.assignment, score=result.score,
                          points=result.max_score), ""]
    if result.isolation:
        iso = text("batch.isolation", level=result.isolation.get("level", "?"),
                   description=result.isolation.get("description", ""))
        lines += [f"> {escape.one_line(iso)}", ""]  # the grading machine's words, not a student's: one line
    # Notes quote student errors and file names: escaped, one line each (see autograder/escape.py).
    lines += [f"- {escape.markdown_text(n)}" for n in result.notes]
    if result.notes:
        lines.append("")
    # A blank line before the table, or Markdown renders it as part of the quote or the list.
    return "\n".join(lines) + "\n" + items_markdown(result.items)


def _atomic_write(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def submission_dir(out: Path, student: str, assignment: str) -> Path:
    return Path(out) / student / assignment


def write_submission(out: Path, result: SubmissionResult) -> Path:
    """Write the three per-submission reports; ``results.json`` last (it marks completion)."""
    folder = submission_dir(out, result.student, result.assignment)
    _atomic_write(folder / "report.md", markdown(result))
    _atomic_write(folder / "classroom.json", json.dumps(classroom(result), indent=1, ensure_ascii=False) + "\n")
    _atomic_write(folder / "results.json", json.dumps(gradescope(result), indent=1, ensure_ascii=False) + "\n")
    return folder / "results.json"


def read_submission(out: Path, student: str, assignment: str) -> SubmissionResult | None:
    """The stored result, or None when there is none (or it cannot be read: then it is regraded)."""
    path = submission_dir(out, student, assignment) / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SubmissionResult.from_json(data["extra_data"])
    except (OSError, ValueError, KeyError, TypeError, registry.UnknownItem):
        return None


# --- per class --------------------------------------------------------------------------------
def class_csv(results: Iterable[SubmissionResult]) -> str:
    """One row per student: every item's points, each assignment's total, the total, notes."""
    results = list(results)
    assignments = [s.id for s in registry.STAGES if any(r.assignment == s.id for r in results)]
    items: list[Item] = [i for a in assignments for i in registry.items_of(a)]
    by_student: dict[str, dict[str, SubmissionResult]] = {}
    for r in results:
        by_student.setdefault(r.student, {})[r.assignment] = r
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["student", *[f"{i.stage}:{i.id}" for i in items], *assignments, "total", "max_total", "isolation",
                  "notes"])
    max_total = sum(registry.max_points(a) for a in assignments)
    for student in sorted(by_student):
        subs = by_student[student]
        row = [escape.csv_cell(student)]
        for i in items:
            r = subs.get(i.stage)
            score = next((x.score for x in r.items if x.item.id == i.id), None) if r else None
            row.append("" if score is None else f"{score:g}")
        row += ["" if a not in subs else f"{subs[a].score:g}" for a in assignments]
        total = sum(r.score for r in subs.values())
        levels = sorted({r.isolation.get("level", "") for r in subs.values()} - {""})
        notes = [f"{registry.stage(a).number}: {n}" for a, r in sorted(subs.items()) for n in r.notes]
        row += [f"{round(total, 2):g}", f"{max_total:g}", escape.csv_cell("+".join(levels)),
                escape.csv_cell(" | ".join(notes))]
        out.writerow(row)
    return buf.getvalue()


def write_class_csv(out: Path, results: Sequence[SubmissionResult]) -> Path:
    path = Path(out) / "grades.csv"
    _atomic_write(path, class_csv(results))
    return path


def write_gradebook(url: str, results: Sequence[SubmissionResult]) -> int:
    """Put every item's score into nbgrader's gradebook as the grade cell's auto score.

    The assignment, its notebook and its grade cells are created when missing (as
    ``nbgrader generate_assignment`` would), so formgrader lists the scores. Returns the number
    of grades written.
    """
    from nbgrader.api import Grade, Gradebook, MissingEntry

    written = 0
    # nbgrader migrates a new database with `alembic` from PATH: use this environment's.
    bin_dir = str(Path(sys.executable).parent)
    saved_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([bin_dir, saved_path])
    try:
        with warnings.catch_warnings():  # SQLAlchemy's notes about nbgrader's own session handling
            warnings.simplefilter("ignore")
            written = _fill_gradebook(Gradebook, Grade, MissingEntry, url, results)
    finally:
        os.environ["PATH"] = saved_path
    return written


def _fill_gradebook(Gradebook: Any, Grade: Any, MissingEntry: Any, url: str,  # noqa: N803
                    results: Sequence[SubmissionResult]) -> int:
    written = 0
    with Gradebook(url) as gb:
        for aid in sorted({r.assignment for r in results}):
            stage = registry.stage(aid)
            nb_name = Path(stage.notebook).stem
            try:
                gb.find_assignment(aid)
            except MissingEntry:
                gb.add_assignment(aid)
            try:
                gb.find_notebook(nb_name, aid)
            except MissingEntry:
                gb.add_notebook(nb_name, aid)
            for item in registry.items_of(aid):
                try:
                    gb.find_grade_cell(item.id, nb_name, aid)
                except MissingEntry:
                    gb.add_grade_cell(item.id, nb_name, aid, max_score=float(item.points), cell_type="code")
        for r in results:
            stage = registry.stage(r.assignment)
            nb_name = Path(stage.notebook).stem
            gb.update_or_create_student(r.student)
            gb.update_or_create_submission(r.assignment, r.student)
            for ir in r.items:
                try:
                    grade = gb.find_grade(ir.item.id, nb_name, r.assignment, r.student)
                except MissingEntry:  # a grade cell added after this submission was first recorded
                    nb = gb.find_submission_notebook(nb_name, r.assignment, r.student)
                    cell = gb.find_grade_cell(ir.item.id, nb_name, r.assignment)
                    grade = Grade(cell_id=cell.id, notebook=nb)
                    gb.db.add(grade)
                grade.auto_score = float(ir.score)
                grade.needs_manual_grade = False
                written += 1
            gb.db.commit()
    return written
