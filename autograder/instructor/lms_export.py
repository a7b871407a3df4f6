"""``python -m autograder export-grades``: the class's grades as a CSV that Moodle or Canvas imports.

    python -m autograder export-grades build/class --format moodle --roster roster.csv --out moodle.csv
    python -m autograder export-grades gradebook.db --format canvas --roster roster.csv --out canvas.csv

SOURCE is a hardened class folder (``grade --out DIR`` or ``merge --out DIR``: every
``<student>/<assignment>/results.json``) or an nbgrader gradebook (``gradebook.db`` or a database
URL, read with nbgrader's ``Gradebook``). One column per stage, in the course's order.

- **Moodle** (Grades → Import → CSV file; docs.moodle.org/en/Grade_import): one identifier column
  that the import's "Map from / Map to" matches to ``useridnumber``, ``useremail`` or ``username``
  (``--id-column``), the names, one grade column per stage (headed by its assignment id) and, with
  ``--feedback``, a ``<stage> feedback`` column after it (Moodle: "include both feedback and grades
  for the activity", so the two go together). ``--decimal-comma`` writes ``7,5`` and separates
  columns with ``;`` (pick *Separator: Semicolon* in the import form).
- **Canvas** (Grades → Import; Canvas's gradebook CSV): ``Student, ID, SIS User ID, SIS Login ID,
  Section``, one column per stage, and the ``Points Possible`` row under the header. Canvas's import
  has no comment column and reads decimal points only: ``--feedback`` and ``--decimal-comma`` are
  refused for it.

The roster (``--roster``) is nbgrader's student CSV (``nbgrader db student import`` reads the same
file: ``id, first_name, last_name, email, lms_user_id``) with the LMS's ids in further columns:
``idnumber, username`` (Moodle), ``canvas_id, sis_user_id, sis_login_id, section`` (Canvas). ``id``
is the course's student id: the submission folder's name, nbgrader's student id. Without a roster
the course id is the identifier (``username`` for Moodle, ``SIS Login ID`` for Canvas: a hub login).

Nobody is dropped silently: a graded student missing from the roster cannot be matched to an LMS
account, so the row is left out and listed (exit status 1); a roster student with no grade for a
stage gets an empty cell (``--missing zero`` writes 0), which the LMS leaves ungraded, and is
listed too. Every text cell goes through ``escape.csv_cell`` (names and ids come from people, a
folder name from a student): a spreadsheet never runs one as a formula.

The file is UTF-8 without a byte-order mark: both importers are told the encoding (Moodle's form
has an *Encoding* field, UTF-8 by default; Canvas reads UTF-8), and a BOM is only for Excel, which
must not touch the file before the import anyway (it rewrites separators and decimals).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import escape, registry
from ..catalogue import text

FORMATS = ("moodle", "canvas")
ID_COLUMNS = ("idnumber", "email", "username")  # what Moodle's import maps: useridnumber, useremail, username
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id",  # nbgrader's Student table
                  "idnumber", "username", "canvas_id", "sis_user_id", "sis_login_id", "section")
CANVAS_HEAD = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")  # Canvas's gradebook CSV, in order


@dataclass
class StageGrade:
    """One student's grade of one stage, and the per-item lines of its feedback."""

    score: float
    max_score: float
    items: list[tuple[str, float, float]] = field(default_factory=list)  # (item title, score, max)
    notes: list[str] = field(default_factory=list)


@dataclass
class ClassGrades:
    """What the export reads from either source: student id -> stage id -> grade."""

    stages: list[str]
    max_points: dict[str, float]
    grades: dict[str, dict[str, StageGrade]]
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # the gradebook's (first, last), if any
    emails: dict[str, str] = field(default_factory=dict)


# --- reading the two sources ------------------------------------------------------------------
def from_class_folder(folder: Path) -> ClassGrades:
    """Every ``<student>/<assignment>/results.json`` of a hardened class folder."""
    from ..grading.merge import _submissions
    from ..grading.outputs import read_submission

    grades: dict[str, dict[str, StageGrade]] = {}
    for student, assignment, _ in _submissions(Path(folder)):
        r = read_submission(Path(folder), student, assignment)
        if r is None:  # unreadable: `grade` regrades it; here it is a student with no grade, listed
            continue
        grades.setdefault(student, {})[assignment] = StageGrade(
            r.score, r.max_score, [(i.item.title, i.score, float(i.max_points)) for i in r.items], list(r.notes))
    stages = [s.id for s in registry.STAGES if any(s.id in g for g in grades.values())]
    return ClassGrades(stages, {s: registry.max_points(s) for s in stages}, grades)


