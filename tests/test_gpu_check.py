"""`make gpu-check` (benchmarks/gpu_check.py): on a machine without CUDA it refuses plainly.

On a GPU machine the script itself is the check (minutes of training and grading, run by hand,
figures in the issue note); here it must say that it needs one and run nothing, not pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="with CUDA the script trains and grades for minutes")
def test_without_cuda_the_gpu_check_says_so_and_fails():
    ran = subprocess.run([sys.executable, "benchmarks/gpu_check.py"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "needs a GPU machine; nothing was run" in ran.stdout


def test_the_make_target_runs_the_script():
    makefile = (REPO / "Makefile").read_text()
    assert "gpu-check: $(STAMP)\n\t$(BIN)/python benchmarks/gpu_check.py" in makefile
