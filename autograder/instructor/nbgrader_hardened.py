"""The scores ``nbgrader autograde`` records come from the hardened grader.

``nbgrader_config.py`` puts two pieces of this module into nbgrader's autograde pipeline:

- ``SurvivingExecute`` replaces nbgrader's ``Execute``: it runs the notebook in a kernel as usual
  (the check cells print their reports: instant feedback), but a kernel that dies (an ``os._exit``
  or a segfault in one function) no longer fails the whole notebook: the check cells that never
  ran get an error output (0 points), and the grading goes on.
- ``HardenedScores`` runs right before ``SaveAutoGrades``: it grades nbgrader's working copy of the
  submission again with ``python -m autograder grade`` (trusted grader process, sandboxed worker,
  definitions only; see ``autograder/grading/batch.py``) and rewrites every check cell's outputs into what
  the check cell itself prints, but with the hardened result: the item's report on stdout and the
  hardened points as the ``execute_result`` that nbgrader reads as partial credit
  (``nbgrader.utils.determine_grade``). Patching pytest, the import system or ``numpy.testing`` in
  an answer cell therefore changes only what the kernel printed, never the gradebook.

The working copy is ``autograded/<student>/<assignment>/``: nbgrader wrote the sanitized notebook
there (check cells restored) before executing it, beside the other handed-in files. The executed
notebook is only in memory at this point, so the hardened grader reads what the student handed in.

One batch per class: starting Python, torch and the sandbox costs seconds, so the first notebook
of an assignment that one ``nbgrader autograde`` run reaches grades every submission of that
assignment the run will autograde (``submitted/<student>/<assignment>/``) in ONE ``python -m
autograder grade --jobs N`` (``c.HardenedScores.jobs``), kept on nbgrader's converter for that run.
A notebook takes its result from the batch only when what the hardened grader reads is the same in
nbgrader's working copy as in what the batch graded (``graded_view``: the notebook's name, its
definitions as ``batch.definition_cells`` sends them, every other handed-in file's content; the
restored check cells are not definitions), and the batch's stored fingerprint is that of the
submitted files as they are now. Otherwise (the submission changed, nbgrader's copy differs, the
batch has no result or a failed one for the student) the notebook is graded alone, as before.
Results are keyed by the nbgrader student id: nothing of one student reaches another's notebook.
``c.HardenedScores.batch = False`` grades every notebook alone.

Graded already: ``--HardenedScores.results=OUT`` names the ``--out`` folder of an earlier ``python
-m autograder grade`` of the same ``submitted/`` (a class graded in CI, or ``make demo``'s step 2).
A submission whose stored result has the fingerprint of its files as they are now (same files, same
graders, hidden checks run) takes that result; only the others are graded in the batch. The folder
is the instructor's (a command-line or config setting), never part of a submission.

A failure of the hardened grader never hands out the in-kernel score: every check cell of the
notebook scores 0 with one sentence saying why, and ``nbgrader autograde --force`` regrades.
``c.HardenedScores.enabled = False`` switches back to nbgrader's plain in-kernel scores.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ClearMetadataPreprocessor, Preprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern, LimitOutput,
                                    SaveAutoGrades)
from traitlets import Bool, Float, Int, Unicode, default

from .. import registry
from ..catalogue import number, text

SCRATCH_STUDENT = "student"  # the folder name in the scratch tree: any nbgrader id is safe this way


@dataclass
class Hardened:
    """The hardened grader's view of one submission: item id -> result, or one error sentence."""

    items: dict[str, Any] = field(default_factory=dict)  # item id -> results.ItemResult
    error: str = ""


def hardened_grade(folder: Path, assignment: str, *, hidden: bool = True, isolation: str = "auto",
                   timeout: float = 1800.0) -> Hardened:
    """Grade the files in ``folder`` as one submission of ``assignment`` with ``python -m autograder grade``.

    The folder is copied into a scratch ``submitted/<student>/<assignment>/`` tree, graded once
    (one job, forced, no gradebook) and the scratch tree removed.
    """
    from ..grading.outputs import read_submission

    scratch = Path(tempfile.mkdtemp(prefix="autograder-nbgrader-"))
    try:
        root = scratch / "submitted" / SCRATCH_STUDENT
        shutil.copytree(folder, root / assignment, symlinks=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        out = scratch / "graded"
        cmd = [sys.executable, "-m", "autograder", "grade", str(root), "--out", str(out), "--no-gradebook",
               "--force", "--quiet", "--jobs", "1", "--isolation", isolation]
        if not hidden:
            cmd.append("--public-only")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=scratch)
        except subprocess.TimeoutExpired:
            return Hardened(error=text("nbgrader.hardened_timeout", seconds=f"{timeout:g}"))
        result = read_submission(out, SCRATCH_STUDENT, assignment)
        if result is None:  # exit 2 (bad arguments, no submission found) or a crash: no result at all
            tail = " ".join((proc.stdout + proc.stderr).strip().splitlines()[-2:])[:300]
            return Hardened(error=text("nbgrader.hardened_failed", error=tail or f"exit code {proc.returncode}"))
        # a submission the batch could not grade has a zero result with its reason (batch.write_failure)
        return Hardened(items={r.item.id: r for r in result.items})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --- one batch for the class ----------------------------------------------------------------------
