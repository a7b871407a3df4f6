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
- reaches the course's own code: ``autograder`` other than ``check`` and ``carry_forward``;
- calls PyTorch's internals (``torch.ops``, ``torch._ops``, ``torch._C``, and any private name right
  under ``torch``: ``torch._VF``, ``torch._refs``...), in any item: the trusted blocks that ship as
  code compute through them, so that a copy of one is no answer, and the private modules compute
  the forbidden built-ins under other names;
- star-imports torch or one of its packages, or a module holding a refused name (``from os import *``),
  anywhere in the notebook: the names it binds cannot be listed, so it is judged with every definition;
- reaches objects without naming them (reflection): ``eval``/``exec``/``compile``/``__import__``,
  ``importlib``, ``sys.modules``, ``gc.get_objects`` and its kin, frames (``sys._getframe``,
  ``inspect.currentframe``/``stack``, ``f_back``, ``f_globals``, ``tb_frame``…), ``__subclasses__``,
  ``__globals__``. The grader's trusted blocks share the student's process, so this could find
  the course's answers in any item.

Only items that forbid something get the dynamic-access rule (computed ``getattr``, ``torch._C``…);
the course-code and reflection rules hold for all, and so does the local-module rule: a reachable
import of a module that is neither the standard library nor installed (a ``helper.py`` beside the
notebook, or a file the code writes at run time) hides code the grader does not read.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DYNAMIC_CALLS = frozenset({"eval", "exec", "compile", "__import__", "globals", "vars", "locals", "breakpoint"})
NAME_BY_STRING = frozenset({"getattr", "setattr", "delattr"})
DYNAMIC_ATTRS = frozenset({"__dict__", "__globals__", "__builtins__", "__code__", "__closure__"})
DYNAMIC_MODULES = ("importlib", "sys.modules", "builtins", "torch._C", "torch.overrides",
                   "torch.utils._python_dispatch", "torch.ops", "torch._ops", "ctypes")
# PyTorch's dispatcher and C bindings, refused in every item: no course answer needs them, and the
# trusted blocks that ship as code (graders/blocks.py, training_oracles.py) compute through them, so
# that a pasted copy of a block scores nothing (issue 10 item 2: no working answer in the export).
INTERNALS = ("torch.ops", "torch._ops", "torch._C")
# And every private name right under ``torch`` (``torch._VF``, ``torch._refs``, ``torch._decomp``,
# ``torch._prims``, ``torch._scaled_dot_product_attention_math``, ``torch._native_multi_head_attention``):
# PyTorch's private modules and kernels compute the forbidden built-ins under other names, where
# neither the tail of the name nor the runtime spy (``_native_multi_head_attention`` is not
# ``multi_head_attention_forward``) recognises them. No course answer names one (solutions/,
# assignments/, tests/variants), so the whole class is refused rather than a list that misses the next.
COURSE_ALLOWED = ("autograder.check", "autograder.carry.carry_forward", "autograder.carry_forward")
# Reflection: ways to reach an object without naming it. The grader's trusted building blocks live in
# the process that runs the student's code (they are the globals of the student's functions), so
# import machinery, the object graph and frames could reach the course's answers in any item:
# these count in every item, not only in those that forbid a built-in.
REFLECTION_CALLS = frozenset({"eval", "exec", "compile", "__import__", "globals", "vars", "locals"})
REFLECTION_MODULES = ("importlib", "sys.modules", "sys._getframe", "sys._current_frames", "gc.get_objects",
                      "gc.get_referrers", "gc.get_referents", "inspect.currentframe", "inspect.stack",
                      "inspect.trace", "inspect.getouterframes", "inspect.getmembers", "ctypes")
# Running code the grader cannot read: another process, or code rebuilt from data.
REFLECTION_MODULES += ("subprocess", "os.system", "os.popen", "os.execv", "os.execve", "os.execl", "os.execlp",
                       "os.execvp", "os.spawnv", "os.spawnl", "os.posix_spawn", "runpy", "pickle.loads", "pickle.load",
                       "marshal", "pydoc.locate", "code.InteractiveInterpreter", "code.interact", "multiprocessing",
                       # imports by a name in a string, and unpickling (which imports what the bytes name)
                       "pkgutil.resolve_name", "logging.config", "pickle", "_pickle", "copyreg", "shelve",
                       "traceback.walk_stack", "traceback.walk_tb", "operator.attrgetter", "operator.methodcaller")
