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
    path = tmp_path / f"student_cells_{len(list(tmp_path.glob('student_cells_*.py')))}.py"  # linecache keeps old text
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


# Reaching the course's answers without naming them: each one, in an item that forbids nothing.
_SOFTMAX_HEAD = "import gc\nimport inspect\nimport subprocess\nimport sys\nimport importlib\nimport numpy as np\n"
REACHES_UNNAMED = {
    "object_graph": "return next(o for o in gc.get_objects() if getattr(o, '__name__', '') == 'softmax' and o is not softmax)(x, axis)",
    "frames": "return sys._getframe(1).f_globals['o'].softmax(x, axis)",
    "frame_back": "return inspect.currentframe().f_back.f_back.f_globals['o'].softmax(x, axis)",
    "dunder_import": "return __import__('autograder.graders.oracles', fromlist=['x']).softmax(x, axis)",
    "importlib": "return importlib.import_module('autograder.graders.' + 'oracles').softmax(x, axis)",
    "sys_modules": "return sys.modules['autograder.graders.oracles'].softmax(x, axis)",
    "exec": "space = {}\n    exec('from autograder.graders.oracles import softmax as s', space)\n    return space['s'](x, axis)",
    "subclasses": "return [c for c in object.__subclasses__() if c.__name__ == 'X'][0].softmax(x, axis)",
    "another_process": "return np.array(eval(subprocess.run([sys.executable, '-c', 'print(1)'], capture_output=True).stdout))",
    "pkgutil": "import pkgutil\n    return pkgutil.resolve_name('autograder.graders.oracles:softmax')(x, axis)",
    "unpickler": ("import io, pickle\n    return pickle.Unpickler(io.BytesIO(b'cautograder.graders.oracles\\nsoftmax\\n.'))"
                  ".load()(x, axis)"),
    "numpy_load_pickle": "import io\n    return np.load(io.BytesIO(b''), allow_pickle=True)(x, axis)",
    "attrgetter_on_package": ("import operator, autograder\n"
                              "    return operator.attrgetter('graders.oracles.softmax')(autograder)(x, axis)"),
    "getattr_as_a_value": ("import functools, autograder\n"
                           "    return functools.reduce(getattr, ['graders', 'oracles', 'softmax'], autograder)(x, axis)"),
    "computed_getattr": "import autograder\n    return getattr(getattr(autograder, 'gra' + 'ders'), 'ora' + 'cles').softmax(x, axis)",
    "os_sys_modules": "import os\n    return os.sys.modules['autograder.graders.oracles'].softmax(x, axis)",
    "builtin_self": "return len.__self__.__import__('autograder.graders.oracles', fromlist=['x']).softmax(x, axis)",
    "globals_lookup": "return globals()['_hid' + 'den']('softmax')(x, axis)",
    "constant_getattr_of_globals": "return getattr(np.exp, '__globals__')['softmax'](x, axis)",
    "course_imported_inside": "from autograder.graders import oracles\n    return oracles.softmax(x, axis)",
    "local_module": "import softmax_helper\n    return softmax_helper.softmax(x, axis)",
    "module_written_at_run_time": ("open('sm_written.py', 'w').write('from autograder.graders.oracles import softmax')\n"
                                   "    from sm_written import softmax as s\n    return s(x, axis)"),
}


@pytest.mark.parametrize("name", sorted(REACHES_UNNAMED))
def test_reaching_code_without_naming_it_scores_zero_in_any_item(tmp_path, name):
    source = _SOFTMAX_HEAD + "\n\ndef softmax(x, axis=-1):\n    " + REACHES_UNNAMED[name] + "\n"
    assert registry.item("softmax").forbidden == ()  # the rule holds where nothing is forbidden
    found = policy.violations(source, "softmax")
    assert found and {v.kind for v in found} <= {"reflection", "local", "course"}, found
    result = _grade(_namespace(tmp_path, source), "softmax", source=source)
    assert result.score == 0 and any(g.forbidden for g in result.graders)