def from_gradebook(url: str) -> ClassGrades:
    """Scores, names and e-mails of nbgrader's gradebook (the course's stages only)."""
    import warnings

    from nbgrader.api import Gradebook

    known = {s.id for s in registry.STAGES}
    grades: dict[str, dict[str, StageGrade]] = {}
    max_points: dict[str, float] = {}
    names: dict[str, tuple[str, str]] = {}
    emails: dict[str, str] = {}
    with warnings.catch_warnings():  # SQLAlchemy's notes about nbgrader's own session handling
        warnings.simplefilter("ignore")
        with Gradebook(url) as gb:
            for st in gb.students:
                names[st.id] = (st.first_name or "", st.last_name or "")
                if st.email:
                    emails[st.id] = st.email
            for a in gb.assignments:
                if a.name not in known:
                    continue
                max_points[a.name] = float(a.max_score)
                for sub in a.submissions:
                    items = []
                    for nb in sub.notebooks:
                        for g in nb.grades:
                            title = registry.item(g.name).title if _known_item(g.name) else g.name
                            items.append((title, float(g.score), float(g.max_score)))
                    grades.setdefault(sub.student_id, {})[a.name] = StageGrade(float(sub.score), float(sub.max_score),
                                                                               items)
    stages = [s.id for s in registry.STAGES if s.id in max_points]
    return ClassGrades(stages, max_points, grades, names, emails)


def _known_item(item_id: str) -> bool:
    try:
        registry.item(item_id)
    except registry.UnknownItem:
        return False
    return True


def read_source(source: str) -> ClassGrades:
    """A class folder, a gradebook file (``*.db``) or a database URL."""
    if "://" in source:
        return from_gradebook(source)
    path = Path(source)
    if path.is_dir():
        return from_class_folder(path)
    if path.is_file():
        return from_gradebook(f"sqlite:///{path.resolve()}")
    raise ValueError(f"{source} is neither a graded class folder nor a gradebook")


def read_roster(path: Path) -> dict[str, dict[str, str]]:
    """Course id -> the roster's row. ``utf-8-sig``: a roster saved by Excel starts with a BOM."""
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        if "id" not in header:
            raise ValueError(f"{path}: the roster needs an 'id' column (the course's student id); "
                             f"its columns: {', '.join(header) or 'none'}")
        reader.fieldnames = header
        roster: dict[str, dict[str, str]] = {}
        for n, row in enumerate(reader, start=2):
            sid = (row.get("id") or "").strip()
            if not sid:
                continue
            if sid in roster:
                raise ValueError(f"{path}, line {n}: student id {sid!r} appears twice")
            roster[sid] = {k: (v or "").strip() for k, v in row.items() if k}
    return roster


# --- the table --------------------------------------------------------------------------------
@dataclass
class Export:
    """The CSV's text and what the instructor must be told about it."""

    csv: str
    written: list[str]  # course ids, in file order
    not_in_roster: list[str]  # graded, but no LMS account to put it on: left out of the file
    no_grade: dict[str, list[str]]  # course id -> stages with no grade (empty cell, or 0)


def _number(x: float, decimal_comma: bool) -> str:
    s = f"{round(x, 2):g}"
    return s.replace(".", ",") if decimal_comma else s


def _scaled(g: StageGrade, scale: str) -> float:
    if scale == "10":
        return 10.0 * g.score / g.max_score if g.max_score else 0.0
    return g.score


def feedback(g: StageGrade) -> str:
    """The feedback cell of one stage: every check's points, then the notes (one line)."""
    parts = [text("lms.feedback_item", title=t, score=f"{s:g}", max=f"{m:g}") for t, s, m in g.items]
    return " · ".join(parts + [escape.one_line(n) for n in g.notes])


