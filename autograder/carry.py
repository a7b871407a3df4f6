"""Carry a student's own definitions forward from an earlier stage.

A later stage needs pieces written earlier (stage 02 needs stage 01's softmax). Rather than
hand out the earlier answer, the notebook loads the student's own definition from their
earlier notebook, found next to the current one (``../01_dot_product_attention/...``). The
graders of the later stage replace these pieces with trusted ones, so a bug in an earlier
stage never costs points twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import registry
from .notebook import NotebookError, load_namespace


def _unavailable(name: str, reason: str) -> Callable[..., Any]:
    def placeholder(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"Your `{name}` from an earlier stage is not available here: {reason}")

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


def carry_forward(stage_id: str, *names: str) -> Any:
    """The student's own ``names`` from their notebook of ``stage_id`` (one value, or a tuple).

    Never raises: what cannot be loaded becomes a function that explains why when called.
    """
    path = find_stage_notebook(stage_id)
    if path is None:
        reason = f"no {registry.stage(stage_id).notebook} was found in ../{stage_id}/."
        found: dict[str, Any] = {}
    else:
        try:
            found = load_namespace(path)
            reason = f"{path.name} does not define it."
        except (NotebookError, Exception) as exc:  # their earlier notebook may be broken
            found, reason = {}, f"{path.name} could not be loaded ({type(exc).__name__}: {exc})."
    values = tuple(found.get(n) or _unavailable(n, reason) for n in names)
    return values[0] if len(values) == 1 else values
