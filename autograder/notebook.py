"""Reading student and reference notebooks: their cells, and only their definitions.

Grading outside a kernel takes only *definitions* from a notebook (imports, functions,
classes, constant assignments), so exploratory cells, plots and training runs do not execute.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import json
from pathlib import Path
from typing import Any

from .catalogue import text


class NotebookError(ValueError):
    """The file is not a notebook we can read; the message says why in one sentence."""


def read_cells(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotebookError(text("notebook.missing", name=path.name)) from None
    except UnicodeDecodeError:
        raise NotebookError(text("notebook.not_text", name=path.name)) from None
    except json.JSONDecodeError as exc:
        raise NotebookError(text("notebook.bad_json", name=path.name, line=exc.lineno, column=exc.colno)) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(text("notebook.no_cells", name=path.name))
    cells = []
    for cell in nb["cells"]:
        src = cell.get("source", "")
        cells.append({**cell, "source": "".join(src) if isinstance(src, list) else str(src)})
    return cells


def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_check_cell(cell: dict[str, Any]) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get("cell_type") == "code"


_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _names_only(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_names_only(e) for e in target.elts)


def _is_constant_assignment(node: ast.stmt) -> bool:
    """``PAD_ID = 0`` or ``A, B = 1, 2``; not ``mask[0] = False`` (that mutates, it defines nothing)."""
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    if not all(t is not None and _names_only(t) for t in targets):
        return False
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        return True
    return False


def definitions(source: str) -> str:
    """The top-level definitions in ``source``; IPython magics and shell lines are dropped.

    Raises SyntaxError (with the student's line number) when the code does not parse.
    """
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    kept = [n for n in tree.body if isinstance(n, _DEFINITIONS) or _is_constant_assignment(n)]
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def code_definitions(path: str | Path) -> str:
    """Definitions from every code cell of a notebook except the check cells."""
    parts = []
    for i, cell in enumerate(read_cells(path)):
        if cell.get("cell_type") != "code" or is_check_cell(cell):
            continue
        try:
            parts.append(definitions(cell["source"]))
        except SyntaxError as exc:
            raise NotebookError(text("notebook.syntax", cell=i + 1, line=exc.lineno, message=exc.msg)) from None
    return "\n\n".join(p for p in parts if p)


def load_namespace(path: str | Path, extra_source: str = "") -> dict[str, Any]:
    """Execute a notebook's definitions (then ``extra_source``) in a fresh namespace.

    The code runs in this process: use it for trusted notebooks (references, the project's
    tests) or inside a sandbox.
    """
    namespace: dict[str, Any] = {"__name__": "__student__"}
    _exec_readable(code_definitions(path), Path(path).name, namespace)
    if extra_source:
        _exec_readable(extra_source, "extra", namespace)
    return namespace


def _exec_readable(code: str, label: str, namespace: dict[str, Any]) -> None:
    """Run ``code`` under a file name registered with linecache, as IPython registers its cells.

    So `inspect` reads these definitions' source and the static policy (autograder/policy.py)
    judges them here as it does in a kernel. The name holds a hash, so two sources of one label (a
    reference and its mutant) keep their own text.
    """
    filename = f"<{label}-{hashlib.sha256(code.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102