def test_ordinary_imports_and_gc_collect_are_fair(tmp_path):
    source = textwrap.dedent('''
        import gc
        import math
        import sys
        from functools import reduce
        from typing import Optional
        import numpy as np
        import torch

        def softmax(x, axis: Optional[int] = -1):
            gc.collect()
            x = np.asarray(x)
            e = np.exp(x - x.max(axis=axis, keepdims=True))
            tiny = sys.float_info.min * math.e * reduce(lambda a, b: a * b, [1.0, 1.0])
            out = e / (e.sum(axis=axis, keepdims=True) + 0 * tiny)
            return out.astype(x.dtype) if np.issubdtype(x.dtype, np.floating) else out
    ''')
    assert policy.violations(source, "softmax") == []
    result = _grade(_namespace(tmp_path, source), "softmax", source=source)
    assert result.score == result.max_points, [g.message for g in result.graders if not g.passed]


def test_a_function_returning_the_courses_code_loses_at_run_time(tmp_path):
    """What the source does not show (the object arrives through an argument-free path): refused at run time."""
    import autograder.failures as course_object  # any course function will do

    namespace = {"__name__": "__student__", "make": lambda: course_object.ForbiddenCall}
    student = LocalStudent(namespace, source="def make():\n    return 1\n")
    with pytest.raises(Exception) as info:
        student.function("make")()
    assert type(info.value).__name__ == "ForbiddenCall"


def test_an_alias_of_the_graded_name_is_judged_in_the_kernel(tmp_path):
    """``scaled_dot_product_attention = _mine`` in a kernel: the policy follows the alias to ``_mine``
    (the live namespace holds the function under both names), so suspending the runtime spy inside
    the call gains nothing."""
    source = _sdpa("", "def _mine(q, k, v, mask=None):", """
        with torch._C.DisableTorchFunction():
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        """) + "\nscaled_dot_product_attention = _mine\n"
    result = _grade(_namespace(tmp_path, source), SDPA)
    assert result.score == 0 and any(g.forbidden for g in result.graders), [g.message for g in result.graders]
    fair = FAIR.replace("def scaled_dot_product_attention(", "def _mine(") + "\nscaled_dot_product_attention = _mine\n"
    result = _grade(_namespace(tmp_path, fair), SDPA)
    assert result.score == result.max_points, [g.message for g in result.graders]


_FFN = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class FeedForward(nn.Module):
        def __init__(self, d_model, d_ff, dropout=0.1):
            super().__init__()
            self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return LINEAR2(self.dropout(RELU(LINEAR1(x))))
