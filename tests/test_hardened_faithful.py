"""The sandbox proxy is faithful: same engine, same graders, same scores as grading in-process.

Correct notebooks written the way students write them (computed constants, helpers, classes using
module constants) score the same hardened as in the kernel. The reference notebooks and every
mutant of tests/mutants are compared, check by check, between the sandbox and the in-process
graders in tests/test_graders_discriminate.py, where the corpus is graded in process anyway.
"""

from __future__ import annotations

import ast
import json

import pytest

import hardened_kit as hk
from kit import feedback, grade, reference_namespace
from autograder.grading import batch
from autograder import registry
from autograder.report import item_text
from autograder.runner import PUBLIC_DIR

GRADED_STAGES = [s.id for s in registry.STAGES
                 if (PUBLIC_DIR / s.grader_module).is_file() and (hk.SOLUTIONS / s.id / s.notebook).is_file()
                 and batch.sandbox_ready(s.id)]


def test_stage_07_is_graded_in_the_sandbox():
    assert "07_training" in GRADED_STAGES


# --- one notebook, one score: computed module-level constants (issue 11, item 8) ----------------
VARIANTS = hk.REPO / "tests" / "variants"
S1 = "01_dot_product_attention"
CORPUS = sorted((VARIANTS / S1).glob("*.py"))

RAISES = '''import numpy as np

RATIO = 1 / 0  # a mistake in a constant that only an ungraded helper reads


def ratio():
    return RATIO
'''
LOOPS = '''def _forever():
    n = 0
    while True:
        n += 1


FOREVER = _forever()  # never finishes


def forever():
    return FOREVER
'''

WRONG_SOFTMAX = '''import numpy as np


def softmax(x, axis=-1):  # wrong: always over the first axis
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''
HOSTILE = WRONG_SOFTMAX + '''import torch

_PATCHED = (setattr(np.testing, "assert_allclose", lambda *a, **k: None),
            setattr(np, "allclose", lambda *a, **k: True),
            setattr(torch.cuda, "is_available", lambda: True))
HUGE = np.ones(10 ** 10)  # 80 GB


def helper():
    return _PATCHED, HUGE
'''
EXITS = '''import os

GONE = os._exit(0)


def helper():
    return GONE
'''
COURSE_IN_IF = '''import numpy as np

if True:
    import autograder.graders.oracles as o


def softmax(x, axis=-1):
    return o.softmax(x, axis)
