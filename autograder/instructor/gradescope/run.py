"""What runs on Gradescope's machine: one submission, graded hardened, into ``results/results.json``.

    python -m autograder.instructor.gradescope.run --stage 01_dot_product_attention [--root /autograder]

Gradescope lays a submission out as ``<root>/submission/`` (the student's upload, whatever its
names and folders), ``<root>/source/`` (the autograder zip) and ``<root>/results/``. This module
finds the stage's notebook (by the stage's name anywhere in the upload, else the only notebook),
and the checkpoint beside it when the stage grades one, copies them into a private
``submitted/<student>/<stage>/`` folder and runs ``batch.run`` on it: the same sandboxed, public
and hidden grading as ``python -m autograder grade``. Gradescope gets that ``results.json``.

Every way this can fail still leaves a ``results.json``: score 0, every item with its points
possible, and one sentence (no notebook, several notebooks, an unreadable one, the grader itself
failing). ``run_autograder`` adds a last fallback for when Python cannot start at all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from ... import escape, registry
from ...catalogue import text

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"
DEFAULT_ROOT = "/autograder"
STUDENT = "submission"  # the one student of the private submitted/ folder
MAX_WALK = 2000  # entries of an upload that are looked at (a zip of a whole home folder is not a notebook)
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}
# All of one submission's checks: under Gradescope's default 10-minute timeout with room to start
# Python and the sandbox, because a run Gradescope kills leaves no results.json at all.
SUBMISSION_SECONDS = 480.0


class Refused(Exception):
    """The upload cannot be graded as it is (the message is one sentence for the student)."""


# --- finding the student's files -----------------------------------------------------------------
def _regular_files(submission: Path) -> list[Path]:
    """Regular files of the upload (never through a link), bounded, in a stable order."""
    found: list[Path] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(submission, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        seen += len(dirnames) + len(filenames)
        if seen > MAX_WALK:
            dirnames[:] = []
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                continue
    return found


def find_notebook(submission: Path, stage: registry.Stage) -> Path:
    """The notebook to grade: the stage's own name anywhere in the upload (shallowest first), else
    the only notebook there is. Raises :class:`Refused` when there is none, or several and none
    carries the stage's name."""
    notebooks = [p for p in _regular_files(submission) if p.suffix == ".ipynb"]
    named = sorted((p for p in notebooks if p.name == stage.notebook), key=lambda p: (len(p.parts), str(p)))
    if named:
        return named[0]
    if len(notebooks) == 1:
        return notebooks[0]
    if not notebooks:
        raise Refused(text("gradescope.no_notebook", notebook=stage.notebook))
    names = ", ".join(str(p.relative_to(submission)) for p in notebooks[:5])
    raise Refused(text("gradescope.many_notebooks", notebook=stage.notebook, names=names))


def find_checkpoint(submission: Path, notebook: Path, stage_id: str) -> Path | None:
    """The stage's checkpoint handed in (checkpoint.handed_in_name): beside the notebook, else the
    only one of that name in the upload."""
    from ...checkpoint import handed_in_name

    name = handed_in_name(stage_id)
    beside = notebook.parent / name
    if beside.is_file() and not beside.is_symlink():
        return beside
    anywhere = [p for p in _regular_files(submission) if p.name == name]
    return anywhere[0] if len(anywhere) == 1 else None


def lay_out(submission: Path, stage: registry.Stage, work: Path) -> Path:
    """``work/submitted/<student>/<stage>/`` holding the notebook (its own name), the checkpoint and
    the other regular files beside the notebook (data it reads); returns ``work/submitted``.

    Copies, never links: the batch refuses links, and the upload stays as Gradescope left it.
    """
    from ...grading.batch import MAX_FILE_MB

    notebook = find_notebook(submission, stage)
    folder = work / "submitted" / STUDENT / stage.id
    folder.mkdir(parents=True)
    shutil.copyfile(notebook, folder / notebook.name)
    ckpt = find_checkpoint(submission, notebook, stage.id)
    if ckpt is not None:
        shutil.copyfile(ckpt, folder / ckpt.name)
    for other in sorted(notebook.parent.iterdir()):
        target = folder / other.name
        try:
            st = os.lstat(other)
        except OSError:
            continue
        if (stat.S_ISREG(st.st_mode) and other.suffix != ".ipynb" and not target.exists()
                and st.st_size <= MAX_FILE_MB << 20):
            shutil.copyfile(other, target)
    return work / "submitted"


