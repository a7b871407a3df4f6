"""Public graders of stage 08: causal self-attention with a KV cache, the GELU MLP, the pre-LN block,
the GPT model, the next-token loss, sampling and the trained language model.

Oracles (graders/gpt_oracles.py, float64): PyTorch's nn.TransformerEncoderLayer(norm_first=True,
activation="gelu") with a causal mask is a GPT block; the model is built from those layers with a head
tied to the token embedding; the cache is checked against a full recompute, and its shapes. Sampling is
graded on a trusted bigram model (blocks.BigramModel, made where the student's code runs) with a seeded
generator: greedy chains, top-k / top-p support sets, frequencies over thousands of draws.

Every item runs the student's new class on trusted building blocks (blocks.FOR_GPT_BLOCK, FOR_GPT):
stage 03-04's attention pieces, stage 06's LayerNorm and the classes of the items before it.
"""

from __future__ import annotations

import torch

from autograder.graders import lm_checkpoint as lmc
from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, expect_shape, fail
from autograder.graders import blocks
from autograder.graders import gpt_oracles as o
from autograder.graders import torch_oracles as t
from autograder.graders import training_oracles as readers
from autograder.graders.module_checks import (
    TORCH,
    changed,
    dropout_shows,
    expect_dropout,
    expect_dropout_inside,
    expect_parameters,
    expect_raises,
    expect_submodules,
    in_training,
    load,
)

B, T, D, H, FF, N, V, MAX_LEN = 2, 6, 12, 3, 20, 2, 11, 16  # batch, length, d_model, heads, d_ff, layers, vocab
DK = D // H
DT = torch.float64


