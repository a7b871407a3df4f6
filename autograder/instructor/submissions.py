"""Make student submissions from the release: the reference, a mutant, or a broken notebook.

Used by ``make demo`` (the bundled example class) and by the tests of the nbgrader pipeline.
A submission is the released notebook with its stubs filled in, exactly as a student would
hand it in; a mutant replaces the cells that define the functions it gets wrong.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

from ..notebook import nbgrader_meta

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save(nb: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def solution_code(solution_nb: dict[str, Any]) -> dict[str, str]:
    """grade_id -> the reference code of every solution cell, without the nbgrader markers."""
    return {
        nbgrader_meta(c)["grade_id"]: "\n".join(
            ln for ln in _source(c).splitlines() if ln.strip() not in MARKERS
        )
        for c in solution_nb["cells"]
        if nbgrader_meta(c).get("solution")
    }


def mutant_cells(mutant_source: str) -> dict[str, str]:
    """grade_id of the solution cell -> the mutant's code for it (its imports + one definition)."""
    tree = ast.parse(mutant_source)
    imports = [ast.get_source_segment(mutant_source, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    cells = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            cells[f"{node.name}_solution"] = "\n".join([*imports, "", "", ast.get_source_segment(mutant_source, node)])
    return cells


def fill(release_nb: dict[str, Any], solution_nb: dict[str, Any], mutant_source: str | None = None) -> dict[str, Any]:
    """The release with every stub replaced by the reference (or the mutant's wrong code)."""
    nb = copy.deepcopy(release_nb)
    code = solution_code(solution_nb)
    if mutant_source:
        code.update(mutant_cells(mutant_source))
    for cell in nb["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in code:
            cell["source"] = code[grade_id]
    return nb


# --- broken submissions (bad input that grading must survive) ---------------------------------
def broken_json(nb: dict[str, Any]) -> str:
    """The notebook's text cut in the middle, as an interrupted upload leaves it."""
    text = json.dumps(nb, indent=1)
    return text[: len(text) // 2]


def tamper_check_cells(nb: dict[str, Any], delete: str, edit: str) -> dict[str, Any]:
    """Delete the check cell ``delete`` and replace the code of check cell ``edit``."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("grade") and grade_id == delete:
            continue
        if nbgrader_meta(cell).get("grade") and grade_id == edit:
            cell["source"] = "print('all good')  # trust me\n2"
        cells.append(cell)
    nb["cells"] = cells
    return nb


def rename_function(nb: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if nbgrader_meta(cell).get("solution") and f"def {old}(" in _source(cell):
            cell["source"] = _source(cell).replace(f"def {old}(", f"def {new}(")
    return nb


def import_error(nb: dict[str, Any], grade_id: str, module: str = "attention_tricks") -> dict[str, Any]:
    """Make the solution cell ``grade_id`` start with an import that fails."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            cell["source"] = f"import {module}\n\n" + _source(cell)
    return nb
