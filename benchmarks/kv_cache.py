"""KV-cache decoding against full recompute for stage 08's reference GPT (goal: >= 5x on CPU at 256 tokens).

    python benchmarks/kv_cache.py [--tokens 256] [--threads 2] [--device cuda]

Generates greedily from a one-token prompt twice: with the cache (the prompt once, then one token per
call, as ``sample`` does) and recomputing the whole prefix at every step. Checks that both produce the
same tokens, and prints the times and the speed-up. The model is the reference notebook's GPT
(solutions/08_decoder_only) on trusted stage 03-06 blocks, in two sizes.
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

from autograder.graders import blocks  # noqa: E402
from autograder.notebook import load_namespace  # noqa: E402


def reference_gpt():
    ns = load_namespace(ROOT / "solutions" / "08_decoder_only" / "decoder_only.ipynb")
    ns.update(blocks.STAGE_04)
    ns["LayerNorm"] = blocks.LayerNorm
    return ns["GPT"]


@torch.no_grad()
def generate(model, n, cached):
    x = torch.zeros(1, 1, dtype=torch.long, device=next(model.parameters()).device)
    logits, cache = model(x)
    for _ in range(n):
        nxt = logits[:, -1:].argmax(-1)
        x = torch.cat([x, nxt], 1)
        logits, cache = model(nxt, cache) if cached else model(x)
    return x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (make gpu-check)")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    GPT = reference_gpt()
    for d, layers in ((64, 2), (128, 4)):
        torch.manual_seed(0)
        model = GPT(204, d, 4, layers, 4 * d, max_len=args.tokens + 1, dropout=0.0).eval().to(device)
        generate(model, 8, True)  # warm-up
        times = {}
        for cached in (True, False):
            start = time.perf_counter()
            out = generate(model, args.tokens, cached)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[cached] = (time.perf_counter() - start, out)
        same = torch.equal(times[True][1], times[False][1])
        print(f"{device.type}: d_model {d}, {layers} blocks, {args.tokens} new tokens: cache {times[True][0]:.2f} s, "
              f"full recompute {times[False][0]:.2f} s, speed-up {times[False][0] / times[True][0]:.1f}x "
              f"(same tokens: {same})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
