"""``python -m autograder export-student-repo DIR``: the repository every student starts from.

The export holds what a student may see and nothing else:

- ``assignments/``: the released notebooks (what ``nbgrader generate_assignment`` made);
- ``autograder/``: the engine and the *public* graders, without ``autograder/graders/hidden``
  (hidden graders, and stage 07's hidden data seed) and without the instructor's modules
  (release, demo, example submissions, export);
- the public data (``datasets/``: the course's translation data and its generator);
- ``pyproject.toml`` (so ``pip install -e .`` works), ``README.md`` and ``docs/students.md``;
- ``.github/workflows/grade.yml``: on every push, the public checks run in the sandbox
  (``python -m autograder grade --public-only``); the job summary shows points and hints per
  item, and GitHub Classroom gets the points (``autograder/grading/classroom.py``).

Before it returns, the export is audited (:func:`audit`): no solution code, no nbgrader
solution or hidden-test markers, no hidden grader, no line that only the hidden graders hold;
and the answer scan (:func:`scan_answers`) grades every def and class that ships under each
item's contract name: none may score full marks.
An export that fails the audit is deleted and the command fails.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import registry

REPO = Path(__file__).resolve().parents[2]
# The student repository's own files (workflow, README, .gitignore) live in the course repository's
# .github/student/: beside the course's workflows, but not in .github/workflows, so they never run here.
TEMPLATE = Path(".github") / "student"

# Who gets what follows from folders (docs/architecture.md, "Layout"): the package ships whole,
# less autograder/instructor/ (what reads solutions/ or tests/, writes course folders, or works on
# the class after grading) and autograder/graders/hidden/.
NOT_SHIPPED = {("autograder", "instructor"), ("graders", "hidden")}
SKIP_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".txt", ".toml", ".yml", ".yaml", ".cfg", ".ini", ".json", ".tsv", ".csv", ""}


class ExportLeak(RuntimeError):
    """The export would hand out something a student must not see (the message lists what)."""


@dataclass
class ExportReport:
    dest: Path
    files: int
    bytes: int
    stages: list[str]
    leaks: list[str]  # what the audit found (always empty when the export was checked and kept)


# --- writing the export -----------------------------------------------------------------------
def _ignore(directory: str, names: list[str]) -> set[str]:
    here = Path(directory)
    skip = {n for n in names if n in SKIP_NAMES or n.endswith(".pyc")}
    skip |= {n for parent, n in NOT_SHIPPED if here.name == parent and n in names}
    return skip


def _toml_loads(text: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest depends on tomli there
        import tomli as tomllib
    return tomllib.loads(text)


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value) and sum(len(v) for v in value) < 60:
            return "[" + ", ".join(json.dumps(v) for v in value) + "]"
        return "[\n" + "".join(f"    {_toml_value(v)},\n" for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def student_pyproject(repo: Path = REPO) -> str:
    """The student's pyproject.toml: the course's runtime dependencies and packages, no instructor extras."""
    course = _toml_loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    project = course["project"]
    setuptools_cfg = course.get("tool", {}).get("setuptools", {})
    find = setuptools_cfg.get("packages", {}).get("find", {"include": ["autograder*"]})
    package_data = setuptools_cfg.get("package-data", {})
    lines = [
        "# Written by `python -m autograder export-student-repo`: the course's runtime dependencies.",
        "# Install with: python -m pip install -e .   (CPU PyTorch: see README.md)",
        "[build-system]",
        'requires = ["setuptools>=68"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        'name = "transformer-course-student"',
        f"version = {_toml_value(project.get('version', '0.1.0'))}",
        'description = "My work on the Transformer course: notebooks, and the public checks that grade them."',
        f"requires-python = {_toml_value(project.get('requires-python', '>=3.10'))}",
        f"dependencies = {_toml_value(list(project['dependencies']))}",
        "",
        "[project.optional-dependencies]",
        f"lab = {_toml_value(['jupyterlab>=4.0,<5'])}",
        "",
        "[tool.setuptools.packages.find]",
        *[f"{key} = {_toml_value(list(val))}" for key, val in find.items()],
        "",
        "[tool.setuptools.package-data]",
        *[f"{pkg} = {_toml_value(list(val) + (['graders/*.ini', 'graders/public/expected/*'] if pkg == 'autograder' else []))}"
          for pkg, val in package_data.items()],
        "",
    ]
    return "\n".join(lines)


def _stage_table(stage_ids: Sequence[str], lang: str = "en") -> str:
    from ..catalogue_es import TITLES_ES

    head = {"en": "| stage | notebook | points |", "es": "| etapa | cuaderno | puntos |"}[lang]
    rows = [head, "| --- | --- | ---: |"]
    for sid in stage_ids:
        st = registry.stage(sid)
        shown = TITLES_ES[f"stage.{sid}"] if lang == "es" else st.english_title
        rows.append(f"| {st.number} {shown} | [`assignments/{sid}/{st.notebook}`](assignments/{sid}/{st.notebook}) "
                    f"| {registry.max_points(sid):g} |")
    return "\n".join(rows)


def _graders_imported(path: Path) -> set[str]:
    """Names of the autograder.graders modules a grader file imports (graders import absolutely)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
        if module == "autograder.graders":  # from autograder.graders import blocks, oracles
            found.update(a.name for a in node.names)
        elif module.startswith("autograder.graders."):  # from autograder.graders.blocks import X
            found.add(module.split(".")[2])
    return found