def graded_view(folder: Path, assignment: str, *, hidden: bool = True) -> tuple[str, str] | None:
    """What the hardened grader reads from ``folder``: (a hash of the notebook's name, its definitions
    and the other files' contents; the batch fingerprint of all the files' bytes), or None when the
    folder cannot be read as a submission (it is then graded alone, which says why).

    The hash leaves out what nbgrader changes in its working copy without changing the grade: the
    outputs, the check cells it restores, the notebook's other bytes. The fingerprint is what the
    batch stores with a result, so a result is known to come from exactly these files.
    """
    from ..grading.batch import Submission, collect_files, definition_cells, fingerprint

    sub = Submission(SCRATCH_STUDENT, assignment, folder)
    try:
        files, nb_name = collect_files(sub)
        cells = definition_cells(folder / nb_name)
        full = fingerprint(sub, hidden=hidden, files=files)
    except Exception:  # unreadable, refused, not a notebook: graded alone
        return None
    h = hashlib.sha256(json.dumps([nb_name, cells], sort_keys=True).encode())
    for rel, data in files:
        if rel != nb_name:
            h.update(os.fsencode(rel) + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest(), full


@dataclass
class ClassBatch:
    """The batch's results of one assignment: nbgrader student id -> (graded view hash, result)."""

    results: dict[str, tuple[str, Hardened]] = field(default_factory=dict)
    error: str = ""  # the batch as a whole failed (every notebook is then graded alone)


def stored_results(folders: dict[str, Path], assignment: str, out: Path, *, hidden: bool = True,
                   isolation: str = "auto", views: dict[str, tuple[str, str] | None] | None = None) -> ClassBatch:
    """The results that ``python -m autograder grade --out OUT`` stored for exactly these files.

    A result is kept only where its fingerprint is the one of the folder's files now (same files,
    same graders and points, ``hidden`` the same), so nothing stale and nothing from other files is
    used; with ``isolation="bwrap"``, only results graded inside bubblewrap. Everything else is
    left out, to be graded. ``views``: the folders' ``graded_view`` when the caller has them.
    """
    from ..grading.outputs import read_submission

    batch = ClassBatch()
    for student, folder in folders.items():
        result = read_submission(out, student, assignment)
        view = views[student] if views is not None else graded_view(folder, assignment, hidden=hidden)
        if result is None or view is None or result.fingerprint != view[1]:
            continue  # no result, a failed row, or other files
        if isolation == "bwrap" and result.isolation.get("level") != "bwrap":
            continue
        batch.results[student] = (view[0], Hardened(items={r.item.id: r for r in result.items}))
    return batch


def class_batch(folders: dict[str, Path], assignment: str, *, hidden: bool = True, isolation: str = "auto",
                jobs: int = 1, timeout: float = 1800.0) -> ClassBatch:
    """Grade ``folders`` (nbgrader student id -> ``submitted/<student>/<assignment>/``) in one
    ``python -m autograder grade`` and keep, per student, the result of the files it graded.

    The folders are graded where they are (the grader only reads them); the output goes to a
    scratch folder. A student's result is kept only if the stored fingerprint is the one of the
    files as they are after the batch (nothing changed while it ran, and it was not a failure).
    """
    from ..grading.outputs import read_submission

    batch = ClassBatch()
    if not folders:
        return batch
    scratch = Path(tempfile.mkdtemp(prefix="autograder-nbgrader-class-"))
    try:
        out = scratch / "graded"
        cmd = [sys.executable, "-m", "autograder", "grade", *map(str, folders.values()), "--out", str(out),
               "--no-gradebook", "--force", "--quiet", "--jobs", str(max(1, jobs)), "--isolation", isolation]
        if not hidden:
            cmd.append("--public-only")
        # each submission may take ``timeout``; the slots share them out
        limit = timeout * math.ceil(len(folders) / max(1, jobs))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, cwd=scratch)
        except subprocess.TimeoutExpired:
            batch.error = f"timed out after {limit:g} s"
            return batch
        batch.results.update(stored_results(folders, assignment, out, hidden=hidden).results)
        if not batch.results:
            batch.error = " ".join((proc.stdout + proc.stderr).strip().splitlines()[-2:])[:300] or \
                f"exit code {proc.returncode}"
        return batch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _converter(pre: Preprocessor) -> Any:
    """The nbgrader converter (``Autograde``) running this preprocessor, or None outside one.

    nbgrader makes new preprocessor instances for every notebook, so what lives for one run is kept
    on the converter: its exporter is the preprocessor's parent, the converter the exporter's.
    """
    node = pre.parent
    while node is not None:
        if all(hasattr(node, a) for a in ("coursedir", "assignments", "force")):
            return node
        node = getattr(node, "parent", None)
    return None


