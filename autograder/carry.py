"""Carry a student's own definitions forward from an earlier stage.

A later stage needs pieces written earlier (stage 02 needs stage 01's softmax). Rather than
hand out the earlier answer, the notebook loads the student's own definition from their
earlier notebook, found next to the current one (``../01_dot_product_attention/...``). The
graders of the later stage replace these pieces with trusted ones, so a bug in an earlier
stage never costs points twice.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import registry
from .catalogue import phrase
from .notebook import load_namespace, read_cells


def _unavailable(name: str, reason: str) -> Callable[..., Any]:
    def placeholder(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(phrase("Your `{name}` from an earlier stage is not available here: {reason}", name=name,
                                  reason=reason))

    placeholder.__name__ = name
    return placeholder


def find_stage_notebook(stage_id: str, start: Path | None = None) -> Path | None:
    stage = registry.stage(stage_id)
    here = (start or Path.cwd()).resolve()
    for folder in (here.parent / stage_id, here / stage_id):
        candidate = folder / stage.notebook
        if candidate.is_file():
            return candidate
    return None


def _carried_in(path: Path) -> list[tuple[list[str], str, list[str]]]:
    """The ``a, b = carry_forward("stage", "a", "b")`` lines of a notebook, as (targets, stage, names).

    Only definitions are loaded from a notebook, so these lines do not run there; the loader
    runs them itself (stage 06 uses stage 04's MultiHeadAttention, which uses stage 03's attention).
    """
    found = []
    for cell in read_cells(path):
        if cell.get("cell_type") != "code":
            continue
        lines = [ln for ln in cell["source"].splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in tree.body:
            call = node.value if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "carry_forward"
                    and call.args and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
                continue
            target = node.targets[0]
            elts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            if all(isinstance(e, ast.Name) for e in elts):
                args = [a.value for a in call.args]
                found.append(([e.id for e in elts], args[0], args[1:]))
    return found


def _carry(stage_id: str, names: tuple[str, ...], start: Path | None, depth: int = 0) -> tuple[Any, ...]:
    path = find_stage_notebook(stage_id, start)
    if path is None:
        reason = phrase("no {notebook} was found in ../{stage}/.", notebook=registry.stage(stage_id).notebook, stage=stage_id)
        found: dict[str, Any] = {}
    else:
        try:
            found = load_namespace(path)
            reason = phrase("{name} does not define it.", name=path.name)
            for targets, earlier, wanted in _carried_in(path) if depth < len(registry.STAGES) else []:
                values = _carry(earlier, tuple(wanted), path.parent, depth + 1)
                for target, value in zip(targets, values):
                    found.setdefault(target, value)
        except Exception as exc:  # their earlier notebook may be broken (NotebookError, or its own bug)
            found, reason = {}, phrase("{name} could not be loaded ({error}: {message}).", name=path.name,
                                        error=type(exc).__name__, message=exc)
    return tuple(found[n] if n in found else _unavailable(n, reason) for n in names)


def carry_forward(stage_id: str, *names: str) -> Any:
    """The student's own ``names`` from their notebook of ``stage_id`` (one value, or a tuple).

    What that notebook itself carried forward from an earlier stage comes along, so the
    definitions work as they did there. Never raises: what cannot be loaded becomes a
    function that explains why when called.
    """
    values = _carry(stage_id, names, None)
    return values[0] if len(values) == 1 else values
