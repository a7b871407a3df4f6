"""Run an item's graders (pytest tests) against a student and collect one result per grader.

pytest runs in this process with a plugin that provides the ``student`` fixture, keeps only
the requested items' graders and records each outcome as a :class:`GraderResult`. Nothing of
pytest's own output, and no grader source line, reaches the learner: failures are read from
the exception objects the graders raise.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import registry
from .catalogue import text
from .failures import ForbiddenCall, GraderFailure, MissingDefinition, StudentTimeout
from .results import GraderResult, ItemResult, one_likely_cause

GRADERS_DIR = Path(__file__).parent / "graders"
PUBLIC_DIR = GRADERS_DIR / "public"
HIDDEN_DIR = GRADERS_DIR / "hidden"


def hidden_graders_present() -> bool:
    return (HIDDEN_DIR / "__init__.py").is_file()


class _GradingPlugin:
    def __init__(self, student: Any, item_ids: set[str]) -> None:
        self._student = student
        self.item_ids = item_ids
        self.results: list[GraderResult] = []
        self.broken: list[str] = []  # collection errors: grader bugs
        # Items whose time ran out: the first time-out ends the item (issue 11, item 7), so an
        # infinite loop costs that item one time limit, not one per grader, and a check cell
        # stays far below nbgrader's cell limit. Maps item id -> graders not run since.
        self.timed_out: dict[str, int] = {}
        # Notes the student object made while an item's graders looked its names up (a definition
        # that is not the one on screen), by item, each once.
        self.notes: dict[str, list[str]] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "grader(item, title, weight=1.0): a grader of a registry item")
        # Failures are read from the exception objects; pytest's own traceback text is never
        # shown, and building it (re-parsing the grader modules per failure) cost ~0.1 s a check.
        config.option.tbstyle = "no"

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Any:
        item = registry.item(request.node.get_closest_marker("grader").args[0])
        return self._student.for_item(item.forbidden)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        mark = item.get_closest_marker("grader")
        if mark and mark.args[0] in self.timed_out:
            raise _ItemOutOfTime()  # recorded as failed without running the grader

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep, drop = [], []
        for it in items:
            mark = it.get_closest_marker("grader")
            (keep if mark and mark.args[0] in self.item_ids else drop).append(it)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.broken.append(str(report.longrepr).strip().splitlines()[-1])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            result = _to_result(item, call)
            exc = call.excinfo.value if call.excinfo else None
            took_timeout = self._took_timeout()  # always asked: the record is this grader's only
            if isinstance(exc, _ItemOutOfTime):
                self.timed_out[result.item] += 1
            elif isinstance(exc, StudentTimeout) or took_timeout:
                self.timed_out.setdefault(result.item, 0)
            self.results.append(result)
            take = getattr(self._student, "take_notes", None)  # a proxy student keeps none
            for note in take() if callable(take) else ():
                if note not in self.notes.setdefault(result.item, []):
                    self.notes[result.item].append(note)

    def _took_timeout(self) -> bool:
        """A time-out the grader caught and did not re-raise (LocalStudent records each one)."""
        take = getattr(self._student, "take_timed_out", None)
        return bool(take()) if callable(take) else False


class _ItemOutOfTime(Exception):
    """Raised in place of a grader whose item already ran out of time (never a student's exception)."""


def _to_result(item: pytest.Item, call: pytest.CallInfo) -> GraderResult:
    mark = item.get_closest_marker("grader")
    item_id, title_key = mark.args[0], mark.args[1]
    path = str(item.path)
    result = GraderResult(
        item=item_id,
        name=item.name,
        title=text(title_key),
        visibility="hidden" if str(HIDDEN_DIR) in path else "public",
        weight=float(mark.kwargs.get("weight", 1.0)),
    )
    exc = call.excinfo.value if call.excinfo else None
    if exc is None:
        return result
    if isinstance(exc, _ItemOutOfTime):  # one message for the item: a note, not one line per grader
        result.status = "failed"
        return result
    if isinstance(exc, GraderFailure):
        result.status = "failed"
        result.message = exc.message
        result.evidence = exc.evidence
        result.hint = exc.hint
        result.misconception = exc.misconception
        result.forbidden = isinstance(exc, ForbiddenCall)
        result.missing = isinstance(exc, MissingDefinition)
    else:  # the grader itself broke; the learner is told it is not their fault
        result.status = "error"
        result.message = text("report.internal_error", error=f"{type(exc).__name__}: {exc}")
    return result


def grader_files(stage_ids: Iterable[str], *, hidden: bool) -> list[Path]:
    files = []
    for sid in sorted(set(stage_ids)):
        module = registry.stage(sid).grader_module
        files.append(PUBLIC_DIR / module)
        if hidden and (HIDDEN_DIR / module).is_file():
            files.append(HIDDEN_DIR / module)
    return files


@contextlib.contextmanager
def _quiet_pytest_env() -> Iterator[None]:
    """No third-party pytest plugins and no user PYTEST_ADDOPTS inside a grading run."""
    saved = {k: os.environ.get(k) for k in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS")}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _kept_last_exception() -> Iterator[None]:
    """pytest records failed graders in sys.last_value; the notebook's own last error must survive."""
    names = ("last_type", "last_value", "last_traceback", "last_exc")
    saved = {n: getattr(sys, n) for n in names if hasattr(sys, n)}
    try:
        yield
    finally:
        for n in names:
            if n in saved:
                setattr(sys, n, saved[n])
            elif hasattr(sys, n):
                delattr(sys, n)


def run_items(student: Any, item_ids: Iterable[str], *, hidden: bool = False) -> list[ItemResult]:
    """Grade ``item_ids`` (public graders, plus hidden ones when ``hidden``) against ``student``."""
    items = [registry.item(i) for i in item_ids]
    plugin = _GradingPlugin(student, {i.id for i in items})
    results = {i.id: ItemResult(i) for i in items}
    if hidden and not hidden_graders_present():
        for r in results.values():
            r.incomplete = True
            r.notes.append(text("report.hidden_missing"))
        hidden = False
    args = [
        *map(str, grader_files((i.stage for i in items), hidden=hidden)),
        "-c", str(GRADERS_DIR / "pytest.ini"),
        "--rootdir", str(GRADERS_DIR),
        "-p", "no:cacheprovider",
        "-p", "no:terminal",
        "-p", "no:warnings",
        "-p", "no:faulthandler",
        # These two run gc.collect() twice per session: 0.4 s in a kernel holding torch and matplotlib.
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        # No grader reads log records; capturing them added and removed a handler on every logger
        # for every setup, call and teardown of every grader (a tenth of a stage-06 grading).
        "-p", "no:logging",
        "--noconftest",
        "--assert=plain",
        "--import-mode=importlib",
        "-s",
    ]
    sink = io.StringIO()
    with _quiet_pytest_env(), _kept_last_exception(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin])
    for g in plugin.results:
        results[g.item].graders.append(g)
    for r in results.values():
        one_likely_cause(r.graders)
        r.notes += plugin.notes.get(r.item.id, [])
    for item_id, skipped in plugin.timed_out.items():
        if skipped:
            results[item_id].notes.append(text("report.item_out_of_time", n=skipped))
    if plugin.broken or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        reason = "; ".join(plugin.broken) or f"pytest exit code {int(code)}"
        for r in results.values():
            r.incomplete = True
            r.notes.append(text("report.internal_error", error=reason))
    for r in results.values():
        if not r.graders and not r.incomplete:
            r.incomplete = True
            r.notes.append(text("report.internal_error", error=f"no grader found for item {r.item.id!r}"))
    return list(results.values())