# Only a call builds code from parts; naming them (``isinstance(f, types.FunctionType)``) is fair.
REFLECTION_CONSTRUCTORS = ("types.FunctionType", "types.CodeType", "types.LambdaType", "types.MethodType")
REFLECTION_ATTRS = frozenset({"__globals__", "__builtins__", "__subclasses__", "__code__", "__closure__", "__self__",
                              "f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
                              "ag_frame"})
# A loader that unpickles when told to: reflection only with that keyword set to the unsafe value.
UNPICKLING_LOADS = {"numpy.load": ("allow_pickle", True), "torch.load": ("weights_only", False)}


@dataclass(frozen=True)
class Violation:
    kind: str  # "forbidden", "dynamic", "internals", "reflection", "local", "course" or "star": the catalogue key's last word
    construct: str  # what the source says, e.g. "F.scaled_dot_product_attention"
    line: int

    @property
    def key(self) -> str:
        return f"policy.{self.kind}"


# A top-level ``if``/``try``: what any branch binds is a module-level binding (``_Module``); the
# notebook's plan runs such a block like a computed constant when it only binds names.
BLOCKS: tuple[type[ast.stmt], ...] = (ast.If, ast.Try, *([ast.TryStar] if hasattr(ast, "TryStar") else []))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NESTED = (*_SCOPES, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def branches(node: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists of an ``if`` (body, else) or a ``try`` (body, handlers, else, finally)."""
    if isinstance(node, ast.If):
        return [node.body, node.orelse]
    return [node.body, *[h.body for h in node.handlers], node.orelse, node.finalbody]


def bound_names(node: ast.stmt) -> set[str]:
    """The module-level names a top-level statement binds: assignment targets (walrus included),
    imports, function and class names; inside an ``if``/``try``, in every branch. Names local to a
    nested function, lambda or comprehension do not count, nor ``except E as e`` (deleted after)."""
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name.split(".")[0] for a in n.names if a.name != "*"}
        elif isinstance(n, _SCOPES):
            names.add(n.name)
            continue
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        if not isinstance(n, _NESTED):
            stack += ast.iter_child_nodes(n)
    return names


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
        # ``from m import *``: binds names no reader can list, so it is judged with every definition
        self.star_imports: list[ast.ImportFrom] = []
        # statements that change what a module-level name holds (``_CFG["axis"] = -1``,
        # ``_AXES.append(-1)``, a loop filling a dict): judged with the name, never replacing it
        self.mutations: dict[str, list[ast.AST]] = {}
        # every binding of each name, with the index of its top-level statement: what a statement
        # reads when it runs (``_h = _impl``) is the binding before it, which a later cell may replace
        self.history: dict[str, list[tuple[int, ast.AST]]] = {}
        self.index: dict[int, int] = {}
        # each node's subtree and parent map, once: every item and grader asks about the same definitions
        self._walked: dict[int, tuple[ast.AST, tuple[ast.AST, ...]]] = {}
        self._parents: dict[int, tuple[ast.AST, dict[int, ast.AST]]] = {}
        for i, node in enumerate(tree.body):  # the last binding of a name wins, as it does when the cells run
            self.index[id(node)] = i
            self._bind(node, None)
            for root in mutated_roots(node):
                self.mutations.setdefault(root, []).append(node)
            for name in bound_names(node):
                binding = self.defs.get(name) or self.imports.get(name)
                if binding is not None:
                    self.history.setdefault(name, []).append((i, binding))

    def _bind(self, node: ast.stmt, block: ast.stmt | None) -> None:
        """Record what ``node`` binds. Inside a top-level ``if``/``try`` (``block``) every branch counts,
        as either may run, and each name it binds stands for the whole block: the condition, the
        handlers and every branch are judged with it (an import stays an import, whatever another
        branch assigns: ``try: import x as F except ImportError: F = None``)."""
        owner = block or node
        if isinstance(node, ast.Import):
            for a in node.names:
                local = a.asname or a.name.split(".")[0]
                self.aliases[local] = a.name if a.asname else local
                self.imports[local] = owner
                self.defs.pop(local, None)
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            for a in node.names:
                if a.name == "*":
                    self.star.append(base)
                    self.star_imports.append(node)
                    continue
                local = a.asname or a.name
                self.aliases[local] = f"{base}.{a.name}"
                self.imports[local] = owner
                self.defs.pop(local, None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.defs[node.name] = owner
            self.aliases.pop(node.name, None)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in _bound_by_target(t):
                        if block is None or self.imports.get(n.id) is not block:
                            self.defs[n.id] = owner
                            self.aliases.pop(n.id, None)
        elif isinstance(node, BLOCKS):
            for stmt in (s for branch in branches(node) for s in branch):
                self._bind(stmt, owner)
            if block is None:  # the rest it binds (a walrus, a loop's target, a def inside a loop)
                for name in bound_names(node):
                    if self.defs.get(name) is not node and self.imports.get(name) is not node:
                        self.defs[name] = node
                        self.aliases.pop(name, None)

    def walk(self, node: ast.AST) -> tuple[ast.AST, ...]:
        """``ast.walk(node)`` of a node of this module's tree, remembered (the node is kept with it, so its id stays its own)."""
        kept = self._walked.get(id(node))
        if kept is None or kept[0] is not node:
            kept = self._walked[id(node)] = (node, tuple(ast.walk(node)))
        return kept[1]

    def parents(self, node: ast.AST) -> dict[int, ast.AST]:
        """id(child) -> parent, for every node under ``node``."""
        kept = self._parents.get(id(node))
        if kept is None or kept[0] is not node:
            kept = self._parents[id(node)] = (node, {id(c): n for n in self.walk(node) for c in ast.iter_child_nodes(n)})
        return kept[1]

    def reachable(self, name: str, exclude: frozenset[str] = frozenset()) -> list[ast.AST]:
        """The definition of ``name`` and every module-level definition it names, transitively
        (``exclude``: names the grader swaps for trusted blocks during the call: never run)."""
        seen: dict[str, ast.AST] = {n: ast.Pass() for n in exclude if n != name}
        todo: list[str | tuple[str, ast.AST]] = [name]
        while todo:
            item = todo.pop()
            n, node = item if isinstance(item, tuple) else (item, self.defs.get(item) or self.imports.get(item))
            if n in seen or node is None:
                continue
            seen[n] = node
            todo += [x.id for x in self.walk(node) if isinstance(x, ast.Name)]
            todo += self._read_when_run(node, exclude)
            for m in self.mutations.get(n, ()):
                todo.append((f"{n}#{id(m)}", m))
        found = [v for v in dict.fromkeys(seen.values()) if not isinstance(v, ast.Pass)]
        return found + [s for s in self.star_imports if s not in found] if found else []

    def _read_when_run(self, node: ast.AST, exclude: frozenset[str]) -> list[tuple[str, ast.AST]]:
        """The bindings that a top-level statement reads as it runs (an assignment, a decorator, a
        default, a class body; not a function's body, which reads the last binding when called) had
        just before it: ``_h = _impl`` then ``def _impl`` again leaves ``_h`` holding the first one,
        which is judged too (the last binding is judged as ever)."""
        at = self.index.get(id(node))
        if at is None:
            return []
        found: list[tuple[str, ast.AST]] = []
        stack: list[ast.AST] = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                args = n.args
                stack += [*getattr(n, "decorator_list", []), *args.defaults, *(d for d in args.kw_defaults if d)]
                continue
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in exclude:
                before = [b for i, b in self.history.get(n.id, ()) if i < at]
                if before and before[-1] is not (self.defs.get(n.id) or self.imports.get(n.id)):
                    found.append((f"{n.id}#{id(before[-1])}", before[-1]))
            stack += ast.iter_child_nodes(n)
        return found

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


@functools.lru_cache(maxsize=1)
def _installed_top_level() -> frozenset[str]:
    """Modules a graded definition may import: the standard library and the environment's distributions."""
    import importlib.metadata
    import sys

    try:
        installed = set(importlib.metadata.packages_distributions())
    except Exception:  # a broken distribution's metadata must not make every import "local"
        installed = set()
    return frozenset(installed | set(sys.stdlib_module_names) | {"autograder", "course_data", "__future__"})


def _is_local_module(qualified: str) -> bool:
    """A module that is neither the standard library nor installed: a file beside the notebook, or one
    the student's code wrote at run time. The grader reads only the notebook, so code there is unseen."""
    top = qualified.split(".", 1)[0]
    return bool(top) and not qualified.startswith(".") and top not in _installed_top_level()


def _bound_by_target(target: ast.expr) -> list[ast.Name]:
    """The names an assignment target binds: ``a``, ``a, *b``, but not the ``x`` of ``x[0]`` or
    ``x.y`` (those change what ``x`` holds; see ``mutated_roots``)."""
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, ast.Starred):
        return _bound_by_target(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _bound_by_target(e)]
    return []


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def mutated_roots(node: ast.stmt) -> set[str]:
    """The module-level names a top-level statement changes in place, when that is all it does:
    ``X[k] = v``, ``X.a = v``, ``X[k] += 1``, ``X.append(v)``/``X.update(...)``, and a ``for`` loop
    made only of those and name assignments. Empty for anything else (a bare call, a print...)."""
    if isinstance(node, ast.Assign):
        if all(isinstance(t, (ast.Subscript, ast.Attribute)) for t in node.targets):
            roots = {_root(t) for t in node.targets}
            return set() if None in roots else roots
        return set()
    if isinstance(node, ast.AugAssign) and isinstance(node.target, (ast.Subscript, ast.Attribute)):
        root = _root(node.target)
        return {root} if root else set()
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
        root = _root(node.value.func.value)
        return {root} if root and node.value.func.attr in MUTATING_METHODS else set()
    if isinstance(node, ast.For) and not node.orelse:
        roots: set[str] = set()
        for stmt in node.body:
            inner = mutated_roots(stmt)
            if not inner and not (isinstance(stmt, ast.Assign) and all(_bound_by_target(t) for t in stmt.targets)):
                return set()
            roots |= inner
        return roots
    return set()


# In-place changes of a container that fill it (what ``mutated_roots`` lets run as setup).
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "__setitem__"})


