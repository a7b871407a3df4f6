"""``python -m autograder gradescope-zip --stage S OUT.zip``: a Gradescope autograder for one stage.

The zip is what Gradescope's *programming assignment* asks for (its autograder specification):

- ``setup.sh`` (run once, as root, on Gradescope's Ubuntu image): bubblewrap from apt, a virtual
  environment with CPU PyTorch (pyproject.toml's range, from PyTorch's CPU index) and the course's
  other runtime dependencies (``requirements.txt``, from pyproject.toml);
- ``run_autograder`` (run per submission): ``python -m autograder.instructor.gradescope.run``, hardened
  grading of the uploaded notebook into ``/autograder/results/results.json``, with
  ``fallback_results.json`` for when Python itself cannot start;
- ``autograder/``: the engine, the sandbox and this stage's graders, public **and hidden**, with
  the oracle modules they import; ``datasets/course_data/``: the public data the sandbox stages.

Not in it: ``solutions/``, ``tests/``, the instructor's modules, other stages' graders (public or
hidden; a later stage's graders hold answers to earlier ones), their oracle modules and hidden
data seeds. :func:`audit` checks that, and a zip that fails it is not written.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import registry
from ..catalogue import language, text

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).with_name("gradescope")
SCRIPTS = ("setup.sh", "run_autograder")  # at the zip's root, executable
# Of the instructor's folder, the zip keeps only what runs on Gradescope's machine: gradescope/run.py.
RUNTIME = "gradescope"
SKIP_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
DATA_PACKAGE = Path("datasets") / "course_data"
ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # fixed: the same tree gives the same zip


class ZipLeak(RuntimeError):
    """The zip would carry something that is not this stage's to grade (the message lists what)."""


@dataclass
class ZipReport:
    path: Path
    stage: str
    files: int
    bytes: int
    graders: list[str]  # the grader and oracle modules it carries, relative to autograder/graders


# --- what the stage's graders need ---------------------------------------------------------------
def _import_nodes(tree: ast.AST, lazy: bool) -> list[ast.AST]:
    """Every import statement of ``tree``; without ``lazy``, not those inside function bodies."""
    if lazy:
        return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                todo.append(child)
    return found


