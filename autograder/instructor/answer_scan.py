"""The answer scan of the export audit: does any code that ships *work* as an answer?

Reference-text matching (export.audit) misses an answer written differently: a public oracle
that computes the right softmax is as good as the solution to a student who copies it. So every
top-level function and class defined in the exported ``autograder`` package is graded, under each
contract name (the names an item's check cell grades), by that item's public graders, exactly as a
notebook would be: the definition's source is re-executed as the student's own code (module
``__student__``, over a copy of its module's globals: what pasting it, or wrapping it, gives). An
import of the engine's own object is refused by the grader anyway (student._refuse_the_graders_own),
and a copy that calls PyTorch's built-ins meets the item's forbidden-call check like any notebook.

Run as a script, in a subprocess of its own, *on the export itself* (``sys.path[0]`` is the export,
so ``autograder`` is the package that ships, graded by the graders that ship)::

    python autograder/instructor/answer_scan.py EXPORT_DIR STAGE_ID...   # prints {stage: findings} as JSON

One process scans every stage asked for, with one pool of candidates (starting Python and torch and
re-executing 700 definitions took about 5 s of each stage's scan). The candidates are the course's
own definitions, each re-executed over a copy of its module's globals, so grading them for one stage
leaves the next stage's view as it was.

A candidate is pasted, not imported: the static policy (autograder/policy.py) reads its module's
imports and its own text, as it reads a notebook, and a candidate it refuses in every item of the
name is no answer (:func:`refused_by_policy`). Definitions that drive processes, signals or files
are not run (:func:`machinery_definitions`); the rest of their module is.

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
from typing import Any, NamedTuple

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


class Candidate(NamedTuple):
    file: str  # relative to the export, e.g. autograder/graders/blocks.py
    name: str  # as defined there
    obj: Any  # re-executed as a student's own definition
    pasted: str  # what pasting it hands in: the module's imports and its text (pasted_source)


def machinery_definitions(tree: ast.Module) -> set[str]:
    """The module's top-level definitions that reach process, signal or file machinery: those that
    import a ``MACHINERY`` module, name one the module imports, or name such a definition
    (transitively). The module's other definitions are tried: a machinery import elsewhere in the
    file (stage 07's oracles copy files with shutil) must not hide them."""
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    tainted = {a.asname or a.name.split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
               for a in n.names if _imports(ast.Module(body=[n], type_ignores=[])) & MACHINERY}
    found = {name for name, node in defs.items() if _imports(ast.Module(body=[node], type_ignores=[])) & MACHINERY}
    while True:
        more = {name for name, node in defs.items() if name not in found
                and any(isinstance(x, ast.Name) and x.id in tainted | found for x in ast.walk(node))}
        if not more:
            return found
        found |= more


def pasted_source(tree: ast.Module, node: ast.stmt) -> str:
    """What a student who pastes ``node`` into a notebook hands in: the module's imports, then the
    definition (the static policy reads this, as it reads a notebook)."""
    imports = [n for n in tree.body if isinstance(n, ast.Import)
               or (isinstance(n, ast.ImportFrom) and n.module != "__future__")]
    return ast.unparse(ast.Module(body=[*imports, node], type_ignores=[]))


def refused_by_policy(candidate: Candidate, name: str, item_ids: list[str]) -> bool:
    """Whether the static policy zeroes the candidate, pasted under the contract ``name``, in every
    item that grades that name: then it is no answer, whatever its values (``policy.INTERNALS``:
    the trusted blocks that ship as code compute through PyTorch's dispatcher for that reason)."""
    from autograder import policy, registry

    source = candidate.pasted + (f"\n{name} = {candidate.name}\n" if name != candidate.name else "")
    return bool(item_ids) and all(policy.violations(source, name, registry.item(i).forbidden) for i in item_ids)


def candidates(export: Path) -> list[Candidate]:
    """Every top-level def and class of the exported package, re-executed as a student's own definition."""
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
            if "sandbox" in rel.parts:
                continue
            module = importlib.import_module(dotted)
        except Exception:  # noqa: BLE001 - a module that does not import offers nothing to copy
            continue
        machinery = machinery_definitions(tree)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name in machinery:
                continue
            scope = dict(vars(module))
            scope["__name__"] = "__student__"
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), f"<{rel}>", "exec"), scope)  # noqa: S102
            except Exception:  # noqa: BLE001 - e.g. a decorator that registers twice
                continue
            found.append(Candidate(str(rel), node.name, scope[node.name], pasted_source(tree, node)))
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


def _sieve(item_id: str, name: str, fits: list[Candidate], graders: list[Any]) -> list[Candidate]:
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


def scan_stage(export: Path, stage_id: str, pool: list[Candidate] | None = None) -> list[dict[str, Any]]:
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
    pool = candidates(export) if pool is None else pool
    per_name: dict[str, list[Candidate]] = {}
    for name in {n for ns in names.values() for n in ns}:
        n = arity.get(name)
        if name[:1].isupper():
            fits = [c for c in pool if isinstance(c[2], type) and module_base and issubclass(c[2], module_base)
                    and (n is None or _accepts(c[2].__init__, n + 1))]
        else:
            fits = [c for c in pool if inspect.isfunction(c[2]) and (n is None or _accepts(c[2], n))]
        users = [i for i, ns in names.items() if name in ns]
        per_name[name] = [c for c in fits if not refused_by_policy(c, name, users)]
    # The sieve: items graded on one name drop, for that name, the candidates one of their graders
    # fails; a name that an item of several names also grades keeps every candidate.
    direct = _direct_graders(stage_id)
    for name in per_name:
        users = [i for i, ns in names.items() if name in ns]
        if not users or any(len(names[i]) != 1 for i in users):
            continue
        kept: dict[int, Candidate] = {}
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
                    file, defined = per_name[name][r][:2]
                    findings.append({"file": file, "name": defined, "item": result.item.id, "as": name})
    return findings


def main(argv: list[str]) -> int:
    export, stage_ids = Path(argv[0]).resolve(), argv[1:]
    # The findings go to a copy of the original stdout: grading swaps sys.stdout during the runs.
    out = os.fdopen(os.dup(1), "w")
    _disarm()
    pool = candidates(export)
    findings = {stage_id: scan_stage(export, stage_id, pool) for stage_id in stage_ids}
    out.write(json.dumps(findings) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    # Grade what ships: the export's own package, not the instructor's (this file's folder).
    _export = str(Path(sys.argv[1]).resolve())
    sys.path[:] = [_export] + [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
    _exit = sys.exit  # main disarms sys.exit for the candidates
    _exit(main(sys.argv[1:]))