def _catches_import_error(node: ast.Try) -> bool:
    """Whether one of the ``try``'s handlers catches a failed import (bare, ImportError and its bases)."""
    def names(t: ast.expr | None) -> list[str]:
        if t is None:
            return ["BaseException"]
        items = t.elts if isinstance(t, ast.Tuple) else [t]
        return [getattr(i, "id", getattr(i, "attr", "")) for i in items]

    catching = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    return any(catching & set(names(h.type)) for h in node.handlers)


def _private_torch(parts: list[str]) -> bool:
    """Whether a dotted path names a private name right under ``torch`` (``torch._VF``), at any depth:
    a module re-exports the modules it imports (``F.torch._VF``). Dunders (``torch.__version__``) are not."""
    return any(p == "torch" and n.startswith("_") and not (n.startswith("__") and n.endswith("__"))
               for p, n in zip(parts, parts[1:]))


def _star_refused(module: str) -> bool:
    """Whether ``from module import *`` is refused: torch or any of its packages (the bare names it binds,
    ``scaled_dot_product_attention`` or ``torch``, resolve only through the last star import, so a
    second one, ``from math import *``, hid them; no course answer needs one), or a module holding a
    refused name (``from os import *`` binds ``system``)."""
    refused = (*DYNAMIC_MODULES, *INTERNALS, *REFLECTION_MODULES, *REFLECTION_CONSTRUCTORS)
    return _under(module, "torch") or any(_under(m, module) for m in refused)


