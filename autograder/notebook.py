"""Reading student and reference notebooks: their cells, and only their definitions.

Grading outside a kernel takes only *definitions* from a notebook (imports, functions,
classes, constants, computed constants that a definition needs: see ``plan``), so exploratory
cells, plots and training runs do not execute.
"""

from __future__ import annotations

import ast
import hashlib
import json
import linecache
import symtable
from pathlib import Path
from typing import Any

from .catalogue import text
from .policy import BLOCKS, bound_names, branches, mutated_roots


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
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

_NESTED = (*_SCOPES, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

DEFINITION, COMPUTED = "definition", "computed"


def _names_only(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, ast.Starred):  # ``first, *rest = ...``
        return _names_only(target.value)
    return isinstance(target, (ast.Tuple, ast.List)) and all(_names_only(e) for e in target.elts)


def _name_assignment(node: ast.stmt) -> ast.expr | None:
    """The value of ``NAME = value`` (also ``A, B = ...``, ``N: int = ...``, ``N += 1``); None for
    anything else, e.g. ``mask[0] = False`` or ``np.testing.assert_allclose = f`` (those mutate an
    object, they define nothing, and never run at grading time)."""
    if isinstance(node, ast.Assign):
        return node.value if all(_names_only(t) for t in node.targets) else None
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
        return node.value if _names_only(node.target) else None
    return None


def _is_literal(value: ast.expr) -> bool:
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_carry_forward(value: ast.expr) -> bool:
    """``softmax = carry_forward("01_...", "softmax")``: left to ``carry.py``, which loads the earlier
    notebook next to this one; in the sandbox the graders hand trusted building blocks instead."""
    return isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", "")) == "carry_forward"


def _is_constant_assignment(node: ast.stmt) -> bool:
    """``PAD_ID = 0`` or ``A, B = 1, 2``: a literal, kept without further thought."""
    value = _name_assignment(node)
    return value is not None and not isinstance(node, ast.AugAssign) and _is_literal(value)


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":``: a script's entry point, work by intent; never run at grading."""
    return isinstance(node, ast.If) and any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node.test))


def _binding_block(node: ast.stmt) -> bool:
    """An ``if``/``try`` every branch of which only binds names (name assignments, imports, functions,
    classes, ``pass``, such blocks nested): ``if torch.cuda.is_available(): DEVICE = ...`` or
    ``try: from scipy.special import softmax except ImportError: softmax = None``. A bare call, a
    loop, a ``with``, an attribute or item assignment, a print or a ``raise`` anywhere makes it work."""
    if not isinstance(node, BLOCKS) or _is_main_guard(node):
        return False
    for stmt in (s for branch in branches(node) for s in branch):
        if not (isinstance(stmt, (*_DEFINITIONS, ast.Pass)) or _name_assignment(stmt) is not None
                or _binding_block(stmt)):
            return False
    return True


def _block_statements(node: ast.stmt) -> list[ast.stmt]:
    """The statements inside a binding block, nested blocks opened (their own statements listed)."""
    found: list[ast.stmt] = []
    for stmt in (s for branch in branches(node) for s in branch):
        found += _block_statements(stmt) if isinstance(stmt, BLOCKS) else [stmt]
    return found