def _keep_graders_of(stage_ids: Sequence[str], graders: Path) -> None:
    """Remove the public graders of the stages not exported, and the helper modules only they need.

    A later stage's graders hold answers to earlier stages (its trusted pieces and oracles): an
    export of stages 01-03 must not carry stage 04's, so that later stages can be handed out after
    the earlier deadlines.
    """
    wanted = {registry.stage(sid).grader_module for sid in stage_ids}
    for path in (graders / "public").glob("test_*.py"):
        if path.name not in wanted:
            path.unlink()
    needed: set[str] = set()
    todo = list((graders / "public").glob("test_*.py"))
    while todo:
        for name in _graders_imported(todo.pop()) - needed:
            needed.add(name)
            if (graders / f"{name}.py").is_file():
                todo.append(graders / f"{name}.py")
    for path in graders.glob("*.py"):
        # replay.py: the student object marks student code as running there (it always ships)
        if path.name not in ("__init__.py", "replay.py") and path.stem not in needed:
            path.unlink()


def _replace_oracles(stage_ids: Sequence[str], graders: Path) -> None:
    """Ship the replayed oracle modules as stubs that look values up, with the exported stages'
    recorded values only (issue 10 item 2: no working answer in the export)."""
    import importlib

    from ..graders import replay
    from .record_expected import REPLAYED

    for dotted in REPLAYED:
        path = graders / f"{dotted.rsplit('.', 1)[-1]}.py"
        if path.is_file():
            path.write_text(replay.stub_source(importlib.import_module(dotted)), encoding="utf-8")
    expected = graders / "public" / "expected"
    if expected.is_dir():
        for path in expected.iterdir():
            if path.stem not in stage_ids:
                path.unlink()


