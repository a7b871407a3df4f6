"""The three facts that make the graders worth trusting.

1. Every reference solution scores full marks (public and hidden graders).
2. The untouched student release scores zero on every item, without any crash.
3. Every realistic wrong implementation in tests/mutants loses points on the items it breaks,
   keeps full marks on the others, and its feedback names the misconception.

And hardened grading is faithful to them: the same corpus graded in the sandbox (a batch that starts
when this module does, in a background thread whose slots are processes of their own, while the
tests above grade in process) scores full marks for the references and, check by check, exactly what
each mutant earns here.

The stages are shared between this file and test_graders_discriminate_later.py (the same tests,
imported there, over ``LATER``), so that pytest-xdist grades the two halves of the corpus on two
cores: ``--dist loadfile`` keeps a file, and its module fixtures, on one worker.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import hardened_kit as hk
from kit import ASSIGNMENTS, HANDIN, STAGE_IDS, feedback, grade, grade_mutant, mutants, notebook, reference_namespace
from autograder.grading import batch
from autograder import registry
from autograder.notebook import load_namespace
from autograder.report import item_text
from autograder.runner import PUBLIC_DIR

GRADED_STAGES = [s.id for s in registry.STAGES
                 if (PUBLIC_DIR / s.grader_module).is_file() and (hk.SOLUTIONS / s.id / s.notebook).is_file()
                 and batch.sandbox_ready(s.id)]
LATER = ("06_encoder_decoder", "08_decoder_only")  # the other file's half (about half the grading time)
HERE = tuple(s for s in STAGE_IDS if s not in LATER)  # this file's half
VARIANTS = Path(__file__).parent / "variants"

# What test_graders_discriminate_later.py imports: the tests over a file's HERE, their fixtures and
# the hook that parametrizes them.
__all__ = ["pytest_generate_tests", "sandbox_batch", "sandboxed", "test_reference_scores_full_marks",
           "test_untouched_release_scores_zero", "test_each_stage_has_at_least_five_mutants",
           "test_mutant_loses_points_and_is_named", "test_correct_variant_scores_full_marks",
           "test_reference_solutions_score_full_marks_in_the_sandbox",
           "test_mutant_scores_the_same_in_the_sandbox_as_in_process"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The stages, mutants and correct variants of the module's ``HERE``."""
    here = metafunc.module.HERE
    if "stage_id" in metafunc.fixturenames:
        in_sandbox = "sandboxed" in metafunc.fixturenames
        metafunc.parametrize("stage_id", [s for s in here if not in_sandbox or s in GRADED_STAGES])
    if "mutant" in metafunc.fixturenames:
        metafunc.parametrize("mutant", [m for m in mutants() if m.stage in here], ids=lambda m: m.id)
    if "variant" in metafunc.fixturenames:
        metafunc.parametrize("variant", [p for p in sorted(VARIANTS.glob("*/*.py")) if p.parent.name in here],
                             ids=lambda p: f"{p.parent.name[:2]}-{p.stem}")


def _with_cell(stage_id: str, source: str) -> dict:
    """The reference notebook with ``source`` appended as a last code cell (as load_namespace's extra_source)."""
    nb = json.loads((hk.SOLUTIONS / stage_id / registry.stage(stage_id).notebook).read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})
    return nb


def _hand_in(root, student: str, stage_id: str) -> None:
    """The files the reference student hands in with the notebook (a checkpoint), beside it."""
    for path in sorted((HANDIN / stage_id).glob("*")) if (HANDIN / stage_id).is_dir() else ():
        shutil.copyfile(path, root / student / stage_id / path.name)


