"""The sandbox proxy is faithful: same engine, same graders, same scores as grading in-process.

The reference notebooks in solutions/ graded through the sandbox score full marks, and every
mutant in tests/mutants earns, check by check, exactly what it earns when its code runs in the
graders' own process (tests/test_graders_discriminate.py grades those). Stage 07's submissions
hand in the reference's checkpoint beside the notebook (tests/handin), as in process.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

import hardened_kit as hk
from kit import HANDIN, feedback, grade, mutants, reference_namespace
from autograder import batch, registry
from autograder.report import item_text
from autograder.runner import PUBLIC_DIR

GRADED_STAGES = [s.id for s in registry.STAGES
                 if (PUBLIC_DIR / s.grader_module).is_file() and (hk.SOLUTIONS / s.id / s.notebook).is_file()
                 and batch.sandbox_ready(s.id)]
MUTANTS = [m for m in mutants() if m.stage in GRADED_STAGES]


def _with_cell(stage_id: str, source: str) -> dict:
    """The reference notebook with ``source`` appended as a last code cell (as load_namespace's extra_source)."""
    nb = json.loads((hk.SOLUTIONS / stage_id / registry.stage(stage_id).notebook).read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})
    return nb


def _hand_in(root, student: str, stage_id: str) -> None:
    """The files the reference student hands in with the notebook (stage 07's checkpoint), beside it."""
    for path in sorted((HANDIN / stage_id).glob("*")) if (HANDIN / stage_id).is_dir() else ():
        shutil.copyfile(path, root / student / stage_id / path.name)


def test_stage_07_is_graded_in_the_sandbox():
    assert "07_training" in GRADED_STAGES


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The corpus graded twice: in the sandbox (a batch in a background thread, its slots in
    processes of their own) and, meanwhile, in this process (one torch thread: on two cores
    that is twice as fast)."""
    import torch

    root, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    for stage_id in GRADED_STAGES:
        nb = hk.SOLUTIONS / stage_id / registry.stage(stage_id).notebook
        hk.write(root, "reference", stage_id, nb.read_text())
        _hand_in(root, "reference", stage_id)
    for m in MUTANTS:
        hk.write(root, f"mutant_{m.path.stem}", m.stage, _with_cell(m.stage, m.source))
        _hand_in(root, f"mutant_{m.path.stem}", m.stage)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(batch.run, [root], out, jobs=2, gradebook=None, progress=False, log=lambda s: None)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            local = {m.id: grade(reference_namespace(m.stage, m.source), m.stage) for m in MUTANTS}
        finally:
            torch.set_num_threads(threads)
        report = future.result()
    assert not report.failed, [f"{o.key}: {o.error}" for o in report.failed]
    return out, local


@pytest.fixture(scope="module")
def sandboxed(graded):
    return graded[0]


@pytest.fixture(scope="module")
def in_process(graded):
    return graded[1]


@pytest.mark.slow
@pytest.mark.parametrize("stage_id", GRADED_STAGES)
def test_reference_solutions_score_full_marks_in_the_sandbox(sandboxed, stage_id):
    result = hk.result(sandboxed, "reference", stage_id)
    for r in result.items:
        assert r.score == r.max_points, item_text(r)
    assert any(g.visibility == "hidden" for r in result.items for g in r.graders)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_scores_the_same_as_in_process(sandboxed, in_process, mutant):
    if mutant.path.stem == "imported_block_decoder_layer":
        pytest.xfail("known defect (issue 10): a Decoder on a block's base scores 1.33/4 in process (runtime "
                     "refusal, one check) and 0/4 hardened (static policy, whole item)")
    local = in_process[mutant.id]
    remote = {r.item.id: r for r in hk.result(sandboxed, f"mutant_{mutant.path.stem}", mutant.stage).items}
    for item_id, here in local.items():
        there = remote[item_id]
        assert [(g.name, g.status) for g in there.graders] == [(g.name, g.status) for g in here.graders], (
            f"in-process:\n{feedback(here)}\nsandboxed:\n{item_text(there)}")
        assert there.score == here.score
        if item_id in mutant.loses:  # and the sandboxed feedback names the same misconception
            assert " ".join(mutant.expected_feedback.split()) in " ".join(item_text(there).split()), item_text(there)
