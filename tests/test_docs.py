"""Every command in docs/students.md, docs/instructors.md and README's instructor section is run by a test.

The commands are the fenced ``bash`` blocks of the two guides and of README's "Instructors" section
(and the ``!command`` lines of their ``python`` blocks: Colab cells). Each one is either

- **run here, as written**: the scenarios below execute the guides' own lines, in order, with two
  substitutions stated in ``SUBSTITUTE`` (a local git repository for a GitHub address, and this
  virtual environment for ``.venv``), on a copy of the checkout's course files (``assignments/``
  included, as a fresh clone has it), or
- **covered**: listed in ``COVERED`` with the test (or `make demo` step) that runs it and the
  evidence, which this test checks: a string that must appear in the file that does the running.
  Where that run differs from the guide's line (a dry run, check-only), the entry says how.

A command of the guides that is neither fails this test, and so does a ``COVERED`` entry that no
guide uses any more.
"""

from __future__ import annotations

import csv
import getpass
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import registry
from autograder.instructor.course import new_course, tree_differences

REPO = Path(__file__).resolve().parents[1]
GUIDES = (REPO / "docs/students.md", REPO / "docs/instructors.md")
README_SECTION = "## Instructors"  # README's instructor part: from this heading to the next "## "
S1 = registry.STAGES[0].id
NB = registry.stage(S1).notebook


def commands(path: Path, section: str | None = None) -> list[str]:
    """The commands of a guide's fenced bash blocks and of its Colab cells' ``!`` lines, in order.

    ``section``: only the part of the file from that heading to the next heading of its level.
    A trailing `` # comment`` is not part of the command.
    """
    doc = path.read_text(encoding="utf-8")
    if section is not None:
        level = section.split(" ")[0] + " "
        start = doc.index(section)
        rest = doc[start + len(section):]
        end = re.search(rf"^{level}", rest, re.M)
        doc = doc[start:start + len(section) + (end.start() if end else len(rest))]
    found = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", doc, re.M | re.S):
        if lang not in ("bash", "python"):
            continue
        body = body.replace("\\\n", " ")
        for line in body.splitlines():
            line = line.strip()
            if lang == "python":
                if not line.startswith("!"):
                    continue
                line = line[1:]
            line = re.sub(r"\s+#\s.*$", "", line)
            if line and not line.startswith("#"):
                found.append(" ".join(line.split()))
    return found


@dataclass(frozen=True)
class Covered:
    by: str  # the test or `make demo` step that runs it
    evidence: tuple[tuple[str, str], ...]  # (file, text that must be in it)
    note: str = ""  # how that run differs from the guide's line, if it does


