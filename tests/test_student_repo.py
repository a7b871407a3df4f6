"""The student template: what `export-student-repo` writes, that it leaks nothing, and that its
workflow grades a push (its own commands, run here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workflow_kit import STUDENT_WORKFLOW, FakeGitHub, load, run_step, step
from autograder.grading import classroom
from autograder import registry
from autograder.instructor import submissions
from autograder.catalogue import text
from autograder.instructor.export import ExportLeak, _hidden_only_lines, _toml_loads, audit, export_student_repo, solution_regions

REPO = Path(__file__).resolve().parents[1]
STAGES = [s.id for s in registry.STAGES if (REPO / "assignments" / s.id).is_dir()]
S1, S2 = STAGES[0], STAGES[1]


@pytest.fixture
def fake_github():
    server = FakeGitHub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_student_repo(tmp_path_factory.mktemp("export") / "student-repo", check=False, scan=False)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_export_holds_the_release_the_public_graders_the_data_and_the_workflow(exported):
    root = exported.dest
    files = _files(root)
    for sid in STAGES:
        nb = f"assignments/{sid}/{registry.stage(sid).notebook}"
        assert nb in files and (root / nb).read_bytes() == (REPO / nb).read_bytes()
        assert f"autograder/graders/public/{registry.stage(sid).grader_module}" in files
    assert {"README.md", "pyproject.toml", ".gitignore", "docs/students.md", "autograder/grading/classroom.py"} <= files
    assert (root / ".github/workflows/grade.yml").read_text() == STUDENT_WORKFLOW.read_text()
    public_data = {str(p.relative_to(REPO)) for p in (REPO / "datasets").rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts}
    assert public_data <= files
    readme = (root / "README.md").read_text()
    assert all(registry.stage(sid).notebook in readme for sid in STAGES) and "{{" not in readme
    # the student installs the course's runtime dependencies, and nothing of the instructor's
    course = _toml_loads((REPO / "pyproject.toml").read_text())["project"]
    student = _toml_loads((root / "pyproject.toml").read_text())["project"]
    assert student["dependencies"] == course["dependencies"]
    assert not any("nbgrader" in d for d in json.dumps(student).split('"'))


def test_export_has_no_hidden_grader_and_no_instructor_module(exported):
    root = exported.dest
    files = _files(root)
    assert not [f for f in files if "/hidden/" in f or f.startswith(("solutions/", "tests/"))]
    assert not {"autograder/instructor/demo.py", "autograder/instructor/submissions.py", "autograder/instructor/export.py"} & files
    # run from the export, `autograder` is the export's package, and it finds no hidden graders
    probe = subprocess.run([sys.executable, "-c", "import autograder, autograder.runner as r; "
                            "print(autograder.__file__); print(r.hidden_graders_present())"],
                           cwd=root, capture_output=True, text=True, check=True)
    where, present = probe.stdout.split()
    assert Path(where).resolve().is_relative_to(root.resolve()) and present == "False"


def test_export_holds_nothing_a_student_must_not_see(exported):
    """No solution region, nbgrader marker, reference function body or hidden-only line."""
    assert exported.leaks == []


def test_the_strict_export_refuses_a_leak_and_deletes_what_it_wrote(tmp_path):
    course = tmp_path / "course"
    for part in ("assignments", "autograder", "datasets", "solutions", "docs", ".github/student"):
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, course / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", course)
    # The answer scan (tests/test_answer_scan.py) is left out here: this test is the text audit's.
    report = export_student_repo(tmp_path / "clean", repo=course, scan=False)  # the course exports...
    assert report.leaks == [] and (tmp_path / "clean/README.md").is_file()
    # ...and one whose public graders hold a reference function is refused
    code = next(c for w, c in solution_regions(course) if "return" in c)
    body = "\n".join("    " + ln.strip() for ln in code.splitlines() if ln.strip())
    (course / "autograder/graders/public/helpers.py").write_text(f"import numpy as np\n\n\ndef f(x, axis=-1):\n{body}\n")
    with pytest.raises(ExportLeak) as exc:
        export_student_repo(tmp_path / "out", repo=course, scan=False)
    assert "autograder/graders/public/helpers.py" in str(exc.value) and not (tmp_path / "out").exists()


# --- the audit can fail: doctored exports ------------------------------------------------------
@pytest.fixture
def clean_copy(exported, tmp_path):
    dest = tmp_path / "copy"
    shutil.copytree(exported.dest, dest)
    assert audit(dest) == []  # so that each doctored copy shows exactly its own problem
    return dest


def test_audit_catches_a_hidden_grader(clean_copy):
    hidden = REPO / "autograder/graders/hidden" / registry.stage(S1).grader_module
    (clean_copy / "autograder/graders/hidden").mkdir()
    shutil.copy(hidden, clean_copy / "autograder/graders/hidden" / hidden.name)
    found = audit(clean_copy)
    assert any(p.startswith("hidden grader:") for p in found)
    assert any(p.startswith("a line of autograder/graders/hidden/") for p in found)


def test_audit_catches_the_reference_solution_in_a_notebook(clean_copy):
    nb = clean_copy / "assignments" / S1 / registry.stage(S1).notebook
    reference = submissions.fill(submissions.load(nb), submissions.load(REPO / "solutions" / S1 / nb.name))
    nb.write_text(json.dumps(reference, indent=1))
    found = audit(clean_copy)
    assert any(f"solution code from solutions/{S1}" in p for p in found), found


def test_audit_catches_a_reference_function_under_another_name(clean_copy):
    """Same statements, other name, comments gone: the text differs, the syntax tree does not."""
    where, code = next((w, c) for w, c in solution_regions() if "#" in c and "return" in c)
    body = "\n".join(ln.split("#")[0].rstrip() for ln in code.splitlines())
    (clean_copy / "autograder" / "graders" / "helpers.py").write_text(
        f"import numpy as np\n\n\ndef renamed(x, w_q=None, w_k=None, w_v=None, axis=-1):\n{body}\n")
    found = audit(clean_copy)
    assert [p for p in found if "solution code from" in p] == []
    assert any(p.startswith("renamed() in autograder/graders/helpers.py is the reference") for p in found), found


@pytest.mark.parametrize("marker", ["### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"])
def test_audit_catches_nbgrader_markers(clean_copy, marker):
    with (clean_copy / "README.md").open("a") as fh:
        fh.write(f"\n{marker}\n")
    assert any("nbgrader marker" in p for p in audit(clean_copy))


def test_audit_catches_a_hidden_seed(tmp_path):
    """A line only the hidden graders hold (stage 07's data seed will be one) must not appear anywhere."""
    repo = tmp_path / "course"
    (repo / "autograder/graders/hidden").mkdir(parents=True)
    (repo / "autograder/graders/public").mkdir(parents=True)
    (repo / "autograder/graders/hidden/test_07_training.py").write_text("HIDDEN_TEST_SPLIT_SEED = 86753090\nSEED = 7\n")
    (repo / "autograder/graders/public/test_07_training.py").write_text("PUBLIC_SEED = 2017\n")
    assert set(_hidden_only_lines(repo)) == {"HIDDEN_TEST_SPLIT_SEED = 86753090", "SEED = 7"}
    dest = tmp_path / "export"
    (dest / "datasets").mkdir(parents=True)
    (dest / "datasets/split.py").write_text("PUBLIC_SEED = 2017\n")
    assert audit(dest, repo) == []
    (dest / "datasets/split.py").write_text("PUBLIC_SEED = 2017\nHIDDEN_TEST_SPLIT_SEED = 86753090\n")
    assert audit(dest, repo) == ["a line of autograder/graders/hidden/test_07_training.py in datasets/split.py: "
                                 "HIDDEN_TEST_SPLIT_SEED = 86753090"]


def test_every_hidden_seed_of_the_course_is_hidden_only():
    """Whatever seeds the hidden graders define are lines the audit guards (not also public)."""
    guarded = _hidden_only_lines(REPO)
    for path in (REPO / "autograder/graders/hidden").rglob("*.py"):
        for line in path.read_text().splitlines():
            if "=" in line and "SEED" in line.split("=")[0].upper() and not line.strip().startswith("#"):
                assert line.strip() in guarded, f"{path.name}: {line.strip()} is also in a public file"


# --- the command line --------------------------------------------------------------------------
def test_export_refuses_a_non_empty_folder_and_force_keeps_git(tmp_path, monkeypatch):
    import autograder.instructor.export as export

    monkeypatch.setattr(export, "audit", lambda dest, repo=export.REPO: [])  # the leak is tested above
    dest = tmp_path / "repo"
    (dest / ".git").mkdir(parents=True)
    (dest / "old.txt").write_text("stale")
    with pytest.raises(FileExistsError):
        export_student_repo(dest, stages=[S1], scan=False)
    report = export_student_repo(dest, stages=[S1], force=True, scan=False)
    assert (dest / ".git").is_dir() and not (dest / "old.txt").exists()
    assert report.stages == [S1] and not (dest / "assignments" / S2).exists()
    with pytest.raises(registry.UnknownItem):
        export_student_repo(tmp_path / "other", stages=["99_nothing"])


def test_the_student_pyproject_installs(exported):
    """`pip install -e .` (the workflow's install step) can build the export (offline, no dependencies)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                           "--no-index", "-e", str(exported.dest)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Would install transformer-course-student" in proc.stdout


def test_an_export_of_early_stages_holds_no_later_stages_graders(tmp_path):
    """Later graders carry answers to earlier stages (trusted blocks, the stage-07 model): an export
    of stages 01-03 ships only what their public graders import."""
    early = [s.id for s in registry.STAGES[:3]]
    graders = export_student_repo(tmp_path / "early", stages=early, scan=False).dest / "autograder/graders"
    assert sorted(p.name for p in (graders / "public").glob("test_*.py")) == [f"test_{s}.py" for s in early]
    assert sorted(p.name for p in graders.glob("*.py")) == ["__init__.py", "oracles.py", "replay.py", "torch_oracles.py"]
    # the oracles ship as recorded values (issue 10 item 2), with those of the exported stages only
    assert sorted(p.name for p in (graders / "public/expected").iterdir()) == sorted(
        f"{s}.{ext}" for s in early for ext in ("json", "npz"))
    assert "def causal(t: int)" in (graders / "torch_oracles.py").read_text()
    assert "tril" not in (graders / "torch_oracles.py").read_text()  # its formula stays home


GRADE_IN_EXPORT = """
import json, sys
from pathlib import Path
export, repo = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
sys.path[:] = [str(export)] + [p for p in sys.path if p not in ("", str(repo))]
import autograder
assert Path(autograder.__file__).resolve().is_relative_to(export), autograder.__file__
from autograder import registry
from autograder.notebook import load_namespace
from autograder.runner import run_items
from autograder.student import LocalStudent
out = {}
for sid in sys.argv[3:]:
    nb = registry.stage(sid).notebook
    for kind, root, src in (("reference", repo / "solutions", ""), ("skeleton", export / "assignments", ""),
                            ("copied", export / "assignments", (export / "copied.py").read_text())):
        ns = load_namespace(root / sid / nb, src)
        res = run_items(LocalStudent(ns), [i.id for i in registry.items_of(sid)], hidden=False)
        out[sid + "/" + kind] = {r.item.id: [r.score, r.max_points] for r in res}
print(json.dumps(out))
"""

# A notebook that binds the shipped oracles to the contract names, through a module attribute. The
# static policy refuses course code first (at home too); should a route past it exist, the stubs
# refuse to answer while student code runs (tests/test_expected_values.py) and hold only data.
COPIED = """
import autograder.graders.oracles as _o
import autograder.graders.torch_oracles as _t
softmax = lambda x, axis=-1: _o.softmax(x, axis)
dot_product_attention = lambda x: _o.dot_product_attention(x)
project_qkv = lambda x, w_q, w_k, w_v: _o.trusted_project_qkv(x, w_q, w_k, w_v)
self_attention = lambda x, w_q, w_k, w_v: _o.self_attention(x, w_q, w_k, w_v)
cross_attention = lambda x, z, w_q, w_k, w_v: _o.cross_attention(x, z, w_q, w_k, w_v)
causal_mask = lambda t: _t.causal(t)
"""


def test_in_the_export_the_reference_scores_full_marks_the_skeleton_and_the_oracles_zero(tmp_path):
    """The public checks replay recorded values in the export: same verdicts as at home on the
    reference (full marks) and the skeleton (zero), and the shipped oracles earn nothing."""
    early = [s.id for s in registry.STAGES[:3]]
    root = export_student_repo(tmp_path / "early", stages=early, scan=False).dest
    _expect_export_verdicts(root, early, COPIED, tmp_path)


def _expect_export_verdicts(root: Path, stages: list[str], copied: str, tmp_path: Path) -> None:
    """In the export's own kernel: the reference scores full marks, the skeleton and ``copied``
    (a notebook that calls the shipped graders' modules) zero, on every item of ``stages``."""
    (root / "copied.py").write_text(copied)
    script = tmp_path / "grade_in_export.py"
    script.write_text(GRADE_IN_EXPORT)
    proc = subprocess.run([sys.executable, str(script), str(root), str(REPO), *stages], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    for sid in stages:
        assert all(s == m for s, m in scores[f"{sid}/reference"].values()), scores[f"{sid}/reference"]
        assert all(s == 0 for s, _ in scores[f"{sid}/skeleton"].values()), scores[f"{sid}/skeleton"]
        assert all(s == 0 for s, _ in scores[f"{sid}/copied"].values()), scores[f"{sid}/copied"]


# The same for stages 04-05, whose trusted blocks (blocks.py) and oracles (transformer_oracles.py)
# ship as recorded values too.
COPIED_LATER = """
import autograder.graders.blocks as _b
import autograder.graders.transformer_oracles as _o
qkv_parameter_count = lambda k, r, efficient: _o.qkv_parameter_count(k, r, efficient)
split_heads = lambda x, num_heads: _b.split_heads(x, num_heads)
merge_heads = lambda x: _b.merge_heads(x)
sinusoidal_positional_encoding = lambda max_len, d_model: _b.sinusoidal_positional_encoding(max_len, d_model)
"""


def test_in_the_export_stages_04_05_replay_their_blocks_with_the_same_verdicts(tmp_path):
    later = ["04_multi_head_attention", "05_positional_encoding"]
    root = export_student_repo(tmp_path / "later", stages=later, scan=False).dest
    graders = root / "autograder/graders"
    assert "def split_heads(x, num_heads)" in (graders / "blocks.py").read_text()
    assert "unflatten" not in (graders / "blocks.py").read_text()  # split_heads' formula stays home
    assert "3 * r * k" not in (graders / "transformer_oracles.py").read_text()  # qkv_parameter_count's
    _expect_export_verdicts(root, later, COPIED_LATER, tmp_path)


def test_the_colab_setup_cell_fits_the_export(exported):
    """Stage 07's Colab cell clones the student's repository to /content/course, installs it (not
    editable: the running kernel would not see an editable install) and works in the stage's folder."""
    nb = json.loads((exported.dest / "assignments/07_training/training.ipynb").read_text())
    cell = next("".join(c["source"]) for c in nb["cells"] if "google.colab" in "".join(c["source"]))
    assert "COURSE-ORG" not in cell and "YOUR-ORG" not in json.dumps(nb)
    folder = re.search(r'os\.chdir\("/content/course/([^"]+)"\)', cell).group(1)
    assert (exported.dest / folder / "training.ipynb").is_file()
    assert '"--no-deps", "/content/course"' in cell
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-build-isolation",
                           "--no-index", str(exported.dest)], capture_output=True, text=True)
    assert proc.returncode == 0 and "Would install transformer-course-student" in proc.stdout, proc.stderr


# --- the workflow, run here with its own commands ----------------------------------------------
@pytest.mark.slow
def test_the_student_workflow_grades_a_push_and_reports_to_classroom(tmp_path, fake_github):
    # two stages keep it quick: the workflow grades whatever stages the repository holds
    root = export_student_repo(tmp_path / "student-repo", stages=[S1, S2], check=False, scan=False).dest
    for kind, sid in (("mutant", S1), ("reference", S2)):
        nb = root / "assignments" / sid / registry.stage(sid).notebook
        solution = submissions.load(REPO / "solutions" / sid / nb.name)
        mutant = (REPO / "tests/mutants" / sid / "softmax_no_max_subtraction.py").read_text() if kind == "mutant" else None
        nb.write_text(json.dumps(submissions.fill(submissions.load(nb), solution, mutant), indent=1))
    wf = load(STUDENT_WORKFLOW)

    graded = run_step(step(wf, "grade", "Run the public checks on your notebooks"), cwd=root)
    assert graded.returncode == 0, graded.stdout + graded.stderr

    # the job summary: per student and stage, the points per item and the hints
    summary = graded.summary
    assert "### octo-student" in summary
    for sid in (S1, S2):
        assert f"`{sid}`" in summary
    assert "| A numerically stable softmax (`softmax`) |" in summary
    assert " ".join(text("why.softmax_unstable").split()) in " ".join(summary.split())  # reports wrap lines
    assert "hidden" not in json.dumps(json.loads((root / "build/grading/octo-student" / S1 / "results.json").read_text())
                                      ["tests"]).replace("hidden_note", "")

    # GitHub Classroom's runner result, handed to the report job as a job output
    result = classroom.decode(graded.outputs["result"])
    items = [i for sid in (S1, S2) for i in registry.items_of(sid)]
    assert len(result["tests"]) == len(items) and result["status"] == "fail"
    assert result["max_score"] == sum(i.points for i in items)
    by_name = {t["name"]: t for t in result["tests"]}
    softmax = by_name[f"{registry.stage(S1).number} · A numerically stable softmax (softmax)"]
    assert 0 < softmax["score"] < 4 and softmax["status"] == "fail"
    assert all(by_name[f"{registry.stage(S2).number} · {i.title} ({i.id})"]["status"] == "pass"
               for i in registry.items_of(S2))

    # the report job: no checkout of the student's code but classroom.py, then the points to the check run
    wf_report = wf["jobs"]["report"]
    checkout = wf_report["steps"][0]
    assert checkout["with"]["sparse-checkout"].split() == ["autograder/grading/classroom.py", "autograder/escape.py"]
    report = run_step(step(wf, "report", "Report the points"), cwd=root, env={
        "RESULT": graded.outputs["result"], "GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "course/ada-work",
        "GITHUB_RUN_ID": "42", "GITHUB_API_URL": fake_github.url})
    assert report.returncode == 0, report.stdout + report.stderr
    total, max_score = classroom.points(result)
    assert f"Points {total:g}/{max_score:g}" in report.stdout
    [patch] = [r for r in fake_github.requests if r["method"] == "PATCH"]
    assert patch["path"] == "/repos/course/ada-work/check-runs/99"
    assert patch["body"]["output"]["summary"] == f"Points {total:g}/{max_score:g}"
    assert patch["auth"] == "Bearer t0ken"

    # GitHub renders the summary as Markdown: each stage's items must come out as a table
    import mistune

    tables = mistune.create_markdown(plugins=["table"])(summary).count("<table>")
    assert tables == 2
