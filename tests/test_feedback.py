"""Feedback that never blames correct code, and an infinite loop that costs one time-out (issue 11, 7 and 9).

- A hint is a guess at the cause: it shows only where the evidence supports it (the evidence rule,
  ``expect.fail``), and once a check named a likely cause the item's other hints are dropped and
  the cause is shown once (``results.one_likely_cause``).
- A definition graded from an earlier cell, because the latest one did not run, is said to be so.
- The renamed-function suggestion is one function (``student.renamed_candidate``), the kernel's and
  the sandbox worker's, and never proposes a definition the release notebook provides.
- The first time-out ends the item, also when a grader caught it.
"""

from __future__ import annotations

import ast
import json
import linecache
import time

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from kit import ASSIGNMENTS, SOLUTIONS, grade, notebook, reference_namespace
from autograder import check, registry
from autograder.instructor import submissions
from autograder.catalogue import text
from autograder.expect import expect_array, hinted
from autograder.failures import GraderFailure, MissingDefinition
from autograder.notebook import is_check_cell, load_namespace
from autograder.report import item_text
from autograder.runner import run_items
from autograder.student import RELEASE_DEFINITIONS, LocalStudent, renamed_candidate, stale_definition

S1, S2, S4, S5 = "01_dot_product_attention", "02_qkv_projections", "04_multi_head_attention", "05_positional_encoding"
MUTANTS = ASSIGNMENTS.parent / "tests" / "mutants"


def _failure(got, **kwargs) -> GraderFailure:
    expected = np.array([0.25, 0.75])
    with pytest.raises(GraderFailure) as info:
        expect_array(np.asarray(got, dtype=float), expected, "w", **kwargs)
    return info.value


# --- the evidence rule, on expect_array ----------------------------------------------------------
def test_a_hint_tied_to_a_diagnosis_shows_only_when_that_diagnosis_matched():
    tied = {"hint.keepdims": lambda: np.array([0.5, 0.5])}
    matched = _failure([0.5, 0.5], hint="hint.last_axis", diagnoses=tied)
    assert matched.hint == text("hint.keepdims") and matched.misconception is None
    other = _failure([0.9, 0.1], hint="hint.last_axis", diagnoses=tied)
    assert other.hint is None and other.misconception is None


def test_a_generic_hint_is_ruled_out_when_the_known_mistakes_were_computed_and_none_is_the_output():
    diagnoses = {"why.softmax_axis": lambda: np.array([0.5, 0.5])}
    ruled_out = _failure([0.9, 0.1], hint="hint.last_axis", diagnoses=diagnoses)
    assert ruled_out.hint is None and ruled_out.misconception is None
    with pytest.raises(GraderFailure) as info, hinted("hint.swapaxes"):  # nor does an enclosing hinted add one
        expect_array(np.array([0.9, 0.1]), np.array([0.25, 0.75]), "w", diagnoses=diagnoses)
    assert info.value.hint is None
    named = _failure([0.5, 0.5], hint="hint.last_axis", diagnoses=diagnoses)
    assert named.misconception == text("why.softmax_axis") and named.hint is None
    undiagnosed = _failure([0.9, 0.1], hint="hint.last_axis")  # nothing contradicts the hint
    assert undiagnosed.hint == text("hint.last_axis")


# --- the evidence rule, on whole items (real graders, realistic wrong code) ------------------------
def _mutant(stage: str, stem: str) -> dict:
    return grade(reference_namespace(stage, (MUTANTS / stage / f"{stem}.py").read_text()), stage)


def test_a_softmax_over_the_wrong_axis_names_the_axis_once_and_is_not_told_to_use_keepdims():
    r = _mutant(S1, "softmax_wrong_axis")["softmax"]  # the code uses keepdims=True and subtracts the max
    report = item_text(r)
    assert report.count(text("report.likely")) == 1 and text("why.softmax_axis") in " ".join(report.split())
    assert text("report.hint") not in report, report
    assert r.score < r.max_points


def test_a_reshape_bug_in_mha_is_not_told_to_use_the_dropout_module_it_uses():
    r = _mutant(S4, "mha_inline_split_without_transpose")["multi_head_attention"]
    report = " ".join(item_text(r).split())
    assert text("hint.dropout_module") not in report, report
    assert report.count(text("report.likely")) == 1 and text("why.split_no_transpose") in report


def test_code_whose_dropout_is_wrong_still_gets_the_dropout_hint():
    r = _mutant(S4, "mha_dropout_rate_fixed")["multi_head_attention"]  # correct attention, dropout rate ignored
    assert text("hint.dropout_module") in " ".join(item_text(r).split()), item_text(r)