def _targets(node: ast.stmt) -> set[str]:
    if isinstance(node, BLOCKS):
        return bound_names(node)
    if mutated_roots(node):  # setup that fills a constant stands for that constant
        return mutated_roots(node)
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _globals_used(node: ast.stmt) -> set[str]:
    """The module-level names ``node`` reads: in its own code at module level (a value, decorators,
    defaults, bases) and as globals inside its functions, classes and comprehensions. Parameters
    and locals do not count (``symtable`` knows the scopes), so ``def f(x)`` needs no global ``x``."""
    nodes = list(ast.walk(node))
    if not any(isinstance(n, _NESTED) for n in nodes):  # one scope: every name it loads is a global
        return {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    try:
        table = symtable.symtable(ast.unparse(node), "<definition>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    found: set[str] = set()
    stack = [(table, True)]
    while stack:
        t, top = stack.pop()
        for sym in t.get_symbols():
            if sym.is_referenced() and (top or sym.is_global()):
                found.add(sym.get_name())
        stack += [(child, False) for child in t.get_children()]
    return found


def plan(trees: list[ast.Module]) -> list[list[str | None]]:
    """What runs of each top-level statement of a notebook's cells: ``DEFINITION`` (imports,
    functions, classes, literal constants), ``COMPUTED`` (a name assignment whose value is an
    expression: ``DEVICE = torch.device(...)``, ``D_K = D_MODEL // H``) or None (skipped).

    A computed assignment runs when something that runs needs its name (a function, a class or
    another computed constant reads it as a global, at any place in the notebook, since a
    function reads its globals when called), or when its value is a lambda (it defines a function).
    So ``DEVICE`` and a vocabulary built by a comprehension run; exploratory results
    (``y, w = attention(x)``, ``fig, ax = plt.subplots()``, a training run's ``history = train()``)
    do not, as no definition reads them. Bare expressions (calls for their effect, prints, plots),
    ``for``/``while``/``with`` blocks and attribute or item assignments never run.

    An ``if``/``try`` whose branches only bind names (``_binding_block``: ``if
    torch.cuda.is_available(): DEVICE = ... else: DEVICE = ...``, ``try: from scipy.special import
    softmax as _sp except ImportError: _sp = None``) is a computed constant that binds every name
    any branch binds: it runs, whole and alone, when something that runs needs one of them, or when
    it defines a function or class. ``if __name__ == "__main__":`` and blocks that do work (a call
    for its effect, a loop, a print anywhere in them) never run.

    Nor does a constant whose value reads, directly or through other constants, a name that a
    ``carry_forward`` line binds, or calls a function or class that does (``tiny = Transformer(...)``
    in stage 06, whose layers use stage 04's attention): grading hands trusted
    building blocks per call instead of the earlier stage, so at load time it could only fail.
    """
    kinds: list[list[str | None]] = []
    needed: set[str] = set()
    carried: set[str] = set()
    defs: list[tuple[str, set[str]]] = []  # a function or class, and the globals it reads
    candidates: list[tuple[int, int, ast.stmt]] = []
    owned: set[str] = set()  # names the notebook's own constants bind (not imports, defs or classes)
    for c, tree in enumerate(trees):
        row: list[str | None] = []
        for s, node in enumerate(tree.body):
            value = _name_assignment(node)
            if isinstance(node, _DEFINITIONS) or _is_constant_assignment(node):
                row.append(DEFINITION)
                if isinstance(node, _SCOPES):
                    defs.append((node.name, _globals_used(node)))
                    needed |= defs[-1][1]
            elif value is not None and _is_carry_forward(value):
                row.append(None)
                carried |= _targets(node)
            elif value is not None:
                row.append(None)
                candidates.append((c, s, node))
                if isinstance(value, ast.Lambda):
                    needed |= _targets(node)
            elif _binding_block(node):  # a computed constant too, one that binds several names
                row.append(None)
                inner = _block_statements(node)
                values = [v for v in map(_name_assignment, inner) if v is not None]
                if any(_is_carry_forward(v) for v in values):
                    carried |= _targets(node)
                    continue
                candidates.append((c, s, node))
                for d in inner:
                    if isinstance(d, _SCOPES):  # what it reads, for the carry_forward taint below
                        defs.append((d.name, _globals_used(d)))
                if any(isinstance(d, _SCOPES) for d in inner) or any(isinstance(v, ast.Lambda) for v in values):
                    needed |= _targets(node)  # it defines a function: it runs, as a def does
            elif (roots := mutated_roots(node)) and roots <= owned:
                # ``_CFG["axis"] = -1``, ``_AXES.append(-1)``, a loop filling ``_REDUCERS``: setup of the
                # notebook's own constants, run (in order, in the worker) when the constant is needed.
                # Changing what an import holds (``np.testing.assert_allclose = f``) is never run.
                row.append(None)
                candidates.append((c, s, node))
            else:
                row.append(None)
            if value is not None and not _is_carry_forward(value):
                owned |= _targets(node)
        kinds.append(row)
    by_name: dict[str, list[tuple[int, int, ast.stmt]]] = {}
    readers: dict[str, list[tuple[int, int, ast.stmt]]] = {}
    reads: dict[tuple[int, int], set[str]] = {}
    for candidate in candidates:
        for name in _targets(candidate[2]):
            by_name.setdefault(name, []).append(candidate)
        reads[candidate[:2]] = _globals_used(candidate[2])
        if carried:
            for name in reads[candidate[:2]]:
                readers.setdefault(name, []).append(candidate)
    using: dict[str, list[str]] = {}  # name -> the functions and classes that read it
    for name, globals_ in defs if carried else ():
        for g in globals_:
            using.setdefault(g, []).append(name)
    tainted: set[tuple[int, int]] = set()
    todo = list(carried)
    while todo:  # what reads a carried name (through constants, functions, classes) cannot run at load time
        name = todo.pop()
        todo += using.pop(name, ())
        for c, s, node in readers.pop(name, ()):
            if (c, s) not in tainted:
                tainted.add((c, s))
                todo += _targets(node)
    todo = list(needed)
    while todo:  # a constant that is needed makes the names its value reads needed too (linear: a worklist)
        for c, s, node in by_name.pop(todo.pop(), ()):
            if kinds[c][s] is None and (c, s) not in tainted:
                kinds[c][s] = COMPUTED
                new = reads[(c, s)] - needed
                needed |= new
                todo += new
    return kinds


def parse_cell(source: str) -> ast.Module:
    """A code cell's statements; IPython magics and shell lines become blank lines (line numbers
    stay the student's). Raises SyntaxError (with the student's line number)."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    return ast.parse("\n".join(lines))


def kept_source(source: str, tree: ast.Module, kinds: list[str | None]) -> tuple[str, list[int]]:
    """The statements of one cell that run (``plan``), each on the lines the student wrote them
    (the others become blank lines), and the first line of each computed one.

    ``import x; run()`` on one line cannot keep one and drop the other by lines: then the kept
    statements are rewritten one per line (``ast.unparse``), without the student's numbering.
    """
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()]
    kept: set[int] = set()
    dropped: set[int] = set()
    computed: list[int] = []
    for node, kind in zip(tree.body, kinds):
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        span = set(range(first, (node.end_lineno or node.lineno) + 1))
        (kept if kind else dropped).update(span)
        if kind == COMPUTED:
            computed.append(node.lineno)
    if not kept & dropped:
        return "\n".join(ln if i in kept else "" for i, ln in enumerate(lines, start=1)), computed
    parts, computed, line = [], [], 1
    for node, kind in zip(tree.body, kinds):
        if kind:
            text_ = ast.unparse(node)
            if kind == COMPUTED:
                computed.append(line)
            parts.append(text_)
            line += text_.count("\n") + 1
    return "\n".join(parts), computed


def definitions(source: str) -> str:
    """The top-level definitions in ``source`` (one cell, on its own; see ``plan``) as code.

    Raises SyntaxError (with the student's line number) when the code does not parse.
    """
    tree = parse_cell(source)
    kinds = plan([tree])[0]
    kept = [n for n, kind in zip(tree.body, kinds) if kind]
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def planned_cells(path: str | Path) -> list[tuple[int, str, list[int]]]:
    """Every code cell but the check cells, as (cell number, kept source, first lines of its
    computed constants): see ``plan`` and ``kept_source``. Raises NotebookError for a cell that
    does not parse."""
    numbered, trees = [], []
    for i, cell in enumerate(read_cells(path)):
        if cell.get("cell_type") != "code" or is_check_cell(cell):
            continue
        try:
            trees.append(parse_cell(cell["source"]))
        except SyntaxError as exc:
            raise NotebookError(text("notebook.syntax", cell=i + 1, line=exc.lineno, message=exc.msg)) from None
        numbered.append((i + 1, cell["source"]))
    return [(n, *kept_source(source, tree, kinds)) for (n, source), tree, kinds in zip(numbered, trees, plan(trees))]


def code_definitions(path: str | Path) -> str:
    """Definitions (``plan``) from every code cell of a notebook except the check cells."""
    parts = [ast.unparse(ast.parse(source)) for _, source, _ in planned_cells(path)]
    return "\n\n".join(p for p in parts if p)


def load_namespace(path: str | Path, extra_source: str = "") -> dict[str, Any]:
    """Execute a notebook's definitions (then ``extra_source``) in a fresh namespace.

    The code runs in this process: use it for trusted notebooks (references, the project's
    tests), for a student's own earlier notebook in their kernel (``carry_forward``), or inside a
    sandbox. As in the grading worker, a computed constant that raises or takes longer than
    ``CONSTANT_SECONDS`` is left out (its name stays undefined) and the rest goes on; an error in
    the other definitions propagates.
    """
    namespace: dict[str, Any] = {"__name__": "__student__"}
    for n, source, computed in planned_cells(path):
        _exec_cell(source, computed, f"{Path(path).name}-cell{n}", namespace)
    if extra_source:
        _exec_readable(extra_source, "extra", namespace)
    return namespace


CONSTANT_SECONDS = 5.0  # one computed constant, in process (the worker has its own: protocol.py)


def _exec_cell(source: str, computed: list[int], label: str, namespace: dict[str, Any]) -> None:
    """One cell's kept source: its definitions as they come, each computed constant on its own."""
    from .student import _Alarm, _time_limit

    filename = _register(source, label)
    chunk: list[ast.stmt] = []
    for node in [*ast.parse(source, filename).body, None]:
        if node is not None and node.lineno not in computed:
            chunk.append(node)
            continue
        if chunk:
            exec(compile(ast.Module(body=chunk, type_ignores=[]), filename, "exec"), namespace)  # noqa: S102
        chunk = []
        if node is not None:
            try:
                with _time_limit(CONSTANT_SECONDS):
                    exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec"), namespace)  # noqa: S102
            except (Exception, _Alarm):  # noqa: BLE001 - as hardened grading: left out, the rest goes on
                pass


def _register(code: str, label: str) -> str:
    filename = f"<{label}-{hashlib.sha256(code.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    return filename


def _exec_readable(code: str, label: str, namespace: dict[str, Any]) -> None:
    """Run ``code`` under a file name registered with linecache, as IPython registers its cells.

    So `inspect` reads these definitions' source and the static policy (autograder/policy.py)
    judges them here as it does in a kernel. The name holds a hash, so two sources of one label (a
    reference and its mutant) keep their own text.
    """
    filename = _register(code, label)
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102
