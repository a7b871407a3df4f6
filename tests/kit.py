"""Shared helpers for the project's tests: paths, namespaces, grading, the mutant corpus."""

from __future__ import annotations

import ast
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from autograder import registry
from autograder.catalogue import text
from autograder.notebook import load_namespace
from autograder.report import item_text
from autograder.results import ItemResult
from autograder.runner import run_items
from autograder.student import LocalStudent

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
ASSIGNMENTS = REPO / "assignments"
MUTANTS = Path(__file__).parent / "mutants"
HANDIN = Path(__file__).parent / "handin"  # files the reference student hands in with a notebook (stage 07's checkpoint)
STAGE_IDS = [s.id for s in registry.STAGES]


def notebook(root: Path, stage_id: str) -> Path:
    return root / stage_id / registry.stage(stage_id).notebook


def grade(namespace: dict, stage_id: str, *, hidden: bool = True) -> dict[str, ItemResult]:
    """Grade a namespace; one made by reference_namespace comes with the reference's hand-in files."""
    items = [i.id for i in registry.items_of(stage_id)]
    with _submission_dir(namespace.get("__handin__")):
        return {r.item.id: r for r in run_items(LocalStudent(namespace), items, hidden=hidden)}


def reference_namespace(stage_id: str, extra_source: str = "") -> dict:
    namespace = load_namespace(notebook(SOLUTIONS, stage_id), extra_source)
    if (HANDIN / stage_id).is_dir():
        namespace["__handin__"] = str(HANDIN / stage_id)
    return namespace


@contextlib.contextmanager
def _submission_dir(folder: str | None):
    """Graders find files handed in with the notebook (stage 07's checkpoint) in $AUTOGRADER_SUBMISSION_DIR."""
    saved = os.environ.pop("AUTOGRADER_SUBMISSION_DIR", None)
    if folder:
        os.environ["AUTOGRADER_SUBMISSION_DIR"] = folder
    try:
        yield
    finally:
        os.environ.pop("AUTOGRADER_SUBMISSION_DIR", None)
        if saved is not None:
            os.environ["AUTOGRADER_SUBMISSION_DIR"] = saved


@dataclass(frozen=True)
class Mutant:
    path: Path
    stage: str
    summary: str  # the misconception, in one sentence (the module docstring)
    loses: tuple[str, ...]  # items that must lose points
    says: str  # a catalogue key ("why.*", "hint.*") or a literal the feedback must contain

    @property
    def id(self) -> str:
        return f"{self.stage[:2]}-{self.path.stem}"

    @property
    def source(self) -> str:
        return self.path.read_text()

    @property
    def expected_feedback(self) -> str:
        return text(self.says) if self.says.startswith(("why.", "hint.")) else self.says


def _constants(path: Path) -> tuple[str, dict]:
    tree = ast.parse(path.read_text())
    consts = {
        n.targets[0].id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id.isupper()
    }
    return ast.get_docstring(tree) or "", consts


def mutants(stage_id: str | None = None) -> list[Mutant]:
    found = []
    for path in sorted(MUTANTS.glob("*/*.py")):
        if stage_id and path.parent.name != stage_id:
            continue
        doc, consts = _constants(path)
        found.append(Mutant(path, path.parent.name, doc, tuple(consts["LOSES"]), consts["SAYS"]))
    return found


_MUTANT_GRADES: dict[tuple[str, str], dict[str, ItemResult]] = {}


def grade_mutant(mutant: Mutant) -> dict[str, ItemResult]:
    """The mutant graded in this process, once per test session.

    test_graders_discriminate.py grades every mutant in process, then compares the sandbox with the
    same results: graded once, not twice."""
    key = (mutant.stage, mutant.source)
    if key not in _MUTANT_GRADES:
        _MUTANT_GRADES[key] = grade(reference_namespace(mutant.stage, mutant.source), mutant.stage)
    return _MUTANT_GRADES[key]


def feedback(result: ItemResult) -> str:
    """The report a learner reads, with its sentences unwrapped, so that a test can look for one."""
    from autograder import report

    width, report.WIDTH = report.WIDTH, 10**9
    try:
        return item_text(result)
    finally:
        report.WIDTH = width