@functools.lru_cache(maxsize=8192)  # a pure function of its strings, asked for every name of every graded definition
def _check_qualified(qualified: str, forbidden: tuple[str, ...], dynamic: bool) -> str | None:
    for f in forbidden:  # the full name, or the same built-in reached through torch's C modules
        tail = f.rsplit(".", 1)[-1]  # ``native_``: the kernel behind it, public too (``torch.native_layer_norm``)
        if _under(qualified, f) or (_under(qualified, "torch") and qualified.rsplit(".", 1)[-1] in (tail, f"native_{tail}")):
            return "forbidden"
    if _under(qualified, "autograder") and not any(_under(qualified, a) for a in COURSE_ALLOWED):
        if qualified not in ("autograder", "autograder.carry"):  # the package itself, for check/carry_forward
            return "course"
    if dynamic and any(_under(qualified, m) for m in DYNAMIC_MODULES):
        return "dynamic"
    # any suffix: a module re-exports the modules it imports (``os.sys.modules``, ``F.torch.ops``)
    parts = qualified.split(".")
    if any(_under(".".join(parts[i:]), m) for i in range(len(parts)) for m in INTERNALS) or _private_torch(parts):
        return "internals"
    if parts[0] != "self" and any(_under(".".join(parts[i:]), m) for i in range(len(parts)) for m in REFLECTION_MODULES):
        return "reflection"
    return None


