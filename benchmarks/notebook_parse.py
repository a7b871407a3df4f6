"""What the trusted process spends on the largest notebook and checkpoint hardened grading accepts.

    .venv/bin/python benchmarks/notebook_parse.py [--skip-checkpoint]

Each case runs in a fresh interpreter and prints its wall time and the growth of its peak memory
(ru_maxrss) over a bare interpreter with the same imports:

* notebooks at the bounds of ``batch.check_notebook`` (``MAX_CODE_CHARS`` of code in cells of
  ``MAX_CELL_CHARS``), written the three ways that cost most: one-line calls (parsed, then dropped),
  literal constants and small functions (parsed, kept, and parsed again by the static policy);
* the largest checkpoint ``checkpoint.MAX_PARAMETERS`` allows (the contract's default Transformer
  on the course vocabularies, random weights): decoded and translated under a 60 s budget, which
  shows the cut-off (``checkpoint.time_budget``) at work.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

NOTEBOOK_CASE = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from autograder import policy
from autograder.grading import batch
path = Path({path!r})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
data = path.read_bytes()
batch.check_notebook(path.name, data)
cells = batch.definition_cells(path)
source, starts = policy.source_of_cells(cells)
policy.violations(source, "softmax")
print(json.dumps({{"seconds": time.perf_counter() - t0,
                  "peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}}))
"""

CHECKPOINT_CASE = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import torch
from autograder import checkpoint
from autograder.graders import translation_bleu as bleu
from autograder.graders.training_oracles import Transformer
config = dict(checkpoint.DEFAULT_CONFIG, d_model=512, num_heads=8, num_layers=6, d_ff=2048)
assert checkpoint.parameter_count(config) <= checkpoint.MAX_PARAMETERS
torch.manual_seed(0)
model = Transformer(**{{k: config[k] for k in checkpoint.REQUIRED}}, dropout=0.0)
path = checkpoint.save(model, {path!r}, config)
del model
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
outcome = "graded"
with checkpoint.time_budget(60.0):
    try:
        bleu.evaluate(path, "valid")
    except checkpoint.CheckpointTimeout:
        outcome = "stopped by the budget"
print(json.dumps({{"seconds": time.perf_counter() - t0, "outcome": outcome,
                  "parameters": checkpoint.parameter_count(config), "file_mb": path.stat().st_size / 2**20,
                  "peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}}))
"""


def _notebook(line: str, folder: Path, name: str) -> Path:
    from autograder.grading import batch

    per_cell = batch.MAX_CELL_CHARS // len(line)
    cells, total, n = [], 0, 0
    while total + per_cell * len(line) <= batch.MAX_CODE_CHARS:
        src = "".join(line.format(i=n * per_cell + j) for j in range(per_cell))
        src = src[: batch.MAX_CELL_CHARS]
        cells.append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": src})
        total += len(src)
        n += 1
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _run(script: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-checkpoint", action="store_true", help="only the notebooks (seconds, not minutes)")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from autograder.grading import batch

    print(f"bounds: {batch.MAX_CELLS} cells, {batch.MAX_CELL_CHARS:,d} characters a cell, "
          f"{batch.MAX_CODE_CHARS:,d} characters of code")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, line in [("one-line calls", "f()\n"), ("literal constants", "x{i} = {i}\n"),
                           ("small functions", "def f{i}(x):\n    return x\n")]:
            path = _notebook(line, folder, name.replace(" ", "_"))
            r = _run(NOTEBOOK_CASE.format(repo=str(REPO), path=str(path)))
            print(f"notebook, {name:<18} {path.stat().st_size / 2**20:5.2f} MB  {r['seconds']:6.2f} s  "
                  f"peak +{r['peak_mb']:7.1f} MB")
        if not args.skip_checkpoint:
            r = _run(CHECKPOINT_CASE.format(repo=str(REPO), path=str(folder / "translator.safetensors")))
            print(f"checkpoint, {r['parameters']:,d} parameters ({r['file_mb']:.0f} MB): {r['seconds']:.1f} s, "
                  f"{r['outcome']}, peak +{r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