# --- a definition that is not the one on screen ----------------------------------------------------
def _cell(ns: dict, source: str, n: int) -> None:
    """What IPython does with a cell: its text in ``_ih`` and in linecache, then run (if it compiles)."""
    filename = f"<ipython-input-{n}>"
    ns.setdefault("_ih", [""]).append(source)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError:
        return
    exec(code, ns)


def test_a_definition_from_an_earlier_cell_is_said_to_be_stale():
    ns: dict = {"__name__": "__main__"}
    _cell(ns, "def softmax(x, axis=-1):\n    return x\n", 1)
    assert not stale_definition("softmax", ns["softmax"], ns)
    _cell(ns, "def softmax(x, axis=-1)\n    return x * 2\n", 2)  # a SyntaxError: nothing of it ran
    assert stale_definition("softmax", ns["softmax"], ns)
    _cell(ns, "def softmax(x, axis=-1):\n    return x * 2\n", 3)  # fixed and run: the one on screen
    assert not stale_definition("softmax", ns["softmax"], ns)
    _cell(ns, "def softmax_demo():\n    pass\nclass Other:\n    def softmax(self):\n        pass\n", 4)
    assert not stale_definition("softmax", ns["softmax"], ns)  # another name, or not at top level


def test_the_stale_note_reaches_the_check_cell_in_a_real_kernel(tmp_path):
    good = "import numpy as np\ndef softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)\n"
    cells = [good, "def softmax(x, axis=-1)\n    return x\n", "from autograder import check\ncheck('softmax')",
             good.replace("import numpy as np", "import numpy as np  # fixed"), "check('softmax')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    stale, fresh = ("".join(o.get("text", "") for o in nb.cells[i].outputs) for i in (2, 4))
    note = " ".join(text("report.stale_definition", name="softmax").split())
    assert note in " ".join(stale.split()), stale
    assert note not in " ".join(fresh.split()) and "4 / 4 points" in fresh, fresh


# --- the renamed-function suggestion ---------------------------------------------------------------
def test_release_definitions_are_what_the_release_notebooks_define():
    defined = set()
    for stage in registry.STAGES:
        for cell in submissions.load(notebook(ASSIGNMENTS, stage.id))["cells"]:
            if cell["cell_type"] == "code" and not is_check_cell(cell):
                src = "".join(cell["source"])
                src = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
                defined |= {n.name for n in ast.parse(src).body
                            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    assert RELEASE_DEFINITIONS == defined


def test_a_renamed_function_is_found_and_a_release_helper_never_proposed():
    ns: dict = {"__name__": "__main__"}
    exec("def show_attention(w, rows, cols, title):\n    pass\ndef self_attn(x, w_q, w_k, w_v):\n    return x\n"
         "import math\nfrom math import sqrt as self_sqrt\nself_attentio = 3\n", ns)
    assert renamed_candidate("self_attention", ns) == "self_attn"
    del ns["self_attn"]
    assert renamed_candidate("self_attention", ns) is None  # not the helper, an import or a variable
    with pytest.raises(MissingDefinition) as info:
        LocalStudent(ns).function("self_attention")
    assert "rename" not in str(info.value)


def test_the_kernel_and_hardened_grading_suggest_the_same_name(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    release, solution = (submissions.load(notebook(root, S2)) for root in (ASSIGNMENTS, SOLUTIONS))
    nb = submissions.rename_function(submissions.fill(release, solution), "self_attention", "self_attn")
    path = tmp_path / S2 / "renamed.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(nb))
    hardened = load_namespace(path)  # definitions only, as the worker runs them ("__student__")
    kernel: dict = {"__name__": "__main__"}  # every cell but the checks, as a kernel runs them
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not is_check_cell(cell):
            try:
                exec("".join(cell["source"]), kernel)
            except Exception:  # noqa: BLE001 - a demo cell that needs the renamed function, as in a kernel
                pass
    assert callable(kernel["show_attention"]) and callable(hardened["show_attention"])
    capsys.readouterr()
    for ns in (hardened, kernel):
        with pytest.raises(MissingDefinition) as info:
            LocalStudent(ns).function("self_attention")
        assert str(info.value) == text("fail.missing_renamed", name="self_attention", candidate="self_attn")


# --- the per-item time budget ----------------------------------------------------------------------
LOOPING_SOFTMAX = "def softmax(x, axis=-1):\n    while True:\n        pass\n"


def test_an_infinite_loop_in_softmax_costs_the_check_cell_one_time_out_and_nothing_else(capsys):
    limit = 1.0
    ns = reference_namespace(S1, LOOPING_SOFTMAX)
    start = time.monotonic()
    [r] = run_items(LocalStudent(ns, time_limit=limit), ["softmax"], hidden=True)
    elapsed = time.monotonic() - start
    graders = len(r.graders)
    assert graders >= 8 and r.score == 0
    assert elapsed < 3 * limit, f"{elapsed:.1f} s for {graders} checks: one time-out each?"
    assert text("report.item_out_of_time", n=graders - 1) in r.notes
    # The check cell, as the kernel runs it, and the next item, which runs on a trusted softmax.
    start = time.monotonic()
    assert float(check("softmax", namespace=ns, time_limit=limit, hidden=True)) == 0
    assert time.monotonic() - start < 3 * limit
    assert float(check("dot_product_attention", namespace=ns, time_limit=limit, hidden=True)) == 6
    correct = reference_namespace(S1)
    assert float(check("softmax", namespace=correct, time_limit=limit, hidden=True)) == 4
    capsys.readouterr()


def test_a_time_out_a_grader_catches_still_ends_the_item():
    # pe.odd_d_model probes an even size when the odd one raises, inside `except Exception`: that
    # probe's time-out is swallowed by the grader, and still the item's time has run out.
    source = ("_pe = sinusoidal_positional_encoding\n"
              "def sinusoidal_positional_encoding(max_len, d_model):\n"
              "    if d_model % 2:\n        raise ValueError('d_model must be even')\n"
              "    while d_model == 8:\n        pass\n"
              "    return _pe(max_len, d_model)\n")
    [r] = run_items(LocalStudent(reference_namespace(S5, source), time_limit=0.5), ["sinusoidal_positional_encoding"])
    names = [g.name for g in r.graders]
    cut = names.index("test_pe_odd_d_model")
    assert cut < len(names) - 1 and all(not g.passed for g in r.graders[cut:])
    assert text("report.item_out_of_time", n=len(names) - cut - 1) in r.notes
    [ok] = run_items(LocalStudent(reference_namespace(S5), time_limit=0.5), ["sinusoidal_positional_encoding"])
    assert ok.score == ok.max_points and not ok.notes


@pytest.mark.slow
def test_a_time_out_a_grader_catches_still_ends_the_item_in_hardened_grading(tmp_path):
    """The same probe in the sandbox: the proxy counts the time-out on the trusted side."""
    import hardened_kit as hk
    from autograder.grading import batch
    from autograder import policy
    from autograder.sandbox import cage
    from autograder.sandbox.proxy import SandboxStudent, SubmissionWorker

    # the solution cell replaced (hardened grading reads the notebook): the same probe, its own formula
    source = ("def sinusoidal_positional_encoding(max_len, d_model):\n"
              "    if d_model % 2:\n        raise ValueError('d_model must be even')\n"
              "    while d_model == 8:\n        pass\n"
              "    angles = torch.arange(max_len)[:, None] / 10000 ** (torch.arange(0, d_model, 2) / d_model)\n"
              "    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(max_len, d_model).float()\n")
    limits = cage.Limits(call_seconds=0.5, grace_seconds=1.0, function_seconds=30.0, submission_seconds=120.0)
    zygote = cage.Zygote(cage.probe("auto"), cage.stage_library(), limits, warm=False)
    zygote.start()
    try:
        for replace, cut_expected in (({"sinusoidal_positional_encoding": source}, True), ({}, False)):
            path = hk.write(tmp_path / str(cut_expected), "ada", S5, hk.notebook(S5, replace=replace))
            cells = batch.definition_cells(path)
            worker = SubmissionWorker(zygote, [], cells, limits)
            try:
                student = policy.PolicyChecked(SandboxStudent(worker, time_limit=0.5), cells)
                [r] = run_items(student, ["sinusoidal_positional_encoding"])
            finally:
                worker.close()
            names = [g.name for g in r.graders]
            if cut_expected:
                cut = names.index("test_pe_odd_d_model")
                assert cut < len(names) - 1 and all(not g.passed for g in r.graders[cut:]), \
                    [(g.name, g.passed, g.message) for g in r.graders]
                assert text("report.item_out_of_time", n=len(names) - cut - 1) in r.notes
            else:
                assert r.score == r.max_points and not r.notes
    finally:
        zygote.release()
