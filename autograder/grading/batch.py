"""``python -m autograder grade``: hardened grading of a class, in parallel, resumable.

Submissions follow nbgrader's layout, ``<student>/<assignment>/<notebook>.ipynb`` (as under a
course's ``submitted/``); the assignment is the folder name, which is the stage id. Each
grading slot (one per core by default) is a process of its own with a pre-forked sandboxed
worker parent (``sandbox.cage.Zygote``); every submission gets a fresh child of it. The graders
(the same pytest graders a check cell runs) run in the slot process, against a
``SandboxStudent`` proxy: the slot never executes student code.

A submission's reports are written atomically as soon as it is graded, ``results.json`` last,
so an interrupted run that is started again grades only what is missing (``--force`` regrades
everything). A stored result is also regraded when the submission's files or the stage's
graders have changed since. ``--shard i/N`` grades every N-th submission of the sorted list,
starting at the i-th (1-based), so that N CI jobs split a class without overlapping.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import queue
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import checkpoint, notebook, policy, registry, runner
from . import outputs
from ..catalogue import phrase, text
from ..notebook import NotebookError
from ..results import GraderResult, ItemResult
from ..sandbox import cage

MAX_NOTEBOOK_MB = 64  # plots saved in a notebook make it large; only its code is read
MAX_FILE_MB = 16  # other files handed to the worker, each
MAX_SUBMISSION_MB = 32  # and together
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass(frozen=True, order=True)
class Submission:
    student: str
    assignment: str
    folder: Path = field(compare=False)

    @property
    def key(self) -> str:
        return f"{self.student}/{self.assignment}"


class SubmissionProblem(Exception):
    """The submission cannot be graded as handed in (the message is for the student)."""


# --- finding submissions ------------------------------------------------------------------------
def _stage_ids() -> set[str]:
    return {s.id for s in registry.STAGES}


MAX_DEPTH = 8  # folders below an assignment folder that are read (deeper ones are data nobody grades)
MAX_ENTRIES = 2000  # files and folders of one submission that are looked at
MAX_JSON_DEPTH = 64  # a notebook nests 5 deep; JSON deeper than this is refused before it is parsed
# The code the trusted process parses (ast) is bounded, not the notebook's bytes (plots are large and
# never parsed): a course notebook has under 100 cells and 40 000 characters of code. Parsing costs
# about 0.5 GiB per MB of one-line statements, so these bounds keep it under a few hundred MB
# (benchmarks/notebook_parse.py prints the figures).
MAX_CELLS = 1000
MAX_CELL_CHARS = 100_000
MAX_CODE_CHARS = 300_000


def safe_id(name: str) -> str:
    """A folder name as an id every output can hold: bytes that are not UTF-8 become U+FFFD plus a short hash.

    The hash keeps two such names apart, and the id is the same on every run (resume finds it).
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        return raw.decode("utf-8", "replace") + "-" + hashlib.sha256(raw).hexdigest()[:8]


def _has_notebook(folder: Path) -> bool:
    try:
        return any(p.name.endswith(".ipynb") for p in folder.iterdir())
    except OSError:
        return False


def discover(paths: Sequence[str | Path]) -> tuple[list[Submission], list[str]]:
    """Submissions under ``paths``: a ``submitted/``-like root, a student's folder or an assignment folder.

    Which of the three a path is follows from where the notebooks are (in it, in its children, or
    in its grandchildren), never from its name alone: a student whose id is a stage id is a student.
    """
    stages, found, warnings = _stage_ids(), {}, []

    def student_folder(folder: Path) -> None:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if sub.name in stages:
                s = Submission(safe_id(folder.name), sub.name, sub)
                found[s.key] = s
            else:
                warnings.append(f"{safe_id(str(sub))}: not an assignment of this course (known: {', '.join(sorted(stages))}); skipped.")

    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            warnings.append(f"{path}: not a folder; skipped.")
            continue
        if path.name in stages and _has_notebook(path):  # one assignment folder of one student
            s = Submission(safe_id(path.resolve().parent.name), path.name, path)
            found[s.key] = s
        elif any(p.is_dir() and p.name in stages and _has_notebook(p) for p in path.iterdir()):  # one student's folder
            student_folder(path)
        else:  # a class: one folder per student
            for folder in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
                student_folder(folder)
    return sorted(found.values()), warnings


