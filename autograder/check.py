"""``check("<item>")``: the call in every check cell.

It runs the item's graders in the kernel, against the definitions in the notebook, and prints
a short report. The value it returns displays as the item's points: ``nbgrader autograde``
reads that number as the cell's partial credit. Nothing is written to stderr (nbgrader zeroes
a cell that does) and nothing is raised: a check cell never shows a traceback.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from typing import Any

from . import registry
from .catalogue import text
from .report import item_text, score_badge_html
from .results import ItemResult
from .runner import run_items
from .student import DEFAULT_TIME_LIMIT_S, LocalStudent

RESULT_MIME = "application/vnd.autograder.result+json"


class CheckResult(float):
    """The points earned on one item; displays as a number (nbgrader's partial credit)."""

    result: ItemResult

    def __new__(cls, result: ItemResult) -> CheckResult:
        obj = super().__new__(cls, result.score)
        obj.result = result
        return obj

    def __repr__(self) -> str:
        return f"{float(self):g}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": repr(self),
            "text/html": score_badge_html(self.result),
            RESULT_MIME: self.result.to_json(),
        }


def _notebook_namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    return vars(sys.modules["__main__"])


def check(
    item_id: str,
    *,
    hidden: bool = False,
    namespace: dict[str, Any] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT_S,
) -> CheckResult:
    """Grade one item against the notebook's definitions and print what passed and what did not.

    ``hidden=True`` (used in the instructor's copy) adds the hidden graders. ``time_limit`` is
    per call of the student's code, in seconds.
    """
    item = registry.item(item_id)
    ns = namespace if namespace is not None else _notebook_namespace()
    student = LocalStudent(ns, time_limit=time_limit, last_error=getattr(sys, "last_value", None))
    stray = io.StringIO()
    try:
        with contextlib.redirect_stderr(stray), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            [result] = run_items(student, [item.id], hidden=hidden)
    except Exception as exc:  # an engine bug must not look like the student's fault, nor crash the cell
        result = ItemResult(item, incomplete=True)
        result.notes.append(text("report.internal_error", error=f"{type(exc).__name__}: {exc}"))
    if hidden:
        _clear_cell_output()  # the public report printed just before is superseded by this one
    print(item_text(result))
    return CheckResult(result)


def _clear_cell_output() -> None:
    try:
        from IPython import get_ipython
        from IPython.display import clear_output
    except ImportError:
        return
    if get_ipython() is not None:
        clear_output()