''')


@pytest.mark.parametrize("spelling", ["torch.ops.aten.linear", "torch._C._nn.linear", "aten.linear"])
def test_pytorch_internals_score_zero_in_an_item_that_forbids_nothing(tmp_path, spelling):
    """The trusted blocks with no forbidden built-in of their own (FeedForward, MLP, PositionalEncoding,
    stage 07's masks and decoder) compute through torch.ops.aten so that a pasted copy is no answer:
    PyTorch's internals count in every item."""
    assert registry.item("feed_forward").forbidden == ()
    head = "from torch.ops import aten\n" if spelling == "aten.linear" else ""
    first_linear = f"{spelling}(x, self.linear1.weight, self.linear1.bias)"
    body = _FFN.replace("LINEAR2(self.dropout(RELU(LINEAR1(x))))",
                        f"{spelling}(self.dropout(torch.relu({first_linear})), self.linear2.weight, self.linear2.bias)")
    source = head + body
    [first, *_] = policy.violations(source, "FeedForward")
    assert first.kind == "internals", first
    result = _grade(_namespace(tmp_path, source), "feed_forward")
    assert result.score == 0, [g.message for g in result.graders]
    assert any("PyTorch's internals" in g.message for g in result.graders)
    fair = _FFN.replace("LINEAR2(self.dropout(RELU(LINEAR1(x))))",
                        "F.linear(self.dropout(F.relu(F.linear(x, self.linear1.weight, self.linear1.bias))), "
                        "self.linear2.weight, self.linear2.bias)")
    result = _grade(_namespace(tmp_path, fair), "feed_forward")
    assert result.score == result.max_points, [g.message for g in result.graders]


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
_CHEATS = ("calls_builtin", "calls_cross_entropy", "copied_block", "copied_oracle", "imported_block")


def test_fair_every_reference_and_mutant_keeps_its_scores():
    for stage_id, label, source in _stage_sources():
        tops = [n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        for item in registry.items_of(stage_id):
            for top in tops:
                found = policy.violations(source, top, item.forbidden)
                assert not found or any(c in label for c in _CHEATS), (stage_id, label, item.id, top, found)


# Imports and definitions inside a top-level if/try are module-level bindings (issue 11, item 8).
IN_BLOCKS = {
    "course_import_in_if": ("softmax", textwrap.dedent('''
        import numpy as np
        if True:
            import autograder.graders.oracles as o

        def softmax(x, axis=-1):
            return o.softmax(x, axis)
    ''')),
    "forbidden_import_in_try": (SDPA, _sdpa(
        "try:\n    from torch.nn.functional import scaled_dot_product_attention as attend\n"
        "except ImportError:\n    attend = None\n",
        "def scaled_dot_product_attention(q, k, v, mask=None):",
        "out = attend(q, k, v, attn_mask=mask)")),
    "helper_defined_in_an_else": (SDPA, _sdpa(
        "if torch.cuda.is_available() and False:\n    pass\nelse:\n"
        "    def _helper(*a, **k):\n        return F.scaled_dot_product_attention(*a, **k)\n",
        "def scaled_dot_product_attention(q, k, v, mask=None):",
        "out = _helper(q, k, v, attn_mask=mask)")),
}


@pytest.mark.parametrize("name", sorted(IN_BLOCKS))
def test_what_an_if_or_try_binds_is_judged_as_at_module_level(tmp_path, name):
    item_id, source = IN_BLOCKS[name]
    assert policy.violations(source, item_id, registry.item(item_id).forbidden), name
    for student_kw in ({}, {"source": source}):  # read from the live namespace, and given as text
        result = _grade(_namespace(tmp_path, source), item_id, **student_kw)
        assert result.score == 0 and any(g.forbidden for g in result.graders), (name, student_kw)


def test_a_fair_if_or_try_block_costs_nothing(tmp_path):
    source = textwrap.dedent('''
        import numpy as np
        try:
            from numpy.exceptions import AxisError as _Bad
        except ImportError:
            _Bad = ValueError
        if np.__name__ == "numpy":
            def _shift(x, axis):
                return x - x.max(axis=axis, keepdims=True)
        else:
            _shift = None

        def softmax(x, axis=-1):
            e = np.exp(_shift(x, axis))
            return e / e.sum(axis=axis, keepdims=True)
    ''')
    assert policy.violations(source, "softmax") == []
    result = _grade(_namespace(tmp_path, source), "softmax", source=source)
    assert result.score == result.max_points, [g.message for g in result.graders if not g.passed]


def test_an_optional_import_of_a_missing_package_is_fair_and_an_unguarded_one_is_not(tmp_path):
    """``try: import scipy`` with a fallback runs the fallback in the kernel and in the sandbox (whose
    worker never imports from the submission's folder); the same import unguarded is a hidden module."""
    guarded = textwrap.dedent('''
        import numpy as np
        try:
            from not_installed_pkg.special import logsumexp as _lse
        except ImportError:
            _lse = None

        def softmax(x, axis=-1):
            x = np.asarray(x)
            e = np.exp(x - x.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
    ''')
    assert policy.violations(guarded, "softmax") == []
    result = _grade(_namespace(tmp_path, guarded), "softmax", source=guarded)
    assert result.score == result.max_points
    unguarded = "from not_installed_pkg import f\n\ndef softmax(x, axis=-1):\n    return f(x)\n"
    assert [v.kind for v in policy.violations(unguarded, "softmax")] == ["local"]
    caught_elsewhere = ("try:\n    from not_installed_pkg import f\nexcept ValueError:\n    f = None\n\n"
                        "def softmax(x, axis=-1):\n    return f(x)\n")
    assert [v.kind for v in policy.violations(caught_elsewhere, "softmax")] == ["local"]


def test_naming_reflection_without_using_it_is_fair(tmp_path):
    """Only a call builds code from parts, only an unsafe keyword unpickles, only a computed name
    reaches anything: these ordinary lines keep full marks."""
    source = textwrap.dedent("""
        import types
        import numpy as np
        import torch

        def _check_input(f, path=None):
            assert isinstance(f, types.FunctionType) or callable(f)
            if path is not None:
                np.load(path)
                torch.load(path, weights_only=True)

        def softmax(x, axis=-1):
            _check_input(softmax)
            x = np.asarray(x)
            e = np.exp(x - getattr(x, "max")(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
    """)
    assert policy.violations(source, "softmax") == []
    result = _grade(_namespace(tmp_path, source), "softmax", source=source)
    assert result.score == result.max_points, [g.message for g in result.graders if not g.passed]


def test_what_fills_a_constant_is_judged_with_it():
    """``_BAD["m"] = sys.modules`` changes what ``_BAD`` holds: a function reading ``_BAD`` is judged
    with that line too (it runs in hardened grading), and the line no longer hides ``_BAD = {}``."""
    source = textwrap.dedent('''
        import sys
        import numpy as np
        _BAD = {}
        _BAD["m"] = sys.modules
        _OK = {}
        _OK["axis"] = -1

        def leaks():
            return _BAD["m"]

        def fair(x):
            return np.exp(x).sum(axis=_OK["axis"])
    ''')
    assert [(v.kind, v.construct) for v in policy.violations(source, "leaks")] == [("reflection", "sys.modules")]
    assert policy.violations(source, "fair") == []


def test_pytorch_internals_reached_through_a_re_export_count_too():
    # F re-exports torch: ``F.torch.ops.aten.x`` is torch.ops.aten.x
    source = "import torch.nn.functional as F\n\ndef softmax(x):\n    return F.torch.ops.aten._softmax(x, -1, False)\n"
    assert [v.kind for v in policy.violations(source, "softmax")][:1] == ["internals"]


def test_a_name_set_to_a_keyword_cannot_blank_the_kernels_policy(tmp_path):
    """``cheat.__name__ = "def"; softmax = cheat`` must not turn the rebuilt source into a syntax
    error, which would leave the kernel's policy reading nothing for every graded name."""
    source = _sdpa("", "def _mine(q, k, v, mask=None):", """
        with torch._C.DisableTorchFunction():
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        """) + '\n_mine.__name__ = "def"\nscaled_dot_product_attention = _mine\n'
    namespace = _namespace(tmp_path, source)
    ast.parse(policy.source_of_namespace(namespace))  # still Python
    result = _grade(namespace, SDPA)
    assert result.score == 0 and any(g.forbidden for g in result.graders), [g.message for g in result.graders]


# The kernel's source says what each name holds now. A definition of the SDPA's signature: the
# forbidden call with the runtime spy muted (only the static policy can refuse it), or the student's own.
_MUTED = """
    with torch._C.DisableTorchFunction():
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    """


def _def(name: str, cheat: bool) -> str:
    if cheat:
        return _sdpa("", f"def {name}(q, k, v, mask=None):", _MUTED)[len(_HEAD):] + "\n"
    fair = FAIR[FAIR.index(f"def {SDPA}("):]
    return "\n" + fair.replace(f"def {SDPA}(", f"def {name}(", 1) + "\n"


KERNEL_SOURCE = {
    # a cell run again rebinds the name where it was; an older definition kept under a later name
    # (IPython's output history ``_7``, ``first_try = ...``) came last in the kernel's source
    "older_definition_under_a_later_name": _HEAD + _def(SDPA, False) + f"\n_7 = {SDPA}\n" + _def(SDPA, True),
    # ``_h`` holds the first ``_impl``; the second one, defined later, is not what runs
    "helper_bound_before_it_was_defined_again": _HEAD + "_h = None\n" + _def("_impl", True) + "\n_h = _impl\n"
        + _def("_impl", False) + f"\ndef {SDPA}(q, k, v, mask=None):\n    return _h(q, k, v, mask)\n",
    # inspect.getsource follows __wrapped__, which any code can set
    "wrapped_set_by_hand": _HEAD + _def(SDPA, True) + _def("_plain", False) + f"\n{SDPA}.__wrapped__ = _plain\n",
    "library_wrapper_told_it_wraps_another": _HEAD + _def("_cheat", True) + _def("_plain", False)
        + f"\n{SDPA} = torch.no_grad()(_cheat)\n{SDPA}.__wrapped__ = _plain\n",
    # a nested function's indented source once made the whole rebuilt source unparsable
    "nested_function_blanks_the_source": _HEAD + "_blank = None\n" + _def(SDPA, True)
        + "\ndef _make():\n    def inner(x):\n        return x\n    return inner\n\n_blank = _make()\n",
    "module_named_a_keyword_blanks_the_source": "import types\n" + _HEAD + '_m = types.ModuleType("def")\n'
        + _def(SDPA, True),
    "closure_over_the_call": _HEAD + _def("_cheat", True)
        + f"\ndef _wrap(f):\n    def run(*a):\n        return f(*a)\n    return run\n\n{SDPA} = _wrap(_cheat)\ndel _cheat\n",
    "partial_of_the_call": "import functools\n" + _HEAD + _def("_cheat", True) + f"\n{SDPA} = functools.partial(_cheat)\ndel _cheat\n",
}


@pytest.mark.parametrize("name", sorted(KERNEL_SOURCE))
def test_the_kernel_judges_the_definition_each_name_holds_now(tmp_path, name):
    source = KERNEL_SOURCE[name]
    namespace = _namespace(tmp_path, source)
    ast.parse(policy.source_of_namespace(namespace))  # still Python
    for student_kw in ({}, {"source": source}):  # read from the live namespace, and given as text
        result = _grade(_namespace(tmp_path, source), SDPA, **student_kw)
        assert result.score == 0 and any(g.forbidden for g in result.graders), (name, student_kw)


def test_an_older_draft_in_the_kernel_costs_a_fixed_definition_nothing(tmp_path):
    """The other way round: the draft that called the built-in is in IPython's output history, the
    name now holds the student's own code; so do a decorator of the student's and a partial."""
    drafted = _HEAD + _def(SDPA, True) + f"\n_7 = {SDPA}\n" + _def(SDPA, False)
    result = _grade(_namespace(tmp_path, drafted), SDPA)
    assert result.score == result.max_points, [g.message for g in result.graders if not g.passed]
    decorated = "import functools\n" + _HEAD + textwrap.dedent('''
        def _logged(fn):
            @functools.wraps(fn)
            def run(*a, **k):
                return fn(*a, **k)
            return run
    ''') + _def("_mine", False).replace("def _mine(", "@_logged\ndef _mine(") + f"\n{SDPA} = functools.partial(_mine)\n"
    for student_kw in ({}, {"source": decorated}):
        result = _grade(_namespace(tmp_path, decorated), SDPA, **student_kw)
        assert result.score == result.max_points, (student_kw, [g.message for g in result.graders if not g.passed])


_FAIR_FFN = _FFN.replace("LINEAR2(self.dropout(RELU(LINEAR1(x))))",
                         "F.linear(self.dropout(F.relu(F.linear(x, self.linear1.weight, self.linear1.bias))), "
                         "self.linear2.weight, self.linear2.bias)")
KERNEL_CLASSES = {
    # __init__ from the older class: the class's source was found through it
    "method_from_an_older_class": _FAIR_FFN.replace("super().__init__()", "nn.Module.__init__(self)")
        + "\n_Old = FeedForward\n\nclass FeedForward(nn.Module):\n    __init__ = _Old.__init__\n\n"
        + "    def forward(self, x):\n        return torch.ops.aten.relu(self.linear2(self.linear1(x)))\n",
    # no method of its own: its source was left out, the policy read nothing for it
    "no_method_of_its_own": _FAIR_FFN.replace("class FeedForward(nn.Module):", "class _Base(nn.Module):")
        .replace("F.linear", "torch.ops.aten.linear") + "\n\nclass FeedForward(_Base):\n    pass\n",
}


@pytest.mark.parametrize("name", sorted(KERNEL_CLASSES))
def test_the_kernel_judges_the_class_each_name_holds_now(tmp_path, name):
    source = KERNEL_CLASSES[name]
    for student_kw in ({}, {"source": source}):
        result = _grade(_namespace(tmp_path, source), "feed_forward", **student_kw)
        assert result.score == 0 and any("PyTorch's internals" in g.message for g in result.graders), (name, student_kw)


def test_a_public_function_imported_by_name_is_fair_in_the_kernel(tmp_path):
    """``F.linear`` lives in ``torch._C._nn``: imported by name, the kernel's source once said
    ``from torch._C._nn import linear`` and refused a correct answer as PyTorch's internals."""
    source = _FAIR_FFN.replace("import torch.nn.functional as F", "from torch.nn.functional import linear, relu") \
        .replace("F.linear", "linear").replace("F.relu", "relu")
    for student_kw in ({}, {"source": source}):
        result = _grade(_namespace(tmp_path, source), "feed_forward", **student_kw)
        assert result.score == result.max_points, (student_kw, [g.message for g in result.graders if not g.passed])


_LAYER_NORM = textwrap.dedent('''
    import torch
    import torch.nn as nn
    HEAD

    class LayerNorm(nn.Module):
        def __init__(self, d_model, eps=1e-05):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(d_model))
            self.bias = nn.Parameter(torch.zeros(d_model))

        def forward(self, x):
            return BODY