def parse_shard(spec: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes i/N (for example 1/4), not {spec!r}") from None
    if n < 1 or not 1 <= i <= n:
        raise ValueError(f"--shard {spec}: i must be between 1 and N")
    return i, n


def shard(subs: Sequence[Submission], i: int, n: int) -> list[Submission]:
    """Every n-th submission of the sorted list, from the i-th (1-based): deterministic, balanced."""
    return [s for k, s in enumerate(sorted(subs)) if k % n == i - 1]


# --- reading one submission ---------------------------------------------------------------------
def collect_files(sub: Submission) -> tuple[list[tuple[str, bytes]], str]:
    """The files the worker gets (regular files only, within size limits) and the notebook's name.

    Symbolic links are never followed (a linked notebook is refused: it could point at the
    reference solution); checkpoints are skipped. The notebook must exist and be at most
    ``MAX_NOTEBOOK_MB``; other files (data a notebook reads) are copied while they fit in
    ``MAX_FILE_MB`` each and ``MAX_SUBMISSION_MB`` together.
    """
    stage = registry.stage(sub.assignment)
    for folder in (sub.folder, sub.folder.parent):  # a linked assignment or student folder leaves the submission
        if folder.is_symlink():
            raise SubmissionProblem(text("hostile.linked_folder", path=safe_id(folder.name)))
    regular: list[tuple[str, str, int]] = []  # (relative path, path, size)
    entries = 0
    top = str(sub.folder)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False, onerror=lambda e: None):
        depth = 0 if dirpath == top else os.path.relpath(dirpath, top).count(os.sep) + 1
        # Bounded: a tree 1,100 folders deep or of a million files is data, not work for the grader.
        dirnames[:] = [] if depth >= MAX_DEPTH else sorted(
            d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        entries += len(dirnames) + len(filenames)
        if entries > MAX_ENTRIES:
            dirnames[:] = []
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            graded = depth == 0 and (name.endswith(".ipynb") or name in checkpoint.HANDED_IN.values())
            if not stat.S_ISREG(st.st_mode):
                if graded:  # a linked notebook could point at the solution; a FIFO blocks whoever opens it
                    key = "sandbox.symlink" if stat.S_ISLNK(st.st_mode) else "hostile.special_file"
                    raise SubmissionProblem(text(key, path=safe_id(rel)))
                continue  # other links and special files are never read
            regular.append((rel, path, st.st_size))
    names = [rel for rel, _, _ in regular]
    notebooks = [n for n in names if n.endswith(".ipynb") and os.sep not in n]
    if stage.notebook in names:
        nb_name = stage.notebook
    elif len(notebooks) == 1:
        nb_name = notebooks[0]
    else:
        raise SubmissionProblem(text("sandbox.no_notebook", notebook=stage.notebook,
                                     folder=f"{sub.student}/{sub.assignment}"))
    files: list[tuple[str, bytes]] = []
    total = 0
    for rel, path, size in sorted(regular, key=lambda r: r[0] != nb_name):  # the notebook first
        if rel == nb_name and size > MAX_NOTEBOOK_MB << 20:
            raise SubmissionProblem(text("sandbox.too_big", mb=MAX_NOTEBOOK_MB))
        if size > MAX_FILE_MB << 20 or total + size > MAX_SUBMISSION_MB << 20:
            continue
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped for a FIFO since the walk
                raise SubmissionProblem(text("hostile.special_file", path=safe_id(rel)))
            data = fh.read(max(size, MAX_FILE_MB << 20) + 1)
        if rel == nb_name:
            check_notebook(nb_name, data)
        files.append((safe_id(rel), data))
        total += size
    return files, nb_name


def _json_depth(data: bytes) -> int:
    """How deep ``data``'s brackets nest outside strings (vectorised: a 64 MB notebook in well under a second)."""
    import numpy as np

    body = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", data)  # strings hold brackets that do not nest
    b = np.frombuffer(body, dtype=np.uint8)
    step = np.isin(b, (0x5B, 0x7B)).astype(np.int64) - np.isin(b, (0x5D, 0x7D)).astype(np.int64)
    return int(np.cumsum(step).max()) if step.size else 0


def check_notebook(name: str, data: bytes) -> None:
    """Refuse, with one sentence, a notebook whose JSON is not the shape ``notebook.read_cells`` walks.

    Checked before anything else parses it, so that a hostile file (100 000 nested lists, a
    5,000-digit number, cells that are not objects) costs its submission a reason and nothing else.
    """
    def refuse(why: str) -> SubmissionProblem:
        return SubmissionProblem(text("hostile.not_notebook", name=safe_id(name), why=why))

    if _json_depth(data) > MAX_JSON_DEPTH:
        raise refuse(phrase("JSON nested more than {n} deep", n=MAX_JSON_DEPTH))
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):  # notebook.read_cells says where, in its own words
        return
    except (ValueError, RecursionError) as exc:  # an integer too long to convert, …
        raise refuse(type(exc).__name__) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return  # read_cells refuses it with its own sentence
    if len(nb["cells"]) > MAX_CELLS:
        raise SubmissionProblem(text("notebook.too_many_cells", name=safe_id(name), n=len(nb["cells"]), limit=MAX_CELLS))
    code_chars = 0
    for n, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict):
            raise refuse(phrase("cell {n} is not an object", n=n))
        src = cell.get("source", "")
        if not (isinstance(src, str) or (isinstance(src, list) and all(isinstance(x, str) for x in src))):
            raise refuse(phrase("the source of cell {n} is not text", n=n))
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("nbgrader", {}) or {}, dict):
            raise refuse(phrase("the metadata of cell {n} is not an object", n=n))
        if not isinstance(cell.get("cell_type", ""), str) or not isinstance(cell.get("outputs", []), list):
            raise refuse(phrase("cell {n} is malformed", n=n))
        if cell.get("cell_type") == "code":
            chars = len(src) if isinstance(src, str) else sum(map(len, src))
            if chars > MAX_CELL_CHARS:
                raise SubmissionProblem(text("notebook.cell_too_long", cell=n, n=f"{chars:,d}", limit=f"{MAX_CELL_CHARS:,d}"))
            code_chars += chars
            if code_chars > MAX_CODE_CHARS:
                raise SubmissionProblem(text("notebook.code_too_long", n=phrase("more than {n:,d}", n=MAX_CODE_CHARS),
                                             limit=f"{MAX_CODE_CHARS:,d}"))