COVERED: dict[str, Covered] = {
    ".venv/bin/python -m autograder export-student-repo build/student-template-es --lang es": Covered(
        "tests/test_bilingual.py::test_the_spanish_student_export",
        (("tests/test_bilingual.py", '"export-student-repo", str(dest), "--lang", "es"'),),
        "stage 01 only, into a temporary folder (the English export of every stage runs above)"),
    ".venv/bin/python -m autograder translations dump --stale solutions/01_dot_product_attention/dot_product_attention.ipynb > es.md": Covered(
        "tests/test_bilingual.py::test_translations_dump_stale_then_load_then_check",
        (("tests/test_bilingual.py", '"translations", "dump", "--stale"'),),
        "on a copy of the notebook with one English cell reworded; the output is captured, not redirected"),
    ".venv/bin/python -m autograder translations load solutions/01_dot_product_attention/dot_product_attention.ipynb es.md": Covered(
        "tests/test_bilingual.py::test_translations_dump_stale_then_load_then_check",
        (("tests/test_bilingual.py", '"translations", "load"'),), "on that copy"),
    ".venv/bin/python -m autograder translations check": Covered(
        "tests/test_bilingual.py::test_translations_dump_stale_then_load_then_check",
        (("tests/test_bilingual.py", '"translations", "check"'),)),
    "make install": Covered("every `make test` (the test target depends on the install stamp)",
                            (("Makefile", "test: $(STAMP)"), ("Makefile", 'pip install -q -e ".[dev]"'))),
    "make test": Covered(".ci/run (CI) and the CI workflow", ((".ci/run", "make test"),
                                                              (".github/workflows/ci.yml", "run: make test"))),
    "make demo": Covered("tests/test_nbgrader_pipeline.py runs run_demo's grade_class on a smaller class",
                         (("Makefile", "-m autograder demo"),
                          ("autograder/instructor/demo.py", "grades = grade_class(course, jobs=jobs, nbgrader_stages=None if full else [S1])"),
                          ("tests/test_nbgrader_pipeline.py", "grade_class(course, CLASS")),
                         "a class of 7 instead of the demo's 9; nbgrader autogrades stages 01 and 03 of its 01-03"),
    ".venv/bin/python -m autograder demo --full": Covered(
        "tests/test_nbgrader_pipeline.py (grade_class; --full is nbgrader_stages=None, every stage of the class)",
        (("autograder/__main__.py", "full=args.full"), ("autograder/instructor/demo.py", "nbgrader_stages=None if full else [S1]"),
         ("tests/test_nbgrader_pipeline.py", "nbgrader_stages=THROUGH_NBGRADER")),
        "the test's class autogrades two of its three stages with nbgrader, the hardened grader all three"),
    "make release": Covered("tests/test_release.py::test_committed_release_is_what_nbgrader_generates",
                            (("Makefile", "-m autograder release"), ("tests/test_release.py", "release(check_only=True")),
                            "the test generates the release and compares; it does not copy it over assignments/"),
    "make check-release": Covered("tests/test_release.py and CI's `make check-release` step",
                                  (("Makefile", "-m autograder release --check"),
                                   ("tests/test_release.py", "release(check_only=True"),
                                   (".github/workflows/ci.yml", "run: make check-release"))),
    ".venv/bin/python -m autograder gradescope-zip --stage 01_dot_product_attention build/gradescope-01.zip": Covered(
        "tests/test_gradescope_zip.py (the section's line, then the zip's run_autograder as Gradescope runs it)",
        (("tests/test_gradescope_zip.py", "def documented_command()"),),
        "the zip is written to a temporary folder"),
    "make gpu-check": Covered("tests/test_gpu_check.py (without CUDA: it says so and exits 2)",
                              (("Makefile", "$(BIN)/python benchmarks/gpu_check.py"),
                               ("tests/test_gpu_check.py", '"benchmarks/gpu_check.py"')),
                              "on a GPU machine it trains and grades for minutes: run by hand, figures in the notes"),
    "python -m venv .venv": Covered("every `make install` (Makefile: $(PYTHON) -m venv $(VENV))",
                                    (("Makefile", "$(PYTHON) -m venv $(VENV)"),)),
    '.venv/bin/python -m pip install -e ".[lab]" --extra-index-url https://download.pytorch.org/whl/cpu': Covered(
        "tests/test_student_repo.py::test_the_student_pyproject_installs",
        (("tests/test_student_repo.py", '"--dry-run", "--no-deps", "--no-build-isolation"'),
         (".github/student/grade.yml", "PIP_EXTRA_INDEX_URL: https://download.pytorch.org/whl/cpu")),
        "offline dry run without dependencies; the student workflow installs the same with the CPU index"),
    ".venv/bin/jupyter lab": Covered("tests/test_browser.py (JupyterLab, a notebook's check cell, formgrader)",
                                     (("tests/test_browser.py", '"-m", "jupyter", "lab"'),),
                                     "started on a free port with a token, for the browser"),
    ".venv/bin/python -m autograder grade submitted/ --out build/graded/shard-1 --shard 1/2 --no-gradebook": Covered(
        "tests/test_grade_class.py (the grade-class workflow's Grade step, once per shard)",
        ((".github/workflows/grade-class.yml", '--shard "$SHARD/$TOTAL"'),
         (".github/workflows/grade-class.yml", "--no-gradebook"), ("tests/test_grade_class.py", '"Grade"')),
        "the workflow's folders: submissions/ and graded/shard-<i>"),
    ".venv/bin/python -m autograder grade submitted/ --out build/graded/shard-2 --shard 2/2 --no-gradebook": Covered(
        "tests/test_grade_class.py (the grade-class workflow's Grade step, once per shard)",
        ((".github/workflows/grade-class.yml", '--shard "$SHARD/$TOTAL"'),), "the workflow's folders"),
    ".venv/bin/python -m autograder merge build/graded/shard-1 build/graded/shard-2 --out build/class": Covered(
        "tests/test_grade_class.py (the grade-class workflow's Merge step)",
        ((".github/workflows/grade-class.yml", "python -m autograder merge graded/shard-* --out class"),
         ("tests/test_grade_class.py", '"merge", "Merge"')), "the workflow's folders"),
    "nbgrader db student import roster.csv": Covered(
        "tests/test_lms_export.py::test_the_documented_commands_as_written (the section's lines, as written)",
        (("tests/test_lms_export.py", 'DOC_SECTION = "## Grades into Moodle or Canvas"'),)),
    ".venv/bin/python -m autograder export-grades build/class --format moodle --roster roster.csv --id-column "
    "idnumber --feedback --out build/moodle.csv": Covered(
        "tests/test_lms_export.py::test_the_documented_commands_as_written",
        (("tests/test_lms_export.py", 'DOC_SECTION = "## Grades into Moodle or Canvas"'),),
        "in a class folder and gradebook the test writes with the grader's writers"),
    ".venv/bin/python -m autograder export-grades gradebook.db --format canvas --roster roster.csv --out "
    "build/canvas.csv": Covered(
        "tests/test_lms_export.py::test_the_documented_commands_as_written",
        (("tests/test_lms_export.py", 'DOC_SECTION = "## Grades into Moodle or Canvas"'),),
        "in a class folder and gradebook the test writes with the grader's writers"),
    ".venv/bin/python -m autograder class-report build/class --out build/class/report.html --threshold 50": Covered(
        "tests/test_class_report.py::test_the_documented_command_as_written (the section's line, as written)",
        (("tests/test_class_report.py", 'DOC_SECTION = "## After grading: the class report and similar submissions"'),),
        "in a class folder the test writes with the grader's writers"),
    ".venv/bin/python -m autograder similarity submitted/ --stage 01_dot_product_attention --out "
    "build/similarity-01.html --top 20": Covered(
        "tests/test_similarity.py::test_the_documented_command_as_written (the section's line, as written)",
        (("tests/test_similarity.py", 'DOC_SECTION = "## After grading: the class report and similar submissions"'),),
        "on a small class made from the release"),
}

