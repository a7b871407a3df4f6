"""Hardened grading cannot be fooled: every attack in tests/attacks scores zero where it attacks.

One class is graded in one sandboxed batch (two slots): a reference student, a student whose
correct code prints and warns, and one student per attack. Each attack must score zero on the
items it attacks and keep full marks on its honest items; the reference and the honest student
must keep full marks (the rest of the class is unaffected); nothing the attacks started may
outlive grading; nothing they forged may reach the reports.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import hardened_kit as hk
from autograder.grading import batch
from autograder import registry
from autograder.sandbox import cage

ATTACK_FILES = sorted(hk.ATTACKS.glob("*/*.py"))
# HARDENED_TEST_ISOLATION=rlimits runs the suite at the fallback level (as root: a user id of its
# own per slot; otherwise the attacks that need containment are left out, see `contained`).
ISOLATION = os.environ.get("HARDENED_TEST_ISOLATION", "auto")
ESCAPE_TAG = f"forged-{os.getpid()}-{time.time_ns()}"
# Short limits keep the suite fast: each attacked function may spend 5 s in all.
LIMITS = cage.Limits(call_seconds=1.0, grace_seconds=1.0, function_seconds=5.0, submission_seconds=60.0,
                     cpu_seconds=30, memory_mb=512)
MARKERS = ("4242", "4343")  # sleep lengths used by the attacks that leave processes behind


@dataclass(frozen=True)
class Attack:
    path: Path
    summary: str
    attacks: tuple[str, ...]
    constants: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def stage(self) -> str:
        return self.path.parent.name

    @property
    def student(self) -> str:
        return f"attack_{self.path.stem}"

    def get(self, key: str, default=None):
        return self.constants.get(key, default)

    def replacements(self) -> dict[str, str]:
        """Each public function's solution cell: the file's imports and helpers, then the function."""
        source = self.path.read_text()
        tree = ast.parse(source)
        seg = lambda n: ast.get_source_segment(source, n)  # noqa: E731
        imports = [seg(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        helpers = [seg(n) for n in defs if n.name.startswith("_")]
        return {n.name: "\n\n".join([*imports, *helpers, seg(n)]) for n in defs if not n.name.startswith("_")}

    def notebook(self) -> dict:
        extra = [self.get("AT_IMPORT") * self.get("AT_IMPORT_REPEAT", 1)] if self.get("AT_IMPORT") else []
        return hk.notebook(self.stage, skeleton=bool(self.get("SKELETON")), replace=self.replacements(),
                           extra_cells=extra)


def load_attacks() -> list[Attack]:
    found = []
    for path in ATTACK_FILES:
        tree = ast.parse(path.read_text())
        consts = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body
                  if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id.isupper()}
        found.append(Attack(path, ast.get_docstring(tree) or "", tuple(consts["ATTACKS"]), consts))
    return found


ATTACKS = load_attacks()
HONEST_PRINTS = '''
import sys
import warnings

import numpy as np


def softmax(x, axis=-1):
    print("computing a softmax of shape", x.shape)
    sys.stderr.write("a note on stderr\\n")
    warnings.warn("this is only a warning")
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
'''


def _leftovers() -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if any(f"sleep {m}" in cmd for m in MARKERS):
                found.append(f"{entry}: {cmd}")
    return found


def _allowed(attack: Attack, isolation: cage.Isolation) -> str | None:
    """Why ``attack`` cannot be run safely (or meaningfully) at this isolation level; None if it can.

    ``NEEDS = "bwrap"``: only bubblewrap hides the repository. ``NEEDS = "contained"``: without
    bubblewrap's PID namespace or a user id of its own, the worker runs as the person grading,
    and kill(-1) or writing into their home directory would hit the machine running the tests.
    """
    need = attack.get("NEEDS")
    if need == "bwrap" and isolation.level != "bwrap":
        return f"only bubblewrap hides the repository; this run used {isolation.level} ({isolation.reason})"
    if need == "contained" and isolation.level != "bwrap" and not isolation.uid_switch:
        return f"without bubblewrap or a user id of its own the worker could hit this machine ({isolation.reason})"
    return None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    isolation = cage.probe(ISOLATION)
    for stage in {a.stage for a in ATTACKS}:
        hk.write(root, "ada", stage, hk.notebook(stage))
    hk.write(root, "honest_printer", "01_dot_product_attention",
             hk.notebook("01_dot_product_attention", replace={"softmax": HONEST_PRINTS}))
    for a in ATTACKS:
        if _allowed(a, isolation):
            continue
        if a.get("SYMLINK_TO_SOLUTION"):
            target = hk.SOLUTIONS / a.stage / registry.stage(a.stage).notebook
            link = root / a.student / a.stage / registry.stage(a.stage).notebook
            link.parent.mkdir(parents=True)
            link.symlink_to(target)
            continue
        hk.write(root, a.student, a.stage, a.notebook())
        for name, content in a.get("FILES", {}).items():
            if name == "escape.txt":  # where an escaping write would land: a name no other run uses
                content = ESCAPE_TAG
            (root / a.student / a.stage / name).write_text(content)
    report = batch.run([root], out, jobs=2, limits=LIMITS, isolation=ISOLATION, gradebook=None, progress=False,
                       log=lambda s: None)
    yield report, out
    if report.isolation.level != "bwrap":  # without a file-system sandbox the forgeries land here: tidy up
        for folder in (Path("/tmp"), Path.home()):
            for path in folder.glob(f"{ESCAPE_TAG}-*"):
                path.unlink(missing_ok=True)


@pytest.mark.slow
def test_the_class_is_graded_as_usual(graded):
    report, out = graded
    assert not report.failed, [f"{o.key}: {o.error}" for o in report.failed]
    ran = [a for a in ATTACKS if not _allowed(a, report.isolation)]
    assert report.graded == report.discovered == len(ran) + len({a.stage for a in ATTACKS}) + 1
    for stage in {a.stage for a in ATTACKS}:
        assert hk.scores(out, "ada", stage) == hk.full_marks(stage)
    assert hk.scores(out, "honest_printer", "01_dot_product_attention") == hk.full_marks("01_dot_product_attention")


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: f"{a.stage[:2]}-{a.path.stem}")
def test_attack_scores_zero_where_it_attacks(graded, attack):
    report, out = graded
    if _allowed(attack, report.isolation):
        pytest.skip(_allowed(attack, report.isolation))
    result = hk.result(out, attack.student, attack.stage)
    feedback = (out / attack.student / attack.stage / "report.md").read_text()
    for item in result.items:
        if item.item.id in attack.attacks:
            assert item.score == 0, f"{attack.summary}\n{feedback}"
        else:  # its honest items: the reference code, graded as usual
            assert item.score == item.max_points, f"{item.item.id} should not be affected\n{feedback}"
    if attack.get("SAYS"):
        assert attack.get("SAYS") in feedback, feedback
    for secret in attack.get("NOT_IN_REPORT", ()):  # what it must not have found
        assert secret not in feedback, f"{attack.path.name} found {secret!r}\n{feedback}"
    lines = {ln.strip() for ln in feedback.splitlines()}
    for forged in attack.get("FORGED_LINES", ()):  # the attack's own text may show, never as a line of the report
        assert forged not in lines, f"{forged!r} became a line of report.md\n{feedback}"


@pytest.mark.slow
def test_nothing_outlives_grading(graded):
    assert _leftovers() == []


@pytest.mark.slow
def test_forgeries_never_reach_the_reports(graded):
    report, out = graded
    if _allowed(next(a for a in ATTACKS if a.path.stem == "forged_results"), report.isolation):
        pytest.skip("the forging attack was not run at this isolation level")
    forged = json.loads((out / "attack_forged_results" / "01_dot_product_attention" / "results.json").read_text())
    assert forged["score"] == 0
    assert forged["extra_data"]["student"] == "attack_forged_results"
    assert not Path("/tmp/forged_results_pickle_ran").exists()
    if report.isolation.level == "bwrap":  # the worker saw a private /tmp and no repository
        for folder in (Path("/tmp"), Path.home(), hk.REPO / "build", hk.REPO.parent):
            assert not list(folder.glob(f"{ESCAPE_TAG}-*")), folder
    rows = (out / "grades.csv").read_text().splitlines()
    assert not any(r.startswith("forger,") for r in rows)


@pytest.mark.slow
def test_reports_say_how_isolated_grading_was(graded):
    report, out = graded
    data = json.loads((out / "ada" / "01_dot_product_attention" / "results.json").read_text())
    assert data["extra_data"]["isolation"]["level"] == report.isolation.level
    assert report.isolation.describe() in (out / "ada" / "01_dot_product_attention" / "report.md").read_text()


def _in_process_scores(nb_path: Path, stage: str) -> subprocess.Popen:
    code = ("import json, sys; sys.path.insert(0, 'tests'); import kit; "
            "from autograder.notebook import load_namespace; "
            f"r = kit.grade(load_namespace({str(nb_path)!r}), {stage!r}); "
            "print(json.dumps({k: v.score for k, v in r.items()}))")
    return subprocess.Popen([sys.executable, "-c", code], cwd=hk.REPO, stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_the_attacks_are_real_they_fool_in_process_grading(graded, tmp_path):
    """The same notebooks, graded in the checks' own process, do earn points: the sandbox is what stops them."""
    fooling = [a for a in ATTACKS if a.get("INPROCESS_FOOLS")]
    assert fooling
    runs = {}
    for a in fooling:
        path = hk.write(tmp_path, a.student, a.stage, a.notebook())
        runs[a] = _in_process_scores(path, a.stage)
    for a, proc in runs.items():
        out, _ = proc.communicate(timeout=120)
        scores = json.loads(out.strip().splitlines()[-1])
        assert any(scores[i] > 0 for i in a.attacks), f"{a.path.name} did not fool in-process grading: {scores}"