def export_student_repo(dest: str | Path, *, stages: Sequence[str] | None = None, force: bool = False,
                        repo: Path = REPO, check: bool = True, scan: bool = True, lang: str = "en") -> ExportReport:
    """Write the student repository to ``dest`` and audit it; raises :class:`ExportLeak` if it leaks.

    ``check=False`` (for tests of other things) keeps the export and returns the audit's findings.
    ``scan=True`` (the default; the command's ``--no-scan-answers`` turns it off) adds the answer
    scan (:func:`scan_answers`, a few seconds a stage) of every exported stage: any definition that
    ships and scores full marks on an item refuses the export (issue 10 item 3).

    ``lang="es"`` makes the Spanish edition: the notebooks of ``assignments_es/`` (still called
    ``assignments/`` in the export), the Spanish README and ``docs/students.md``, and
    ``autograder/LANGUAGE``, which makes every report of the student's copy Spanish.
    """
    from .bilingual import LANGUAGES, release_directory

    if lang not in LANGUAGES:
        raise ValueError(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}.")
    dest = Path(dest).resolve()
    released = repo / release_directory(lang)
    stage_ids = list(stages) if stages else [s.id for s in registry.STAGES if (released / s.id).is_dir()]
    for sid in stage_ids:
        registry.stage(sid)  # an unknown stage raises with the list of known ones
        if not (released / sid).is_dir():
            raise ValueError(f"{release_directory(lang)}/{sid} does not exist: run `make release` first.")
    if dest.exists() and any(p.name != ".git" for p in dest.iterdir()):
        if not force:
            raise FileExistsError(f"{dest} is not empty (use --force to replace everything in it but .git/).")
        for p in dest.iterdir():
            if p.name != ".git":
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    dest.mkdir(parents=True, exist_ok=True)

    for sid in stage_ids:
        shutil.copytree(released / sid, dest / "assignments" / sid, ignore=_ignore)
    shutil.copytree(repo / "autograder", dest / "autograder", ignore=_ignore)
    (dest / "autograder" / "LANGUAGE").unlink(missing_ok=True)
    if lang != "en":
        (dest / "autograder" / "LANGUAGE").write_text(f"{lang}\n", encoding="utf-8")
    _keep_graders_of(stage_ids, dest / "autograder" / "graders")
    _replace_oracles(stage_ids, dest / "autograder" / "graders")
    if (repo / "datasets").is_dir():
        shutil.copytree(repo / "datasets", dest / "datasets", ignore=_ignore)
    (dest / "docs").mkdir(exist_ok=True)
    suffix = "" if lang == "en" else f".{lang}"
    shutil.copy2(repo / "docs" / f"students{suffix}.md", dest / "docs" / "students.md")

    template = repo / TEMPLATE
    (dest / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    shutil.copy2(template / "grade.yml", dest / ".github" / "workflows" / "grade.yml")
    shutil.copy2(template / "gitignore", dest / ".gitignore")
    readme = (template / f"README{suffix}.md").read_text(encoding="utf-8")
    (dest / "README.md").write_text(readme.replace("{{STAGES}}", _stage_table(stage_ids, lang)), encoding="utf-8")
    (dest / "pyproject.toml").write_text(student_pyproject(repo), encoding="utf-8")

    problems = audit(dest, repo)
    if scan:
        problems += scan_answers(dest, stage_ids)
    if problems and check:
        shutil.rmtree(dest, ignore_errors=True)
        raise ExportLeak("the export was deleted: it would leak\n" + "\n".join(f"  {p}" for p in problems))
    files = [p for p in dest.rglob("*") if p.is_file() and ".git" not in p.relative_to(dest).parts]
    return ExportReport(dest, len(files), sum(p.stat().st_size for p in files), stage_ids, problems)


# --- the audit ----------------------------------------------------------------------------------
def _normalized(text: str) -> list[str]:
    """Lines that carry code: stripped, without blanks and comment-only lines."""
    return [s for ln in text.splitlines() if (s := ln.strip()) and not s.startswith("#")]


def _cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def solution_regions(repo: Path = REPO) -> Iterator[tuple[str, str]]:
    """(where, code) for every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region of the source notebooks."""
    for path in sorted((repo / "solutions").glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for n, cell in enumerate(nb.get("cells", []), start=1):
            if cell.get("cell_type") != "code":
                continue
            inside, region = False, []
            for line in _cell_source(cell).splitlines():
                if "BEGIN SOLUTION" in line:
                    inside, region = True, []
                elif "END SOLUTION" in line:
                    inside = False
                    yield f"{path.relative_to(repo)} cell {n}", "\n".join(region)
                elif inside:
                    region.append(line)


def _function_bodies(source: str) -> Iterator[tuple[str, str, int]]:
    """(name, ast dump of the body without its docstring, statements) of every function in ``source``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) and len(node.body) > 1 else node.body
            statements = sum(isinstance(n, ast.stmt) for b in body for n in ast.walk(b))
            yield node.name, ast.dump(ast.Module(body=body, type_ignores=[])), statements


def _reference_functions(repo: Path) -> dict[str, str]:
    """ast dump of a reference function body -> where it is (functions with 2+ statements only)."""
    found = {}
    for path in sorted((repo / "solutions").glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for n, cell in enumerate(nb.get("cells", []), start=1):
            src = _cell_source(cell)
            if cell.get("cell_type") != "code" or "BEGIN SOLUTION" not in src:
                continue
            code = "\n".join(ln for ln in src.splitlines() if "SOLUTION" not in ln)
            for name, body, statements in _function_bodies(code):
                if statements >= 2:  # `return x` alone proves nothing
                    found.setdefault(body, f"{path.relative_to(repo)} cell {n}: {name}()")
    return found


def _texts(root: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(relative path, text, code texts) of every text file under ``root``; code texts are notebook code cells."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or ".git" in rel.parts or path.suffix not in TEXT_SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        codes = [text] if path.suffix == ".py" else []
        if path.suffix == ".ipynb":
            try:
                codes = [_cell_source(c) for c in json.loads(text).get("cells", []) if c.get("cell_type") == "code"]
                text = "\n".join(_cell_source(c) for c in json.loads(text).get("cells", []))
            except (ValueError, AttributeError):
                pass
        yield str(rel), text, codes


def _hidden_only_lines(repo: Path) -> dict[str, str]:
    """Lines of substance that only the hidden graders hold (not in any public source): line -> file."""
    hidden_dir = repo / "autograder" / "graders" / "hidden"
    hidden: dict[str, str] = {}
    for path in sorted(hidden_dir.rglob("*.py")) if hidden_dir.is_dir() else []:
        for ln in _normalized(path.read_text(encoding="utf-8")):
            seed = "=" in ln and "SEED" in ln.split("=", 1)[0].upper()  # a seed is guarded however short
            if (len(ln) >= 20 or seed) and not ln.startswith(('"""', "'''")):
                hidden.setdefault(ln, str(path.relative_to(repo)))
    public: set[str] = set()
    for folder in ("autograder", "assignments", "datasets", "docs", ".github"):
        for rel, text, _ in _texts(repo / folder) if (repo / folder).is_dir() else []:
            if "hidden" not in Path(rel).parts:
                public.update(_normalized(text))
    return {ln: f for ln, f in hidden.items() if ln not in public}


def audit(dest: str | Path, repo: Path = REPO) -> list[str]:
    """Everything in ``dest`` that a student must not see, one line each (empty: the export is clean)."""
    dest = Path(dest)
    problems: list[str] = []
    for path in sorted(dest.rglob("*")):
        parts = path.relative_to(dest).parts
        if ".git" in parts:
            continue
        if "hidden" in parts and "graders" in parts:
            problems.append(f"hidden grader: {path.relative_to(dest)}")
        if parts[:2] == ("autograder", "instructor"):
            problems.append(f"instructor module: {path.relative_to(dest)}")
        if parts[0] in {"solutions", "tests", "submitted", "autograded", "feedback"} or path.name in {
                "gradebook.db", "nbgrader_config.py"}:
            problems.append(f"instructor file: {path.relative_to(dest)}")
    problems += text_leaks(dest, repo, _hidden_only_lines(repo))
    return list(dict.fromkeys(problems))


def text_leaks(root: Path, repo: Path, guarded_lines: dict[str, str]) -> list[str]:
    """What the text files under ``root`` give away: nbgrader markers, solution code, functions whose
    body is a reference function's, and ``guarded_lines`` (line -> the file it must stay in). Shared by
    the student export's audit and the Gradescope zip's."""
    problems: list[str] = []
    regions = [(where, "\n".join(lines)) for where, code in solution_regions(repo)
               if len(lines := _normalized(code)) >= 2]
    references = _reference_functions(repo)
    for rel, text, codes in _texts(root):
        for marker in MARKERS:
            if marker in text:
                problems.append(f"nbgrader marker {marker!r} in {rel}")
        flat = "\n".join(_normalized(text))
        for where, region in regions:
            if region in flat:
                problems.append(f"solution code from {where} in {rel}")
        for code in codes:
            for name, body, _ in _function_bodies(code):
                if body in references:
                    problems.append(f"{name}() in {rel} is the reference {references[body]}")
        for line in _normalized(text):
            if line in guarded_lines:
                problems.append(f"a line of {guarded_lines[line]} in {rel}: {line[:60]}")
    return problems


ANSWER_SCAN = Path(__file__).with_name("answer_scan.py")
SCAN_TIMEOUT_S = 300  # per stage scanned; a scan that cannot finish refuses the export rather than pass it


def scan_answers(dest: str | Path, stage_ids: Sequence[str]) -> list[str]:
    """The answer scan (autograder/instructor/answer_scan.py): every def and class of the exported package that
    scores full marks on an item under its contract name, one line each; one subprocess for every
    stage, run on the export's own package and public graders."""
    if not stage_ids:
        return []
    limit = SCAN_TIMEOUT_S * len(stage_ids)
    try:
        done = subprocess.run([sys.executable, str(ANSWER_SCAN), str(dest), *stage_ids], capture_output=True,
                              text=True, timeout=limit, cwd=str(dest),
                              start_new_session=True)  # its own process group, apart from ours
    except subprocess.TimeoutExpired:
        return [f"answer scan of stages {', '.join(stage_ids)}: did not finish in {limit} s"]
    lines = done.stdout.strip().splitlines()
    try:
        findings = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    except ValueError:
        findings = None
    if not isinstance(findings, dict) or set(findings) != set(stage_ids):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [f"answer scan of stages {', '.join(stage_ids)}: failed ({tail})"]
    return [f"a working answer: {f['name']}() in {f['file']} scores full marks on {f['item']} (as {f['as']})"
            for sid in stage_ids for f in findings[sid]]


def actionlint(paths: Iterable[str | Path]) -> subprocess.CompletedProcess:
    """Run actionlint (with shellcheck where it is installed) on workflow files."""
    bindir = Path(sys.executable).parent
    exe = shutil.which("actionlint", path=os.pathsep.join([str(bindir), os.environ.get("PATH", "")]))
    if exe is None:
        raise FileNotFoundError("actionlint is not installed (pip install -e '.[dev]')")
    shellcheck = shutil.which("shellcheck", path=os.pathsep.join([str(bindir), os.environ.get("PATH", "")]))
    cmd = [exe, "-no-color", f"-shellcheck={shellcheck or ''}", "-pyflakes=", *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True)


# The modules whose code is a trusted building block: they compute earlier stages' functions live
# (student code calls them on inputs it computed, so they cannot be recorded values).
TRUSTED_CODE = ("blocks", "training_oracles")


def answered_by_later_stages(dest: Path, stage_ids: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(exported stages that a later exported stage's trusted code may answer, those later stages), or None.

    A stage's trusted blocks stand in for the stages before it, so an earlier stage handed out with
    a later one is exposed; stages handed out one at a time are not."""
    later = [sid for sid in stage_ids
             if _graders_imported(dest / "autograder" / "graders" / "public" / registry.stage(sid).grader_module)
             & set(TRUSTED_CODE)]
    last = max((registry.stage(sid).number for sid in later), default="")
    earlier = [sid for sid in stage_ids if registry.stage(sid).number < last]
    if not earlier:
        return None
    first = min(registry.stage(sid).number for sid in earlier)
    return earlier, [sid for sid in later if registry.stage(sid).number > first]


def main(args) -> int:
    try:
        report = export_student_repo(args.dest, stages=args.stage, force=args.force,
                                     scan=getattr(args, "scan_answers", True), lang=args.lang)
    except (FileExistsError, ValueError, registry.UnknownItem) as exc:
        print(f"export-student-repo: {exc}", file=sys.stderr)
        return 2
    except ExportLeak as exc:
        print(f"export-student-repo: {exc}", file=sys.stderr)
        return 1
    print(f"Student repository written to {report.dest}: {report.files} files, {report.bytes / 1024:.0f} KiB, "
          f"stages {', '.join(report.stages)}.")
    scanned = getattr(args, "scan_answers", True)
    print("Audit passed: no solution code, no hidden grader, no hidden-only line"
          + (", no working answer in the code that ships." if scanned else " (answer scan skipped)."))
    lint = None
    try:
        lint = actionlint([report.dest / ".github" / "workflows" / "grade.yml"])
    except FileNotFoundError as exc:
        print(f"(workflow not linted: {exc})")
    if lint is not None:
        if lint.returncode != 0:
            print(lint.stdout + lint.stderr, file=sys.stderr)
            return 1
        print("Workflow .github/workflows/grade.yml passes actionlint.")
    early = answered_by_later_stages(report.dest, report.stages)
    if early:
        print(f"Note: {', '.join(early[1])} {'carries' if len(early[1]) == 1 else 'carry'} trusted building blocks (autograder/graders/blocks.py, "
              f"training_oracles.py) that may compute parts of {', '.join(early[0])}. They run through PyTorch's "
              "internals, which every item refuses, and the answer scan passed; still, one who edits a copy "
              "has an answer: hand stages out one at a time (--stage), each when the one before it is due.")
    print(f"Next: cd {report.dest} && git init -b main && git add . && git commit -m 'Course template', then push it "
          f"to GitHub and mark it a template repository (docs/instructors.md).")
    return 0