# Lines run below as written, but for these replacements (the guides' placeholders and GitHub).
SUBSTITUTE = {
    "https://github.com/<org>/<your-repo>.git": "{remote}",
    "https://github.com/<org>/transformer-course-template.git": "{remote}",
    "<your-repo>": "your-repo",
    ".venv/bin/python": "{python}",
    ".venv/bin/activate": "{activate}",
}

STUDENT_SCENARIO = [  # docs/students.md, in order; "#" lines are the test's own steps between them
    "git clone https://github.com/<org>/<your-repo>.git",
    "cd <your-repo>",
    "# the student fills in stage 01",
    "mkdir -p build/submission/me && cp -R assignments/01_dot_product_attention build/submission/me/",
    ".venv/bin/python -m autograder grade build/submission --out build/grading --public-only --no-gradebook",
    "cat build/grading/me/01_dot_product_attention/report.md",
    "git add assignments",
    'git commit -m "Stage 01: softmax and self-attention"',
    "git push",
]
TEMPLATE_SCENARIO = [  # docs/instructors.md: export and push the template
    ".venv/bin/python -m autograder export-student-repo build/student-template",
    "cd build/student-template",
    "git init -b main",
    "git add .",
    'git commit -m "Transformer course: student template"',
    "git remote add origin https://github.com/<org>/transformer-course-template.git",
    "git push -u origin main",
]
HUB_SCENARIO = [  # docs/instructors.md: nbgrader on JupyterHub, a stage from release to export
    "source .venv/bin/activate",
    "nbgrader generate_assignment 01_dot_product_attention --force",
    "nbgrader release_assignment 01_dot_product_attention",
    "# a student fetches, works and submits",
    "nbgrader collect 01_dot_product_attention",
    "nbgrader autograde 01_dot_product_attention",
    "nbgrader generate_feedback 01_dot_product_attention",
    "nbgrader release_feedback 01_dot_product_attention",
    "nbgrader export",
]
GRADE_SCENARIO = [".venv/bin/python -m autograder grade submitted/ --out build/graded"]
RUN_HERE = [c for c in STUDENT_SCENARIO + TEMPLATE_SCENARIO + HUB_SCENARIO + GRADE_SCENARIO if not c.startswith("#")]