def _class_folders(conv: Any, assignment: str, current: str) -> dict[str, Path]:
    """The submissions of ``assignment`` this autograde run will grade: the ones nbgrader found
    (``--student`` applied), less the excluded ones and, without ``--force``, the ones graded before
    (nbgrader skips those unless resubmitted; a resubmitted one is then graded alone)."""
    cd = conv.coursedir  # (the converter's own source folder is autograded/ while it autogrades)
    regexp = cd.format_path(cd.submitted_directory, "(?P<student_id>.*)", "(?P<assignment_id>.*)", escape=True)
    exclude = set(filter(None, (cd.student_id_exclude or "").split(",")))
    folders: dict[str, Path] = {}
    for source, notebooks in sorted(conv.assignments.items()):
        m = re.match(regexp, source)
        if m is None or m["assignment_id"] != assignment or m["student_id"] in exclude or not notebooks:
            continue
        student = m["student_id"]
        dest = Path(cd.format_path(cd.autograded_directory, student, assignment))
        done = all((dest / Path(nb).name).exists() for nb in notebooks)
        if student == current or conv.force or not done:
            folders[student] = Path(source)
    return folders


def _is_check_cell(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


class HardenedScores(Preprocessor):
    """Rewrite each check cell's outputs with the hardened grader's result (see the module docstring)."""

    enabled = Bool(True, help="record the hardened grader's scores; False: nbgrader's in-kernel scores").tag(config=True)
    hidden = Bool(True, help="run the hidden graders too, as `python -m autograder grade` does").tag(config=True)
    isolation = Unicode("auto", help="the hardened grader's --isolation (auto, bwrap, rlimits)").tag(config=True)
    timeout = Float(1800.0, help="seconds for the hardened grading of one notebook").tag(config=True)
    batch = Bool(True, help="grade the class in one batch per assignment; False: one grader per notebook").tag(config=True)
    jobs = Int(help="parallel slots of the class batch (its --jobs); default min(2, cpu count)").tag(config=True)
    results = Unicode("", help="the --out folder of an earlier `python -m autograder grade` of these "
                               "submissions: a notebook whose files it graded is not graded again").tag(config=True)

    @default("jobs")
    def _default_jobs(self) -> int:
        return min(2, os.cpu_count() or 1)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        assignment = resources.get("nbgrader", {}).get("assignment")
        if not self.enabled or assignment not in {s.id for s in registry.STAGES}:
            return nb, resources  # switched off, or not a course stage: nbgrader's own scores stand
        from ..grading.batch import sandbox_ready

        if not sandbox_ready(assignment):  # the hardened grader skips such a stage: the kernel's scores stand
            self.log.warning("%s is not graded in the sandbox yet: nbgrader's in-kernel scores are recorded", assignment)
            return nb, resources
        path = resources.get("metadata", {}).get("path") or ""  # nbconvert: the notebook's folder
        folder = Path(path)
        if path and folder.is_dir():
            hardened = self._from_batch(folder, assignment, resources.get("nbgrader", {}).get("student"))
            if hardened is None:
                hardened = hardened_grade(folder, assignment, hidden=self.hidden, isolation=self.isolation,
                                          timeout=self.timeout)
        else:
            hardened = Hardened(error=text("nbgrader.hardened_failed", error="the notebook's folder is unknown"))
        if hardened.error:
            self.log.error("hardened grading of %s failed: %s", folder, hardened.error)
        for cell in nb.cells:
            item_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if _is_check_cell(cell) and (item_id in hardened.items or hardened.error):
                _rewrite(cell, hardened.items.get(item_id), hardened.error)
        return nb, resources

    def _from_batch(self, folder: Path, assignment: str, student: str | None) -> Hardened | None:
        """This notebook's result from the run's class batch (graded first when needed), or None:
        then it is graded alone, and the log line says why."""
        conv = _converter(self) if self.batch else None
        if conv is None or not student:
            return None  # not inside an nbgrader run (or switched off): one grader per notebook
        batches = conv.__dict__.setdefault("_autograder_class_batches", {})
        key = (assignment, self.hidden, self.isolation)
        if key not in batches:
            folders = _class_folders(conv, assignment, student)
            views = {s: graded_view(f, assignment, hidden=self.hidden) for s, f in folders.items()}  # read once
            stored = ClassBatch()
            if self.results:
                stored = stored_results(folders, assignment, Path(self.results), hidden=self.hidden,
                                        isolation=self.isolation, views=views)
                self.log.info("HardenedScores: %d of %d submissions of %s already graded in %s", len(stored.results),
                              len(folders), assignment, self.results)
            # a folder the grader cannot read as a submission (a notebook that is not JSON) would
            # only fail in the batch too: nbgrader stops at it, or it is graded alone, which says why
            rest = {s: f for s, f in folders.items() if s not in stored.results and views[s] is not None}
            t0 = time.perf_counter()
            batches[key] = class_batch(rest, assignment, hidden=self.hidden, isolation=self.isolation,
                                       jobs=self.jobs, timeout=self.timeout)
            if rest:
                self.log.info("HardenedScores: one batch graded %d submissions of %s in %.1f s (%d results kept)%s",
                              len(rest), assignment, time.perf_counter() - t0, len(batches[key].results),
                              f"; {batches[key].error}" if batches[key].error else "")
            batches[key].results.update(stored.results)
        found = batches[key].results.get(student)
        if found is None:
            why = "no batch result"
        else:
            view = graded_view(folder, assignment, hidden=self.hidden)
            if view is not None and view[0] == found[0]:
                return found[1]
            why = "the graded files differ from the batch's"
        self.log.info("HardenedScores: %s/%s graded alone (%s)", student, assignment, why)
        return None


def _kernel_score(cell: Any) -> float | None:
    """What nbgrader would have recorded from the cell as the kernel left it."""
    from nbgrader.utils import determine_grade

    try:
        return float(determine_grade(cell)[0])
    except Exception:  # an output nbgrader cannot read: nothing to compare with
        return None


def _rewrite(cell: Any, result: Any, error: str) -> None:
    """The outputs the check cell prints, for ``result`` (a results.ItemResult), or 0 with ``error``."""
    from ..check import RESULT_MIME
    from ..report import item_text, score_badge_html

    max_points = float(cell.metadata.nbgrader.get("points", 0))
    if result is None:
        cell.outputs = [new_output("stream", name="stdout", text=error + "\n"),
                        new_output("execute_result", data={"text/plain": "0"},
                                   execution_count=cell.get("execution_count"))]
        return
    score = min(max(float(result.score), 0.0), max_points)  # nbgrader refuses partial credit above the maximum
    report = item_text(result)
    kernel = _kernel_score(cell)
    if kernel is not None and abs(kernel - score) > 1e-6:
        # the student saw another number when the notebook ran; say which one counts, and why
        report += "\n" + text("nbgrader.kernel_differs", kernel=number(kernel), score=number(score))
    data = {"text/plain": f"{score:g}", "text/html": score_badge_html(result), RESULT_MIME: result.to_json()}
    cell.outputs = [new_output("stream", name="stdout", text=report + "\n"),
                    new_output("execute_result", data=data, execution_count=cell.get("execution_count"))]


class SurvivingExecute(Execute):
    """nbgrader's ``Execute``, but a dead kernel costs only the check cells that did not run."""

    def preprocess(self, nb: Any, resources: Any, km: Any = None) -> tuple[Any, Any]:
        try:
            return super().preprocess(nb, resources, km=km)
        except DeadKernelError as exc:
            self.log.warning("the kernel died while running %s: %s", resources.get("unique_key"), exc)
            message = text("nbgrader.kernel_died")
            for cell in nb.cells:
                # a check cell that finished ends in its points (or an error); one that did not never
                # finished: without this, nbgrader would read its missing number as full marks
                finished = any(o.get("output_type") in ("execute_result", "error") for o in cell.get("outputs", []))
                if _is_check_cell(cell) and not finished:
                    cell.outputs = [*cell.get("outputs", []),
                                    new_output("error", ename="DeadKernelError", evalue=message, traceback=[message])]
            return nb, resources


# nbgrader 0.9's default autograde pipeline (nbgrader/converters/autograde.py), listed by name
# (reading the trait's default gives a traitlets Sentinel), with the two pieces of this module in it.
def autograde_preprocessors() -> list[type]:
    """The preprocessor list for ``c.Autograde.autograde_preprocessors``."""
    return [SurvivingExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, HardenedScores,
            SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]

