"""The answer scan of the export audit: does any code that ships *work* as an answer?

Reference-text matching (export.audit) misses an answer written differently: a public oracle
that computes the right softmax is as good as the solution to a student who copies it. So every
top-level function and class defined in the exported ``autograder`` package is graded, under each
contract name (the names an item's check cell grades), by that item's public graders, exactly as a
notebook would be: the definition's source is re-executed as the student's own code (module
``__student__``, over a copy of its module's globals: what pasting it, or wrapping it, gives). An
import of the engine's own object is refused by the grader anyway (student._refuse_the_graders_own),
and a copy that calls PyTorch's built-ins meets the item's forbidden-call check like any notebook.

Run as a script, in a subprocess per stage, *on the export itself* (``sys.path[0]`` is the export,
so ``autograder`` is the package that ships, graded by the graders that ship)::

    python autograder/answer_scan.py EXPORT_DIR STAGE_ID      # prints JSON findings

Cheap filters keep it fast: a lowercase contract name is tried with functions, a capitalised one
with ``nn.Module`` classes; a candidate whose positional parameters cannot take the release
stub's required arguments is skipped. Then a sieve (:func:`_sieve`) calls each item's graders
directly, without pytest, and drops a candidate at its first failed grader: a failure is a
``GraderFailure`` the grader raised, which fails that grader under pytest too, so only candidates
that cannot score full marks are dropped; anything else (a pass, another exception, a grader that
needs more fixtures than ``student``) keeps the candidate. The survivors (a handful of 600) are then
graded for real: candidates of different contract names share one pytest run (one round per
candidate index). A pytest session costs ~0.1 s; the sieve made a stage's scan 5 to 10 times faster.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

TIME_LIMIT_S = 3.0  # per student call: a candidate that spins is not an answer


class _Recorder(dict):
    """A namespace that remembers which names the graders look up (and holds none)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key: Any, default: Any = None) -> Any:
        self.asked.append(key)
        return super().get(key, default)


def contract_names(stage_id: str) -> dict[str, list[str]]:
    """item id -> the names its public graders grade, read by grading an empty namespace.

    Each grader stops at its first missing name, so an item whose graders look up several names
    records at least the first of each grader (stage 06's stacks: Encoder, then Decoder).
    """
    from autograder import registry
    from autograder.runner import run_items
    from autograder.student import LocalStudent

    names: dict[str, list[str]] = {}
    for item in registry.items_of(stage_id):
        rec = _Recorder()
        run_items(LocalStudent(rec), [item.id])
        # dunder look-ups (``__name__``) are the engine's, not contract names
        names[item.id] = [n for n in dict.fromkeys(rec.asked) if isinstance(n, str) and n.isidentifier()
                          and not (n.startswith("__") and n.endswith("__"))]
    return names


def _stub_arity(export: Path, stage_id: str) -> dict[str, int]:
    """contract name -> number of required positional arguments of the release's stub."""
    from autograder import registry
    from autograder.notebook import code_definitions

    path = export / "assignments" / stage_id / registry.stage(stage_id).notebook
    arity: dict[str, int] = {}
    try:
        tree = ast.parse(code_definitions(path))
    except (OSError, SyntaxError, ValueError):
        return arity
    for node in tree.body:
        fn = node
        if isinstance(node, ast.ClassDef):
            fn = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
            if fn is None:
                arity[node.name] = 0
                continue
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = fn.args
            positional = len(a.posonlyargs) + len(a.args) - (1 if isinstance(node, ast.ClassDef) else 0)
            arity[node.name] = positional - len(a.defaults)
    return arity


def _accepts(obj: Any, n: int) -> bool:
    """Whether ``obj`` (a function, or a class's __init__) can be called with ``n`` positional arguments."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    params = list(sig.parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params) <= n
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    kw_required = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    return len(required) <= n <= len(positional) and not kw_required


# Modules that drive processes, signals, limits or files (the sandbox, the CLIs) hold no answer to a
# tensor exercise, and running their functions on the graders' arguments could kill or delete
# things (the sandbox's reaper sends SIGKILL to -1): their definitions are not tried.
MACHINERY = {"signal", "resource", "subprocess", "multiprocessing", "ctypes", "socket", "shutil", "pty"}


def _imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def _disarm() -> None:
    """Second guard, for what the module filter misses: a candidate cannot end, fork or signal."""
    import subprocess

    def refused(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a scanned candidate tried to end, fork or signal a process")

    for owner, name in ((os, "_exit"), (os, "kill"), (os, "killpg"), (os, "fork"), (os, "forkpty"),
                        (os, "system"), (os, "execv"), (os, "execve"), (sys, "exit"), (subprocess, "Popen")):
        if hasattr(owner, name):
            setattr(owner, name, refused)


def candidates(export: Path) -> list[tuple[str, str, Any]]:
    """(file, name, object) for every top-level def and class of the exported package, re-executed
    as a student's own definition."""
    import importlib

    found = []
    for path in sorted((export / "autograder").rglob("*.py")):
        rel = path.relative_to(export)
        if path.name == "answer_scan.py":
            continue
        dotted = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            if "sandbox" in rel.parts or _imports(tree) & MACHINERY:
                continue
            module = importlib.import_module(dotted)
        except Exception:  # noqa: BLE001 - a module that does not import offers nothing to copy
            continue
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            scope = dict(vars(module))
            scope["__name__"] = "__student__"
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), f"<{rel}>", "exec"), scope)  # noqa: S102
            except Exception:  # noqa: BLE001 - e.g. a decorator that registers twice
                continue
            found.append((str(rel), node.name, scope[node.name]))
    return found