def documented_commands() -> set[str]:
    return {c for guide in GUIDES for c in commands(guide)} | set(commands(REPO / "README.md", README_SECTION))


def test_every_command_of_the_guides_is_run_or_covered():
    documented = documented_commands()
    assert documented, "no commands found: the parser is broken"
    missing = sorted(documented - set(RUN_HERE) - set(COVERED))
    assert missing == [], f"commands no test runs: {missing}"
    stale = sorted((set(RUN_HERE) | set(COVERED)) - documented)
    assert stale == [], f"listed here but in no guide any more: {stale}"
    assert not set(RUN_HERE) & set(COVERED)


@pytest.mark.parametrize("command", sorted(COVERED))
def test_covered_commands_are_run_where_it_says(command):
    cover = COVERED[command]
    for file, text in cover.evidence:
        assert text in (REPO / file).read_text(encoding="utf-8"), f"{cover.by}: {file} no longer runs it ({text!r})"


def test_the_parser_finds_bash_blocks_and_colab_lines(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("x\n```bash\n# a comment\nmake a \\\n  b\n\ncd x\n```\n```text\nnot me\n```\n"
                   "```python\n!pip install y\n%cd z\nprint(1)\n```\n")
    assert commands(doc) == ["make a b", "cd x", "pip install y"]
    doc.write_text("## A\n```bash\nmake a  # why\n```\n### A.1\n```bash\nmake b\n```\n## B\n```bash\nmake c\n```\n")
    assert commands(doc, "## A") == ["make a", "make b"]
    assert commands(doc) == ["make a", "make b", "make c"]


def _script(lines: list[str], values: dict[str, str], between: dict[str, str]) -> str:
    out = ["set -euo pipefail"]
    for line in lines:
        if line.startswith("#"):
            out.append(between[line])
            continue
        for old, new in SUBSTITUTE.items():
            if old in line:
                line = line.replace(old, new.format(**values))
        out.append(line)
    return "\n".join(out) + "\n"


def _without_venv(path: str) -> str:
    """PATH without this virtual environment's bin/: what a shell has before ``source .venv/bin/activate``."""
    venv_bin = str(Path(sys.executable).parent)
    return os.pathsep.join(p for p in path.split(os.pathsep) if p and p != venv_bin)


def _run(script: str, cwd: Path, *, venv_on_path: bool = True) -> subprocess.CompletedProcess:
    path = _without_venv(os.environ.get("PATH", ""))
    if venv_on_path:
        path = os.pathsep.join([str(Path(sys.executable).parent), path])
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org", "PATH": path}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_template_and_student_commands_as_written(tmp_path):
    remote = tmp_path / "github" / "your-repo.git"  # the template, and the student's repository made from it
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    values = {"remote": remote.as_uri(), "python": sys.executable}
    instructor = tmp_path / "course-checkout"
    instructor.mkdir()

    # the instructor exports the template and pushes it
    exported = _run(_script(TEMPLATE_SCENARIO[:1], values, {}), instructor)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "Audit passed" in exported.stdout and "passes actionlint" in exported.stdout
    pushed = _run(_script(TEMPLATE_SCENARIO[1:], values, {}), instructor)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr

    # a student clones it, works, checks the report, and pushes
    nb = f"assignments/{S1}/{NB}"
    student = tmp_path / "student-laptop"
    student.mkdir()
    mine = student / "your-repo" / nb
    fill = (f"(cd {REPO} && {sys.executable} -c \"import json; from autograder.instructor import submissions as s; "
            f"nb = s.fill(s.load('{mine}'), s.load('solutions/{S1}/{NB}')); "
            f"open('{mine}', 'w').write(json.dumps(nb, indent=1))\")")
    ran = _run(_script(STUDENT_SCENARIO, values, {"# the student fills in stage 01": fill}), student)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    full = registry.max_points(S1)
    assert f"Dot-product self-attention (`{S1}`): {full:g} / {full:g} points" in ran.stdout  # `cat report.md`
    log = subprocess.run(["git", "--git-dir", str(remote), "log", "--format=%s", "main"], capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert log[:2] == ["Stage 01: softmax and self-attention", "Transformer course: student template"]
    shown = subprocess.run(["git", "--git-dir", str(remote), "show", f"main:{nb}"], capture_output=True, text=True,
                           check=True).stdout
    assert "raise NotImplementedError" not in "".join(
        "".join(c["source"]) for c in json.loads(shown)["cells"] if c.get("cell_type") == "code")


def _activate_script(tmp_path: Path) -> Path:
    """This virtual environment's ``bin/activate`` (one that puts its bin/ on PATH where it has none)."""
    activate = Path(sys.executable).parent / "activate"
    if activate.is_file():
        return activate
    made = tmp_path / "activate"
    made.write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    return made


@pytest.mark.slow
def test_the_jupyterhub_and_grading_commands_as_written(tmp_path):
    course = new_course(tmp_path / "course")  # a checkout's nbgrader_config.py and solutions/ ...
    shutil.copytree(REPO / "assignments", course / "assignments")  # ... and its committed release
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    with (course / "nbgrader_config.py").open("a") as fh:  # the hub's setting (docs: "as your hub requires")
        fh.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    home = tmp_path / "home"
    home.mkdir()
    mine = home / S1 / NB
    opts = f"--course transformers --Exchange.root={exchange}"
    student = (f"(cd {home} && nbgrader fetch_assignment {S1} {opts} "
               f"&& {sys.executable} -c \"import json; from autograder.instructor import submissions as s; "
               f"nb = s.fill(s.load('{mine}'), s.load('{course / 'solutions' / S1 / NB}')); "
               f"open('{mine}', 'w').write(json.dumps(nb, indent=1))\" "
               f"&& nbgrader submit {S1} {opts})")
    values = {"python": sys.executable, "activate": str(_activate_script(tmp_path))}
    # nbgrader is on PATH only because the guide's `source .venv/bin/activate` put it there
    ran = _run(_script(HUB_SCENARIO, values, {"# a student fetches, works and submits": student}), course,
               venv_on_path=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert tree_differences(REPO / "assignments", course / "assignments") == []  # --force rewrote the same release
    user = getpass.getuser()
    assert (course / "submitted" / user / S1 / NB).is_file()  # collected
    assert (course / "feedback" / user / S1 / NB.replace(".ipynb", ".html")).is_file()
    released = list((exchange / "transformers" / "feedback").glob("*.html"))
    assert len(released) == 1, "release_feedback put the feedback in the exchange"
    full = registry.max_points(S1)
    with (course / "grades.csv").open() as fh:  # nbgrader export's CSV
        [row] = list(csv.DictReader(fh))
    assert (row["assignment"], row["student_id"]) == (S1, user)
    assert float(row["score"]) == float(row["max_score"]) == full

    # hardened grading on the hub: the scores go to the course's gradebook, as autograde's did
    graded = _run(_script(GRADE_SCENARIO, {"python": sys.executable}, {}), course)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert f"gradebook:  sqlite:///{course / 'gradebook.db'}" in graded.stdout
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission(S1, user).score == full
    result = json.loads((course / "build/graded" / user / S1 / "results.json").read_text())
    assert result["score"] == full and any(t["visibility"] == "after_published" for t in result["tests"])