def _imported(path: Path, package_root: Path, *, lazy: bool = True) -> set[Path]:
    """Files of the ``autograder`` package under ``package_root`` that ``path`` imports, absolute or
    relative; ``lazy``: imports inside functions count too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(package_root).with_suffix("").parts  # ("autograder", "graders", "blocks")
    names: set[str] = set()
    for node in _import_nodes(tree, lazy):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(here[:len(here) - node.level])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
    found = set()
    for name in names:
        if name.split(".")[0] != "autograder":
            continue
        rel = Path(*name.split("."))
        for candidate in (package_root / rel.with_suffix(".py"), package_root / rel / "__init__.py"):
            if candidate.is_file():
                found.add(candidate)
    return found


def grader_files(stage_id: str, package_root: Path = REPO) -> set[Path]:
    """The files of ``autograder/graders`` this stage's graders reach: its public and hidden grader
    modules and, transitively, every graders module they import.

    Imports inside functions count in graders modules and in the engine modules a grader imports
    itself (stage 07's graders call ``checkpoint``, whose evaluation imports the hidden test seed);
    deeper engine modules count with their module-level imports only, so a later stage that uses
    ``checkpoint`` through a module of its own (stage 08's ``lm_checkpoint``) does not carry
    stage 07's seed along.
    """
    stage = registry.stage(stage_id)
    graders = package_root / "autograder" / "graders"
    start = [graders / vis / stage.grader_module for vis in ("public", "hidden")]
    direct = {q for p in start if p.is_file() for q in _imported(p, package_root)}
    seen: set[Path] = set()
    todo = [p for p in start if p.is_file()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        lazy = graders in path.parents or path in direct
        todo.extend(_imported(path, package_root, lazy=lazy) - seen)
    return {p for p in seen if graders in p.parents}


# --- writing the tree ----------------------------------------------------------------------------
def _dependencies(repo: Path) -> tuple[str, list[str]]:
    """(the torch requirement, every other runtime requirement) of pyproject.toml, as written there."""
    from .export import _toml_loads

    deps = list(_toml_loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
    torch = [d for d in deps if d.replace(" ", "").startswith(("torch>", "torch=", "torch<", "torch~", "torch!"))
             or d.strip() == "torch"]
    if len(torch) != 1:
        raise ValueError("pyproject.toml must list torch exactly once among its dependencies")
    return torch[0], [d for d in deps if d not in torch]


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_NAMES or n.endswith(".pyc")}


def write_tree(stage_id: str, dest: Path, repo: Path = REPO) -> list[str]:
    """Write the zip's contents for ``stage_id`` into ``dest`` (which must not exist); returns the
    graders modules kept, relative to ``autograder/graders``."""
    stage = registry.stage(stage_id)
    package = dest / "autograder"
    shutil.copytree(repo / "autograder", package, ignore=_ignore)
    for path in (package / "instructor").iterdir():  # what only the instructor's machine runs
        if path.name not in (RUNTIME, "__init__.py"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for template in SCRIPTS:  # filled in, at the zip's root
        (package / "instructor" / RUNTIME / template).unlink(missing_ok=True)

    keep = {package / p.relative_to(repo / "autograder") for p in grader_files(stage_id, repo)}
    graders = package / "graders"
    for path in sorted(graders.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(graders)
        package_init = path.name == "__init__.py" or rel == Path("pytest.ini")
        if rel.parts[0] == "public" and len(rel.parts) > 2 and rel.parts[1] == "expected":
            if path.stem != stage_id:  # recorded values: this stage's only, as the student export does
                path.unlink()
            continue
        if path.suffix == ".py" and not package_init and path not in keep and rel != Path("replay.py"):
            path.unlink()  # replay.py: student.py imports it whatever the stage

    if (repo / DATA_PACKAGE).is_dir():
        shutil.copytree(repo / DATA_PACKAGE, dest / DATA_PACKAGE, ignore=_ignore)

    torch, others = _dependencies(repo)
    setup = (TEMPLATES / "setup.sh").read_text(encoding="utf-8").replace("{{TORCH}}", torch)
    run = (TEMPLATES / "run_autograder").read_text(encoding="utf-8").replace("{{STAGE}}", stage.id) \
        .replace("{{LANG}}", language())
    (dest / "setup.sh").write_text(setup, encoding="utf-8")
    (dest / "run_autograder").write_text(run, encoding="utf-8")
    (dest / "requirements.txt").write_text(
        "# The course's runtime dependencies (pyproject.toml); torch is installed by setup.sh from PyTorch's CPU index.\n"
        + "".join(f"{d}\n" for d in others), encoding="utf-8")
    fallback = {"score": 0.0, "output": text("gradescope.cannot_start"), "output_format": "text",
                "tests": [{"name": i.title, "score": 0.0, "max_score": float(i.points), "status": "failed",
                           "output": text("gradescope.cannot_start"), "visibility": "visible"}
                          for i in registry.items_of(stage.id)]}
    (dest / "fallback_results.json").write_text(json.dumps(fallback, indent=1, ensure_ascii=False) + "\n",
                                                encoding="utf-8")
    for script in SCRIPTS:
        (dest / script).chmod(0o755)
    return sorted(str(p.relative_to(graders)) for p in graders.rglob("*.py"))


# --- the audit -----------------------------------------------------------------------------------
def _substantial(line: str) -> bool:
    seed = "=" in line and "SEED" in line.split("=", 1)[0].upper()  # a seed is guarded however short
    return (len(line) >= 20 or seed) and not line.startswith(('"""', "'''"))


def _foreign_hidden_lines(stage_id: str, repo: Path) -> dict[str, str]:
    """Lines of substance that only the hidden files a ``stage_id`` zip does not carry hold: line -> file."""
    from .export import _normalized, _texts

    hidden_dir = repo / "autograder" / "graders" / "hidden"
    shipped = grader_files(stage_id, repo)
    foreign: dict[str, str] = {}
    for path in sorted(hidden_dir.rglob("*.py")) if hidden_dir.is_dir() else []:
        if path not in shipped and path.name != "__init__.py":
            for ln in _normalized(path.read_text(encoding="utf-8")):
                if _substantial(ln):
                    foreign.setdefault(ln, str(path.relative_to(repo)))
    allowed: set[str] = set()
    for path in shipped:
        allowed.update(_normalized(path.read_text(encoding="utf-8")))
    for folder in ("autograder", "datasets"):
        for rel, body, _ in _texts(repo / folder) if (repo / folder).is_dir() else []:
            if "hidden" not in Path(rel).parts:
                allowed.update(_normalized(body))
    return {ln: f for ln, f in foreign.items() if ln not in allowed}


def audit(root: str | Path, stage_id: str, repo: Path = REPO) -> list[str]:
    """Everything in the zip's tree ``root`` that a ``stage_id`` autograder must not carry, one line each."""
    from .export import text_leaks

    root = Path(root)
    stage = registry.stage(stage_id)
    problems: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        parts = rel.parts
        if parts[0] in {"solutions", "tests", "assignments", "submitted", "autograded", "feedback", ".git"} or \
                path.name in {"gradebook.db", "nbgrader_config.py"}:
            problems.append(f"instructor file: {rel}")
        if path.is_file() and len(parts) >= 4 and parts[:2] == ("autograder", "graders") \
                and parts[2] in ("public", "hidden") and path.name.startswith("test_") \
                and path.name != stage.grader_module:
            problems.append(f"another stage's {parts[2]} grader: {rel}")
    problems += text_leaks(root, repo, _foreign_hidden_lines(stage_id, repo))
    return list(dict.fromkeys(problems))


# --- the zip -------------------------------------------------------------------------------------
def build(stage_id: str, out: str | Path, repo: Path = REPO) -> ZipReport:
    """Write the Gradescope autograder zip of ``stage_id`` to ``out``; raises :class:`ZipLeak` (and
    writes nothing) when the audit finds anything that is not the stage's to grade."""
    stage = registry.stage(stage_id)
    if not (repo / "autograder" / "graders" / "public" / stage.grader_module).is_file():
        raise ValueError(f"stage {stage.id} has no graders yet (autograder/graders/public/{stage.grader_module})")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="autograder-gradescope-zip-") as tmp:
        tree = Path(tmp) / "source"
        kept = write_tree(stage.id, tree, repo)
        problems = audit(tree, stage.id, repo)
        if problems:
            raise ZipLeak("no zip was written: it would carry\n" + "\n".join(f"  {p}" for p in problems))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        files = sorted(p for p in tree.rglob("*") if p.is_file())
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                info = zipfile.ZipInfo(str(path.relative_to(tree)), ZIP_DATE)
                info.external_attr = ((0o755 if path.name in SCRIPTS and path.parent == tree else 0o644) << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        partial.replace(out)
        return ZipReport(out, stage.id, len(files), out.stat().st_size, kept)


def add_arguments(p) -> None:
    p.add_argument("out", metavar="OUT.zip", help="where to write the zip (replaced if it exists)")
    p.add_argument("--stage", required=True, metavar="ID", help="the stage it grades, e.g. 01_dot_product_attention")


def main(args) -> int:
    try:
        report = build(args.stage, args.out)
    except (ValueError, registry.UnknownItem) as exc:
        print(f"gradescope-zip: {exc}", file=sys.stderr)
        return 2
    except ZipLeak as exc:
        print(f"gradescope-zip: {exc}", file=sys.stderr)
        return 1
    print(f"Gradescope autograder for {report.stage} written to {report.path}: {report.files} files, "
          f"{report.bytes / 1024:.0f} KiB; graders: {', '.join(report.graders)}.")
    print("Audit passed: no solutions, no other stage's graders or hidden data.")
    print("Next: in Gradescope, create a Programming Assignment, upload this zip under Configure Autograder "
          "(Ubuntu 22.04, 2 CPUs and 3 GB or more), and test it with a reference notebook (docs/instructors.md).")
    return 0
