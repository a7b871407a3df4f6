"""The nbgrader side of the course: generate the release, autograde, feedback, the gradebook.

Everything here drives the real ``nbgrader`` commands in a course directory; nothing imitates
them. A course directory holds ``nbgrader_config.py``, ``solutions/`` (the source) and, after
``generate_assignment``, ``assignments/`` (the release) and ``gradebook.db``.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import registry
from .bilingual import LANGUAGES, release_directory

REPO = Path(__file__).resolve().parents[2]


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited non-zero; the message keeps the end of its log."""


@dataclass
class CommandResult:
    args: list[str]
    returncode: int
    log: str


def nbgrader(*args: str, course: Path, check: bool = True, lang: str | None = None) -> CommandResult:
    """Run ``nbgrader ARGS`` in ``course`` with this interpreter (in course language ``lang`` if given)."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` (its database migrations) from PATH: use this environment's.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    if lang is not None:
        env["AUTOGRADER_LANG"] = lang  # nbgrader_config.py reads it: the prose kept, the release folder
    proc = subprocess.run(cmd, cwd=course, capture_output=True, text=True, env=env)
    result = CommandResult(list(args), proc.returncode, proc.stdout + proc.stderr)
    if check and proc.returncode != 0:
        tail = "\n".join(result.log.strip().splitlines()[-15:])
        raise NbgraderFailed(f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}):\n{tail}")
    return result


def new_course(root: Path, *, repo: Path = REPO) -> Path:
    """A fresh course directory at ``root`` with the repository's config and source notebooks."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy2(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(repo / "solutions", root / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def generate_release(course: Path, stage_ids: list[str] | None = None, *, lang: str | None = None) -> Path:
    """``nbgrader generate_assignment`` for every stage in ``lang`` (default: the course language);
    returns the release directory."""
    from ..catalogue import language

    lang = lang or language()
    ids = stage_ids or [s.id for s in registry.STAGES]
    pattern = _glob_of(ids, [p.name for p in (course / "solutions").iterdir() if p.is_dir()])
    if pattern:
        # one nbgrader run for all of them (its assignment id may be a glob): a start costs ~3 s
        nbgrader("generate_assignment", pattern, "--force", course=course, lang=lang)
    else:
        for sid in ids:
            nbgrader("generate_assignment", sid, "--force", course=course, lang=lang)
    return course / release_directory(lang)


def _glob_of(ids: list[str], present: list[str]) -> str | None:
    """A glob that matches exactly ``ids`` among the source folders ``present`` ("*" for all of
    them, ``[0][13]_*`` for stages 01 and 03), or None when no such glob of their numbers exists."""
    import fnmatch

    if sorted(ids) == sorted(present):
        return "*"
    if not ids or any(len(i) < 3 or not i[:2].isdigit() or i[2] != "_" for i in ids):
        return None
    pattern = "[{}][{}]_*".format("".join(sorted({i[0] for i in ids})), "".join(sorted({i[1] for i in ids})))
    return pattern if sorted(fnmatch.filter(present, pattern)) == sorted(set(ids)) else None


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Files that differ between two directory trees, as readable lines (empty when equal)."""
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()

    want, have = files(expected), files(actual)
    lines = [f"missing: {f}" for f in sorted(want - have)]
    lines += [f"unexpected: {f}" for f in sorted(have - want)]
    lines += [f"differs: {f}" for f in sorted(want & have)
              if not filecmp.cmp(expected / f, actual / f, shallow=False)]
    return lines


def release(*, check_only: bool = False, repo: Path = REPO, workdir: Path | None = None) -> list[str]:
    """Regenerate both editions' releases, ``assignments/`` (English) and ``assignments_es/``
    (Spanish), from ``solutions/`` (or, with ``check_only``, only compare).

    Returns the differences between the committed releases and what nbgrader generates now.
    """
    course = new_course(workdir or repo / "build" / "release", repo=repo)
    diffs = []
    for lang in LANGUAGES:
        fresh = generate_release(course, lang=lang)
        committed = repo / release_directory(lang)
        diffs += [f"{release_directory(lang)}/ {d}" for d in tree_differences(fresh, committed)]
        if not check_only and tree_differences(fresh, committed):
            shutil.rmtree(committed, ignore_errors=True)
            shutil.copytree(fresh, committed)
    return diffs
