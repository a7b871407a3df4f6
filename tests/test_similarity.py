"""`python -m autograder similarity`: a copy ranks first, independent work and the skeleton do not.

A class of stage 01 made from the release (``autograder.instructor.submissions``), parsed, never run:

- ada: the reference solution;
- bea: ada's code with every variable renamed, other whitespace, comments and a docstring;
- carl: an independent correct solution (einsum, methods instead of functions);
- dan and dora: the untouched skeleton, both;
- HOSTILE: a notebook cut in half (and a name that is HTML).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder import registry
from autograder.instructor import similarity, submissions
from autograder.__main__ import main as cli
from autograder.catalogue import text
from autograder.escape import html as escape_html
from autograder.notebook import NotebookError, read_cells
from test_docs import commands

S1 = registry.STAGES[0].id
NB = registry.stage(S1).notebook
REPO = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"
DOC_SECTION = "## After grading: the class report and similar submissions"

RENAMED_COPY = '''
import numpy as np


def softmax(arr, axis=-1):
    """Softmax, stable."""
    # subtract the max so that exp never overflows
    moved   =   arr - np.max(arr, axis=axis, keepdims=True)
    ex = np.exp(moved)
    return ex / np.sum(ex, axis=axis,
                       keepdims=True)


def dot_product_attention(inp):
    s = inp @ np.swapaxes(inp, -1, -2)   # the scores
    att = softmax(s, axis=-1)
    out = att @ inp
    return out, att
'''

INDEPENDENT = '''
import numpy as np


def softmax(x, axis=-1):
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def dot_product_attention(x):
    weights = softmax(np.einsum("...id,...jd->...ij", x, x))
    return np.einsum("...ij,...jd->...id", weights, x), weights
'''


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submitted")
    release = submissions.load(REPO / "assignments" / S1 / NB)
    solution = submissions.load(REPO / "solutions" / S1 / NB)
    submissions.save(submissions.fill(release, solution), root / "ada" / S1 / NB)
    submissions.save(submissions.fill(release, solution, RENAMED_COPY), root / "bea" / S1 / NB)
    submissions.save(submissions.fill(release, solution, INDEPENDENT), root / "carl" / S1 / NB)
    submissions.save(release, root / "dan" / S1 / NB)
    submissions.save(release, root / "dora" / S1 / NB)
    (root / HOSTILE / S1).mkdir(parents=True)
    (root / HOSTILE / S1 / NB).write_text(submissions.broken_json(solution), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def comparison(class_dir) -> similarity.Comparison:
    return similarity.run([class_dir], S1)


def _score(cmp: similarity.Comparison, a: str, b: str) -> float:
    a, b = sorted((a, b))
    return next((p.score for p in cmp.pairs if (p.a, p.b) == (a, b)), 0.0)


def test_the_renamed_copy_ranks_first(comparison):
    top = comparison.pairs[0]
    assert (top.a, top.b) == ("ada", "bea")
    assert top.share_a > 0.9 and top.share_b > 0.9  # renaming, layout and comments changed nothing


def test_independent_solutions_rank_low(comparison):
    copy = _score(comparison, "ada", "bea")
    for other in ("ada", "bea"):
        assert _score(comparison, other, "carl") < copy / 3


def test_the_skeleton_alone_is_not_similarity(comparison):
    # dan and dora handed in the same notebook, the release: all of it is skeleton
    assert _score(comparison, "dan", "dora") == 0.0
    assert comparison.code["dan"] == "" and comparison.code["dora"] == ""
    for student in ("ada", "bea", "carl"):
        assert _score(comparison, "dan", student) == 0.0


def test_a_broken_notebook_is_listed_as_unreadable(comparison, class_dir):
    assert set(comparison.unreadable) == {HOSTILE}
    with pytest.raises(NotebookError) as reading:  # the reason is the notebook reader's own sentence
        read_cells(class_dir / HOSTILE / S1 / NB)
    assert comparison.unreadable[HOSTILE] == str(reading.value)
    assert set(comparison.code) == {"ada", "bea", "carl", "dan", "dora"}


def test_normalisation_drops_docstrings_comments_layout_and_imports():
    a = similarity.normalised('import numpy as np\ndef f(x):\n    """doc"""\n    return  x+1  # one\n')
    b = similarity.normalised("def f(x):\n    return x + 1\n")
    assert a == b == "def f(x):\n    return x + 1"
    skeleton = similarity.statements("def g():\n    return 2\n")
    assert similarity.normalised("def g():\n    return 2\ndef f():\n    return 3\n", skeleton) == "def f():\n    return 3"


class _Pairs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[dict[str, str]] = []
        self.unreadable: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if a.get("class") == "pair":
            self.pairs.append({k[5:]: v or "" for k, v in a.items() if k.startswith("data-")})
        if a.get("class") == "unreadable":
            self.unreadable.append(a.get("data-student") or "")


def test_the_report(class_dir, tmp_path, capsys):
    out = tmp_path / "similarity.html"
    assert cli(["similarity", str(class_dir), "--stage", S1, "--out", str(out), "--top", "1"]) == 0
    assert "most similar: ada & bea" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    parsed = _Pairs()
    parsed.feed(page)
    assert [(p["rank"], p["a"], p["b"]) for p in parsed.pairs] == [("1", "ada", "bea")]  # --top 1
    assert parsed.unreadable == [HOSTILE]  # the parser unescapes: the page holds it escaped
    assert escape_html(text("similarity.notice")) in page  # a list to review, never a penalty
    assert 'class="diff"' in page and "moved" in page  # the side-by-side view of the pair
    assert HOSTILE not in page and escape_html(HOSTILE) in page


def test_a_class_with_nothing_to_compare(tmp_path, capsys):
    assert cli(["similarity", str(tmp_path), "--stage", S1, "--out", str(tmp_path / "s.html")]) == 2
    (tmp_path / "ada" / S1).mkdir(parents=True)  # a `grade --out` folder: reports, no notebook
    (tmp_path / "ada" / S1 / "results.json").write_text("{}", encoding="utf-8")
    assert similarity.run([tmp_path], S1).unreadable == {}
    assert cli(["similarity", str(tmp_path), "--stage", S1, "--out", str(tmp_path / "s.html")]) == 2
    assert cli(["similarity", str(tmp_path), "--stage", "99_nope", "--out", str(tmp_path / "s.html")]) == 2


def test_the_documented_command_as_written(class_dir, tmp_path):
    """docs/instructors.md's line, in a course folder whose submitted/ holds the class above."""
    lines = [c for c in commands(REPO / "docs/instructors.md", DOC_SECTION) if " similarity " in c]
    assert len(lines) == 1
    shutil.copytree(class_dir, tmp_path / "submitted")
    ran = subprocess.run(lines[0].replace(".venv/bin/python", sys.executable).split(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    parsed = _Pairs()
    parsed.feed((tmp_path / "build/similarity-01.html").read_text(encoding="utf-8"))
    assert (parsed.pairs[0]["a"], parsed.pairs[0]["b"]) == ("ada", "bea")
