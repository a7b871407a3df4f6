"""The static policy: what a graded definition's *source* may reach, judged by the trusted grader.

The runtime spy (``student._ForbiddenSpy``) runs where the student's code runs, so code that runs
first (a class body, a default value, a decorator) or inside the call (suspending torch's modes)
can silence it. This module reads the source text instead, with ``ast``, in the grader's own
process, before any student code runs; nothing the student's code does at run time changes it.

Scope (fairness): only the definitions *reachable* from the graded name count: the function or
class itself (decorators, defaults and class body included) and every module-level definition it
names, transitively. A notebook's other cells (an exploratory ``eval``, a plot) cost nothing.

A reachable definition violates the policy when it

- names a forbidden built-in of the item, however spelled: ``F.scaled_dot_product_attention``,
  ``torch.nn.functional.scaled_dot_product_attention``, ``from torch.nn.functional import
  scaled_dot_product_attention as s``, an alias chain, a string literal in ``getattr``, or an
  attribute of that name on anything but ``self``;
- uses dynamic access that could reach one unseen: ``eval``/``exec``/``compile``, ``__import__``,
  ``globals``/``vars``/``locals``, ``getattr``/``setattr``/``delattr`` with a computed name (except
  on ``self``: a module reading its own submodules, ``getattr(self, f"w_{n}")``, is fair),
  ``__dict__``/``__globals__``/``__builtins__``, or the modules ``importlib``, ``sys.modules``,
  ``builtins``, ``torch._C``, ``torch.overrides``, ``torch.utils._python_dispatch``, ``torch.ops``;
- reaches the course's own code: ``autograder`` other than ``check`` and ``carry_forward``.

Only items that forbid something get the dynamic-access rule; the course-code rule holds for all.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DYNAMIC_CALLS = frozenset({"eval", "exec", "compile", "__import__", "globals", "vars", "locals", "breakpoint"})
NAME_BY_STRING = frozenset({"getattr", "setattr", "delattr"})
DYNAMIC_ATTRS = frozenset({"__dict__", "__globals__", "__builtins__", "__code__", "__closure__"})
DYNAMIC_MODULES = ("importlib", "sys.modules", "builtins", "torch._C", "torch.overrides",
                   "torch.utils._python_dispatch", "torch.ops", "torch._ops", "ctypes")
COURSE_ALLOWED = ("autograder.check", "autograder.carry.carry_forward", "autograder.carry_forward")


@dataclass(frozen=True)
class Violation:
    kind: str  # "forbidden", "dynamic" or "course": the catalogue key's last word
    construct: str  # what the source says, e.g. "F.scaled_dot_product_attention"
    line: int

    @property
    def key(self) -> str:
        return f"policy.{self.kind}"


def _under(qualified: str, prefix: str) -> bool:
    return qualified == prefix or qualified.startswith(prefix + ".")


class _Module:
    """The module-level bindings of a source text: imports (alias → dotted path) and definitions."""

    def __init__(self, source: str) -> None:
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = ast.Module(body=[], type_ignores=[])
        self.aliases: dict[str, str] = {}
        self.defs: dict[str, ast.AST] = {}
        self.imports: dict[str, ast.AST] = {}
        self.star: list[str] = []
        for node in tree.body:  # the last binding of a name wins, as it does when the cells run
            if isinstance(node, ast.Import):
                for a in node.names:
                    local = a.asname or a.name.split(".")[0]
                    self.aliases[local] = a.name if a.asname else local
                    self.imports[local] = node
                    self.defs.pop(local, None)
            elif isinstance(node, ast.ImportFrom):
                base = ("." * node.level) + (node.module or "")
                for a in node.names:
                    if a.name == "*":
                        self.star.append(base)
                        continue
                    local = a.asname or a.name
                    self.aliases[local] = f"{base}.{a.name}"
                    self.imports[local] = node
                    self.defs.pop(local, None)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defs[node.name] = node
                self.aliases.pop(node.name, None)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            self.defs[n.id] = node
                            self.aliases.pop(n.id, None)

    def reachable(self, name: str, exclude: frozenset[str] = frozenset()) -> list[ast.AST]:
        """The definition of ``name`` and every module-level definition it names, transitively
        (``exclude``: names the grader swaps for trusted blocks during the call: never run)."""
        seen: dict[str, ast.AST] = {n: ast.Pass() for n in exclude if n != name}
        todo = [name]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            node = self.defs.get(n) or self.imports.get(n)
            if node is None:
                continue
            seen[n] = node
            todo += [x.id for x in ast.walk(node) if isinstance(x, ast.Name)]
        return [v for v in dict.fromkeys(seen.values()) if not isinstance(v, ast.Pass)]

    def qualified(self, node: ast.expr) -> str | None:
        """``F.scaled_dot_product_attention`` → ``torch.nn.functional.scaled_dot_product_attention``."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.aliases:
            base = self.aliases[node.id]
        elif node.id in self.defs:
            return None  # the student's own definition
        elif self.star:
            base = f"{self.star[-1]}.{node.id}"
        else:
            base = node.id
        return ".".join([base, *reversed(parts)])