def definition_cells(path: Path) -> list[dict[str, Any]]:
    """Every code cell's definitions (check cells excluded), one entry per cell, for the worker:
    the kept statements on the student's own lines (``notebook.plan``: computed constants that a
    definition needs included) and ``computed``, the first line of each computed constant, which
    the worker runs one by one under a small time budget."""
    code = [(n, cell) for n, cell in enumerate(notebook.read_cells(path), start=1)
            if cell.get("cell_type") == "code" and not notebook.is_check_cell(cell)]
    trees: list[Any] = []
    for n, cell in code:
        try:
            trees.append(notebook.parse_cell(cell["source"]))
        except SyntaxError as exc:
            trees.append(f"raise SyntaxError({phrase('cell {n}, line {line}: {msg}', n=n, line=exc.lineno, msg=exc.msg)!r})")
        except (RecursionError, MemoryError, ValueError) as exc:
            trees.append(f"raise SyntaxError({phrase('cell {n} could not be read ({error})', n=n, error=type(exc).__name__)!r})")
    parsed = [t for t in trees if not isinstance(t, str)]
    plans = iter(notebook.plan(parsed))
    cells = []
    for (n, cell), tree in zip(code, trees):
        computed: list[int] = []
        if isinstance(tree, str):
            source = tree
        else:
            source, computed = notebook.kept_source(cell["source"], tree, next(plans))
        if source.strip():
            cells.append({"name": f"<cell {n}>", "label": phrase("cell {n}", n=n), "source": source, "computed": computed})
    return cells


def fingerprint(sub: Submission, *, hidden: bool, files: list[tuple[str, bytes]] | None = None) -> str:
    """Changes when the submission's files, the stage's graders or points, or the graders run change.

    ``hidden`` is part of it: a public-only run (a student's CI) must not pass for a full grading.
    ``files``: the submission's files when the caller has read them already.
    """
    h = hashlib.sha256(f"v{outputs.FORMAT_VERSION}:{'hidden' if hidden else 'public'}".encode())
    for item in registry.items_of(sub.assignment):
        h.update(f"{item.id}:{item.points}".encode())
    for path in runner.grader_files([sub.assignment], hidden=True):
        h.update(path.read_bytes())
    try:
        for rel, data in files if files is not None else collect_files(sub)[0]:
            h.update(os.fsencode(rel) + b"\0" + hashlib.sha256(data).digest())
    except Exception as exc:  # any unreadable submission: what went wrong is its content
        h.update(str(exc).encode("utf-8", "replace"))
    return h.hexdigest()


