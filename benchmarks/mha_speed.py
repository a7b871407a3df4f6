"""Speed of the reference MultiHeadAttention, and of the hidden graders of stages 04-06.

    .venv/bin/python benchmarks/mha_speed.py [--repeats 21] [--threads 2]

1. Forward + backward of stage 04's reference MultiHeadAttention (the solution notebook's class,
   on stage 03's reference attention) against ``nn.MultiheadAttention`` with the same weights (the
   graders' trusted block, which calls PyTorch's own attention, is printed as a baseline), at
   batch 32, length 128, d_model 256, 8 heads. The runs alternate (ours, PyTorch's, ours, ...)
   so that a busy machine slows both alike; the figure is the median of the per-pair ratios.
   PyTorch is called returning the per-head weights (``average_attn_weights=False``), the same
   work as ours; its fused path without weights
   (``need_weights=False``) is printed for context. Goal: ≤ 1.5×.
2. Wall and CPU time of grading each stage's reference with public and hidden graders (what
   ``nbgrader autograde`` runs per notebook), median of a few runs after one warm-up, with
   ``--threads`` torch threads and with one. Goal: < 10 s on 2 cores. The graders' models are
   tiny, so on a busy machine a second torch thread mostly adds wake-up waits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import registry  # noqa: E402
from autograder.graders import blocks  # noqa: E402
from autograder.notebook import load_namespace  # noqa: E402
from autograder.runner import run_items  # noqa: E402
from autograder.student import LocalStudent  # noqa: E402

B, T, D, H = 32, 128, 256, 8


def reference_namespace(stage_id: str) -> dict:
    ns = load_namespace(REPO / "solutions" / stage_id / registry.stage(stage_id).notebook)
    if stage_id == "04_multi_head_attention":  # the notebook carries stage 03's function forward
        ns["scaled_dot_product_attention"] = reference_namespace("03_scaling_and_masking")["scaled_dot_product_attention"]
    return ns


def _copy_into_nn(ours: nn.Module) -> nn.MultiheadAttention:
    theirs = nn.MultiheadAttention(D, H, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.w_q.bias, ours.w_k.bias, ours.w_v.bias]))
        theirs.out_proj.weight.copy_(ours.w_o.weight)
        theirs.out_proj.bias.copy_(ours.w_o.bias)
    return theirs


def _step(fn, x) -> float:
    start = time.perf_counter()
    out = fn(x)
    out.square().mean().backward()
    return time.perf_counter() - start


def mha_ratio(cls, repeats: int) -> tuple[float, float, float, float]:
    torch.manual_seed(0)
    ours = cls(D, H).train()
    theirs = _copy_into_nn(ours).train()
    x = torch.randn(B, T, D, requires_grad=True)
    with torch.no_grad():
        same = torch.allclose(ours(x, x, x)[0], theirs(x, x, x, need_weights=False)[0], atol=1e-5)
    assert same, "the two modules do not compute the same thing"
    runs = {
        "ours": lambda z: ours(z, z, z)[0],
        "nn_weights": lambda z: theirs(z, z, z, need_weights=True, average_attn_weights=False)[0],
        "nn_fused": lambda z: theirs(z, z, z, need_weights=False)[0],
    }
    for fn in runs.values():  # warm-up
        _step(fn, x)
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for k, fn in runs.items():
            times[k].append(_step(fn, x))
    ratio = statistics.median(o / n for o, n in zip(times["ours"], times["nn_weights"]))
    ratio_fused = statistics.median(o / n for o, n in zip(times["ours"], times["nn_fused"]))
    return ratio, ratio_fused, statistics.median(times["ours"]), statistics.median(times["nn_weights"])


def grading_time(stage_id: str, repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds; CPU time is what a busy machine does not inflate."""
    ns = reference_namespace(stage_id)
    items = [i.id for i in registry.items_of(stage_id)]
    run_items(LocalStudent(ns), items, hidden=True)  # warm-up: imports, first calls
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        results = run_items(LocalStudent(ns), items, hidden=True)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert all(r.score == r.max_points for r in results), f"the reference of {stage_id} lost points"
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--threads", type=int, default=2, help="torch threads and CPU cores to use (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > args.threads:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cores} cores")
    print(f"\nMultiHeadAttention forward + backward, batch {B}, length {T}, d_model {D}, {H} heads "
          f"(median of {args.repeats} alternating runs)")
    for label, cls in [("reference (solution notebook)", reference_namespace("04_multi_head_attention")["MultiHeadAttention"]),
                       ("trusted block (PyTorch's own attention: a baseline)", blocks.MultiHeadAttention)]:
        ratio, ratio_fused, ours, theirs = mha_ratio(cls, args.repeats)
        verdict = "meets" if ratio <= 1.5 else "misses"
        print(f"  {label:30s} {ours * 1e3:7.1f} ms vs nn.MultiheadAttention {theirs * 1e3:7.1f} ms: "
              f"ratio {ratio:.2f}x ({verdict} the 1.5x goal); vs its fused path without weights {ratio_fused:.2f}x")
    print(f"\nGrading the reference with public and hidden graders (median of {max(3, args.repeats // 7)} runs)")
    for threads in sorted({args.threads, 1}, reverse=True):  # tiny models: thread wake-ups cost more than they save
        torch.set_num_threads(threads)
        for stage in ("04_multi_head_attention", "05_positional_encoding", "06_encoder_decoder"):
            wall, cpu = grading_time(stage, max(3, args.repeats // 7))
            print(f"  {stage:28s} {threads} torch thread(s): {wall:6.2f} s wall, {cpu:6.2f} s CPU  "
                  f"({'under' if wall < 10 else 'OVER'} the 10 s goal)")
    print(f"\nload average while measuring: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