def violations(source: str, graded: str, forbidden: tuple[str, ...] = (),
               exclude: frozenset[str] = frozenset()) -> list[Violation]:
    """Every violation in the definitions reachable from ``graded`` (see the module docstring)."""
    return list(_violations(source, graded, tuple(forbidden), frozenset(exclude)))


@functools.lru_cache(maxsize=64)
def _violations(source: str, graded: str, forbidden: tuple[str, ...],
                exclude: frozenset[str]) -> tuple[Violation, ...]:
    """``violations``, once per source and question: every grader of an item asks again (about 10 ms
    for a course notebook, far more for one at the parse bounds)."""
    module = _parsed(source)
    tails = {f.rsplit(".", 1)[-1] for f in forbidden}
    dynamic = bool(forbidden)
    found: list[Violation] = []

    def add(kind: str, node: ast.AST, construct: str) -> None:
        found.append(Violation(kind, construct, getattr(node, "lineno", 0)))

    def check_import(node: ast.Import | ast.ImportFrom) -> None:
        base = ("." * node.level) + (node.module or "") if isinstance(node, ast.ImportFrom) else ""
        for a in node.names:
            q = f"{base}.{a.name}" if base else a.name
            kind = _check_qualified(q, forbidden, dynamic)
            if kind is None and id(node) not in optional and (_is_local_module(q) or base.startswith(".")):
                kind = "local"
            if kind is None and a.name == "*" and _star_refused(base):
                kind, q = "star", f"from {base} import *"
            if kind:
                add(kind, node, q)

    tops = module.reachable(graded, exclude)
    # An optional import (``try: import scipy`` ``except ImportError: ...``) of a package the grading
    # environment lacks is not a hidden local module: the sandbox worker never imports from the
    # submission's folder, so it fails there as in a kernel without the package, and the fallback runs.
    optional = {id(n) for top in tops for t in module.walk(top) if isinstance(t, ast.Try) and _catches_import_error(t)
                for stmt in t.body for n in module.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))}

    for top in tops:
        if isinstance(top, (ast.Import, ast.ImportFrom)):
            check_import(top)
            continue
        parent = module.parents(top)
        for node in module.walk(top):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                up = parent.get(id(node))
                q = module.qualified(node)
                # the package object itself (``import autograder``) is only for ``autograder.check``
                # and ``autograder.carry_forward``: passed on, or read by a computed name, it reaches the rest
                if q in ("autograder", "autograder.carry") and not (
                        isinstance(up, ast.Attribute) and up.attr in ("check", "carry_forward", "carry")):
                    add("course", node, node.id)
                # getattr, eval, ... handed on as a value (``functools.reduce(getattr, names, obj)``)
                if node.id in NAME_BY_STRING | REFLECTION_CALLS and node.id not in module.defs and not (
                        isinstance(up, ast.Call) and up.func is node):
                    add("reflection", node, node.id)
            if isinstance(node, ast.Call):
                q = module.qualified(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else None
                if q and any(_under(q, c) for c in REFLECTION_CONSTRUCTORS):
                    add("reflection", node, q)
                for loader, (keyword, unsafe) in UNPICKLING_LOADS.items():
                    if q == loader:
                        for kw in node.keywords:
                            if kw.arg == keyword and not (isinstance(kw.value, ast.Constant) and kw.value.value is not unsafe):
                                add("reflection", node, f"{q}({keyword}={ast.unparse(kw.value)})")
        for node in module.walk(top):
            if isinstance(node, (ast.Import, ast.ImportFrom)):  # an import inside the function: the same rules
                check_import(node)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                q = module.qualified(node)
                kind = _check_qualified(q, forbidden, dynamic) if q else None
                if kind is None and node.attr in tails and not _is_self(node.value):
                    kind = "forbidden"
                if kind is None and dynamic and node.attr in DYNAMIC_ATTRS:
                    kind = "dynamic"
                if kind is None and node.attr in REFLECTION_ATTRS:
                    kind = "reflection"
                if kind:
                    add(kind, node, ast.unparse(node))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                q = module.qualified(node)
                kind = _check_qualified(q, forbidden, dynamic) if q else None
                if kind is None and dynamic and q in DYNAMIC_CALLS | DYNAMIC_ATTRS:
                    kind = "dynamic"
                if kind is None and q in REFLECTION_CALLS | REFLECTION_ATTRS:
                    kind = "reflection"
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
                    if kind is None and (attr.value in REFLECTION_ATTRS or attr.value in DYNAMIC_ATTRS):
                        kind = "reflection"
                    if kind:
                        add(kind, node, ast.unparse(node))
                elif not _is_self(target):  # a computed name can reach anything, in any item
                    add("dynamic" if dynamic else "reflection", node, ast.unparse(node))
    # one report per construct and line, in source order
    unique = {(v.kind, v.construct, v.line): v for v in found}
    return tuple(sorted(unique.values(), key=lambda v: (v.line, v.construct)))


def enforce(source: str, name: str, forbidden: tuple[str, ...] = (),
            exclude: frozenset[str] = frozenset(), starts: list[tuple[int, str]] | None = None) -> None:
    """Raise ``ForbiddenCall`` (the item scores 0) for the first violation reachable from ``name``."""
    from .catalogue import phrase, text
    from .failures import ForbiddenCall

    found = violations(source, name, forbidden, exclude)
    if found:
        v = found[0]
        reached = next((f for f in forbidden if f.rsplit(".", 1)[-1] in v.construct), ", ".join(forbidden))
        line: int | str = v.line
        for first, label in starts or ():  # joined cells: the line inside the student's cell
            if first <= v.line:
                line = phrase("{line} of {cell}", line=v.line - first + 1, cell=label) if label else v.line - first + 1
        raise ForbiddenCall(text(v.key, name=name, construct=f"`{v.construct}`", line=line, forbidden=reached))


def source_of_namespace(namespace: Mapping[str, Any]) -> str:
    """A kernel's definitions as source, for the in-kernel check: the live namespace says what each
    name is bound to (a module → an import line; another module's object → a from-import), and a
    function or class defined here contributes its source (``inspect``: IPython keeps cell text).

    Each name is judged by the object it holds now, whatever the namespace's order: a cell run again
    rebinds its names where they were, so an older definition kept under another name (IPython's
    ``_5`` or ``_``, ``first_try = softmax``) comes later and, read top to bottom, would be what
    ``softmax`` means. So each definition's text binds one name only: the name it defines when that
    name holds it (``key = defined`` for an alias, ``softmax = my_softmax``); otherwise, or when more
    than one text runs for the name (a wrapper and what it wraps), the texts are the body of a
    ``def key():`` block, judged for ``key`` and binding nothing else.

    In-kernel grading is instant feedback, never a final grade; where a definition's source cannot
    be read it is left out here, and hardened grading, which reads the notebook, judges it.
    """
    import textwrap
    import types

    own_modules = (namespace.get("__name__", "__main__"), "__main__", "__student__")
    lines: list[str] = []
    own: list[str] = []
    aliases: list[str] = []
    for key, value in list(namespace.items()):
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            lines.append(f"import {value.__name__} as {key}")
            continue
        if not callable(value):
            continue
        texts = _sources_of(value, own_modules) if _is_own(value, own_modules) else []
        if texts:
            # the name the source defines, not ``__name__``, which the student's code can set
            defined = _defined_name(texts[0]) if len(texts) == 1 else None
            if defined == key:
                own.append(texts[0])
            elif defined is not None and namespace.get(defined) is value:
                # ``softmax = my_softmax``: the graded name is an alias, which the policy must follow
                own.append(texts[0])
                aliases.append(f"{key} = {defined}")
            else:
                own.append(f"def {key}():\n" + "\n".join(textwrap.indent(t, "    ") for t in texts))
        else:  # another module's object (or one only claiming to be ours: ``F.x.__module__ = "__main__"``)
            found = _import_line(key, value, own_modules)
            if found:
                lines.append(found)
    # ``from torch import *`` leaves only its names in the namespace: IPython's history (``_ih``) shows it
    history = namespace.get("_ih")
    stars = [s for cell in history if isinstance(cell, str) for s in _star_imports(cell)] if isinstance(history, list) else []
    # each piece parsed alone: one that is not Python (a key or a module's ``__name__`` set to ``def``
    # through ``globals()``) would make the whole source unparsable, and the policy read nothing
    return "\n".join(p for p in dict.fromkeys(stars + lines + own + aliases) if _parses(p))


@functools.lru_cache(maxsize=4096)  # the kernel asks at every lookup, for every definition
def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _star_imports(cell: str) -> tuple[str, ...]:
    """A cell's top-level ``from m import *`` lines (once per cell text: the kernel asks at every lookup)."""
    if "*" not in cell:
        return ()
    try:
        body = ast.parse(cell).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    return tuple(ast.unparse(n) for n in body if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names))