def sandbox_ready(stage_id: str) -> bool:
    """False when a stage's grader modules declare ``SANDBOX_READY = False`` (read, never imported).

    A grader that hands the student's function objects the wire format cannot carry (a model,
    an optimizer) would otherwise fail in the sandbox for reasons that are not the student's.
    """
    # A line match, not ast.parse: this runs in grading threads, where CPython 3.11's parser can
    # fail with "AST constructor recursion depth mismatch".
    for path in runner.grader_files([stage_id], hidden=True):
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if re.search(r"^SANDBOX_READY\s*=\s*False\b", source, re.M):
            return False
    return True


def _synthetic(items: Sequence[registry.Item], message: str) -> list[ItemResult]:
    """Every item fails with ``message`` (a submission that could not be read at all)."""
    return [ItemResult(i, [GraderResult(i.id, "submission", text("sandbox.unreadable", error="").rstrip(": "),
                                        "public", status="failed", message=message)]) for i in items]


def stage_checkpoint(sub: Submission, cache: Path) -> Path:
    """A folder holding a private copy of the checkpoint handed in next to the notebook, or nothing.

    The trusted process grades the checkpoint (``autograder.checkpoint``) and finds it through
    $AUTOGRADER_SUBMISSION_DIR, as nbgrader finds it in the notebook's folder. A regular file only:
    a symbolic link (to someone else's checkpoint, or to a file of the grading machine) is never
    followed. Copies are named by their content, so that a slot evaluates identical checkpoints once
    (``graders.translation_bleu.evaluate`` caches by path and modification time).
    """
    name = checkpoint.handed_in_name(sub.assignment)
    try:
        # O_NONBLOCK: opening a FIFO for reading would wait for a writer forever.
        fd = os.open(sub.folder / name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # none, or a link
        fd = None
    if fd is not None and not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        fd = None
    if fd is None:
        empty = cache / "none"
        empty.mkdir(parents=True, exist_ok=True)
        return empty
    size = os.fstat(fd).st_size
    if size > checkpoint.MAX_CHECKPOINT_BYTES:  # not copied: a sparse stand-in of its size says why
        os.close(fd)
        folder = cache / f"too-large-{size}"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / name, "wb") as fh:
            fh.truncate(size)
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as src, tempfile.NamedTemporaryFile(dir=cache, delete=False) as dst:
        while chunk := src.read(1 << 20):  # streamed: a course checkpoint may be a gigabyte
            digest.update(chunk)
            dst.write(chunk)
    folder = cache / digest.hexdigest()
    if (folder / name).is_file():
        os.unlink(dst.name)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(dst.name, folder / name)
    return folder


@contextlib.contextmanager
def submission_dir(folder: Path) -> Iterator[None]:
    """$AUTOGRADER_SUBMISSION_DIR set to ``folder`` while a submission is graded (never the grader's own cwd)."""
    saved = os.environ.get("AUTOGRADER_SUBMISSION_DIR")
    os.environ["AUTOGRADER_SUBMISSION_DIR"] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("AUTOGRADER_SUBMISSION_DIR", None)
        else:
            os.environ["AUTOGRADER_SUBMISSION_DIR"] = saved


# --- grading in one slot ------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    out: Path
    isolation: cage.Isolation
    stage_dir: Path
    limits: cage.Limits = cage.Limits()
    hidden: bool = True
    warm: bool = True  # some stage forbids a built-in: prime the spy in the zygote
    uids: tuple[int, ...] = ()  # one sandbox user id per slot (leased by run(); root only)


@dataclass
class Outcome:
    key: str
    ok: bool  # results written
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    error: str = ""


