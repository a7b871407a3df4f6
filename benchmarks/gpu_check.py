"""``make gpu-check``: everything in the kit that needs a GPU, in one short run that prints figures.

    .venv/bin/python benchmarks/gpu_check.py [--minutes 5]

On a machine with CUDA it runs, each step under its share of the time budget:

1. every CUDA-marked test (``pytest -m gpu``) and stage 07's CUDA graders (tests/test_training_stage.py);
2. stage 07's reference translator trained on the GPU in mixed precision (float16 autocast and a
   GradScaler) until the public valid split reaches BLEU 90 (benchmarks/train_translation.py);
3. the KV-cache decoding benchmark on CUDA, when stage 08's benchmark exists (benchmarks/kv_cache.py);
4. hardened grading (``python -m autograder grade``) of stage 07's reference with its checkpoint:
   the sandboxed worker is given the GPU, so the CUDA graders run there and must pass.

Without CUDA it says so and exits 2 (nothing is faked: the checks need the device). The exit status
is 0 only when every step passed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
STAGE_07 = "07_training"


def _run(name: str, cmd: list[str], timeout: float) -> tuple[bool, str, float]:
    print(f"\n== {name}: {' '.join(cmd[1:] if cmd[0] == PY else cmd)}", flush=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        out, ok = proc.stdout + proc.stderr, proc.returncode == 0
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        out, ok = out + f"\n(stopped after {timeout:.0f} s)", False
    took = time.perf_counter() - start
    print("\n".join(out.strip().splitlines()[-12:]))
    print(f"-> {'passed' if ok else 'FAILED'} in {took:.1f} s", flush=True)
    return ok, out, took


def _pytest_figures(out: str) -> str:
    found = re.findall(r"(\d+) (passed|failed|skipped|error)", out)
    return ", ".join(f"{n} {what}" for n, what in found) or "no summary"


def _hardened_on_gpu(timeout: float) -> tuple[bool, str, float]:
    """Grade stage 07's reference (notebook + checkpoint) in the sandbox; the CUDA graders must run and pass."""
    sys.path.insert(0, str(REPO / "tests"))
    import hardened_kit as hk

    root = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    try:
        hk.write(root / "class", "reference", STAGE_07, hk.notebook(STAGE_07))
        for extra in (REPO / "tests" / "handin" / STAGE_07).iterdir():
            if extra.is_file():
                shutil.copyfile(extra, root / "class" / "reference" / STAGE_07 / extra.name)
        ok, out, took = _run("hardened grading with the GPU in the sandbox",
                             [PY, "-m", "autograder", "grade", str(root / "class"), "--out", str(root / "out"),
                              "--no-gradebook", "--quiet", "--jobs", "1"], timeout)
        result = next((root / "out").rglob("results.json"), None)
        if result is None:
            return False, out + "\nno results.json", took
        tests = json.loads(result.read_text())["tests"]
        cuda = [t for t in tests if "cuda" in t.get("name", "").lower()]
        passed = [t for t in cuda if t.get("score", 0) >= t.get("max_score", 0) > 0]
        line = f"CUDA graders in the sandbox: {len(cuda)} ran, {len(passed)} passed"
        print(line)
        return ok and bool(cuda) and len(passed) == len(cuda), out + "\n" + line, took
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5.0, help="time budget of the whole check")
    args = p.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(f"No CUDA device here (torch {torch.__version__}, CUDA build: {torch.backends.cuda.is_built()}): "
              "`make gpu-check` needs a GPU machine; nothing was run.")
        return 2
    budget = 60 * args.minutes
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} device(s): "
          f"{torch.cuda.get_device_name(0)}; budget {budget:.0f} s")
    start = time.perf_counter()
    results: list[tuple[str, bool, str]] = []

    ok, out, took = _run("CUDA-marked tests and stage 07's CUDA graders",
                         [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_training_stage.py", "-rs"],
                         0.25 * budget)
    results.append(("CUDA tests", ok, f"{_pytest_figures(out)} in {took:.0f} s"))
    ok, out, took = _run("every test marked gpu", [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
                                                   "tests"], 0.2 * budget)
    results.append(("pytest -m gpu", ok, f"{_pytest_figures(out)} in {took:.0f} s"))

    ok, out, took = _run("stage 07: mixed-precision training to BLEU 90",
                         [PY, "benchmarks/train_translation.py", "--device", "cuda", "--amp", "--no-compare",
                          "--threads", "2", "--max-minutes", f"{0.3 * budget / 60:.2f}", "--eval-every", "50"],
                         0.35 * budget)
    reached = re.search(r"reached BLEU ([\d.]+) .* after (\d+) steps: ([\d.]+) s of training", out)
    results.append(("stage 07 on CUDA + AMP", ok, f"BLEU {reached[1]} after {reached[2]} steps, {reached[3]} s"
                    if reached else "BLEU 90 not reached"))

    if (REPO / "benchmarks" / "kv_cache.py").is_file():
        ok, out, took = _run("stage 08: KV-cache decoding on CUDA",
                             [PY, "benchmarks/kv_cache.py", "--device", "cuda", "--threads", "1"], 0.15 * budget)
        speed = re.findall(r"speed-up ([\d.]+x)", out)
        results.append(("KV cache on CUDA", ok, f"speed-up {', '.join(speed)} (the sizes in kv_cache.py)"
                        if speed else f"{took:.0f} s"))

    left = max(30.0, budget - (time.perf_counter() - start))
    ok, out, took = _hardened_on_gpu(left)
    results.append(("hardened grading, GPU in the sandbox", ok, out.strip().splitlines()[-1]))

    print(f"\nGPU check ({torch.cuda.get_device_name(0)}), {time.perf_counter() - start:.0f} s in all:")
    for name, ok, figures in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:38s} {figures}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