@pytest.fixture(scope="module", autouse=True)
def sandbox_batch(request, tmp_path_factory):
    """The references and the mutants graded in the sandbox: started first, collected at the end
    (only when a selected test compares with it)."""
    if not any("sandboxed" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield None, None
        return
    here = [s for s in request.module.HERE if s in GRADED_STAGES]
    root, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    for stage_id in here:
        hk.write(root, "reference", stage_id, (hk.SOLUTIONS / stage_id / registry.stage(stage_id).notebook).read_text())
        _hand_in(root, "reference", stage_id)
    for m in (m for m in mutants() if m.stage in here):
        hk.write(root, f"mutant_{m.path.stem}", m.stage, _with_cell(m.stage, m.source))
        _hand_in(root, f"mutant_{m.path.stem}", m.stage)
    pool = ThreadPoolExecutor(1)
    future = pool.submit(batch.run, [root], out, jobs=2, gradebook=None, progress=False, log=lambda s: None)
    yield future, out
    future.result()  # never leave the batch running past the module
    pool.shutdown()


@pytest.fixture(scope="module")
def sandboxed(sandbox_batch) -> Path:
    future, out = sandbox_batch
    report = future.result()
    assert not report.failed, [f"{o.key}: {o.error}" for o in report.failed]
    return out


def test_reference_scores_full_marks(stage_id):
    results = grade(reference_namespace(stage_id), stage_id)
    for r in results.values():
        assert r.score == r.max_points, feedback(r)
    assert any(g.visibility == "hidden" for r in results.values() for g in r.graders)


def test_untouched_release_scores_zero(stage_id):
    results = grade(load_namespace(notebook(ASSIGNMENTS, stage_id)), stage_id)
    for r in results.values():
        assert not r.incomplete, feedback(r)  # graded, not crashed
        assert r.graders and r.score == 0, feedback(r)
        assert "NotImplementedError" in feedback(r)


def test_each_stage_has_at_least_five_mutants(stage_id):
    assert len(mutants(stage_id)) >= 5


def test_mutant_loses_points_and_is_named(mutant):
    results = grade_mutant(mutant)
    for item_id, r in results.items():
        if item_id in mutant.loses:
            assert r.score < r.max_points, f"{mutant.summary}\n{feedback(r)}"
            assert mutant.expected_feedback in feedback(r), (
                f"The feedback for {mutant.path.name} should say: {mutant.expected_feedback!r}\n{feedback(r)}"
            )
        else:
            assert r.score == r.max_points, f"{item_id} should not be affected by {mutant.path.name}\n{feedback(r)}"


def test_every_named_misconception_is_exercised_by_a_mutant():
    from autograder.catalogue import EN

    named = {m.says for m in mutants()}
    unexercised = sorted(k for k in EN if k.startswith("why.") and k not in named)
    assert not unexercised, f"misconceptions no mutant demonstrates: {unexercised}"


# --- correct implementations written differently (issue 11, item 10): full marks, every item -----
def test_correct_variant_scores_full_marks(variant):
    stage_id = variant.parent.name
    results = grade(reference_namespace(stage_id, variant.read_text()), stage_id)
    for item_id, r in results.items():
        assert r.score == r.max_points, f"{variant.name} is correct but lost points on {item_id}\n{feedback(r)}"


# --- the sandbox is faithful to all of the above -----------------------------------------------
def test_stage_07_is_graded_in_the_sandbox():
    assert "07_training" in GRADED_STAGES


@pytest.mark.slow
def test_reference_solutions_score_full_marks_in_the_sandbox(sandboxed, stage_id):
    result = hk.result(sandboxed, "reference", stage_id)
    for r in result.items:
        assert r.score == r.max_points, item_text(r)
    assert any(g.visibility == "hidden" for r in result.items for g in r.graders)


@pytest.mark.slow
def test_mutant_scores_the_same_in_the_sandbox_as_in_process(sandboxed, mutant):
    local = grade_mutant(mutant)  # graded already by test_mutant_loses_points_and_is_named
    remote = {r.item.id: r for r in hk.result(sandboxed, f"mutant_{mutant.path.stem}", mutant.stage).items}
    for item_id, here in local.items():
        there = remote[item_id]
        assert [(g.name, g.status) for g in there.graders] == [(g.name, g.status) for g in here.graders], (
            f"in-process:\n{feedback(here)}\nsandboxed:\n{item_text(there)}")
        assert there.score == here.score
        if item_id in mutant.loses:  # and the sandboxed feedback names the same misconception
            assert " ".join(mutant.expected_feedback.split()) in " ".join(item_text(there).split()), item_text(there)
