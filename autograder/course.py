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

from . import registry

REPO = Path(__file__).resolve().parents[1]


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited non-zero; the message keeps the end of its log."""


@dataclass
class CommandResult:
    args: list[str]
    returncode: int
    log: str


def nbgrader(*args: str, course: Path, check: bool = True) -> CommandResult:
    """Run ``nbgrader ARGS`` in ``course`` with this interpreter."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` (its database migrations) from PATH: use this environment's.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
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


def generate_release(course: Path, stage_ids: list[str] | None = None) -> Path:
    """``nbgrader generate_assignment`` for every stage; returns the release directory."""
    for sid in stage_ids or [s.id for s in registry.STAGES]:
        nbgrader("generate_assignment", sid, "--force", course=course)
    return course / "assignments"


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
    """Regenerate ``assignments/`` from ``solutions/`` (or, with ``check_only``, only compare).

    Returns the differences between the committed release and what nbgrader generates now.
    """
    course = new_course(workdir or repo / "build" / "release", repo=repo)
    fresh = generate_release(course)
    diffs = tree_differences(fresh, repo / "assignments")
    if diffs and not check_only:
        shutil.rmtree(repo / "assignments", ignore_errors=True)
        shutil.copytree(fresh, repo / "assignments")
    return diffs