# --- results ---------------------------------------------------------------------------------------
def zero_result(stage_id: str, sentence: str) -> dict[str, Any]:
    """A Gradescope result of 0 points: every item failed with ``sentence``, the stage's points possible.

    The sentence may quote the upload's file names and errors: cleaned and kept on one line, as every
    other rendering of student text is (``autograder/escape.py``).
    """
    sentence = escape.one_line(escape.clean(sentence))
    tests = [{"name": item.title, "number": f"{item.id}.0", "score": 0.0, "max_score": float(item.points),
              "status": "failed", "output": sentence, "output_format": "text", "visibility": "visible",
              "tags": [item.id]} for item in registry.items_of(stage_id)]
    return {"score": 0.0, "output": sentence, "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def _write(results: Path, data: dict[str, Any]) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    path = results / "results.json"
    tmp = results / ".results.json.tmp"
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _close_to_the_sandbox(root: Path) -> None:
    """As root, make the autograder's files and the results unreadable to the sandbox's user ids.

    Where Gradescope's container forbids bubblewrap, the worker is an ordinary process under its own
    user id (``sandbox.cage``): without this it could read the hidden graders in ``source/``.
    """
    if os.geteuid() != 0:
        return
    for sub in ("source", "results"):
        try:
            os.chmod(root / sub, 0o700)
        except OSError:
            pass


def grade(root: Path, stage_id: str) -> dict[str, Any]:
    """The Gradescope result of the upload in ``root/submission`` (never raises for a student's upload)."""
    from ...grading import batch
    from ... import notebook

    stage = registry.stage(stage_id)
    work = Path(tempfile.mkdtemp(prefix="autograder-gradescope-"))
    try:
        try:
            submitted = lay_out(root / "submission", stage, work)
            graded = next((submitted / STUDENT / stage.id).glob("*.ipynb"))
            batch.definition_cells(graded)  # an unreadable notebook costs no sandbox start
        except Refused as why:
            return zero_result(stage_id, str(why))
        except notebook.NotebookError as exc:
            return zero_result(stage_id, text("sandbox.unreadable", error=str(exc)))
        out = work / "graded"
        from ...sandbox.cage import Limits

        report = batch.run([submitted], out, jobs=1, force=True, hidden=True, gradebook=None, progress=False,
                           limits=Limits(submission_seconds=SUBMISSION_SECONDS),
                           log=lambda s: print(s, file=sys.stderr))
        for w in report.warnings:
            print(f"warning: {w}", file=sys.stderr)
        path = out / STUDENT / stage.id / "results.json"
        if not path.is_file():  # the machine, not the student: batch writes nothing so that a rerun retries
            error = report.failed[0].error if report.failed else "no result was written"
            return zero_result(stage_id, text("gradescope.failed", error=error[:300]))
        return json.loads(path.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.instructor.gradescope.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", required=True, help="the stage this autograder grades")
    p.add_argument("--root", default=os.environ.get(ROOT_ENV, DEFAULT_ROOT),
                   help=f"Gradescope's folder (default: ${ROOT_ENV}, else {DEFAULT_ROOT})")
    args = p.parse_args(argv)
    root = Path(args.root)
    _close_to_the_sandbox(root)
    try:
        result = grade(root, args.stage)
    except BaseException as exc:  # noqa: BLE001 - Gradescope must get a result, whatever failed here
        sentence = text("gradescope.failed", error=f"{type(exc).__name__}: {exc}"[:300])
        try:
            result = zero_result(args.stage, sentence)
        except registry.UnknownItem:  # a zip built for a stage this package does not know
            result = {"score": 0.0, "output": sentence, "output_format": "text", "tests": []}
    _write(root / "results", result)
    print(f"score {result.get('score', 0):g} written to {root / 'results' / 'results.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