def _import_line(key: str, value: Any, own_modules: tuple[str, ...]) -> str | None:
    """``from M import N as key`` for another module's object. M: a Python function's globals' module,
    a built-in's own module (both read-only; ``__module__`` can be set, ``F.x.__module__ = "__main__"``),
    else its ``__module__``; N: its ``__qualname__``, else its ``__name__`` (``torch.softmax``'s
    qualname is ``_VariableFunctionsClass.softmax``: left out, ``from torch import
    _native_multi_head_attention as mha`` hid the call). Where the policy would refuse that path,
    or the object claims to be the kernel's own, and a public module holds the very object under the
    key or that name (``F.linear`` lives in ``torch._C._nn``, ``torch.linalg.norm`` is
    ``torch._C._linalg.linalg_norm``), the public one: the kernel cannot tell which the cell named."""
    import functools
    import sys
    import types

    value = value.func if isinstance(value, functools.partial) else value  # what the partial calls
    claimed = getattr(value, "__module__", None)
    module = claimed
    if isinstance(value, types.FunctionType):
        module = value.__globals__.get("__name__")
    elif isinstance(value, types.BuiltinFunctionType) and isinstance(value.__self__, types.ModuleType):
        module = value.__self__.__name__
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", "")
    if not (isinstance(name, str) and name.isidentifier()):  # ``f.<locals>.g``: not a name M holds
        name = getattr(value, "__name__", None)
        if not (isinstance(name, str) and name.isidentifier() and (getattr(sys.modules.get(str(module)), name, None) is value
                                                                   or _check_qualified(f"{module}.{name}", (), False))):
            return None
    if not isinstance(module, str):
        return None
    if module in own_modules or _check_qualified(f"{module}.{name}", (), False) == "internals":
        public = (claimed, "torch.nn.functional", "torch", "torch.nn", "torch.linalg", "torch.autograd",
                  "torch.nn.init", "torch.special", "torch.fft")
        module, name = next(((m, n) for m in public if isinstance(m, str) and m not in own_modules
                             for n in (key, name) if not n.startswith("_") and getattr(sys.modules.get(m), n, None) is value
                             and _check_qualified(f"{m}.{n}", (), False) != "internals"), (module, name))
    if module in own_modules:
        return None  # the kernel's own code whose source could not be read: left out
    return f"from {module} import {name} as {key}"