def torch_default_threads() -> int:
    """What torch would use had nobody changed it (its default: the cores it may run on)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _warm_grader() -> None:
    """The grader's own first torch oracle call costs a second or two: pay it while the worker starts."""
    try:
        import torch

        from ..graders import torch_oracles as t

        torch.set_num_threads(1)
        q = t.randn(1, 2, 3, seed=0).requires_grad_()
        torch.autograd.grad(t.sdpa(q, q, q, t.causal(2)).sum(), q)
        t.weights(q, q, t.causal(2))
    except Exception:
        pass


class SlotGrader:
    """Grades submissions one after another, each in a fresh sandboxed child of one zygote."""

    def __init__(self, config: Config, slot: int = 0) -> None:
        self.config = config
        uid = config.uids[slot] if slot < len(config.uids) else None
        self.zygote = cage.Zygote(config.isolation, config.stage_dir, config.limits, slot, warm=config.warm, uid=uid)
        self.handed_in = Path(tempfile.mkdtemp(prefix=f"autograder-handin{slot}-"))  # checkpoints, by content

    def grade(self, sub: Submission) -> outputs.SubmissionResult:
        """Grade one submission; raises only for failures of the grading machinery itself."""
        from ..sandbox.proxy import SandboxStudent, SubmissionWorker

        t0 = time.perf_counter()
        items = registry.items_of(sub.assignment)
        notes: list[str] = []
        files = None
        try:
            files, nb_name = collect_files(sub)
            if nb_name != registry.stage(sub.assignment).notebook:
                notes.append(phrase("Graded {name} (no {notebook} was found).", name=nb_name,
                                     notebook=registry.stage(sub.assignment).notebook))
            cells = definition_cells(sub.folder / nb_name)
        except SubmissionProblem as problem:
            results, notes = _synthetic(items, str(problem)), [str(problem)]
        except NotebookError as exc:
            message = text("sandbox.unreadable", error=str(exc))
            results, notes = _synthetic(items, message), [message]
        else:
            self.zygote.ensure()
            worker = SubmissionWorker(self.zygote, files, cells, self.config.limits)
            # the static policy (policy.py) runs here, on the cells' source, before the worker is asked
            student = policy.PolicyChecked(SandboxStudent(worker, time_limit=self.config.limits.call_seconds), cells)
            try:
                # the checkpoint is decoded and translated here, in the trusted process: on the submission's clock
                with submission_dir(stage_checkpoint(sub, self.handed_in)), \
                        checkpoint.time_budget(self.config.limits.submission_seconds):
                    results = runner.run_items(student, [i.id for i in items], hidden=self.config.hidden)
            finally:
                worker.close()
            if worker.infra:  # the machine's fault, not the student's: no result, a later run retries
                raise cage.SlotUnusable(worker.infra)
            if worker.load_errors:
                notes.append(text("sandbox.load_errors", errors="; ".join(worker.load_errors[:5])))
            notes += list(dict.fromkeys(worker.events))[:10]
        return outputs.SubmissionResult(
            sub.student, sub.assignment, results, isolation=self.config.isolation.to_json(), notes=notes,
            fingerprint=fingerprint(sub, hidden=self.config.hidden, files=files), duration_s=time.perf_counter() - t0)

    def grade_and_write(self, sub: Submission) -> Outcome:
        t0 = time.perf_counter()
        try:
            result = self.grade(sub)
            write_result(self.config.out, result)
        except Exception as exc:  # the machinery failed: a zero row that says why, regraded by the next run
            error = f"{type(exc).__name__}: {exc}"
            write_failure(self.config.out, sub, error, self.config.isolation.to_json())
            return Outcome(sub.key, False, seconds=time.perf_counter() - t0, error=_clean(error))
        return Outcome(sub.key, True, result.score, result.max_score, time.perf_counter() - t0)

    def close(self) -> None:
        self.zygote.release()
        shutil.rmtree(self.handed_in, ignore_errors=True)


