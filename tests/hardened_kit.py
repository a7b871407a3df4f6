"""Helpers for the hardened-grading tests and the class benchmark: make submissions, grade a class.

A submission is the released notebook with its stubs filled, as a student hands it in: the
reference code, a mutant's wrong code for some functions, or an attack. Cells are replaced in
place (by the solution cell's ``grade_id``), so nbgrader runs them where a student's would be.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

from autograder.grading import outputs
from autograder import registry
from autograder.notebook import nbgrader_meta

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
ASSIGNMENTS = REPO / "assignments"
MUTANTS = REPO / "tests" / "mutants"
ATTACKS = REPO / "tests" / "attacks"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict[str, Any]) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def reference_code(stage_id: str) -> dict[str, str]:
    """grade_id of each solution cell -> the reference code (markers removed)."""
    nb = _load(SOLUTIONS / stage_id / registry.stage(stage_id).notebook)
    return {nbgrader_meta(c)["grade_id"]: "\n".join(ln for ln in _src(c).splitlines() if ln.strip() not in MARKERS)
            for c in nb["cells"] if nbgrader_meta(c).get("solution")}


def definitions_by_function(source: str) -> dict[str, str]:
    """``{function name: its imports + its definition}`` for every top-level def/class in ``source``."""
    tree = ast.parse(source)
    imports = [ast.get_source_segment(source, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return {n.name: "\n".join([*imports, "", ast.get_source_segment(source, n)])
            for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def notebook(stage_id: str, *, skeleton: bool = False, replace: dict[str, str] | None = None,
             extra_cells: list[str] = ()) -> dict[str, Any]:
    """The release of ``stage_id`` with the reference filled in (unless ``skeleton``).

    ``replace`` maps a function name to the code of its solution cell; ``extra_cells`` are
    code cells inserted right after the setup cell (run at import time).
    """
    nb = copy.deepcopy(_load(ASSIGNMENTS / stage_id / registry.stage(stage_id).notebook))
    code = {} if skeleton else reference_code(stage_id)
    code.update({f"{name}_solution": src for name, src in (replace or {}).items()})
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in code:
            cell["source"] = code[gid]
    at = next(i for i, c in enumerate(nb["cells"]) if c.get("cell_type") == "code") + 1
    for k, src in enumerate(extra_cells):
        nb["cells"].insert(at + k, {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                    "source": src})
    return nb


def mutant_notebook(mutant_path: Path) -> dict[str, Any]:
    return notebook(mutant_path.parent.name, replace=definitions_by_function(mutant_path.read_text()))


def write(root: Path, student: str, stage_id: str, nb: dict[str, Any] | str, name: str | None = None) -> Path:
    path = Path(root) / student / stage_id / (name or registry.stage(stage_id).notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path


def scores(out: Path, student: str, stage_id: str) -> dict[str, float]:
    r = outputs.read_submission(out, student, stage_id)
    assert r is not None, f"no results for {student}/{stage_id}"
    return {i.item.id: i.score for i in r.items}


def result(out: Path, student: str, stage_id: str) -> outputs.SubmissionResult:
    r = outputs.read_submission(out, student, stage_id)
    assert r is not None, f"no results for {student}/{stage_id}"
    return r


def full_marks(stage_id: str) -> dict[str, float]:
    return {i.id: float(i.points) for i in registry.items_of(stage_id)}