def build(grades: ClassGrades, fmt: str, *, roster: dict[str, dict[str, str]] | None = None,
          id_column: str = "username", scale: str = "points", decimal_comma: bool = False,
          with_feedback: bool = False, missing: str = "empty") -> Export:
    """The import CSV of ``fmt`` for ``grades`` (see the module docstring for the columns)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    if fmt == "canvas" and (with_feedback or decimal_comma):
        raise ValueError("Canvas's gradebook import takes neither comments nor decimal commas: "
                         "drop --feedback and --decimal-comma for --format canvas")
    if fmt == "moodle" and id_column not in ID_COLUMNS:
        raise ValueError(f"--id-column must be one of {', '.join(ID_COLUMNS)}")
    if fmt == "moodle" and roster is None and id_column != "username":
        raise ValueError(f"--id-column {id_column} needs a --roster with that column (without one, the "
                         "course's student id is written as the Moodle username)")
    if roster is not None and fmt == "moodle" and not any(r.get(id_column) for r in roster.values()):
        raise ValueError(f"the roster has no '{id_column}' values: Moodle could match no row")

    graded = sorted(grades.grades)
    students = sorted(roster) if roster is not None else graded
    not_in_roster = [s for s in graded if roster is not None and s not in roster]
    no_grade = {s: [a for a in grades.stages if a not in grades.grades.get(s, {})] for s in students}
    no_grade = {s: a for s, a in no_grade.items() if a}

    def cell(student: str, stage: str) -> str:
        g = grades.grades.get(student, {}).get(stage)
        if g is None:
            return "0" if missing == "zero" else ""
        return _number(_scaled(g, scale), decimal_comma)

    def person(student: str) -> dict[str, str]:
        # the roster's names and e-mail first, the gradebook's where the roster has none
        row = dict(roster.get(student, {})) if roster is not None else {}
        first, last = grades.names.get(student, ("", ""))
        row["first_name"] = row.get("first_name") or first
        row["last_name"] = row.get("last_name") or last
        row["email"] = row.get("email") or grades.emails.get(student, "")
        return row

    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";" if decimal_comma else ",", lineterminator="\n")
    if fmt == "moodle":
        head = [id_column, "first_name", "last_name"]
        for a in grades.stages:
            head += [a, f"{a} feedback"] if with_feedback else [a]
        out.writerow(head)
        for s in students:
            p = person(s)
            ident = p.get(id_column, "") if roster is not None else s
            row = [escape.csv_cell(ident), escape.csv_cell(p.get("first_name", "")),
                   escape.csv_cell(p.get("last_name", ""))]
            for a in grades.stages:
                row.append(cell(s, a))
                if with_feedback:
                    g = grades.grades.get(s, {}).get(a)
                    row.append(escape.csv_cell(escape.html(feedback(g))) if g else "")  # Moodle renders it as HTML
            out.writerow(row)
    else:
        out.writerow([*CANVAS_HEAD, *grades.stages])
        possible = [10.0 if scale == "10" else grades.max_points[a] for a in grades.stages]
        out.writerow(["Points Possible", "", "", "", "", *[_number(x, False) for x in possible]])
        for s in students:
            p = person(s)
            name = ", ".join(x for x in (p.get("last_name", ""), p.get("first_name", "")) if x) or s
            login = p.get("sis_login_id", "") if roster is not None else s
            row = [name, p.get("canvas_id", ""), p.get("sis_user_id", ""), login, p.get("section", "")]
            out.writerow([*map(escape.csv_cell, row), *[cell(s, a) for a in grades.stages]])
    return Export(buf.getvalue(), students, not_in_roster, no_grade)


# --- the command ------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", help="a graded class folder (grade/merge --out) or nbgrader's "
                                                    "gradebook (gradebook.db or a database URL)")
    p.add_argument("--format", required=True, choices=FORMATS, help="the LMS whose grade import reads the file")
    p.add_argument("--out", required=True, metavar="FILE", help="the CSV to write")
    p.add_argument("--roster", metavar="CSV", help="id (course student id), first_name, last_name, email, "
                                                  "idnumber, username, canvas_id, sis_user_id, sis_login_id, section")
    p.add_argument("--id-column", default="username", choices=ID_COLUMNS,
                   help="Moodle: the roster column Moodle matches users by (default username)")
    p.add_argument("--scale", default="points", choices=("points", "10"), help="points, or 0-10 per stage")
    p.add_argument("--decimal-comma", action="store_true", help="Moodle: 7,5 and ';' between columns")
    p.add_argument("--feedback", action="store_true", help="Moodle: a feedback column after each stage")
    p.add_argument("--missing", default="empty", choices=("empty", "zero"),
                   help="a roster student's stage with no grade: an empty cell (default) or 0")


def _list(names: Iterable[str]) -> str:
    return ", ".join(escape.workflow_safe(n) for n in names)


def main(args: argparse.Namespace) -> int:
    try:
        grades = read_source(args.source)
        roster = read_roster(Path(args.roster)) if args.roster else None
        export = build(grades, args.format, roster=roster, id_column=args.id_column, scale=args.scale,
                       decimal_comma=args.decimal_comma, with_feedback=args.feedback, missing=args.missing)
    except (ValueError, OSError) as exc:
        print(f"export-grades: {escape.workflow_safe(exc)}", file=sys.stderr)
        return 2
    if not grades.stages:
        print(f"export-grades: no grades found in {args.source}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(export.csv, encoding="utf-8", newline="")
    if export.not_in_roster:
        print(f"warning: graded but not in the roster, left out of {out} ({len(export.not_in_roster)}): "
              f"{_list(export.not_in_roster)}", file=sys.stderr)
    if export.no_grade:
        cell = "0" if args.missing == "zero" else "an empty cell"
        print(f"warning: no grade, written as {cell} ({len(export.no_grade)}): "
              + "; ".join(f"{escape.workflow_safe(s)} ({', '.join(a)})" for s, a in sorted(export.no_grade.items())),
              file=sys.stderr)
    scale = "points" if args.scale == "points" else "0-10"
    print(f"Wrote {out} for {args.format}: {len(export.written)} students, {len(grades.stages)} stages ({scale}).")
    print(f"  not in the roster (left out): {len(export.not_in_roster)}; without a grade for some stage: "
          f"{len(export.no_grade)}")
    return 1 if export.not_in_roster else 0