def _clean(value: Any) -> Any:
    """``value`` with every string writable as UTF-8 (a lone surrogate in a student's message becomes U+FFFD)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if any("\ud800" <= c <= "\udfff" for c in value) else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        for name in value.__dataclass_fields__:
            v = getattr(value, name)
            c = _clean(v)
            if c is not v:
                object.__setattr__(value, name, c)
    return value


def write_result(out: Path, result: outputs.SubmissionResult) -> None:
    """``outputs.write_submission`` after every student-controlled string is made writable."""
    outputs.write_submission(out, _clean(result))


FAILED_FINGERPRINT = "failed"  # never a real fingerprint: the next run grades the submission again


def write_failure(out: Path, sub: Submission, error: str, isolation: dict) -> None:
    """A zero row for a submission the machinery failed on: results.json and a CSV row, with the reason."""
    message = text("hostile.grading_failed", error=error[:300])
    try:
        result = outputs.SubmissionResult(sub.student, sub.assignment, _synthetic(registry.items_of(sub.assignment), message),
                                          isolation=isolation, notes=[message], fingerprint=FAILED_FINGERPRINT)
        write_result(out, result)
    except Exception:  # nothing more can be done for this one; the batch goes on
        pass


def _slot_main(slot: int, config: Config, tasks: Any, done: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    grader = SlotGrader(config, slot)
    try:
        grader.zygote.launch()
        if config.warm:
            _warm_grader()
        while True:
            sub = tasks.get()
            if sub is None:
                break
            done.put(("start", slot, sub.key))
            done.put(("done", slot, sub.key, grader.grade_and_write(sub)))
    finally:
        grader.close()


# --- the batch ----------------------------------------------------------------------------------
@dataclass
class BatchReport:
    discovered: int = 0
    graded: int = 0
    skipped: int = 0  # already graded (resume)
    failed: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    isolation: cage.Isolation | None = None
    warnings: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    csv: Path | None = None
    gradebook: str | None = None
    gradebook_error: str | None = None
    uids: tuple[int, ...] = ()  # the sandbox user ids this run used (root only)


def _is_done(out: Path, sub: Submission, hidden: bool) -> bool:
    try:
        stored = outputs.read_submission(out, sub.student, sub.assignment)
        return stored is not None and stored.fingerprint == fingerprint(sub, hidden=hidden)
    except Exception:  # a result or a submission that cannot be read is regraded, never fatal
        return False


def _progress(total: int, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a nicety
        enabled = False
        tqdm = None
    if not enabled or tqdm is None:
        class _Quiet:
            def update(self, n: int = 1) -> None: ...
            def set_postfix_str(self, s: str) -> None: ...
            def close(self) -> None: ...
        return _Quiet()
    return tqdm(total=total, unit="submission", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def grade_batch(todo: Sequence[Submission], config: Config, *, jobs: int, progress: bool = False,
                on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Grade ``todo`` in ``jobs`` slots (in this process when ``jobs`` is 1)."""
    outcomes: list[Outcome] = []
    bar = _progress(len(todo), progress)

    def record(o: Outcome) -> None:
        outcomes.append(o)
        bar.update(1)
        failed = sum(not x.ok for x in outcomes)
        if failed:
            bar.set_postfix_str(f"{failed} failed")
        if on_outcome:
            on_outcome(o)

    try:
        if jobs <= 1 or len(todo) <= 1:
            grader = SlotGrader(config, 0)
            torch = sys.modules.get("torch")
            threads = torch.get_num_threads() if torch is not None else None
            try:
                grader.zygote.launch()  # the worker imports torch while this process warms up
                if config.warm:
                    _warm_grader()  # (one torch thread: on few cores the graders run twice as fast)
                for sub in todo:
                    record(grader.grade_and_write(sub))
            finally:
                grader.close()
                if "torch" in sys.modules:  # leave the caller's torch as it was
                    sys.modules["torch"].set_num_threads(threads or torch_default_threads())
            return outcomes
        ctx = multiprocessing.get_context("spawn")
        tasks, done = ctx.Queue(), ctx.Queue()
        for sub in todo:
            tasks.put(sub)
        n = min(jobs, len(todo))
        for _ in range(n):
            tasks.put(None)
        by_key = {sub.key: sub for sub in todo}
        procs: dict[int, Any] = {}
        inflight: dict[int, str | None] = {}

        def start(slot: int) -> None:
            p = ctx.Process(target=_slot_main, args=(slot, config, tasks, done), daemon=True)
            p.start()
            procs[slot], inflight[slot] = p, None

        for slot in range(n):
            start(slot)
        finished = 0
        try:
            while finished < len(todo):
                try:
                    msg = done.get(timeout=0.5)
                except queue.Empty:
                    for slot, p in list(procs.items()):
                        if p.is_alive():
                            continue
                        key = inflight.get(slot)
                        if key is None and finished >= len(todo):
                            continue
                        if key is None and all(not q.is_alive() for q in procs.values()):
                            raise RuntimeError("every grading slot stopped") from None
                        if key is not None:  # the slot died grading this one: a zero row now, retried on the next run
                            error = phrase("the grading process stopped (exit code {code})", code=p.exitcode)
                            if key in by_key:
                                write_failure(config.out, by_key[key], error, config.isolation.to_json())
                            record(Outcome(key, False, error=error))
                            finished += 1
                            start(slot)
                    continue
                if msg[0] == "start":
                    inflight[msg[1]] = msg[2]
                elif msg[0] == "done":
                    inflight[msg[1]] = None
                    record(msg[3])
                    finished += 1
        finally:
            for p in procs.values():
                p.join(timeout=30)
                if p.is_alive():
                    p.terminate()
        return outcomes
    finally:
        bar.close()


