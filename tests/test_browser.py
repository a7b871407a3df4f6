"""Seen as a person sees it: JupyterLab and formgrader in headless Chromium.

A small class is graded with nbgrader (``autograder.instructor.demo.grade_class``: one reference, one
wrong softmax; tests/graded_course.py); JupyterLab is started on localhost in that course directory. In the browser:

1. a student opens the released notebook (with a wrong softmax filled in), runs every cell from
   the Run menu, and reads the check cell's report on the page;
2. the instructor opens Nbgrader → Formgrader → Manage Students and finds the class's
   autograded scores, the ones nbgrader stored in the gradebook.
3. the instructor opens the class report (``python -m autograder class-report``, a file of its
   own, no server) and reads the ranked misconceptions under its plots.

Screenshots go to build/screenshots/ (CI keeps them as an artifact). The browser is Chromium
from the system (``make test`` installs Debian's package as root when it is missing); the test is
skipped, with the reason, only where there is none.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from graded_course import CLASS, MUTANT, S1, graded_course
from autograder import registry
from autograder.instructor import submissions
from autograder.catalogue import text
from autograder.check import check
from autograder.notebook import load_namespace

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "build" / "screenshots"
NB = registry.stage(S1).notebook
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


def find_browser() -> str | None:
    if os.environ.get("CHROME_BIN"):
        return os.environ["CHROME_BIN"]
    for name in ("chromium", "google-chrome", "google-chrome-stable", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the browser test needs playwright (pip install -e '.[dev]', which `make test` does)")
    exe = find_browser()
    if exe is None:
        pytest.skip("no Chromium on this machine and `make test` could not install it (it installs Debian's "
                    "chromium when run as root; elsewhere install chromium or set CHROME_BIN)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=exe, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 860})
        yield context
        context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A graded course directory, with JupyterLab serving it on localhost."""
    tmp = tmp_path_factory.mktemp("lab")
    course, grades = graded_course()
    # the student's copy of the release, with a wrong softmax (a realistic mistake from tests/mutants)
    release = submissions.load(course / "assignments" / S1 / NB)
    solution = submissions.load(course / "solutions" / S1 / NB)
    wrong = submissions.fill(release, solution, (REPO / "tests/mutants" / S1 / f"{MUTANT}.py").read_text())
    mine = course / "student" / S1 / NB
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text(json.dumps(wrong, indent=1), encoding="utf-8")

    with _jupyterlab(course, tmp) as served:
        yield {**served, "course": course, "grades": grades, "notebook": mine}


@pytest.fixture(scope="module")
def lab_es(tmp_path_factory):
    """The Spanish edition (issue 13): the Spanish release of stage 01 with the same wrong softmax,
    served by a JupyterLab whose kernels get the course language, as nbgrader_config.py sets it."""
    tmp = tmp_path_factory.mktemp("lab-es")
    release = submissions.load(REPO / "assignments_es" / S1 / NB)
    solution = submissions.load(REPO / "solutions" / S1 / NB)
    wrong = submissions.fill(release, solution, (REPO / "tests/mutants" / S1 / f"{MUTANT}.py").read_text())
    mine = tmp / "course" / "student" / S1 / NB
    mine.parent.mkdir(parents=True)
    mine.write_text(json.dumps(wrong, indent=1, ensure_ascii=False), encoding="utf-8")
    with _jupyterlab(tmp / "course", tmp, {"AUTOGRADER_LANG": "es"}) as served:
        yield {**served, "notebook": mine}


@contextlib.contextmanager
def _jupyterlab(root: Path, tmp: Path, extra_env: dict[str, str] | None = None):
    """JupyterLab serving ``root`` on localhost for a fresh user: {"base": url, "token": token}."""
    # a fresh user: no news to fetch, and every cell rendered (no virtual scrolling to wait for)
    settings = tmp / "lab-settings" / "@jupyterlab"
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension/notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    (settings / "notebook-extension").mkdir()
    (settings / "notebook-extension/tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), "browser-test-token"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           **(extra_env or {})}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (tmp / "lab.log").open("w")
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield {"base": base, "token": token}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()



def _wait_for_a_connected_idle_kernel(lab, timeout: float = 120) -> None:
    """The page shows "Idle" before its kernel has connected: ask the server until it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{lab['base']}/api/kernels?token={lab['token']}", timeout=5) as resp:
            kernels = json.load(resp)
        if any(k.get("execution_state") == "idle" and k.get("connections", 0) > 0 for k in kernels):
            return
        time.sleep(0.5)
    pytest.fail(f"no kernel became ready in {timeout:.0f} s: {kernels}")


@contextlib.contextmanager
def evidence(page, name: str):
    """On failure, keep what the page showed (build/screenshots/<name>-failure.png) for CI's artifact."""
    try:
        yield
    except BaseException:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-failure.png"), full_page=True)
        raise


def _run_all_and_read_the_softmax_report(browser, lab, shot: str, done_text: str) -> str:
    page = browser.new_page()
    with evidence(page, shot):
        page.goto(f"{lab['base']}/lab/tree/student/{S1}/{NB}?token={lab['token']}")
        page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=90_000)
        _wait_for_a_connected_idle_kernel(lab)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

        cell = page.locator(".jp-CodeCell", has=page.locator(".jp-InputArea", has_text='check("softmax")')).first
        cell.locator(".jp-OutputArea-output", has_text=done_text).first.wait_for(timeout=120_000)
        page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=120_000)
        # the check cell at the top of the notebook, where a person reads it
        cell.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        shown = cell.locator(".jp-OutputArea").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"))
    page.close()
    return shown