def _is_own(obj: Any, own_modules: tuple[str, ...]) -> bool:
    """Whether ``obj`` is the kernel's own code or wraps it. A function's globals say so, whatever its
    ``__module__``, which any code can set (``cheat.__module__ = "torch.nn.functional"``)."""
    import functools
    import types

    if isinstance(obj, types.BuiltinFunctionType):  # C code, whatever ``__module__`` says
        return False
    if isinstance(obj, types.FunctionType):  # its globals (read-only) say so,
        # or a library's wrapper of the kernel's function (``@torch.no_grad()`` copies ``__module__``)
        return obj.__globals__.get("__name__") in own_modules or obj.__module__ in own_modules
    if isinstance(obj, functools.partial):
        return _is_own(obj.func, own_modules)
    if isinstance(obj, types.MethodType):
        return _is_own(obj.__func__, own_modules)
    if isinstance(obj, type):
        return obj.__module__ in own_modules or any(
            _is_own(getattr(m, "__func__", m), own_modules) for m in list(vars(obj).values())
            if isinstance(getattr(m, "__func__", m), types.FunctionType))
    return getattr(obj, "__module__", None) in own_modules


def _sources_of(value: Any, own_modules: tuple[str, ...]) -> list[str]:
    """The texts of the kernel's own code that runs when ``value`` is called, the one defining it
    first: a function's own code (``inspect.getsource`` follows ``__wrapped__``, which any code can
    set), what it wraps, closes over or takes as a default (a decorator's wrapper, ``torch.no_grad()``'s
    included), a partial's function, a method's function, a class's definitions, an instance's class.
    Each dedented and parsed alone: a nested function's indented text, or one that is not Python by
    itself, would make the joined source unparsable, and the policy would read nothing at all."""
    import functools
    import inspect
    import textwrap
    import types

    texts: list[str] = []
    todo: list[Any] = [value]
    seen: set[int] = set()
    while todo and len(seen) < 64:
        obj = todo.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found: list[str] = []
        more: list[Any] = []
        if isinstance(obj, functools.partial):
            more = [obj.func, *obj.args, *obj.keywords.values()]
        elif isinstance(obj, types.MethodType):
            more = [obj.__func__]
        elif isinstance(obj, types.FunctionType):
            if obj.__globals__.get("__name__") in own_modules:  # not a library's wrapper around it
                found = list(_code_source(obj.__code__))  # the code that runs, not ``__wrapped__``
            cells = [c.cell_contents for c in obj.__closure__ or () if _filled(c)]
            more = [*cells, *(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()]
        elif isinstance(obj, type):
            found, more = _class_sources(obj)
            if not found:
                try:  # a class whose module has a file; ``findsource``: ``getsource`` follows ``__wrapped__``
                    lines, start = inspect.findsource(obj)
                    found = ["".join(inspect.getblock(lines[start:]))]
                except (OSError, TypeError):  # its bases: ``class Mine(_Base): pass`` still says something
                    more += list(obj.__bases__)
        elif callable(obj):
            more = [type(obj)]  # an instance with ``__call__``
        try:  # what it says it wraps (an instance's own ``__getattr__`` may raise anything)
            wrapped = None if isinstance(obj, type) else getattr(obj, "__wrapped__", None)
        except Exception:  # noqa: BLE001
            wrapped = None
        todo += [m for m in [*more, wrapped] if m is not None and _is_own(m, own_modules)]
        texts += [t for t in map(textwrap.dedent, found) if t not in texts and _parses(t)]
    return texts


_DEF_LINE = re.compile(r"^(\s*def\s)|(\s*async\s+def\s)|(.*(?<!\w)lambda(:|\s))|^(\s*@)")


@functools.lru_cache(maxsize=4096)  # a code object's text never changes (a re-run cell makes a new one)
def _code_source(code: Any) -> tuple[str, ...]:
    """The source text of a code object, as ``inspect.getsource(code)`` finds it (back from its first
    line to the ``def``, ``lambda`` or decorator, then the block), read from linecache directly:
    inspect first looks for the code's module, and for a notebook cell, whose "file" is not on disk,
    that scans every module loaded (17 s of a stage-07 grading's 21, once per lookup)."""
    import inspect
    import linecache

    lines = linecache.getlines(code.co_filename)
    start = getattr(code, "co_firstlineno", 0) - 1
    if not lines or not 0 <= start < len(lines):
        return ()
    while start > 0 and not _DEF_LINE.match(lines[start]):
        start -= 1
    try:
        return ("".join(inspect.getblock(lines[start:])),)
    except (IndexError, SyntaxError, ValueError):
        return ()


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a closure variable not yet assigned
        return False
    return True


@functools.lru_cache(maxsize=1024)  # asked for each definition at every check; the text decides it
def _defined_name(source: str) -> str | None:
    """The name a definition's source text binds (``def _mine`` -> ``_mine``, ``f = lambda x: ...``
    -> ``f``), or None."""
    import textwrap

    try:
        body = ast.parse(textwrap.dedent(source)).body
    except SyntaxError:
        return None
    node = body[0] if len(body) == 1 else None
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
            and isinstance(node.value, ast.Lambda):
        return node.targets[0].id
    return node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None


@functools.lru_cache(maxsize=64)
def _parsed_text(text: str) -> ast.Module:
    """A cell's or file's text parsed once (every check of a kernel reads the classes again); unreadable: empty."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


def _class_sources(cls: type) -> tuple[list[str], list[Any]]:
    """A class's source found through its methods' files (inspect cannot find a class whose module is
    not in sys.modules, as with notebook definitions run by ``notebook.load_namespace``, and it takes
    the first class of that name in a file, which need not be this one), decorators included: every
    top-level class definition that holds one of its methods (one can come from an older definition,
    or ``__name__`` be set to another), and the methods that come from none, read on their own."""
    import linecache
    import types

    found: list[str] = []
    loose: list[Any] = []
    trees: dict[str, ast.Module] = {}
    for member in list(vars(cls).values()):
        func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if not isinstance(func, types.FunctionType):
            continue
        code = func.__code__
        lines = linecache.getlines(code.co_filename)
        if code.co_filename not in trees:
            trees[code.co_filename] = _parsed_text("".join(lines))
        for node in trees[code.co_filename].body:
            if isinstance(node, ast.ClassDef) and node.lineno <= code.co_firstlineno <= (node.end_lineno or node.lineno):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                text_ = "".join(lines[first - 1:node.end_lineno])
                if text_ not in found:
                    found.append(text_)
                break
        else:
            loose.append(func)
    return found, loose


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