@functools.lru_cache(maxsize=32)
def _parsed(source: str) -> _Module:
    """One parse per source text: a grading run asks once per grader."""
    return _Module(source)


def _is_self(node: ast.expr) -> bool:
    """``self`` or ``type(self)``: the student's own object."""
    if isinstance(node, ast.Name):
        return node.id == "self"
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type"
            and len(node.args) == 1 and _is_self(node.args[0]))


def _check_qualified(qualified: str, forbidden: tuple[str, ...], dynamic: bool) -> str | None:
    for f in forbidden:  # the full name, or the same built-in reached through torch's C modules
        if _under(qualified, f) or (_under(qualified, "torch") and qualified.rsplit(".", 1)[-1] == f.rsplit(".", 1)[-1]):
            return "forbidden"
    if _under(qualified, "autograder") and not any(_under(qualified, a) for a in COURSE_ALLOWED):
        if qualified not in ("autograder", "autograder.carry"):  # the package itself, for check/carry_forward
            return "course"
    if dynamic and any(_under(qualified, m) for m in DYNAMIC_MODULES):
        return "dynamic"
    return None


def violations(source: str, graded: str, forbidden: tuple[str, ...] = (),
               exclude: frozenset[str] = frozenset()) -> list[Violation]:
    """Every violation in the definitions reachable from ``graded`` (see the module docstring)."""
    module = _parsed(source)
    tails = {f.rsplit(".", 1)[-1] for f in forbidden}
    dynamic = bool(forbidden)
    found: list[Violation] = []

    def add(kind: str, node: ast.AST, construct: str) -> None:
        found.append(Violation(kind, construct, getattr(node, "lineno", 0)))

    for top in module.reachable(graded, exclude):
        if isinstance(top, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in top.names]
            base = ("." * top.level) + (top.module or "") if isinstance(top, ast.ImportFrom) else ""
            for n in names:
                q = f"{base}.{n}" if base else n
                kind = _check_qualified(q, forbidden, dynamic)
                if kind:
                    add(kind, top, q)
            continue
        for node in ast.walk(top):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                q = module.qualified(node)
                kind = _check_qualified(q, forbidden, dynamic) if q else None
                if kind is None and node.attr in tails and not _is_self(node.value):
                    kind = "forbidden"
                if kind is None and dynamic and node.attr in DYNAMIC_ATTRS:
                    kind = "dynamic"
                if kind:
                    add(kind, node, ast.unparse(node))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                q = module.qualified(node)
                kind = _check_qualified(q, forbidden, dynamic) if q else None
                if kind is None and dynamic and q in DYNAMIC_CALLS | DYNAMIC_ATTRS:
                    kind = "dynamic"
                if kind:
                    add(kind, node, node.id)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NAME_BY_STRING:
                if node.func.id in module.defs or len(node.args) < 2:
                    continue
                target, attr = node.args[0], node.args[1]
                if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    q = module.qualified(target)
                    kind = _check_qualified(f"{q}.{attr.value}", forbidden, dynamic) if q else None
                    if kind is None and attr.value in tails:
                        kind = "forbidden"
                    if kind:
                        add(kind, node, ast.unparse(node))
                elif dynamic and not _is_self(target):
                    add("dynamic", node, ast.unparse(node))
    # one report per construct and line, in source order
    unique = {(v.kind, v.construct, v.line): v for v in found}
    return sorted(unique.values(), key=lambda v: (v.line, v.construct))


