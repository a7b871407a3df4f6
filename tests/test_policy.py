"""The static policy (autograder/policy.py): forbidden built-ins and the course's own code, judged on
source by the trusted grader, however the student's code silences the runtime spy.

Each bypass below is graded in process through ``run_items`` with a LocalStudent whose namespace
was built from a real file (so ``inspect`` reads the definitions, as IPython lets it in a kernel),
and must score as the plain forbidden call does: 0 for the item, flagged forbidden. Fairness: the
reference notebooks and every mutant draw no violation except the mutants that call a forbidden
built-in or import the course's blocks.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from autograder import policy, registry
from autograder.notebook import code_definitions
from autograder.runner import run_items
from autograder.student import LocalStudent
from kit import MUTANTS, SOLUTIONS, notebook

SDPA = "scaled_dot_product_attention"
STAGE3 = "03_scaling_and_masking"

# The weights every attack computes correctly, so that only the output's source decides.
_WEIGHTS = """
    scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w.masked_fill(~mask, 0.0)
    return out, w
"""

_HEAD = "import math\nimport sys\nimport importlib\nimport torch\nimport torch.nn.functional as F\n"


def _sdpa(prelude: str, signature: str, body: str) -> str:
    return _HEAD + textwrap.dedent(prelude) + f"\n{signature}\n" + textwrap.indent(textwrap.dedent(body), "    ") + _WEIGHTS


BYPASSES = {
    "plain_call": _sdpa("", "def scaled_dot_product_attention(q, k, v, mask=None):",
                        "out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)"),
    "class_body_disables_spy": _sdpa(
        """
        class _Quiet:
            _off = torch._C._DisableTorchDispatch()
            _off.__enter__()
        """,
        "def scaled_dot_product_attention(q, k, v, mask=None, _q=_Quiet):",
        "out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)"),
    "default_argument_disables_spy": _sdpa(
        "", "def scaled_dot_product_attention(q, k, v, mask=None, _off=torch.overrides._pop_mode):",
        "out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)"),
    "decorator_suspends_modes": _sdpa(
        """
        def quiet(fn):
            from torch.utils._python_dispatch import _disable_current_modes
            def run(*a, **k):
                with _disable_current_modes():
                    return fn(*a, **k)
            return run
        """,
        "@quiet\ndef scaled_dot_product_attention(q, k, v, mask=None):",
        "out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)"),
    "mode_suspension_inside_the_call": _sdpa(
        "", "def scaled_dot_product_attention(q, k, v, mask=None):",
        """
        with torch._C.DisableTorchFunction():
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        """),
    "getattr_computed_name": _sdpa(
        "", "def scaled_dot_product_attention(q, k, v, mask=None):",
        'out = getattr(F, "scaled_dot_" + "product_attention")(q, k, v, attn_mask=mask)'),
    "importlib": _sdpa(
        "", "def scaled_dot_product_attention(q, k, v, mask=None):",
        'out = importlib.import_module("torch.nn.functional").__dict__["scaled_dot_" "product_attention"](q, k, v, attn_mask=mask)'),
    "eval": _sdpa(
        "", "def scaled_dot_product_attention(q, k, v, mask=None):",
        'out = eval("F.scaled_dot_" + "product_attention")(q, k, v, attn_mask=mask)'),
    "sys_modules": _sdpa(
        "", "def scaled_dot_product_attention(q, k, v, mask=None):",
        'out = vars(sys.modules["torch.nn.functional"])["scaled_dot_" + "product_attention"](q, k, v, attn_mask=mask)'),
    "alias_import": _sdpa(
        "from torch.nn.functional import scaled_dot_product_attention as attend\n",
        "def scaled_dot_product_attention(q, k, v, mask=None):",
        "out = attend(q, k, v, attn_mask=mask)"),
    "alias_chain_through_a_helper": _sdpa(
        "import torch.nn as tnn\n\ndef _helper(*a, **k):\n    return tnn.functional.scaled_dot_product_attention(*a, **k)\n",
        "def scaled_dot_product_attention(q, k, v, mask=None):",
        "out = _helper(q, k, v, attn_mask=mask)"),
}

# A correct one written differently (own module object, getattr on self, eval elsewhere in the notebook).
FAIR = _HEAD + textwrap.dedent('''
    def _explore():
        return eval("1 + 1")  # exploratory, never reached from the graded name

    def scaled_dot_product_attention(q, k, v, mask=None):
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        w = torch.softmax(scores, dim=-1)
        if mask is not None:
            w = w.masked_fill(~mask, 0.0)
        return w @ v, w
''')


def _namespace(tmp_path: Path, source: str) -> dict:
    """A namespace whose functions ``inspect`` can read, as in a kernel (IPython keeps cell text)."""
    path = tmp_path / "student_cells.py"
    path.write_text(source)
    namespace = {"__name__": "__student__"}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


def _grade(namespace: dict, item_id: str, **kw):
    [result] = run_items(LocalStudent(namespace, **kw), [item_id])
    return result


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_each_bypass_scores_as_the_plain_forbidden_call(tmp_path, name):
    source = BYPASSES[name]
    for student_kw in ({}, {"source": source}):  # read from the live namespace, and given as text
        result = _grade(_namespace(tmp_path, source), SDPA, **student_kw)
        assert result.score == 0, (name, [g.message for g in result.graders])
        assert any(g.forbidden for g in result.graders), name


def test_the_policy_names_the_construct_and_line():
    [v, *_] = policy.violations(BYPASSES["alias_import"], SDPA, registry.item(SDPA).forbidden)
    assert (v.kind, v.construct) == ("forbidden", "torch.nn.functional.scaled_dot_product_attention")
    [v, *_] = policy.violations(BYPASSES["eval"], SDPA, registry.item(SDPA).forbidden)
    assert (v.kind, v.construct) == ("dynamic", "eval")
    assert v.line == BYPASSES["eval"].splitlines().index(next(
        ln for ln in BYPASSES["eval"].splitlines() if "eval(" in ln)) + 1


def test_a_correct_implementation_written_differently_passes(tmp_path):
    assert policy.violations(FAIR, SDPA, registry.item(SDPA).forbidden) == []
    result = _grade(_namespace(tmp_path, FAIR), SDPA)
    assert result.score == result.max_points


def test_getattr_on_self_is_fair_on_objects_it_is_not():
    src = textwrap.dedent('''
        import torch.nn as nn
        class M(nn.Module):
            def forward(self, x):
                return getattr(self, "w_" + "q")(x), getattr(type(self), name)
        class N(nn.Module):
            def forward(self, x, other):
                return getattr(other, "w_" + "q")(x)
    ''')
    forbidden = registry.item("multi_head_attention").forbidden
    assert policy.violations(src, "M", forbidden) == []
    assert [v.kind for v in policy.violations(src, "N", forbidden)] == ["dynamic"]


def test_course_code_called_from_student_code_scores_zero(tmp_path):
    source = textwrap.dedent('''
        import numpy as np
        import autograder.graders.oracles as oracles
        from autograder import check
        from autograder.carry import carry_forward

        def softmax(x, axis=-1):
            return oracles.softmax(x, axis)
    ''')
    found = policy.violations(source, "softmax")
    assert found and all(v.kind == "course" and "oracles" in v.construct for v in found)
    result = _grade(_namespace(tmp_path, source), "softmax", source=source)
    assert result.score == 0 and any(g.forbidden for g in result.graders)
    # check and carry_forward are the course's interface: using them costs nothing
    fair = source.replace("return oracles.softmax(x, axis)", "e = np.exp(x - x.max(axis, keepdims=True))\n"
                          "    check\n    carry_forward\n    return e / e.sum(axis, keepdims=True)")
    assert policy.violations(fair, "softmax") == []


def test_a_function_returning_the_courses_code_loses_at_run_time(tmp_path):
    """What the source does not show (the object arrives through an argument-free path): refused at run time."""
    import autograder.failures as course_object  # any course function will do

    namespace = {"__name__": "__student__", "make": lambda: course_object.ForbiddenCall}
    student = LocalStudent(namespace, source="def make():\n    return 1\n")
    with pytest.raises(Exception) as info:
        student.function("make")()
    assert type(info.value).__name__ == "MissingDefinition"


def test_trusted_blocks_are_not_the_students_reach():
    """A name the grader swaps for a trusted block never runs: its source is not judged."""
    src = "from autograder.graders.blocks import EncoderLayer as _L\n\ndef EncoderLayer():\n    return _L()\n\n" \
          "def Encoder():\n    return EncoderLayer()\n"
    assert policy.violations(src, "Encoder", exclude=frozenset({"EncoderLayer"})) == []
    assert {v.kind for v in policy.violations(src, "Encoder")} == {"course"}


def _stage_sources():
    for st in registry.STAGES:
        ref = code_definitions(notebook(SOLUTIONS, st.id))
        yield st.id, "reference", ref
        for m in sorted((MUTANTS / st.id).glob("*.py")):
            yield st.id, m.name, ref + "\n" + m.read_text()


# The mutants that are meant to lose through the policy: they call the built-in or import the blocks.
_CHEATS = ("calls_builtin", "calls_cross_entropy", "copied_block", "imported_block")


def test_fair_every_reference_and_mutant_keeps_its_scores():
    for stage_id, label, source in _stage_sources():
        tops = [n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        for item in registry.items_of(stage_id):
            for top in tops:
                found = policy.violations(source, top, item.forbidden)
                assert not found or any(c in label for c in _CHEATS), (stage_id, label, item.id, top, found)
