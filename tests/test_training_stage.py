"""Stage 07 beyond the three facts: GPU graders, and grading never needing the student's earlier stages."""

from __future__ import annotations

import pytest
import torch

from kit import reference_namespace
from autograder.runner import run_items
from autograder.student import LocalStudent

GPU_GRADERS = {"test_train_step_cuda", "test_greedy_cuda"}


@pytest.fixture(scope="module")
def reference_results():
    ns = reference_namespace("07_training")
    return {r.item.id: r for r in run_items(LocalStudent(ns), ["train_step", "greedy_decode"], hidden=False)}


def test_gpu_graders_run_with_cuda_and_are_skipped_without(reference_results):
    names = {g.name for r in reference_results.values() for g in r.graders}
    assert (GPU_GRADERS <= names) if torch.cuda.is_available() else not (GPU_GRADERS & names)
    assert all(g.passed for r in reference_results.values() for g in r.graders)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_graders_pass_the_reference_on_cuda(reference_results):
    passed = {g.name for r in reference_results.values() for g in r.graders if g.passed}
    assert GPU_GRADERS <= passed


def test_graded_code_runs_on_trusted_pieces_only():
    """Definitions only (as the graders load them): the carried-forward Transformer and masks are absent,
    and the graders supply trusted ones, so a broken stage 03 or 06 costs nothing here."""
    ns = reference_namespace("07_training")
    assert not {"Transformer", "causal_mask", "padding_mask"} & set(ns)
