"""Forward + backward of stage 08's reference GPT against an equal model of PyTorch's layers (goal: >= 0.9x).

    python benchmarks/gpt_speed.py [--threads 2] [--steps 20] [--repeat 3]

The course model is the reference notebook's GPT (solutions/08_decoder_only) on trusted stage 03-06
blocks (stage 03's attention is einsum + softmax; stage 06's LayerNorm is nn.LayerNorm); the PyTorch one
is ``lm_checkpoint.make_trusted_gpt`` (nn.TransformerEncoderLayer(norm_first=True, gelu) with a causal
mask, tied head), the model the checkpoint grader scores with. Same sizes, same batch; the figure is
PyTorch's time divided by the course model's (1.0 = as fast).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "datasets"))

from autograder.graders import lm_checkpoint as lmc  # noqa: E402
from kv_cache import reference_gpt  # noqa: E402


def step_time(model, idx, steps):
    """Seconds per forward+backward, averaged over ``steps`` after 3 warm-up steps."""
    model.train()

    def one():
        out = model(idx)
        logits = out[0] if isinstance(out, tuple) else out
        logits.float().square().mean().backward()

    for _ in range(3):
        one()
    start = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - start) / steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of --steps steps each; the fastest is printed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    GPT = reference_gpt()
    for cfg in (dict(vocab_size=204, d_model=64, num_heads=4, num_layers=2, d_ff=256, max_len=32),
                dict(vocab_size=204, d_model=128, num_heads=4, num_layers=4, d_ff=512, max_len=64)):
        torch.manual_seed(0)
        ours = GPT(**cfg, dropout=0.0)
        theirs = lmc.make_trusted_gpt(cfg)
        idx = torch.randint(0, cfg["vocab_size"], (32, cfg["max_len"]))
        # rounds of each in turn, the fastest round of each: what the code costs, not the machine's noise
        a = b = float("inf")
        for _ in range(args.repeat):
            a, b = min(a, step_time(ours, idx, args.steps)), min(b, step_time(theirs, idx, args.steps))
        print(f"d_model {cfg['d_model']}, {cfg['num_layers']} blocks, batch 32 x {cfg['max_len']}: course GPT "
              f"{a * 1e3:.1f} ms, PyTorch layers {b * 1e3:.1f} ms per forward+backward: {b / a:.2f}x PyTorch's speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
