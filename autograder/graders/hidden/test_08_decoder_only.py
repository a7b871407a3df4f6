"""Hidden graders of stage 08: other sizes, float32, a long cache, three layers, the hidden test split.

Live, independent oracles: stage 04's nn.MultiheadAttention oracle with a causal mask for the attention
(the cached call must give the last rows of the full one), nn.TransformerEncoderLayer(norm_first=True,
gelu) for blocks and models (gpt_oracles.block_reference / gpt_reference), F.cross_entropy for the loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from autograder.graders import lm_checkpoint as lmc
from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, fail
from autograder.graders import blocks
from autograder.graders import gpt_oracles as o
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as tr
from autograder.graders.hidden.lm_seed import TEST_SEED, TEST_SIZE
from autograder.graders.module_checks import TORCH, expect_parameters, load

import course_data


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


def _pair(got, what):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise fail("fail.gpt_pair", what=what, got=type(got).__name__, hint="hint.gpt_returns")
    return got


def _detach(cache):
    if isinstance(cache, (tuple, list)):
        return type(cache)(_detach(c) for c in cache)
    return cache.detach() if isinstance(cache, torch.Tensor) else cache


@grader("causal_self_attention", "csa.cache")
def test_csa_long_cache_against_nn_mha(student):
    d, h, past, new = 8, 2, 9, 3
    shapes = _shapes(blocks.CausalSelfAttention(d, h))
    m = student.build("CausalSelfAttention", d, h, 0.0, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, shapes, hint="hint.csa_parameters")
    state = o.gpt_weights(shapes, 900)
    load(m, state)
    x = t.randn(1, past + new, d, seed=901)
    full, _ = tr.mha_reference(state, x, x, x, t.causal(past + new), h)  # nn.MultiheadAttention, causal
    _, cache = _pair(m(x[:, :past]), "forward(x[:, :9])")
    y, _ = _pair(m(x[:, past:], _detach(cache)), "forward(x[:, 9:], cache)")
    expect_array(y, full[:, past:], phrase("3 new tokens after a cache of 9 (against nn.MultiheadAttention on all 12)"),
                 **TORCH, hint="hint.csa_cache")


@grader("mlp", "mlp.oracle")
def test_mlp_float32(student):
    m = student.build("MLP", 6, 10, 0.0, trusted=blocks.FOR_GPT_BLOCK)
    shapes = _shapes(blocks.MLP(6, 10))
    expect_parameters(m, shapes, hint="hint.mlp")
    state = o.gpt_weights(shapes, 902)
    load(m, state, dtype=torch.float32)
    x = 3 * t.randn(4, 3, 6, seed=903)
    want = F.linear(F.gelu(F.linear(x, state["linear1.weight"], state["linear1.bias"])),
                    state["linear2.weight"], state["linear2.bias"])
    expect_array(m(x.float()), want, phrase("MLP(6, 10) of a float32 input"), **TORCH, dtype=torch.float32, rtol=1e-4,
                 atol=1e-5, hint="hint.mlp")


@grader("gpt_block", "block.oracle")
def test_block_other_sizes(student):
    d, h, ff = 16, 4, 24
    shapes = _shapes(blocks.GPTBlock(d, h, ff))
    m = student.build("GPTBlock", d, h, ff, 0.0, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, shapes, hint="hint.block")
    state = o.gpt_weights(shapes, 904)
    load(m, state)
    x = t.randn(3, 7, d, seed=905)
    y, _ = _pair(m(x), phrase("GPTBlock(16, 4, 24)'s forward(x)"))
    expect_array(y, o.block_reference(state, x, h), phrase("GPTBlock(16, 4, 24) on (3, 7, 16)"), **TORCH, hint="hint.block")


def _gpt(student, v, d, h, n, ff, max_len, seed):
    shapes = {"tok_emb.weight": (v, d), "pos_emb.weight": (max_len, d), "ln_f.weight": (d,), "ln_f.bias": (d,)}
    for i in range(n):
        shapes.update({f"blocks.{i}.{k}": s for k, s in _shapes(blocks.GPTBlock(d, h, ff)).items()})
    m = student.build("GPT", v, d, h, n, ff, max_len, 0.0, trusted=blocks.FOR_GPT)
    expect_parameters(m, shapes, hint="hint.gpt_parameters")
    state = o.gpt_weights(shapes, seed)
    load(m, {**state, "head.weight": state["tok_emb.weight"]})
    return m, state


@grader("gpt", "gpt.cache")
def test_gpt_three_layers_prompt_then_tokens(student):
    v, d, h, n, ff, max_len = 9, 8, 2, 3, 16, 10
    m, state = _gpt(student, v, d, h, n, ff, max_len, 906)
    idx = torch.randint(0, v, (2, max_len), generator=t.gen(907))  # up to max_len exactly: no error
    logits, cache = _pair(m(idx[:, :4]), phrase("forward(prompt of 4)"))
    steps = [logits]
    for i in range(4, max_len):
        logits, cache = _pair(m(idx[:, i:i + 1], _detach(cache)), phrase("forward(one token, cache)"))
        steps.append(logits)
    expect_array(torch.cat(steps, -2), o.gpt_reference(state, idx, h, n),
                 phrase("a prompt of 4, then 6 tokens one at a time, up to max_len = 10 (3 blocks)"), **TORCH,
                 hint="hint.gpt_cache")


@grader("lm_loss", "lmloss.oracle")
def test_lm_loss_float32_other_pad(student):
    logits = t.randn(2, 5, 7, seed=908).float()
    idx = torch.tensor([[0, 3, 6, 2, 5], [1, 4, 5, 5, 5]])  # pad_id = 5: the last two targets of row 1
    want = F.cross_entropy(logits[:, :-1].double().reshape(-1, 7), idx[:, 1:].reshape(-1), ignore_index=5)
    expect_array(student.function("lm_loss")(logits, idx, 5), want, phrase("lm_loss of float32 logits with pad_id = 5"),
                 **TORCH, rtol=1e-4, atol=1e-5, hint="hint.lm_loss")


SV = 5
TABLE = [[0.5, 2.0, 1.5, -1.0, 0.0], [1.0, 0.0, 0.2, 2.5, 0.9], [0.3, 0.1, 0.2, 0.4, 2.2],
         [1.9, 1.8, -0.5, 0.0, 0.6], [0.0, 0.0, 0.0, 0.0, 3.0]]


@grader("sample", "sample.top_p")
def test_sample_top_k_and_top_p(student):
    # top_k=3 keeps {1, 2, 0}: renormalized over those three, 0.55, 0.33, 0.12. top_p=0.7 keeps 1 and 2 (2 crosses
    # 0.7); top_p=0.52 keeps 1 alone, where the probabilities of all five tokens (0.50 for token 1: no
    # renormalization, or top-p before top-k) would keep 1 and 2
    logits = torch.tensor(TABLE[0], dtype=torch.float64)
    kept = logits.masked_fill(logits < logits.topk(3).values[-1], float("-inf"))
    for seed, top_p, what in ((11, 0.7, phrase("top_k=3 and top_p=0.7")), (13, 0.52, phrase("top_k=3 and top_p=0.52"))):
        model = student.trusted_object(blocks.BigramModel, TABLE, False)
        gen = student.trusted_object(blocks._seeded_generator, seed)
        got = student.function("sample")(model, torch.zeros(1500, 1, dtype=torch.long), 1, top_k=3, top_p=top_p,
                                         generator=gen)
        want = o.top_p_support(kept.softmax(-1), top_p)
        support = torch.zeros(SV, dtype=torch.bool).index_fill(0, got[:, -1].long().unique(), True)
        if not torch.equal(support, want):
            raise fail("fail.sample_support", what=what, got=str(support.nonzero().flatten().tolist()),
                       expected=str(want.nonzero().flatten().tolist()), hint="hint.sample_order")


@grader("sample", "sample.temperature")
def test_sample_hot_temperature(student):
    model = student.trusted_object(blocks.BigramModel, TABLE, False)
    gen = student.trusted_object(blocks._seeded_generator, 12)
    got = student.function("sample")(model, torch.full((6000, 1), 3, dtype=torch.long), 1, temperature=2.0,
                                     generator=gen)
    freq = torch.bincount(got[:, -1].long(), minlength=SV).double() / 6000
    want = (torch.tensor(TABLE[3], dtype=torch.float64) / 2.0).softmax(-1)
    expect_array(freq, want, phrase("the frequencies of 6,000 draws at temperature 2"), **TORCH, atol=0.03, rtol=0.0,
                 hint="hint.sample_temperature")


def _test_split() -> list[str]:
    return [es for _, es in course_data.make_test_split(TEST_SEED, TEST_SIZE)]


@grader("lm_checkpoint", "lmckpt.test_bigram")
def test_lm_checkpoint_hidden_bigram(student):
    lmc.expect_perplexity(lmc.submitted_path(), "test", "bigram", "lmckpt.bigram", _test_split())


@grader("lm_checkpoint", "lmckpt.test_threshold", weight=2)
def test_lm_checkpoint_hidden_threshold(student):
    lmc.expect_perplexity(lmc.submitted_path(), "test", lmc.THRESHOLD, "lmckpt.threshold", _test_split())