''')
_OWN_NORM = ("self.weight * (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True, unbiased=False)"
             " + self.eps) + self.bias")


def _layer_norm(head: str, body: str) -> str:
    return _LAYER_NORM.replace("HEAD", head).replace("BODY", body)


@pytest.mark.parametrize("head", ["from torch._refs import *\nfrom math import *", "from torch import *",
                                  "from torch.nn.functional import *\nfrom numpy import *"])
def test_a_star_import_from_torch_scores_zero(tmp_path, head):
    """A bare name resolved through the last star import only: ``native_layer_norm`` after
    ``from torch._refs import *`` and ``from math import *`` read as ``math.native_layer_norm``, and
    the decomposition in torch._refs runs past the runtime spy (it scored 4/4)."""
    source = _layer_norm(head, "native_layer_norm(x, list(x.shape[-1:]), self.weight, self.bias, self.eps)[0]"
                         if "_refs" in head else _OWN_NORM)
    found = policy.violations(source, "LayerNorm", registry.item("layer_norm").forbidden)
    assert found and found[0].kind in ("star", "internals"), found
    namespace = _namespace(tmp_path, source)
    namespace["_ih"] = ["", source]  # IPython's history: the kernel's namespace holds only the names it bound
    for student in (LocalStudent(namespace), LocalStudent(_namespace(tmp_path, source), source=source)):
        [result] = run_items(student, ["layer_norm"])
        assert result.score == 0 and any(g.forbidden for g in result.graders), [g.message for g in result.graders]
        assert any("*`" in g.message for g in result.graders)  # `from torch import *`, `torch._refs.*`


def test_a_star_import_from_math_is_fair(tmp_path):
    source = _layer_norm("from math import *", "cos(0) * " + _OWN_NORM)  # math.cos
    assert policy.violations(source, "LayerNorm", registry.item("layer_norm").forbidden) == []
    namespace = _namespace(tmp_path, source)
    namespace["_ih"] = ["", source]
    result = _grade(namespace, "layer_norm")
    assert result.score == result.max_points, [g.message for g in result.graders if not g.passed]


@pytest.mark.parametrize("head, call", [
    ("import torch._refs as R", "R.native_layer_norm(x, list(x.shape[-1:]), self.weight, self.bias, self.eps)[0]"),
    ("", "torch._VF.native_layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)[0]"),
    ("from torch import _VF", "_VF.native_layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)[0]"),
    ("import torch.nn.functional as F", "F.torch._refs.native_layer_norm(x, list(x.shape[-1:]), self.weight, self.bias, self.eps)[0]"),
    ("", "torch.native_layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)[0]"),
])
def test_pytorch_private_modules_computing_the_built_in_score_zero(tmp_path, head, call):
    """torch._VF, torch._refs, torch._decomp, torch._prims and the private kernels right under torch
    compute the forbidden built-ins under other names (torch._refs past the runtime spy too)."""
    source = _layer_norm(head, call)
    found = policy.violations(source, "LayerNorm", registry.item("layer_norm").forbidden)
    assert found and {v.kind for v in found} <= {"internals", "forbidden"}, found
    for student_kw in ({}, {"source": source}):
        result = _grade(_namespace(tmp_path, source), "layer_norm", **student_kw)
        assert result.score == 0 and any(g.forbidden for g in result.graders), (student_kw, [g.message for g in result.graders])


def test_every_private_name_under_torch_counts_and_the_public_api_does_not():
    mha = registry.item("multi_head_attention").forbidden
    for spelling in ("torch._native_multi_head_attention", "torch._scaled_dot_product_attention_math",
                     "torch._decomp.decompositions.scaled_dot_product_flash_attention_for_cpu", "torch._prims.div"):
        source = f"import torch\n\ndef attend(q, k, v):\n    return {spelling}(q, k, v)\n"
        assert [v.kind for v in policy.violations(source, "attend", mha)][:1] == ["internals"], spelling
    fair = ("import torch\nimport torch.nn.functional as F\n\ndef attend(q, k, v):\n"
            "    assert torch.__version__\n    return F.layer_norm(torch.softmax(q @ k.T, -1) @ v, v.shape[-1:])\n")
    assert policy.violations(fair, "attend", mha) == []


def test_a_built_in_claiming_to_be_the_kernels_own_is_judged_as_what_it_is(tmp_path, monkeypatch):
    """A built-in's ``__module__`` can be set: ``F.scaled_dot_product_attention`` claiming ``__main__``
    was taken for the kernel's own code, whose source could not be read, and left out."""
    import torch.nn.functional as F

    source = _HEAD + "\nattend = F.scaled_dot_product_attention\n" + _sdpa(
        "", f"def {SDPA}(q, k, v, mask=None):",
        "with torch.DisableTorchFunction():\n    out = attend(q, k, v, attn_mask=mask)")[len(_HEAD):]
    namespace = _namespace(tmp_path, source)
    monkeypatch.setattr(F.scaled_dot_product_attention, "__module__", "__main__")
    assert "import scaled_dot_product_attention as attend" in policy.source_of_namespace(namespace)
    result = _grade(namespace, SDPA)
    assert result.score == 0 and any(g.forbidden for g in result.graders), [g.message for g in result.graders]
