"""What is wrong with a submission, in one line a student or instructor can act on.

Two looks: before grading (is it a notebook at all, were its check cells deleted or edited?)
and after nbgrader executed it (did a cell crash, is a function missing or renamed?).
"""

from __future__ import annotations

from pathlib import Path

from ..catalogue import text
from ..check import RESULT_MIME
from ..notebook import NotebookError, is_check_cell, nbgrader_meta, read_cells


def before_grading(submitted: Path, release: Path) -> list[str]:
    """Problems visible in the file itself. An unreadable notebook gives exactly one line."""
    try:
        cells = read_cells(submitted)
    except NotebookError as exc:
        return [str(exc)]
    theirs = {nbgrader_meta(c).get("grade_id"): c for c in cells if is_check_cell(c)}
    problems = []
    for cell in read_cells(release):
        if not is_check_cell(cell):
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
        if grade_id not in theirs:
            problems.append(text("intake.check_deleted", item=grade_id))
        elif theirs[grade_id]["source"].strip() != cell["source"].strip():
            problems.append(text("intake.check_edited", item=grade_id))
    return problems


def after_grading(autograded: Path) -> list[str]:
    """Problems nbgrader's run revealed: crashing cells, missing definitions, engine notes."""
    try:
        cells = read_cells(autograded)
    except NotebookError as exc:
        return [str(exc)]
    problems: list[str] = []  # what the graders said: the most precise reasons
    crashes: list[str] = []
    first_error_seen = False
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and not is_check_cell(cell) and not first_error_seen:
                # Only the first crash matters: later ones usually follow from it. An unfilled
                # stub (NotImplementedError) is unfinished work, not bad input.
                first_error_seen = True
                if out.get("ename") != "NotImplementedError":
                    crashes.append(text("intake.cell_raised", number=number, error=out.get("ename"),
                                        message=_short(out.get("evalue", ""))))
            data = out.get("data", {}).get(RESULT_MIME) if out.get("output_type") in ("execute_result", "display_data") else None
            if data:
                problems += list(data.get("notes", []))
                problems += sorted({g["message"] for g in data.get("graders", []) if g.get("missing")})
    return list(dict.fromkeys(problems + crashes))  # unique, most precise first


def _short(message: str, limit: int = 500) -> str:
    """The first line of an exception message; only a runaway one (a dumped tensor) is cut."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