def _shapes(module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


def _x(*shape, seed):
    return t.randn(*shape, seed=seed)


def _detach(cache):
    if isinstance(cache, (tuple, list)):
        return type(cache)(_detach(c) for c in cache)
    return cache.detach() if isinstance(cache, torch.Tensor) else cache


def _pair(got, what):
    """``got`` must be a pair (output, cache); returns it."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise fail("fail.gpt_pair", what=what, got=type(got).__name__, hint="hint.gpt_returns")
    return got


def _kv(cache, shape, what):
    """``cache`` must be a pair (k, v) of tensors of ``shape``."""
    if not isinstance(cache, (tuple, list)) or len(cache) != 2 or not all(isinstance(c, torch.Tensor) for c in cache):
        raise fail("fail.gpt_cache_type", what=what, hint="hint.csa_cache")
    for name, c in zip("kv", cache):
        expect_shape(c, shape, phrase("{name} of {what}", name=name, what=what), **TORCH, hint="hint.csa_cache")


# --- CausalSelfAttention -----------------------------------------------------------------------------
CSA_SHAPES = _shapes(blocks.CausalSelfAttention(D, H))


def _csa(student, dropout=0.0, seed=800):
    m = student.build("CausalSelfAttention", D, H, dropout, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, CSA_SHAPES, hint="hint.csa_parameters")
    state = o.gpt_weights(CSA_SHAPES, seed)
    load(m, state)
    return m, state


@grader("causal_self_attention", "csa.parameters")
def test_csa_parameters(student):
    m = student.build("CausalSelfAttention", D, H, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, CSA_SHAPES, hint="hint.csa_parameters")
    expect_submodules(m, {"w_q": "Linear", "w_k": "Linear", "w_v": "Linear", "w_o": "Linear", "dropout": "Dropout"})
    expect_raises(lambda: student.build("CausalSelfAttention", 10, 3, trusted=blocks.FOR_GPT_BLOCK), "ValueError",
                  "CausalSelfAttention(10, 3)", hint="hint.csa_parameters")


@grader("causal_self_attention", "csa.oracle", weight=2)
def test_csa_oracle(student):
    m, state = _csa(student)
    x = _x(B, T, D, seed=801)
    y, cache = _pair(m(x), phrase("CausalSelfAttention's forward(x)"))
    expect_array(y, o.causal_attention(state, x, H)[0], phrase("y of forward(x) without a cache"), **TORCH,
                 hint="hint.csa_mask", diagnoses={"why.gpt_no_causal": lambda: o.causal_attention(state, x, H, causal=False)[0]})


@grader("causal_self_attention", "csa.cache_shapes")
def test_csa_cache_shapes(student):
    m, state = _csa(student, seed=802)
    x = _x(B, T, D, seed=803)
    _, cache = _pair(m(x), phrase("CausalSelfAttention's forward(x)"))
    _kv(cache, (B, H, T, DK), phrase("the cache returned for x (batch 2, T 6)"))
    _, k, v = o.causal_attention(state, x, H)
    expect_array(cache[0], k, phrase("the cached keys: split_heads(w_k(x))"), **TORCH, hint="hint.csa_cache")
    expect_array(cache[1], v, phrase("the cached values: split_heads(w_v(x))"), **TORCH, hint="hint.csa_cache")


@grader("causal_self_attention", "csa.cache", weight=2)
def test_csa_cache(student):
    m, state = _csa(student, seed=804)
    x = _x(B, T, D, seed=805)
    past = 4
    _, cache = _pair(m(x[:, :past]), "forward(x[:, :4])")
    _kv(cache, (B, H, past, DK), phrase("the cache after 4 tokens"))
    y, cache2 = _pair(m(x[:, past:], _detach(cache)), "forward(x[:, 4:], cache)")
    _kv(cache2, (B, H, T, DK), phrase("the cache after 4 + 2 tokens (past and new keys)"))
    k0, v0 = o.causal_attention(state, x[:, :past], H)[1:]  # the oracle's cache of the first 4 tokens
    f = lambda **kw: (lambda: o.causal_attention(state, x[:, past:], H, (k0, v0), **kw)[0])  # noqa: E731
    expect_array(y, o.causal_attention(state, x[:, past:], H, (k0, v0))[0],
                 phrase("y for 2 new tokens after a cache of 4 (the new queries are positions 4 and 5)"), **TORCH,
                 hint="hint.csa_cache", diagnoses={"why.cache_no_offset": f(offset=False),
                                                   "why.cache_attend_before_append": f(attend_before_append=True)})


@grader("causal_self_attention", "csa.causality")
def test_csa_causality(student):
    m, _ = _csa(student, seed=806)
    x = _x(B, T, D, seed=807)
    x2 = x.clone()
    x2[:, 3:] = _x(B, T - 3, D, seed=808)
    y, _ = _pair(m(x), "forward(x)")
    y2, _ = _pair(m(x2), "forward(x)")
    expect_array(y2[:, :3], y[:, :3], phrase("y at positions 0..2 after changing positions 3..5"), **TORCH, hint="hint.csa_mask")


@grader("causal_self_attention", "csa.dropout")
def test_csa_dropout(student):
    x = _x(B, T, D, seed=809)
    state = o.gpt_weights(CSA_SHAPES, 810)

    def build(p):
        m = student.build("CausalSelfAttention", D, H, p, trusted=blocks.FOR_GPT_BLOCK)
        load(m, state)
        return m

    out = lambda m: _pair(m(x), "forward(x)")[0]  # noqa: E731
    expect_dropout(build, out, o.causal_attention(state, x, H)[0], "CausalSelfAttention")
    # w_o's weight zeroed: the output is w_o's bias whatever dropout does to the weights; dropout after w_o shows
    m = build(0.5)
    load(m, {**state, "w_o.weight": torch.zeros(D, D, dtype=DT)})
    expect_dropout_inside(m, out, state["w_o.bias"], "CausalSelfAttention",
                          phrase("on the attention weights, before they weigh v"))
    # w_v's weight zeroed (every value is w_v's bias) and w_o the identity: dropout on the weights scales each
    # head's part of that bias as a whole (the dropped weights' share); dropout on v drops single entries of it
    m = build(0.5)
    load(m, {**state, "w_v.weight": torch.zeros(D, D, dtype=DT), "w_o.weight": torch.eye(D, dtype=DT),
             "w_o.bias": torch.zeros(D, dtype=DT)})
    heads = in_training(m, out).reshape(B, T, H, DK)
    bias = state["w_v.bias"].reshape(H, DK)
    share = (heads * bias).sum(-1, keepdim=True) / (bias * bias).sum(-1, keepdim=True)
    if changed(heads, share * bias, atol=1e-9):
        raise fail("fail.csa_dropout_place", hint="hint.csa_dropout")


# --- MLP -------------------------------------------------------------------------------------------
MLP_SHAPES = _shapes(blocks.MLP(D, FF))


def _mlp(student, dropout=0.0, seed=820):
    m = student.build("MLP", D, FF, dropout, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, MLP_SHAPES, hint="hint.mlp")
    state = o.gpt_weights(MLP_SHAPES, seed)
    load(m, state)
    return m, state


@grader("mlp", "mlp.parameters")
def test_mlp_parameters(student):
    m = student.build("MLP", D, FF, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, MLP_SHAPES, hint="hint.mlp")
    expect_submodules(m, {"linear1": "Linear", "linear2": "Linear", "dropout": "Dropout"})


@grader("mlp", "mlp.oracle", weight=2)
def test_mlp_oracle(student):
    m, state = _mlp(student)
    x = 2 * _x(B, T, D, seed=821)
    expect_array(m(x), o.mlp(state, x), phrase("MLP(12, 20) of x"), **TORCH, hint="hint.mlp",
                 diagnoses={"why.mlp_relu": lambda: o.mlp(state, x, relu=True)})


@grader("mlp", "mlp.dropout")
def test_mlp_dropout(student):
    x = _x(B, T, D, seed=822)
    state = o.gpt_weights(MLP_SHAPES, 823)

    def build(p):
        m = student.build("MLP", D, FF, p, trusted=blocks.FOR_GPT_BLOCK)
        load(m, state)
        return m

    expect_dropout(build, lambda m: m(x), o.mlp(state, x), "MLP")
    # linear2's weight zeroed: the output is linear2's bias, unless dropout acts on the output (GPT-2's place)
    m = build(0.5)
    load(m, {**state, "linear2.weight": torch.zeros(D, FF, dtype=DT)})
    m.train()
    torch.manual_seed(0)
    got = m(x)
    if not changed(got, state["linear2.bias"].expand_as(got)):
        raise fail("fail.mlp_dropout_place", hint="hint.mlp")


# --- GPTBlock ----------------------------------------------------------------------------------------
BLOCK_SHAPES = _shapes(blocks.GPTBlock(D, H, FF))


def _block(student, dropout=0.0, seed=830):
    m = student.build("GPTBlock", D, H, FF, dropout, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, BLOCK_SHAPES, hint="hint.block")
    state = o.gpt_weights(BLOCK_SHAPES, seed)
    load(m, state)
    return m, state


@grader("gpt_block", "block.parameters")
def test_block_parameters(student):
    m = student.build("GPTBlock", D, H, FF, trusted=blocks.FOR_GPT_BLOCK)
    expect_parameters(m, BLOCK_SHAPES, hint="hint.block")
    expect_submodules(m, {"ln1": "LayerNorm", "attn": "CausalSelfAttention", "ln2": "LayerNorm", "mlp": "MLP",
                          "dropout": "Dropout"})


@grader("gpt_block", "block.oracle", weight=2)
def test_block_oracle(student):
    m, state = _block(student)
    x = _x(B, T, D, seed=831)
    y, _ = _pair(m(x), phrase("GPTBlock's forward(x)"))
    expect_array(y, o.block_reference(state, x, H), phrase("the block's output (against nn.TransformerEncoderLayer, "
                 "norm_first=True, GELU, causal)"), **TORCH, hint="hint.block",
                 diagnoses={"why.post_ln": lambda: o.block(state, x, H, post_ln=True)[0]})


@grader("gpt_block", "block.cache")
def test_block_cache(student):
    m, state = _block(student, seed=832)
    x = _x(B, T, D, seed=833)
    y1, cache = _pair(m(x[:, :5]), "forward(x[:, :5])")
    _kv(cache, (B, H, 5, DK), phrase("the block's cache after 5 tokens"))
    y2, cache = _pair(m(x[:, 5:], _detach(cache)), "forward(x[:, 5:], cache)")
    _kv(cache, (B, H, T, DK), phrase("the block's cache after 5 + 1 tokens"))
    expect_array(torch.cat([y1, y2], -2), o.block_reference(state, x, H),
                 phrase("5 tokens, then 1 with the cache, against all 6 at once"), **TORCH, hint="hint.block_cache")


@grader("gpt_block", "block.dropout")
def test_block_dropout(student):
    x = _x(B, T, D, seed=834)
    state = o.gpt_weights(BLOCK_SHAPES, 835)

    def build(p):
        m = student.build("GPTBlock", D, H, FF, p, trusted=blocks.FOR_GPT_BLOCK)
        load(m, state)
        return m

    out = lambda m: _pair(m(x), "forward(x)")[0]  # noqa: E731
    expect_dropout(build, out, o.block_reference(state, x, H), "GPTBlock")
    # the attention's w_o weight and the MLP's linear2 zeroed: the attention branch adds w_o's bias, the MLP 0, so
    # with dropout 0.5 on the branch every entry of y - x is 0 or 2 * bias, and some are 0
    m = build(0.5)
    load(m, {**state, "attn.w_o.weight": torch.zeros(D, D, dtype=DT), "mlp.linear2.weight": torch.zeros(D, FF, dtype=DT),
             "mlp.linear2.bias": torch.zeros(D, dtype=DT)})
    added, bias = in_training(m, out) - x, state["attn.w_o.bias"].expand(B, T, D)
    on_branch = ((added.abs() < 1e-9) | ((added - 2 * bias).abs() < 1e-9)).all() and changed(added, bias)
    if not on_branch:
        raise fail("fail.block_dropout_place", hint="hint.block")


# --- GPT -----------------------------------------------------------------------------------------------
def _model_shapes(v=V, d=D, h=H, n=N, d_ff=FF, max_len=MAX_LEN):
    shapes = {"tok_emb.weight": (v, d), "pos_emb.weight": (max_len, d), "ln_f.weight": (d,), "ln_f.bias": (d,)}
    for i in range(n):
        shapes.update({f"blocks.{i}.{k}": s for k, s in _shapes(blocks.GPTBlock(d, h, d_ff)).items()})
    return shapes


MODEL_SHAPES = _model_shapes()
MODEL_DIAGNOSES = {"why.untied_head": lambda got: "head.weight" in got and set(got) - {"head.weight"} == set(MODEL_SHAPES)}


def _model(student, seed=840, dropout=0.0):
    m = student.build("GPT", V, D, H, N, FF, MAX_LEN, dropout, trusted=blocks.FOR_GPT)
    expect_parameters(m, MODEL_SHAPES, hint="hint.gpt_parameters", diagnoses=MODEL_DIAGNOSES)
    state = o.gpt_weights(MODEL_SHAPES, seed)
    load(m, {**state, "head.weight": state["tok_emb.weight"]})
    return m, state


def _idx(seed, b=B, n=T, v=V):
    return torch.randint(0, v, (b, n), generator=t.gen(seed))


@grader("gpt", "gpt.parameters")
def test_gpt_parameters(student):
    m = student.build("GPT", V, D, H, N, FF, MAX_LEN, trusted=blocks.FOR_GPT)
    expect_parameters(m, MODEL_SHAPES, hint="hint.gpt_parameters", diagnoses=MODEL_DIAGNOSES)
    expect_submodules(m, {"tok_emb": "Embedding", "pos_emb": "Embedding", "drop": "Dropout", "blocks": "ModuleList",
                          "ln_f": "LayerNorm", "head": "Linear"})
    state = m.state_dict()
    if "head.weight" not in state or changed(state["head.weight"], state["tok_emb.weight"], atol=0.0):
        raise fail("fail.gpt_untied", hint="hint.gpt_tied", why="why.untied_head")


@grader("gpt", "gpt.oracle", weight=2)
def test_gpt_oracle(student):
    m, state = _model(student)
    idx = _idx(850)
    logits, cache = _pair(m(idx), phrase("GPT's forward(idx)"))
    expect_array(logits, o.gpt_reference(state, idx, H, N), phrase("the logits of forward(idx) (against a model of "
                 "PyTorch's layers with a tied head)"), **TORCH, hint="hint.gpt_forward",
                 diagnoses={"why.pos_after_blocks": lambda: o.gpt(state, idx, H, N, pos_after_blocks=True)[0]})
    if not isinstance(cache, (list, tuple)) or len(cache) != N:
        raise fail("fail.gpt_cache_list", n=N, hint="hint.gpt_cache")
    for i, kv in enumerate(cache):
        _kv(kv, (B, H, T, DK), phrase("block {i}'s part of the cache", i=i))


@grader("gpt", "gpt.cache", weight=2)
def test_gpt_cache(student):
    m, state = _model(student, seed=841)
    idx = _idx(851)
    cache, steps = None, []
    for i in range(T):
        logits, cache = _pair(m(idx[:, i:i + 1], cache), phrase("forward(one token, cache)"))
        cache = _detach(cache)
        steps.append(logits)
    expect_array(torch.cat(steps, -2), o.gpt_reference(state, idx, H, N),
                 phrase("the logits of feeding 6 tokens one at a time with the cache, against all at once"), **TORCH,
                 hint="hint.gpt_cache",
                 diagnoses={"why.cache_positions_restart": lambda: o.gpt_stepwise(state, idx, H, N, restart_positions=True)})


@grader("gpt", "gpt.max_len")
def test_gpt_max_len(student):
    m, _ = _model(student, seed=842)
    expect_raises(lambda: m(_idx(852, b=1, n=MAX_LEN + 1)), "ValueError",
                  phrase("forward on {n} tokens with max_len = {max_len}", n=MAX_LEN + 1, max_len=MAX_LEN), hint="hint.gpt_max_len")
    _, cache = _pair(m(_idx(853, b=1, n=MAX_LEN - 1)), phrase("forward on {n} tokens", n=MAX_LEN - 1))
    expect_raises(lambda: m(_idx(854, b=1, n=2), _detach(cache)), "ValueError",
                  phrase("forward on 2 tokens after a cache of {n} (max_len = {max_len})", n=MAX_LEN - 1, max_len=MAX_LEN), hint="hint.gpt_max_len")


@grader("gpt", "gpt.causality")
def test_gpt_causality(student):
    m, _ = _model(student, seed=843)
    idx = _idx(855)
    idx2 = idx.clone()
    idx2[:, 4:] = (idx2[:, 4:] + 3) % V
    a, _ = _pair(m(idx), "forward(idx)")
    b, _ = _pair(m(idx2), "forward(idx)")
    expect_array(b[:, :4], a[:, :4], phrase("the logits at positions 0..3 after changing tokens 4..5"), **TORCH,
                 hint="hint.gpt_forward")


@grader("gpt", "gpt.dropout")
def test_gpt_dropout(student):
    idx = _idx(856)
    state = o.gpt_weights(MODEL_SHAPES, 844)

    def build(p):
        m = student.build("GPT", V, D, H, N, FF, MAX_LEN, p, trusted=blocks.FOR_GPT)
        load(m, {**state, "head.weight": state["tok_emb.weight"]})
        return m

    out = lambda m: _pair(m(idx), "forward(idx)")[0]  # noqa: E731
    expect_dropout(build, out, o.gpt_reference(state, idx, H, N), "GPT")
    # every block made the identity (the attention's w_o and the MLP's linear2 zeroed, so even their own dropout
    # adds 0): only GPT's own drop can make training mode differ; then ln_f's weight zeroed too (ln_f outputs its
    # bias whatever comes in): a drop on the embeddings no longer shows, one after ln_f does
    quiet = {**state, "head.weight": state["tok_emb.weight"]}
    for i in range(N):
        for name, shape in ((f"blocks.{i}.attn.w_o.weight", (D, D)), (f"blocks.{i}.attn.w_o.bias", (D,)),
                            (f"blocks.{i}.mlp.linear2.weight", (D, FF)), (f"blocks.{i}.mlp.linear2.bias", (D,))):
            quiet[name] = torch.zeros(shape, dtype=DT)
    for weights, must_change, key in ((quiet, True, "fail.gpt_dropout_missing"),
                                      ({**quiet, "ln_f.weight": torch.zeros(D, dtype=DT)}, False, "fail.gpt_dropout_place")):
        m = build(0.5)
        load(m, weights)
        if dropout_shows(m, out) != must_change:
            raise fail(key, hint="hint.gpt_forward")


# --- lm_loss ------------------------------------------------------------------------------------------
def _loss_inputs(seed, b=3, n=7, v=V, pad_rows=((1, 5), (2, 3))):
    logits = 2 * t.randn(b, n, v, seed=seed)
    idx = torch.randint(4, v, (b, n), generator=t.gen(seed + 1))
    for row, start in pad_rows:
        idx[row, start:] = 0
    return logits, idx


@grader("lm_loss", "lmloss.oracle", weight=2)
def test_lm_loss_oracle(student):
    logits, idx = _loss_inputs(860)
    got = student.function("lm_loss")(logits, idx, 0)
    expect_array(got, o.lm_loss(logits, idx, 0), phrase("lm_loss(logits, idx, pad_id=0) with padded rows"), **TORCH,
                 hint="hint.lm_loss", diagnoses={"why.loss_not_shifted": lambda: o.lm_loss(logits, idx, 0, shifted=False),
                                                 "why.loss_pad_included": lambda: o.lm_loss(logits, idx, 0, count_pad=True)})


@grader("lm_loss", "lmloss.no_pad")
def test_lm_loss_no_pad(student):
    logits, idx = _loss_inputs(862, pad_rows=())
    idx[0, 3] = idx[1, 1] = idx[2, 2] = idx[2, 5] = 0  # a token 0 is an ordinary target when pad_id is None
    got = student.function("lm_loss")(logits, idx)
    expect_array(got, o.lm_loss(logits, idx), phrase("lm_loss(logits, idx) with pad_id=None (every target counts)"), **TORCH,
                 hint="hint.lm_loss", diagnoses={"why.loss_not_shifted": lambda: o.lm_loss(logits, idx, shifted=False),
                                                 "why.loss_none_pad": lambda: o.lm_loss(logits, idx, 0)})


@grader("lm_loss", "lmloss.shift")
def test_lm_loss_shift(student):
    # logits that put all their mass on the NEXT token: the loss is (nearly) 0 only with the shift
    idx = torch.tensor([[4, 7, 5, 9, 6]])
    logits = torch.full((1, 5, V), -30.0, dtype=DT)
    logits[0, torch.arange(4), idx[0, 1:]] = 30.0
    got = student.function("lm_loss")(logits, idx, 0)
    expect_array(got, o.lm_loss(logits, idx, 0), phrase("the loss of logits that predict each next token with certainty"),
                 **TORCH, hint="hint.lm_loss", atol=1e-6,
                 diagnoses={"why.loss_not_shifted": lambda: o.lm_loss(logits, idx, 0, shifted=False)})


# --- sample ---------------------------------------------------------------------------------------
SV = 6  # the bigram model's vocabulary
TABLE = torch.tensor([[2.0, 1.2, 0.3, -0.5, 0.9, -1.0],
                      [0.1, -0.4, 2.2, 1.1, -2.0, 0.0],
                      [-1.0, 0.5, 0.0, 1.7, 0.4, 1.5],
                      [1.0, 1.0, -0.2, -1.5, 2.4, 0.3],
                      [0.2, 2.6, 1.4, 0.1, -0.6, -0.3],
                      [1.3, -0.9, 0.6, 0.8, 0.2, 1.9]])


def _bigram(student, training=True):
    return student.trusted_object(blocks.BigramModel, TABLE.tolist(), training)


def _sample(student, model, prompt, n, seed=0, **kw):
    gen = student.trusted_object(blocks._seeded_generator, seed)
    got = student.function("sample")(model, prompt, n, generator=gen, **kw)
    expect_shape(got, (prompt.shape[0], prompt.shape[1] + n), phrase("the returned tokens"), **TORCH, hint="hint.sample")
    if not torch.equal(got[:, :prompt.shape[1]].long(), prompt):
        raise fail("fail.sample_prompt", hint="hint.sample")
    return got.long()


def _draws(student, first, n_rows, seed, **kw):
    """The first new token of ``n_rows`` rows that all end in ``first``: (n_rows,)."""
    prompt = torch.full((n_rows, 1), first, dtype=torch.long)
    return _sample(student, _bigram(student), prompt, 1, seed=seed, **kw)[:, -1]


def _support(tokens):
    return torch.zeros(SV, dtype=torch.bool).index_fill(0, tokens.unique(), True)


def _shown(mask):
    return "{" + ", ".join(str(i) for i in torch.nonzero(mask).flatten().tolist()) + "}"


@grader("sample", "sample.greedy", weight=2)
def test_sample_greedy(student):
    prompt = torch.tensor([[3, 0], [5, 2], [1, 4]])
    model = _bigram(student, training=False)
    got = _sample(student, model, prompt, 5, temperature=0)
    want = [list(r) for r in prompt.tolist()]
    for row in want:
        for _ in range(5):
            row.append(int(TABLE[row[-1]].argmax()))
    expect_array(got, torch.tensor(want), phrase("the tokens of temperature=0 (greedy: the argmax at every step)"),
                 **TORCH, hint="hint.sample_greedy")
    modes = [c["training"] for c in model.read(readers.calls_of) if c.get("event") == "mode"]
    if modes and modes[-1]:
        raise fail("fail.sample_mode_left_train", hint="hint.sample_cache")


@grader("sample", "sample.cache")
def test_sample_cache(student):
    model = _bigram(student, training=True)
    prompt = torch.tensor([[3, 0, 1], [5, 2, 2]])
    _sample(student, model, prompt, 4, seed=1)
    calls = model.read(readers.calls_of)
    forwards = [c for c in calls if c.get("event") == "forward"]
    steps = [(c["tokens"], c["past"]) for c in forwards]
    expected = [(3, 0)] + [(1, 3 + i) for i in range(3)]
    if steps not in (expected, expected + [(1, 6)]):
        raise fail("fail.sample_cache", got=steps[:6], expected=expected, hint="hint.sample_cache")
    if any(c["grad"] for c in forwards):
        raise fail("fail.sample_grad", hint="hint.sample_cache")
    if any(c["training"] for c in forwards):
        raise fail("fail.sample_train_mode", hint="hint.sample_cache")
    modes = [c["training"] for c in calls if c.get("event") == "mode"]
    if modes and not modes[-1]:
        raise fail("fail.sample_mode_left", hint="hint.sample_cache")


@grader("sample", "sample.top_k")
def test_sample_top_k(student):
    got = _draws(student, 3, 1500, seed=2, top_k=3)
    want = torch.zeros(SV, dtype=torch.bool).index_fill(0, TABLE[3].topk(3).indices, True)
    if not torch.equal(_support(got), want):
        raise fail("fail.sample_support", what="top_k=3", got=_shown(_support(got)), expected=_shown(want),
                   hint="hint.sample_filters")


@grader("sample", "sample.top_p")
def test_sample_top_p(student):
    probs = TABLE[0].double().softmax(-1)  # 0.47, 0.21, 0.16, 0.09, ...: p = 0.6 is crossed by the second token
    got = _draws(student, 0, 1500, seed=3, top_p=0.6)
    want = o.top_p_support(probs, 0.6)
    if not torch.equal(_support(got), want):
        why = "why.top_p_drops_crossing" if torch.equal(_support(got), o.top_p_support(probs, 0.6, keep_crossing=False)) else None
        raise fail("fail.sample_support", what="top_p=0.6", got=_shown(_support(got)), expected=_shown(want),
                   hint="hint.sample_filters", why=why)
    # at temperature 0.5 the first token alone holds 0.74: the nucleus is taken after the temperature
    hot = (TABLE[0].double() / 0.5).softmax(-1)
    got = _draws(student, 0, 1500, seed=5, top_p=0.6, temperature=0.5)
    want = o.top_p_support(hot, 0.6)
    if not torch.equal(_support(got), want):
        raise fail("fail.sample_support", what="top_p=0.6, temperature=0.5", got=_shown(_support(got)),
                   expected=_shown(want), hint="hint.sample_order")


def _frequencies(tokens):
    return torch.bincount(tokens, minlength=SV).double() / len(tokens)


@grader("sample", "sample.temperature", weight=2)
def test_sample_temperature(student):
    # 6,000 seeded draws: each frequency is within 0.03 of its probability by more than 5 standard deviations
    draws = _draws(student, 2, 6000, seed=4, temperature=0.5)
    if not torch.equal(_draws(student, 2, 6000, seed=4, temperature=0.5), draws):
        raise fail("fail.sample_not_seeded", hint="hint.sample_temperature")
    if torch.equal(_draws(student, 2, 6000, seed=40, temperature=0.5), draws):
        raise fail("fail.sample_seed_ignored", hint="hint.sample_temperature")
    got = _frequencies(draws)
    want = (TABLE[2].double() / 0.5).softmax(-1)
    after = TABLE[2].double().softmax(-1)
    expect_array(got, want, phrase("the frequencies of 6,000 draws at temperature 0.5 (against softmax(logits / 0.5))"),
                 **TORCH, atol=0.03, rtol=0.0, hint="hint.sample_temperature",
                 diagnoses={"why.temperature_after_softmax": lambda: after})


# --- lm_checkpoint ---------------------------------------------------------------------------------
SAVE_CONFIG = dict(vocab_size=V, d_model=D, num_heads=H, num_layers=1, d_ff=FF, max_len=MAX_LEN, dropout=0.1)


@grader("lm_checkpoint", "lmckpt.save", weight=2)
def test_save_lm(student):
    import json
    import tempfile
    from pathlib import Path

    from safetensors.torch import load_file

    from autograder import checkpoint as ckpt
    from autograder.catalogue import text
    from autograder.failures import Evidence, GraderFailure

    want = {k: v.float() for k, v in o.gpt_weights(_model_shapes(n=1), 870).items()}
    model = student.trusted_object(blocks._gpt_for_saving, SAVE_CONFIG, want)
    path = student.trusted_object(readers.writable_path, lmc.CHECKPOINT_NAME)  # a fresh folder where their code runs
    student.function("save_lm")(model, path, dict(SAVE_CONFIG))
    written = path.read(readers.take_file)  # the file's bytes (None: no file), read back here
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / lmc.CHECKPOINT_NAME
        if written is not None:
            local.write_bytes(written)
        try:
            got_config = ckpt.read_config(local, lmc.REQUIRED, missing_key="lmckpt.not_written")
        except ckpt.CheckpointError as exc:
            raise GraderFailure(exc.message, hint=text("hint.lmckpt_save")) from None
        state = load_file(str(local))
    if got_config != SAVE_CONFIG:
        raise fail("fail.ckpt_config", hint="hint.lmckpt_save",
                   evidence=Evidence(expected=json.dumps(SAVE_CONFIG), got=json.dumps(got_config)[:300]))
    missing = sorted(k for k in want if k not in state)
    if missing:
        raise fail("fail.ckpt_missing_tensors", names=", ".join(f"`{k}`" for k in missing[:4]), hint="hint.lmckpt_save")
    for k, v in want.items():
        expect_array(state[k], v, phrase("the saved tensor `{k}`", k=k), **TORCH, rtol=0, atol=0, hint="hint.lmckpt_save")


@grader("lm_checkpoint", "lmckpt.loads")
def test_lm_checkpoint_loads(student):
    lmc.loaded_model(lmc.submitted_path())


@grader("lm_checkpoint", "lmckpt.valid_bigram")
def test_lm_checkpoint_beats_bigram(student):
    lmc.expect_perplexity(lmc.submitted_path(), "valid", "bigram", "lmckpt.bigram")


@grader("lm_checkpoint", "lmckpt.valid_threshold")
def test_lm_checkpoint_threshold(student):
    lmc.expect_perplexity(lmc.submitted_path(), "valid", lmc.THRESHOLD, "lmckpt.threshold")