def enforce(source: str, name: str, forbidden: tuple[str, ...] = (),
            exclude: frozenset[str] = frozenset(), starts: list[tuple[int, str]] | None = None) -> None:
    """Raise ``ForbiddenCall`` (the item scores 0) for the first violation reachable from ``name``."""
    from .catalogue import text
    from .failures import ForbiddenCall

    found = violations(source, name, forbidden, exclude)
    if found:
        v = found[0]
        reached = next((f for f in forbidden if f.rsplit(".", 1)[-1] in v.construct), ", ".join(forbidden))
        line: int | str = v.line
        for first, label in starts or ():  # joined cells: the line inside the student's cell
            if first <= v.line:
                line = f"{v.line - first + 1} of {label}" if label else v.line - first + 1
        raise ForbiddenCall(text(v.key, name=name, construct=f"`{v.construct}`", line=line, forbidden=reached))


def source_of_namespace(namespace: Mapping[str, Any]) -> str:
    """A kernel's definitions as source, for the in-kernel check: the live namespace says what each
    name is bound to (a module → an import line; another module's object → a from-import), and a
    function or class defined here contributes its source (``inspect``: IPython keeps cell text).

    In-kernel grading is instant feedback, never a final grade; where a definition's source cannot
    be read it is left out here, and hardened grading, which reads the notebook, judges it.
    """
    import inspect
    import types

    own_module = namespace.get("__name__", "__main__")
    lines: list[str] = []
    own: list[str] = []
    for key, value in list(namespace.items()):
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            lines.append(f"import {value.__name__} as {key}")
            continue
        if not callable(value):
            continue
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", "")
        if module in (own_module, "__main__", "__student__"):
            try:
                own.append(inspect.getsource(value))
            except (OSError, TypeError):
                found = _class_source(value) if isinstance(value, type) else None
                if found:
                    own.append(found)
        elif isinstance(module, str) and isinstance(qualname, str) and qualname.isidentifier():
            lines.append(f"from {module} import {qualname} as {key}")
    return "\n".join(lines + own)


def _class_source(cls: type) -> str | None:
    """A class's source found through its methods' file (inspect cannot find a class whose module
    is not in sys.modules, as with notebook definitions run by ``notebook.load_namespace``)."""
    import ast as _ast
    import linecache

    for member in vars(cls).values():
        code = getattr(getattr(member, "__func__", member), "__code__", None)
        if code is None:
            continue
        text_ = "".join(linecache.getlines(code.co_filename))
        try:
            tree = _ast.parse(text_)
        except (SyntaxError, ValueError):
            return None
        for node in tree.body:
            if isinstance(node, _ast.ClassDef) and node.name == cls.__name__ and \
                    node.lineno <= code.co_firstlineno <= (node.end_lineno or node.lineno):
                return _ast.get_source_segment(text_, node)
    return None


def source_of_cells(cells: list[dict[str, str]]) -> tuple[str, list[tuple[int, str]]]:
    """The cells' definitions as one source (``batch.definition_cells``), and where each cell starts."""
    parts, starts, line = [], [], 1
    for cell in cells:
        src = cell.get("source", "")
        starts.append((line, cell.get("label", "")))
        parts.append(src)
        line += src.count("\n") + 1
    return "\n".join(parts), starts


class PolicyChecked:
    """A student object (the sandbox proxy) whose every lookup first passes the static policy, run
    here, in the trusted grader, on the notebook's definition source: the worker is never asked."""

    def __init__(self, student: Any, cells: list[dict[str, str]], forbidden: tuple[str, ...] = ()) -> None:
        self._student = student
        self._cells = cells
        self._source, self._starts = source_of_cells(cells)
        self.forbidden = forbidden

    def for_item(self, forbidden: tuple[str, ...]) -> PolicyChecked:
        return PolicyChecked(self._student.for_item(forbidden), self._cells, forbidden)

    def function(self, name: str, *, trusted: Mapping[str, Any] | None = None) -> Any:
        enforce(self._source, name, self.forbidden, frozenset(trusted or ()), self._starts)
        return self._student.function(name, trusted=trusted)

    def build(self, name: str, *args: Any, trusted: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        enforce(self._source, name, self.forbidden, frozenset(trusted or ()), self._starts)
        return self._student.build(name, *args, trusted=trusted, **kwargs)

    def __getattr__(self, attr: str) -> Any:  # trusted_object, cuda_available, worker, ...
        return getattr(self._student, attr)