'''


def _with_cells(stage_id: str, source: str) -> dict:
    """The reference notebook with ``source`` appended, one code cell per ``# %%`` part."""
    nb = json.loads((hk.SOLUTIONS / stage_id / registry.stage(stage_id).notebook).read_text())
    for part in source.split("# %%\n"):
        nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                            "source": part})
    return nb


def _kernel_namespace(nb: dict) -> dict:
    """Every code cell but the check cells, run in order in one namespace, as a kernel runs the
    notebook top to bottom (a cell that raises stops there; the next cell runs, as under nbgrader)."""
    import matplotlib

    matplotlib.use("Agg")
    from autograder import notebook as nbmod

    namespace: dict = {"__name__": "__student__"}
    for n, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or nbmod.is_check_cell(cell):
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
        try:
            nbmod._exec_readable(code, f"kernel-cell-{n}", namespace)
        except Exception:  # noqa: BLE001 - as in a kernel: this cell stops, the notebook goes on
            pass
    import matplotlib.pyplot as plt

    plt.close("all")
    return namespace


@pytest.fixture(scope="module")
def corpus_graded(tmp_path_factory):
    """The corpus of correct variants (and the raising and looping notebooks) graded hardened."""
    root, out = tmp_path_factory.mktemp("corpus"), tmp_path_factory.mktemp("corpus_out")
    for path in CORPUS:
        hk.write(root, f"variant_{path.stem}", S1, _with_cells(S1, path.read_text()))
    hk.write(root, "raises", S1, _with_cells(S1, RAISES))
    hk.write(root, "loops", S1, _with_cells(S1, LOOPS))
    hk.write(root, "wrong", S1, _with_cells(S1, WRONG_SOFTMAX))
    hk.write(root, "hostile", S1, _with_cells(S1, HOSTILE))
    hk.write(root, "exits", S1, _with_cells(S1, EXITS))
    hk.write(root, "course_in_if", S1, _with_cells(S1, COURSE_IN_IF))
    report = batch.run([root], out, jobs=2, gradebook=None, progress=False, log=lambda s: None)
    assert not report.failed, [f"{o.key}: {o.error}" for o in report.failed]
    return out


def test_the_plan_runs_what_definitions_need_and_skips_work():
    """Computed constants that a function, a class or another needed constant reads run; work
    (results of calls nobody reads, plots, prints, loops, monkeypatching) does not."""
    from autograder import notebook as nbmod

    cells = [
        "import numpy as np\nTINY = 10.0 ** -300\nNEG_INF = float('-inf')\nWORDS = 'a b'.split()\n"
        "VOCAB = {w: i for i, w in enumerate(WORDS)}\nfig, ax = plt.subplots()\ny = softmax(np.ones(3))\n"
        "print(VOCAB)\nnp.testing.assert_allclose = lambda *a, **k: None\nmask[0] = False\n"
        "for i in range(3):\n    TINY = i\n",
        "def softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis, keepdims=True))\n    return e / (e.sum(axis, keepdims=True) + TINY)\n"
        "def encode(s, x=None):\n    return [VOCAB[w] for w in s.split()]\n"
        "history = train(softmax)\nsquare = lambda x: x * x\n",
    ]
    trees = [nbmod.parse_cell(c) for c in cells]
    kinds = nbmod.plan(trees)
    kept = {ast.unparse(n).split(" =")[0] for t, k in zip(trees, kinds) for n, kind in zip(t.body, k)
            if kind == nbmod.COMPUTED}
    assert kept == {"TINY", "WORDS", "VOCAB", "square"}  # NEG_INF, y, fig, history: nobody reads them
    skipped = [ast.unparse(n) for t, k in zip(trees, kinds) for n, kind in zip(t.body, k) if kind is None]
    assert any(s.startswith("np.testing.assert_allclose") for s in skipped)
    assert any(s.startswith("for i") for s in skipped) and any(s.startswith("print") for s in skipped)
    # the old rule (literals only) would have dropped TINY: softmax would raise NameError hardened
    assert not nbmod._is_constant_assignment(trees[0].body[1])


def test_the_plan_leaves_constants_built_on_earlier_stages_to_the_graders():
    """``carry_forward`` names exist per call in grading (trusted blocks), not at load time: a needed
    constant built from one, directly or through a class, is not run; one built otherwise is."""
    from autograder import notebook as nbmod

    source = ("MHA = carry_forward('04_multi_head_attention', 'MultiHeadAttention')\n"
              "class Model:\n    def __init__(self):\n        self.attn = MHA(8, 2)\n"
              "tiny = Model()\nwide = MHA(16, 4)\nD_K = 8 // 2\n"
              "def influence():\n    return tiny, wide, D_K\n")
    tree = nbmod.parse_cell(source)
    kinds = dict(zip((ast.unparse(n).split(" =")[0] for n in tree.body), nbmod.plan([tree])[0]))
    assert kinds["tiny"] is None and kinds["wide"] is None and kinds["MHA"] is None
    assert kinds["D_K"] == nbmod.COMPUTED


def test_computed_constants_keep_their_lines_for_the_worker_and_the_policy():
    """The worker gets computed constants on the student's own lines and knows which they are; the
    trusted process's static policy sees them too, so a forbidden call hidden in a constant that
    a graded function reads is judged as one in the function."""
    from autograder import notebook as nbmod, policy

    source = ("import torch.nn.functional as F\n\nATTEND = F.scaled_dot_product_attention\n"
              "def attention(q, k, v):\n    return ATTEND(q, k, v)\n")
    tree = nbmod.parse_cell(source)
    kept, computed = nbmod.kept_source(source, tree, nbmod.plan([tree])[0])
    assert computed == [3] and kept.splitlines()[2] == "ATTEND = F.scaled_dot_product_attention"
    found = policy.violations(kept, "attention", ("torch.nn.functional.scaled_dot_product_attention",))
    assert [v.line for v in found] == [3]
    clean = kept.replace("F.scaled_dot_product_attention", "F.softmax")
    assert not policy.violations(clean, "attention", ("torch.nn.functional.scaled_dot_product_attention",))


@pytest.mark.slow
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_a_correct_notebook_scores_the_same_in_the_kernel_and_hardened(corpus_graded, path):
    nb = _with_cells(S1, path.read_text())
    kernel = grade(_kernel_namespace(nb), S1)
    result = hk.result(corpus_graded, f"variant_{path.stem}", S1)
    for r in result.items:
        here = kernel[r.item.id]
        assert here.score == here.item.points, feedback(here)  # a correct variant: full marks in the kernel
        assert r.score == here.score, item_text(r)  # and the same hardened
        assert [(g.name, g.status) for g in r.graders] == [(g.name, g.status) for g in here.graders]
    assert not [n for n in result.notes if "module-level statement" in n.lower()], result.notes


@pytest.mark.slow
def test_a_constant_that_raises_is_noted_and_the_rest_is_graded(corpus_graded):
    result = hk.result(corpus_graded, "raises", S1)
    assert all(r.score == r.max_points for r in result.items), [item_text(r) for r in result.items]
    notes = [n for n in result.notes if "RATIO = 1 / 0" in n]
    assert len(notes) == 1 and "ZeroDivisionError" in notes[0] and "line 3" in notes[0], result.notes


@pytest.mark.slow
def test_a_constant_that_never_finishes_is_stopped_noted_and_the_rest_is_graded(corpus_graded):
    from autograder.sandbox import protocol

    result = hk.result(corpus_graded, "loops", S1)
    assert all(r.score == r.max_points for r in result.items), [item_text(r) for r in result.items]
    notes = [n for n in result.notes if "FOREVER = _forever()" in n]
    assert len(notes) == 1 and f"{protocol.CONSTANT_SECONDS:g} s" in notes[0], result.notes


@pytest.mark.slow
def test_a_constant_that_patches_libraries_changes_nothing_the_grader_sees(corpus_graded):
    """Patching numpy's comparisons and torch.cuda through a constant's value, and a constant too big
    for the worker's memory: the wrong softmax scores exactly what it scores without them."""
    plain = {r.item.id: r for r in hk.result(corpus_graded, "wrong", S1).items}
    hostile = hk.result(corpus_graded, "hostile", S1)
    assert plain["softmax"].score < plain["softmax"].max_points
    for r in hostile.items:
        assert r.score == plain[r.item.id].score, item_text(r)
        assert [(g.name, g.status) for g in r.graders] == [(g.name, g.status) for g in plain[r.item.id].graders]
    huge = [n for n in hostile.notes if "HUGE = np.ones(10 ** 10)" in n]
    assert len(huge) == 1 and "MemoryError" in huge[0], hostile.notes


@pytest.mark.slow
def test_a_constant_that_exits_costs_only_its_own_submission(corpus_graded):
    """``os._exit`` in a needed constant kills that submission's worker while its notebook loads (as it
    kills a kernel): that submission scores 0 with a reason; the others in the batch are graded."""
    exits = hk.result(corpus_graded, "exits", S1)
    assert exits.score == 0 and all(r.score == 0 for r in exits.items)
    raises = hk.result(corpus_graded, "raises", S1)
    assert raises.score == raises.max_score


# --- top-level if/try blocks that only bind names are computed constants (issue 11, item 8) -----
def _block_kinds(source: str) -> list[tuple[str, str | None]]:
    """Each top-level statement's first line and its kind in the plan, in order."""
    from autograder import notebook as nbmod

    tree = nbmod.parse_cell(source)
    return [(ast.unparse(n).splitlines()[0], k) for n, k in zip(tree.body, nbmod.plan([tree])[0])]


def test_the_plan_runs_if_and_try_blocks_that_bind_what_a_definition_needs():
    """An if/else choosing DEVICE and a try/except import with a fallback run when a function reads
    a name they bind (in any branch); one that nobody reads, one that does work anywhere in it, and
    ``if __name__ == "__main__":`` do not."""
    kinds = _block_kinds(
        "import torch\nSCALE = 2 ** 0.5\n"
        "if torch.cuda.is_available():\n    DEVICE = torch.device('cuda')\nelse:\n    DEVICE = torch.device('cpu')\n"
        "try:\n    from scipy.special import softmax as _sp\nexcept ImportError:\n    _sp = None\n"
        "try:\n    UNUSED = 1\nexcept Exception:\n    UNUSED = 2\n"
        "if SCALE > 1:\n    try:\n        import math as m\n    except ImportError:\n        pass\n"
        "else:\n    m = None\n"
        "if torch.cuda.is_available():\n    print('on a GPU')\n    GPU = True\n"
        "try:\n    WORK = 1\nfinally:\n    torch.manual_seed(0)\n"
        "if True:\n    for i in range(3):\n        LOOPED = i\n"
        "if True:\n    torch.backends.cudnn.benchmark = True\n    PATCHED = 1\n"
        "if __name__ == '__main__':\n    MAIN = 1\n"
        "def f(x):\n    return DEVICE, _sp, m, GPU, WORK, LOOPED, PATCHED, MAIN\n")
    assert [k for _, k in kinds] == [
        "definition", "computed",  # import torch, SCALE (read by the ``if SCALE > 1`` block)
        "computed", "computed",  # DEVICE's if/else, the scipy try/except
        None,  # UNUSED: nobody reads it
        "computed",  # m, bound in a nested try
        None, None, None, None,  # a print, a call in ``finally``, a loop, an attribute assignment
        None,  # ``if __name__ == "__main__":``
        "definition"], kinds


def test_the_plan_names_every_branch_and_skips_unread_blocks():
    from autograder import notebook as nbmod

    tree = nbmod.parse_cell("try:\n    from scipy.special import softmax as _sp\nexcept ImportError:\n"
                            "    _sp = None\nelse:\n    HAVE = True\nfinally:\n    DONE = (k := 1)\n")
    assert nbmod.bound_names(tree.body[0]) == {"_sp", "HAVE", "DONE", "k"}
    for reader in ("HAVE", "DONE", "k", "_sp"):  # a name from any branch, a walrus included, runs it
        tree = nbmod.parse_cell(ast.unparse(tree.body[0]) + f"\ndef f():\n    return {reader}\n")
        assert nbmod.plan([tree])[0][0] == nbmod.COMPUTED, reader
    tree = nbmod.parse_cell(ast.unparse(tree.body[0]) + "\ndef f():\n    return 1\n")
    assert nbmod.plan([tree])[0][0] is None  # nobody reads it: skipped, as ``y = attention(x)`` is


def test_the_plan_runs_a_block_that_defines_a_function_and_what_it_reads():
    """A block that defines a function runs like a def (no reader needed), and a constant its
    function reads runs too; one built on a carry_forward name never runs at load time."""
    kinds = _block_kinds(
        "import numpy as np\nAXES = tuple(range(-1, 0))\nLOOKED_AT = np.ones(3)\n"
        "if hasattr(np, 'matmul'):\n    def scores(x):\n        return np.matmul(x, x.T) + AXES[0]\n"
        "else:\n    scores = lambda x: np.einsum('id,jd->ij', x, x)\n"
        "if True:\n    MHA = carry_forward('04_multi_head_attention', 'MultiHeadAttention')\n"
        "def g():\n    return MHA\n")
    # numpy, AXES, LOOKED_AT (nobody reads it), the block with a def, MHA's block (carried), g
    assert [k for _, k in kinds] == ["definition", "computed", None, "computed", None, "definition"], kinds


def test_a_binding_block_runs_alone_under_the_constant_budget_with_its_notes(tmp_path):
    """In process (``load_namespace``) as in the worker: a block runs as one computed constant, one
    that raises is left out (its names undefined) and the rest of the cell goes on."""
    from autograder import notebook as nbmod
    from autograder.sandbox import proxy

    source = ("import math\nif math.pi > 3:\n    HALF = 1 / 2\nelse:\n    HALF = 0.5\n"
              "if math.pi > 3:\n    BROKEN = 1 / 0\n"
              "def f():\n    return HALF, BROKEN\n")
    tree = nbmod.parse_cell(source)
    kept, computed = nbmod.kept_source(source, tree, nbmod.plan([tree])[0])
    assert computed == [2, 6]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": source}]}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    namespace = nbmod.load_namespace(tmp_path / "nb.ipynb")
    assert namespace["HALF"] == 0.5 and "BROKEN" not in namespace and callable(namespace["f"])
    notes = proxy.constant_notes([{"where": "cell 1, line 6", "error": "ZeroDivisionError: division by zero"}],
                                 [{"label": "cell 1", "source": kept}])
    assert len(notes) == 1 and "if math.pi > 3:" in notes[0] and "ZeroDivisionError" in notes[0]


def test_an_import_inside_a_block_is_judged_as_one_at_module_level():
    """The static policy sees what an if/try binds as module-level bindings: the course's code or a
    forbidden built-in imported inside one is found as it is at the top; numpy is fair there too."""
    from autograder import policy

    at_top = COURSE_IN_IF.replace("if True:\n    import", "import")
    assert [v.kind for v in policy.violations(COURSE_IN_IF, "softmax")] == \
        [v.kind for v in policy.violations(at_top, "softmax")] == ["course"] * 3
    assert policy.violations(COURSE_IN_IF.replace("autograder.graders.oracles", "numpy"), "softmax") == []
    sdpa = ("import torch.nn.functional as F\ntry:\n    from torch.nn.functional import scaled_dot_product_attention as att\n"
            "except ImportError:\n    att = None\ndef attention(q, k, v):\n    return att(q, k, v)\n")
    forbidden = ("torch.nn.functional.scaled_dot_product_attention",)
    assert {v.kind for v in policy.violations(sdpa, "attention", forbidden)} == {"forbidden"}
    assert policy.violations(sdpa.replace("scaled_dot_product_attention as att", "softmax as att"),
                             "attention", forbidden) == []


@pytest.mark.slow
def test_the_courses_code_imported_inside_an_if_loses_the_item_in_both_paths(corpus_graded):
    kernel = grade(_kernel_namespace(_with_cells(S1, COURSE_IN_IF)), S1)
    hardened = {r.item.id: r for r in hk.result(corpus_graded, "course_in_if", S1).items}
    for path, result in (("kernel", kernel["softmax"]), ("hardened", hardened["softmax"])):
        assert result.score == 0 and any(g.forbidden for g in result.graders), (path, feedback(result))
    assert {i: r.score for i, r in kernel.items()} == {i: r.score for i, r in hardened.items()}


def test_the_plan_runs_what_fills_the_notebooks_own_constants_never_a_change_to_an_import():
    from autograder import notebook as nbmod

    source = ("import numpy as np\nCFG = {}\nCFG['axis'] = -1\nAXES = []\nAXES.append(-1)\nR = {}\n"
              "for n in ('max',):\n    R[n] = np.max\nnp.testing.assert_allclose = None\nprint(CFG)\n"
              "UNUSED = {}\nUNUSED['x'] = 1\n"
              "def f(x):\n    return R['max'](x, axis=CFG['axis']) + AXES[0]\n")
    tree = nbmod.parse_cell(source)
    kinds = nbmod.plan([tree])[0]
    by_line = {node.lineno: kind for node, kind in zip(tree.body, kinds)}
    assert by_line[3] == by_line[5] == by_line[7] == nbmod.COMPUTED  # CFG[...] =, AXES.append, the loop
    assert by_line[9] is None and by_line[10] is None  # a change to an import, a print
    assert by_line[12] is None  # fills a constant nothing reads
