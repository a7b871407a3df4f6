"""The three facts that make the graders worth trusting.

1. Every reference solution scores full marks (public and hidden graders).
2. The untouched student release scores zero on every item, without any crash.
3. Every realistic wrong implementation in tests/mutants loses points on the items it breaks,
   keeps full marks on the others, and its feedback names the misconception.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kit import ASSIGNMENTS, STAGE_IDS, feedback, grade, mutants, notebook, reference_namespace
from autograder.notebook import load_namespace


@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_reference_scores_full_marks(stage_id):
    results = grade(reference_namespace(stage_id), stage_id)
    for r in results.values():
        assert r.score == r.max_points, feedback(r)
    assert any(g.visibility == "hidden" for r in results.values() for g in r.graders)


@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_untouched_release_scores_zero(stage_id):
    results = grade(load_namespace(notebook(ASSIGNMENTS, stage_id)), stage_id)
    for r in results.values():
        assert not r.incomplete, feedback(r)  # graded, not crashed
        assert r.graders and r.score == 0, feedback(r)
        assert "NotImplementedError" in feedback(r)


@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_each_stage_has_at_least_five_mutants(stage_id):
    assert len(mutants(stage_id)) >= 5


@pytest.mark.parametrize("mutant", mutants(), ids=lambda m: m.id)
def test_mutant_loses_points_and_is_named(mutant):
    results = grade(reference_namespace(mutant.stage, mutant.source), mutant.stage)
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
VARIANTS = Path(__file__).parent / "variants"


def _variants() -> list[Path]:
    return sorted(VARIANTS.glob("*/*.py"))


@pytest.mark.parametrize("variant", _variants(), ids=lambda p: f"{p.parent.name[:2]}-{p.stem}")
def test_correct_variant_scores_full_marks(variant):
    stage_id = variant.parent.name
    results = grade(reference_namespace(stage_id, variant.read_text()), stage_id)
    for item_id, r in results.items():
        assert r.score == r.max_points, f"{variant.name} is correct but lost points on {item_id}\n{feedback(r)}"