def _direct_graders(stage_id: str) -> dict[str, list[Any]]:
    """item id -> its public graders that take only the ``student`` fixture, in file order."""
    import importlib.util

    from autograder import registry
    from autograder.runner import PUBLIC_DIR

    path = PUBLIC_DIR / registry.stage(stage_id).grader_module
    spec = importlib.util.spec_from_file_location(f"_scan_{stage_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    by_item: dict[str, list[Any]] = {}
    for fn in vars(module).values():
        marks = [m for m in getattr(fn, "pytestmark", []) if getattr(m, "name", "") == "grader"]
        if not (inspect.isfunction(fn) and fn.__name__.startswith("test") and len(marks) == 1):
            continue
        if list(inspect.signature(fn).parameters) == ["student"]:
            by_item.setdefault(marks[0].args[0], []).append(fn)
    return by_item


def _sieve(item_id: str, name: str, fits: list[tuple[str, str, Any]], graders: list[Any]) -> list[tuple[str, str, Any]]:
    """The candidates for ``name`` that no grader of ``item_id`` (graded on ``name`` alone) fails."""
    import contextlib
    import io

    from autograder import registry
    from autograder.failures import GraderFailure
    from autograder.student import LocalStudent

    forbidden = registry.item(item_id).forbidden
    kept = []
    for cand in fits:
        student = LocalStudent({name: cand[2]}, time_limit=TIME_LIMIT_S)
        failed = False
        sink = io.StringIO()
        for grade in graders:
            try:
                with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                    grade(student.for_item(forbidden))
            except GraderFailure:
                failed = True
                break
            except Exception:  # noqa: BLE001 - not a verdict: pytest decides
                continue
        if not failed:
            kept.append(cand)
    return kept


def scan_stage(export: Path, stage_id: str) -> list[dict[str, Any]]:
    """Every candidate that scores full marks on an item of ``stage_id``: {file, name, item}."""
    from autograder import registry
    from autograder.runner import run_items
    from autograder.student import LocalStudent

    names = contract_names(stage_id)
    arity = _stub_arity(export, stage_id)
    try:
        import torch.nn as nn
        module_base: type | None = nn.Module
    except ImportError:
        module_base = None
    pool = candidates(export)
    per_name: dict[str, list[tuple[str, str, Any]]] = {}
    for name in {n for ns in names.values() for n in ns}:
        n = arity.get(name)
        if name[:1].isupper():
            fits = [c for c in pool if isinstance(c[2], type) and module_base and issubclass(c[2], module_base)
                    and (n is None or _accepts(c[2].__init__, n + 1))]
        else:
            fits = [c for c in pool if inspect.isfunction(c[2]) and (n is None or _accepts(c[2], n))]
        per_name[name] = fits
    # The sieve: items graded on one name drop, for that name, the candidates one of their graders
    # fails; a name that an item of several names also grades keeps every candidate.
    direct = _direct_graders(stage_id)
    for name in per_name:
        users = [i for i, ns in names.items() if name in ns]
        if not users or any(len(names[i]) != 1 for i in users):
            continue
        kept: dict[int, tuple[str, str, Any]] = {}
        for item_id in users:
            for cand in _sieve(item_id, name, per_name[name], direct.get(item_id, [])):
                kept[id(cand)] = cand
        per_name[name] = [c for c in per_name[name] if id(c) in kept]
    findings = []
    rounds = max((len(v) for v in per_name.values()), default=0)
    for r in range(rounds):
        namespace = {name: fits[r][2] for name, fits in per_name.items() if r < len(fits)}
        graded = [i for i, ns in names.items() if ns and all(n in namespace for n in ns)]
        if not graded:
            continue
        for result in run_items(LocalStudent(namespace, time_limit=TIME_LIMIT_S), graded):
            if result.graders and not result.incomplete and result.score >= result.max_points:
                for name in names[result.item.id]:
                    file, defined, _ = per_name[name][r]
                    findings.append({"file": file, "name": defined, "item": result.item.id, "as": name})
    return findings


def main(argv: list[str]) -> int:
    export, stage_id = Path(argv[0]).resolve(), argv[1]
    # The findings go to a copy of the original stdout: grading swaps sys.stdout during the runs.
    out = os.fdopen(os.dup(1), "w")
    _disarm()
    findings = scan_stage(export, stage_id)
    out.write(json.dumps(findings) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    # Grade what ships: the export's own package, not the instructor's (this file's folder).
    _export = str(Path(sys.argv[1]).resolve())
    sys.path[:] = [_export] + [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
    _exit = sys.exit  # main disarms sys.exit for the candidates
    _exit(main(sys.argv[1:]))