def test_a_student_runs_a_check_cell_and_reads_the_report(browser, lab):
    # what the check cell must print: the same graders, run here on the same definitions
    expected = check("softmax", namespace=load_namespace(lab["notebook"]))
    shown = _run_all_and_read_the_softmax_report(browser, lab, "student-check-cell", "checks passed")
    assert f"A numerically stable softmax (softmax): {float(expected):g} / 4 points" in shown
    assert 0 < float(expected) < 4
    assert "✗ inputs as large as 1000 give finite results" in shown
    assert " ".join(text("why.softmax_unstable").split()) in " ".join(shown.split())
    assert "Traceback" not in shown


def test_a_student_of_the_spanish_edition_reads_the_report_in_spanish(browser, lab_es, monkeypatch):
    from autograder.catalogue_es import ES

    monkeypatch.setenv("AUTOGRADER_LANG", "es")
    expected = check("softmax", namespace=load_namespace(lab_es["notebook"]))
    page_text = json.loads(lab_es["notebook"].read_text(encoding="utf-8"))["cells"][0]["source"]
    assert "".join(page_text).startswith("# Etapa 01")  # the notebook itself is the Spanish one
    shown = _run_all_and_read_the_softmax_report(browser, lab_es, "student-check-cell-es", "comprobaciones")
    # the score as Spanish writes it: a decimal comma ("3,42 / 4 puntos")
    assert f"Un softmax numéricamente estable (softmax): {float(expected):g} / 4 puntos".replace(".", ",") in shown
    assert 0 < float(expected) < 4
    assert "✗ entradas de hasta 1000 dan resultados finitos" in shown
    assert " ".join(ES["why.softmax_unstable"].split()) in " ".join(shown.split())
    assert "points" not in shown and "Traceback" not in shown


def test_the_instructor_finds_the_autograded_scores_in_formgrader(browser, lab):
    page = browser.new_page()
    with evidence(page, "formgrader"):
        page.goto(f"{lab['base']}/lab?token={lab['token']}")
        page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        page.get_by_role("menuitem", name="Formgrader", exact=True).click()
        formgrader = page.frame_locator("iframe").first
        formgrader.get_by_role("link", name="Manage Students").click()
        rows = formgrader.locator("table tbody tr")
        rows.filter(has_text="carmen").first.wait_for(timeout=60_000)

    shown = {}
    for row in rows.all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        if len(cells) >= 4:
            shown[cells[1]] = cells[3]
    stored = {st.id: sum(lab["grades"][(st.id, S1)].scores.values()) for st in CLASS}
    full = registry.max_points(S1)
    assert stored["ada"] == full and 0 < stored["carmen"] < full  # the gradebook holds a real spread
    assert shown == {sid: f"{score:g} / {full:g}" for sid, score in stored.items()}

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "formgrader-scores.png"))
    page.close()


def test_the_instructor_reads_the_class_report(browser, tmp_path):
    from test_class_report import HOSTILE, _write_class

    from autograder.instructor.class_report import load_class, render

    report = tmp_path / "report.html"
    report.write_text(render(load_class([_write_class(tmp_path / "graded", ["ada", "bea", "carl", HOSTILE])])),
                      encoding="utf-8")
    page = browser.new_page()
    with evidence(page, "class-report"):
        page.goto(report.as_uri())
        first = page.locator("tr.misconception").first
        first.wait_for(timeout=30_000)
        shown = first.inner_text()
        # every plot decoded and drawn: an inline PNG the browser could not read has no width
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        below = page.locator("tr.below").all_inner_texts()
        forged = page.eval_on_selector_all('img[src="x"]', "imgs => imgs.length")
    assert " ".join(text("why.softmax_axis").split()) in " ".join(shown.split())
    assert len(widths) >= 3 and all(w > 0 for w in widths)
    assert any(HOSTILE in row for row in below) and forged == 0  # the name is shown as text, never markup

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "class-report.png"), full_page=True)
    page.close()