def default_gradebook(paths: Sequence[str | Path], out: Path) -> str:
    """nbgrader's gradebook of the course the submissions come from, else one beside the reports."""
    for raw in paths:
        for folder in [Path(raw).resolve(), *Path(raw).resolve().parents]:
            if folder.name == "submitted" and (folder.parent / "nbgrader_config.py").is_file():
                return f"sqlite:///{folder.parent / 'gradebook.db'}"
    return f"sqlite:///{Path(out).resolve() / 'gradebook.db'}"


def run(paths: Sequence[str | Path], out: str | Path, *, jobs: int | None = None, force: bool = False,
        shard_spec: str | None = None, isolation: str = "auto", hidden: bool = True,
        limits: cage.Limits | None = None, gradebook: str | None = "auto", progress: bool = True,
        log: Callable[[str], None] = print) -> BatchReport:
    """Everything ``python -m autograder grade`` does; returns what happened."""
    t0 = time.perf_counter()
    out = Path(out)
    report = BatchReport()
    subs, report.warnings = discover(paths)
    if shard_spec:
        subs = shard(subs, *parse_shard(shard_spec))
    not_ready = sorted({s.assignment for s in subs if not sandbox_ready(s.assignment)})
    for stage_id in not_ready:
        report.warnings.append(text("sandbox.stage_not_ready", stage=stage_id))
    subs = [s for s in subs if s.assignment not in not_ready]
    report.discovered = len(subs)
    todo = [s for s in subs if force or not _is_done(out, s, hidden)]
    report.skipped = len(subs) - len(todo)
    if todo:
        report.isolation = cage.probe(isolation)
        log(text("batch.isolation", level=report.isolation.level, description=report.isolation.describe()))
        if report.isolation.level != "bwrap" and not report.isolation.uid_switch:
            report.warnings.append(text("sandbox.isolation.weak"))
        stage_dir = cage.stage_library()
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        lease = cage.UidLease(jobs) if report.isolation.uid_switch else None
        try:
            report.uids = tuple(lease.uids) if lease else ()
            warm = any(i.forbidden for s in {t.assignment for t in todo} for i in registry.items_of(s))
            config = Config(out, report.isolation, stage_dir, limits or cage.Limits(), hidden, warm, report.uids)
            report.outcomes = grade_batch(todo, config, jobs=jobs, progress=progress)
        finally:
            if lease:
                lease.release()
            shutil.rmtree(stage_dir, ignore_errors=True)
    report.graded = sum(o.ok for o in report.outcomes)
    report.failed = [o for o in report.outcomes if not o.ok]
    stored = [r for s in subs if (r := outputs.read_submission(out, s.student, s.assignment)) is not None]
    if stored:
        report.csv = outputs.write_class_csv(out, stored)
        if gradebook:
            url = default_gradebook(paths, out) if gradebook == "auto" else gradebook
            url = url if "://" in url else f"sqlite:///{Path(url).resolve()}"
            try:
                outputs.write_gradebook(url, stored)
                report.gradebook = url
            except ImportError:
                report.gradebook_error = "nbgrader is not installed (pip install '.[instructor]')"
            except Exception as exc:  # the reports are written; the gradebook is an extra
                report.gradebook_error = f"{type(exc).__name__}: {exc}"
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["Submission", "discover", "shard", "parse_shard", "run", "grade_batch", "SlotGrader", "Config",
           "collect_files", "definition_cells", "fingerprint"]
