"""Train stage 08's reference GPT on the course's Spanish sentences and print the figures its grading uses.

    python benchmarks/train_gpt.py                      # train (600 steps), print times and perplexities
    python benchmarks/train_gpt.py --save tests/handin/08_decoder_only/gpt.safetensors --half

Prints: training time on this machine for ``--steps`` steps, the checkpoint's perplexity on the public
valid split and on the hidden test split (as the trusted grader computes it, from the saved file) against
the graded threshold (lm_checkpoint.THRESHOLD), and the unigram / bigram baselines. Run it with a few
``--steps`` values to see the CPU time to the threshold (300 steps reach it: docs/architecture.md). The model is the
reference notebook's GPT (solutions/08_decoder_only) on trusted stage 03-06 blocks, trained exactly as
the notebook's train_lm does.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "datasets"))

from autograder.graders import lm_checkpoint as lmc  # noqa: E402
from autograder.graders import blocks  # noqa: E402
from autograder.notebook import load_namespace  # noqa: E402


def reference():
    ns = load_namespace(ROOT / "solutions" / "08_decoder_only" / "decoder_only.ipynb")
    ns.update(blocks.STAGE_04)  # the carried-forward pieces of stages 03-04 and 06
    ns["LayerNorm"] = blocks.LayerNorm
    return ns


def unigram_perplexity(train, sentences):
    v = len(lmc._vocab())
    counts = torch.ones(v, dtype=torch.float64)
    for s in train:
        for b in lmc.encode([s])[0].tolist()[1:]:
            counts[b] += 1
    logp = (counts / counts.sum()).log()
    nll = n = 0
    for s in sentences:
        for b in lmc.encode([s])[0].tolist()[1:]:
            nll -= float(logp[b])
            n += 1
    return math.exp(nll / n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the notebook's TRAIN_STEPS)")
    parser.add_argument("--save", type=Path, help="write the checkpoint here")
    parser.add_argument("--half", action="store_true", help="save in float16 (the tests' small checkpoint)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ns = reference()
    steps = args.steps or ns["TRAIN_STEPS"]
    start = time.perf_counter()
    model, losses = ns["train_lm"](steps)
    seconds = time.perf_counter() - start
    print(f"trained {steps} steps ({ns['DEVICE']}, {torch.get_num_threads()} threads) in {seconds:.1f} s; "
          f"last loss {sum(losses[-20:]) / 20:.3f}")
    path = args.save or Path(tempfile.mkdtemp()) / lmc.CHECKPOINT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != "head.weight"}
    if args.half:
        state = {k: v.half() for k, v in state.items()}
    from safetensors.torch import save_file

    save_file(state, str(path), metadata={"config": json.dumps(ns["CONFIG"])})
    from autograder.graders.hidden.lm_seed import TEST_SEED, TEST_SIZE
    import course_data

    test = [es for _, es in course_data.make_test_split(TEST_SEED, TEST_SIZE)]
    valid, train = lmc.spanish("valid"), lmc.spanish("train")
    ppl_valid, ppl_test = lmc.evaluate(path, "valid", valid), lmc.evaluate(path, "test", test)
    print(f"checkpoint {path} ({path.stat().st_size / 1024:.0f} kB): perplexity valid {ppl_valid:.3f}, "
          f"hidden test {ppl_test:.3f}; threshold {lmc.THRESHOLD}")
    print(f"baselines: bigram valid {lmc.bigram_perplexity(train, valid):.3f}, test {lmc.bigram_perplexity(train, test):.3f}; "
          f"unigram valid {unigram_perplexity(train, valid):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
