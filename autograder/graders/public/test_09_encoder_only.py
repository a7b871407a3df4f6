"""Public graders of stage 09: BERT's embeddings, the encoder-only model, masked language modelling,
the tied MLM head and its loss, the sentence classifier, and the fine-tuned checkpoint.

Oracles (autograder.graders.bert_oracles): the slides' embedding sum with F.layer_norm, a stack of
nn.TransformerEncoderLayer (post-LN, dropout 0) given the same weights, F.gelu/F.linear with the
token table for the head, F.cross_entropy(ignore_index=-100) for the loss; mask_tokens by properties
with binomial bounds at fixed seeds. Every item runs the student's class on trusted blocks
(autograder.graders.blocks): their stage-06 LayerNorm and EncoderLayer, stage 03's padding mask,
and this stage's BertEmbeddings/BERT, so that one bug costs points in one item only.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from autograder import checkpoint as ckpt
from autograder.catalogue import phrase, text
from autograder.dsl import grader
from autograder.expect import expect_array, expect_shape, fail
from autograder.failures import Evidence, GraderFailure
from autograder.graders import bert_oracles as b
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import training_oracles as training
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import (
    TORCH,
    changed,
    expect_dropout,
    expect_dropout_inside,
    expect_parameters,
    expect_submodules,
    load,
)

B, T, D, H, FF, N, V, MAX_LEN = 2, 7, 12, 3, 20, 2, 23, 10  # batch, length, d_model, heads, d_ff, layers, vocab, max_len
PAD = 0
DT = torch.float64

# what the student's classes run on: this stage's blocks and stage 03's padding mask (a plain function,
# kept out of blocks.py, whose functions ship to students as recorded values)
FOR_BERT = {**blocks.FOR_BERT, "padding_mask": training.padding_mask}
FOR_BERT_HEADS = {**blocks.FOR_BERT_HEADS, "padding_mask": training.padding_mask}
FOR_BERT_EMBEDDINGS = blocks.FOR_BERT_EMBEDDINGS


def _shapes(module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


def _tokens(seed, b=B, n=T, vocab=V, lengths=None, pad=PAD):
    """(b, n) ids in 1..vocab-1 (never pad), padded with ``pad`` after lengths[row]."""
    toks = torch.randint(1, vocab, (b, n), generator=t.gen(seed))
    toks[toks == pad] = 1 if pad != 1 else 2
    for row, length in enumerate(lengths or []):
        toks[row, length:] = pad
    return toks


def _segments(b=B, n=T, split=(3, 4)):
    """(b, n): 0 up to split[row], 1 after, as for the two sentences of a pair."""
    seg = torch.zeros(b, n, dtype=torch.long)
    for row, s in enumerate(split[:b]):
        seg[row, s:] = 1
    return seg


# --- BertEmbeddings ------------------------------------------------------------------------------
EMB_SHAPES = _shapes(blocks.BertEmbeddings(V, D, MAX_LEN))
EMB_PARAMETER_DIAGNOSES = {"why.emb_no_segment": lambda got: "seg_emb.weight" not in got and "tok_emb.weight" in got,
                           "why.emb_no_norm": lambda got: "norm.weight" not in got and "tok_emb.weight" in got}


def _emb(student, dropout=0.0, seed=900):
    """The student's BertEmbeddings(V, D, MAX_LEN, 2, dropout) on trusted blocks, with seeded weights."""
    m = student.build("BertEmbeddings", V, D, MAX_LEN, 2, dropout, trusted=FOR_BERT_EMBEDDINGS)
    expect_parameters(m, EMB_SHAPES, hint="hint.emb_parameters", diagnoses=EMB_PARAMETER_DIAGNOSES)
    state = o.random_weights(EMB_SHAPES, seed)
    load(m, state)
    return m, state


def _emb_mistakes(state, tokens, segments):
    return {"why.emb_no_segment": lambda: b.embeddings(state, tokens, segments, segment=False),
            "why.emb_no_norm": lambda: b.embeddings(state, tokens, segments, norm=False)}


@grader("bert_embeddings", "emb.parameters")
def test_emb_parameters(student):
    m = student.build("BertEmbeddings", V, D, MAX_LEN, trusted=FOR_BERT_EMBEDDINGS)
    expect_parameters(m, EMB_SHAPES, hint="hint.emb_parameters", diagnoses=EMB_PARAMETER_DIAGNOSES)
    expect_submodules(m, {"tok_emb": "Embedding", "pos_emb": "Embedding", "seg_emb": "Embedding",
                          "norm": "LayerNorm", "dropout": "Dropout"})


@grader("bert_embeddings", "emb.oracle", weight=2)
def test_emb_oracle(student):
    m, state = _emb(student)
    tokens, segments = _tokens(901, lengths=[T, 5]), _segments()
    expect_array(m(tokens, segments), b.embeddings(state, tokens, segments),
                 phrase("BertEmbeddings(tokens, segments): LN(tok + pos + seg), (2, 7, 12)"), **TORCH, hint="hint.emb_sum",
                 diagnoses=_emb_mistakes(state, tokens, segments))


@grader("bert_embeddings", "emb.default_segments")
def test_emb_default_segments(student):
    m, state = _emb(student, seed=903)
    tokens = _tokens(904)
    expect_array(m(tokens), b.embeddings(state, tokens, torch.zeros_like(tokens)),
                 phrase("BertEmbeddings(tokens) without segments: every position in segment 0"), **TORCH,
                 hint="hint.emb_segments", diagnoses=_emb_mistakes(state, tokens, None))


@grader("bert_embeddings", "emb.positions")
def test_emb_positions_are_learned_and_start_at_zero(student):
    m, state = _emb(student, seed=905)
    tokens = _tokens(906, b=1, n=MAX_LEN)  # every position of the table
    expect_array(m(tokens), b.embeddings(state, tokens), phrase("the embeddings of a sequence of max_len = {max_len} tokens", max_len=MAX_LEN),
                 **TORCH, hint="hint.emb_sum", diagnoses=_emb_mistakes(state, tokens, None))
    # learned: the gradient reaches every row of the position table (a detached table trains nothing)
    _, _, grads = m.grad(tokens, grad_outputs=[t.randn(1, MAX_LEN, D, seed=908)])
    grad = grads.get("pos_emb.weight")
    if grad is None or (grad.abs().sum(-1) == 0).any():
        raise fail("fail.no_grad", what=phrase("every row of pos_emb.weight"), hint="hint.emb_sum")


@grader("bert_embeddings", "emb.dropout")
def test_emb_dropout(student):
    tokens, segments = _tokens(907), _segments()
    state = o.random_weights(EMB_SHAPES, 909)

    def build(p):
        m = student.build("BertEmbeddings", V, D, MAX_LEN, 2, p, trusted=FOR_BERT_EMBEDDINGS)
        load(m, state)
        return m

    expected = b.embeddings(state, tokens, segments)
    expect_dropout(build, lambda m: m(tokens, segments), expected, "BertEmbeddings")
    m = build(0.5)
    m.train()
    torch.manual_seed(0)
    got = m(tokens, segments)
    kept = got != 0  # dropout last: each entry is 0 or LN(...)/(1 - p)
    if not kept.any() or changed(got[kept], 2 * expected[kept], atol=1e-6):
        raise fail("fail.emb_dropout_place", hint="hint.emb_sum")


# --- BERT ----------------------------------------------------------------------------------------
BERT_SHAPES = _shapes(blocks.BERT(V, D, H, N, FF, MAX_LEN))


def _bert(student, n=N, seed=910, pad_id=PAD, dropout=0.0):
    m = student.build("BERT", V, D, H, n, FF, MAX_LEN, dropout, pad_id, trusted=FOR_BERT)
    shapes = _shapes(blocks.BERT(V, D, H, n, FF, MAX_LEN))
    expect_parameters(m, shapes, hint="hint.bert_parameters")
    state = o.random_weights(shapes, seed)
    load(m, state)
    return m, state


@grader("bert", "bert.parameters")
def test_bert_parameters(student):
    m = student.build("BERT", V, D, H, N, FF, MAX_LEN, trusted=FOR_BERT)
    expect_parameters(m, BERT_SHAPES, hint="hint.bert_parameters")
    expect_submodules(m, {"embeddings": "BertEmbeddings", "layers": "ModuleList"})


@grader("bert", "bert.oracle", weight=2)
def test_bert_oracle(student):
    m, state = _bert(student)
    tokens, segments = _tokens(911, lengths=[T, 4]), _segments()
    expect_array(m(tokens, segments), b.bert(state, tokens, segments, H, N),
                 phrase("the hidden states of a 2-layer BERT, (2, 7, 12), the second sentence padded after 4 tokens"),
                 **TORCH, hint="hint.bert_forward",
                 diagnoses={"why.bert_mask_ignored": lambda: b.bert(state, tokens, segments, H, N, use_mask=False)})


@grader("bert", "bert.padding")
def test_bert_padding(student):
    m, state = _bert(student, seed=913)
    tokens = _tokens(914, lengths=[5, 3])
    out, short = m(tokens), m(tokens[:, :5])  # the first sentence without its 2 [PAD], the second with 2 of 4
    expect_shape(short, (B, 5, D), phrase("the hidden states"), **TORCH, hint="hint.bert_forward")
    no_mask = lambda: b.bert(state, tokens[:, :5], None, H, N, use_mask=False)  # noqa: E731
    expect_array(short[0], out[0, :5], phrase("the states of a 5-token sentence with and without 2 [PAD] after it"),
                 **TORCH, hint="hint.bert_mask", diagnoses={"why.bert_mask_ignored": lambda: no_mask()[0]})
    expect_array(short[1, :3], out[1, :3], phrase("the states of a 3-token sentence with 2 and with 4 [PAD] after it"),
                 **TORCH, hint="hint.bert_mask", diagnoses={"why.bert_mask_ignored": lambda: no_mask()[1, :3]})


@grader("bert", "bert.pad_id")
def test_bert_pad_id(student):
    m, state = _bert(student, seed=916, pad_id=5)
    tokens = _tokens(917, lengths=[T, 4], pad=5)
    tokens[0, 2] = 0  # id 0 is an ordinary token for this model
    expect_array(m(tokens), b.bert(state, tokens, None, H, N, pad_id=5),
                 phrase("the hidden states of BERT(..., pad_id=5), where id 0 is a real token"), **TORCH,
                 hint="hint.bert_pad_id")


@grader("bert", "bert.pool")
def test_bert_pool(student):
    m, _ = _bert(student, seed=918)
    hidden = t.randn(B, T, D, seed=919)
    expect_array(m.call("pool", hidden), hidden[:, 0], phrase("pool(hidden): the state of [CLS], (batch, d_model)"), **TORCH,
                 hint="hint.bert_pool", diagnoses={"why.cls_last": lambda: hidden[:, -1],
                                                   "why.cls_mean": lambda: hidden.mean(1)})


@grader("bert", "bert.dropout")
def test_bert_dropout(student):
    tokens, segments = _tokens(920, lengths=[T, 5]), _segments()
    state = o.random_weights(BERT_SHAPES, 922)

    def build(p):
        m = student.build("BERT", V, D, H, N, FF, MAX_LEN, p, PAD, trusted=FOR_BERT)
        load(m, state)
        return m

    expect_dropout(build, lambda m: m(tokens, segments), b.bert(state, tokens, segments, H, N), "BERT")


# --- mask_tokens ---------------------------------------------------------------------------------
MASK_V, MASK_ID, SPECIALS = 30, 3, (0, 1, 2, 3)  # [PAD], [CLS], [SEP], [MASK]


def _corpus(seed, rows=128, width=64):
    """[CLS] w ... w [SEP] [PAD] ... rows of random lengths; words in 4..29."""
    g = t.gen(seed)
    toks = torch.randint(4, MASK_V, (rows, width), generator=g)
    lengths = torch.randint(width // 2, width + 1, (rows,), generator=g)
    for r, n in enumerate(lengths.tolist()):
        toks[r, 0], toks[r, n - 1] = 1, 2
        toks[r, n:] = 0
    return toks


def _mask(student, tokens, prob, seed, specials=SPECIALS, mask_id=MASK_ID, vocab=MASK_V):
    before = tokens.clone()
    generator = student.trusted_object(blocks._generator, seed)  # made where the student's code runs
    got = student.function("mask_tokens")(tokens, mask_id, vocab, specials, prob, generator)
    if not isinstance(got, tuple) or len(got) != 2:
        raise fail("fail.mask_pair", got=type(got).__name__, hint="hint.mask_contract")
    inputs, labels = got
    for what, x in ((phrase("the inputs"), inputs), (phrase("the labels"), labels)):
        expect_shape(x, tuple(tokens.shape), what, **TORCH, hint="hint.mask_contract")
        if x.dtype != torch.long:
            raise fail("fail.wrong_type", what=what, expected=phrase("int64 tensor"), got=phrase("{dtype} tensor", dtype=x.dtype),
                       hint="hint.mask_contract")
    if not torch.equal(tokens, before):
        raise fail("fail.mask_in_place", hint="hint.mask_contract")
    return inputs, labels


def _special(tokens, specials=SPECIALS):
    out = torch.zeros_like(tokens, dtype=torch.bool)
    for s in specials:
        out |= tokens == s
    return out


def _expect_count(got, n, p, what, why=None):
    """A count of Binomial(n, p) events at a fixed seed: within 6 standard deviations of n·p."""
    bound = b.binomial_bound(n, p)
    if abs(got - n * p) > bound:
        raise fail("fail.mask_rate", what=what, why=why, hint=None if why else "hint.mask_split",
                   evidence=Evidence(expected=phrase("{expected:.0f} ± {bound:.0f} of {n}", expected=n * p, bound=bound, n=n),
                                     got=phrase("{got} of {n}", got=got, n=n)))


@grader("mask_tokens", "mask.contract")
def test_mask_contract(student):
    tokens = _corpus(930, rows=4, width=12)
    _mask(student, tokens, 0.5, 931)


@grader("mask_tokens", "mask.specials")
def test_mask_never_specials(student):
    tokens = _corpus(932)
    inputs, labels = _mask(student, tokens, 0.5, 933)
    special = _special(tokens)
    if (labels != b.IGNORE).all():  # a copy of the tokens: nothing says which positions were chosen
        raise fail("fail.mask_labels_everywhere", hint="hint.mask_labels")
    touched = special & ((labels != b.IGNORE) | (inputs != tokens))
    if touched.any():
        raise fail("fail.mask_specials", n=int(touched.sum()), why="why.mask_specials",
                   evidence=Evidence(details=[f"ids {sorted(set(tokens[touched].tolist()))}"]))


@grader("mask_tokens", "mask.labels")
def test_mask_labels(student):
    tokens = _corpus(934)
    inputs, labels = _mask(student, tokens, 0.3, 935)
    chosen = labels != b.IGNORE
    if (labels[chosen] != tokens[chosen]).any():
        raise fail("fail.mask_labels_value", hint="hint.mask_labels")
    if ((inputs != tokens) & ~chosen).any():
        raise fail("fail.mask_labels_missing", n=int(((inputs != tokens) & ~chosen).sum()), hint="hint.mask_labels")


@grader("mask_tokens", "mask.rate")
def test_mask_rate(student):
    tokens = _corpus(936)
    n = int((~_special(tokens)).sum())
    for prob, seed in ((0.15, 937), (0.4, 938)):
        _, labels = _mask(student, tokens, prob, seed)
        _expect_count(int((labels != b.IGNORE).sum()), n, prob, phrase("the positions chosen at prob = {prob}", prob=prob))


@grader("mask_tokens", "mask.split", weight=2)
def test_mask_80_10_10(student):
    tokens = _corpus(939)
    inputs, labels = _mask(student, tokens, 0.5, 940)
    chosen = labels != b.IGNORE
    n = int(chosen.sum())
    words = MASK_V - len(SPECIALS)  # a random replacement is one of the 26 ordinary words
    masked = int((inputs[chosen] == MASK_ID).sum())
    replaced = chosen & (inputs != MASK_ID) & (inputs != tokens)
    if _special(inputs[replaced]).any():
        raise fail("fail.mask_random_special", hint="hint.mask_split")
    _expect_count(masked, n, 0.8, phrase("the chosen positions that became [MASK]"),
                  why="why.mask_no_8010" if masked == n else None)
    # a random word equals the original one time in 26: that counts as kept
    _expect_count(int(replaced.sum()), n, 0.1 * (1 - 1 / words), phrase("the chosen positions that got a random word"))
    _expect_count(n - masked - int(replaced.sum()), n, 0.1 + 0.1 / words, phrase("the chosen positions left unchanged"))
    # every ordinary word can be the random one: at prob = 1.0 about 600 positions get a random word, each word about
    # 23 times (one word missing by chance: less than 1e-9)
    inputs, labels = _mask(student, tokens, 1.0, 944)
    replaced = (labels != b.IGNORE) & (inputs != MASK_ID) & (inputs != tokens)
    missing = sorted(set(range(len(SPECIALS), MASK_V)) - set(inputs[replaced].tolist()))
    if missing:
        raise fail("fail.mask_random_words", n=len(missing), words=words, ids=missing, hint="hint.mask_split")


@grader("mask_tokens", "mask.seeded")
def test_mask_uses_the_generator(student):
    tokens = _corpus(941, rows=16, width=32)
    torch.manual_seed(1)
    first = _mask(student, tokens, 0.5, 942)
    torch.manual_seed(2)  # the global generator must not matter
    second = _mask(student, tokens, 0.5, 942)
    other = _mask(student, tokens, 0.5, 943)
    if not (torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])):
        raise fail("fail.mask_not_seeded", hint="hint.mask_generator")
    if torch.equal(first[1], other[1]):
        raise fail("fail.mask_fixed", hint="hint.mask_generator")


# --- MLMHead ---------------------------------------------------------------------------------------
HEAD_SHAPES = {"dense.weight": (D, D), "dense.bias": (D,), "norm.weight": (D,), "norm.bias": (D,),
               "decoder.weight": (V, D), "decoder.bias": (V,)}


def _table(seed, v=V, d=D):
    return t.randn(v, d, seed=seed) / d ** 0.5


def _head_shapes(d, v):
    return {"dense.weight": (d, d), "dense.bias": (d,), "norm.weight": (d,), "norm.bias": (d,),
            "decoder.weight": (v, d), "decoder.bias": (v,)}


def _head(student, seed=950, d=D, v=V, dtype=DT):
    """The student's MLMHead(d, v, embedding) on a trusted token table (v, d); returns (head, table handle, table)."""
    table = _table(seed + 1, v, d).to(dtype)
    emb = student.trusted_object(blocks._trusted_embedding, table)
    m = student.build("MLMHead", d, v, emb, trusted=blocks.FOR_LAYERS)
    expect_parameters(m, _head_shapes(d, v), hint="hint.mlm_parameters")
    return m, emb, table


@grader("mlm_head", "mlm.parameters")
def test_mlm_parameters(student):
    m, _, _ = _head(student)
    expect_submodules(m, {"dense": "Linear", "norm": "LayerNorm", "decoder": "Linear"})


@grader("mlm_head", "mlm.tied", weight=2)
def test_mlm_tied(student):
    m, emb, table = _head(student, seed=952)
    if changed(m.state_dict()["decoder.weight"], table):  # a new nn.Linear starts from its own random weight
        raise fail("fail.mlm_not_tied", what=phrase("decoder.weight right after MLMHead(d_model, vocab, embedding)"),
                   why="why.mlm_untied")
    new = o.random_weights(HEAD_SHAPES, 953)
    load(m, new)  # loading the head's weight must change the embedding table: they are one tensor
    if changed(emb.read(blocks._embedding_weight), new["decoder.weight"]):
        raise fail("fail.mlm_not_tied", what=phrase("the token embedding's weight after loading a new decoder.weight "
                   "into the head"), why="why.mlm_untied")
    # the embedding's parameter given new data (not copied into the old storage): the same parameter sees it, a
    # parameter of its own sharing the old storage (nn.Parameter(embedding.weight), .data = ...) does not
    fresh = _table(957)
    emb.read(blocks._rebind_embedding_weight, fresh)
    if changed(m.state_dict()["decoder.weight"], fresh):
        raise fail("fail.mlm_not_tied", what=phrase("decoder.weight after the embedding's parameter got new data"),
                   why="why.mlm_untied")


@grader("mlm_head", "mlm.oracle", weight=2)
def test_mlm_oracle(student):
    m, _, _ = _head(student, seed=954)
    state = o.random_weights(HEAD_SHAPES, 955)
    load(m, state)
    hidden = t.randn(B, T, D, seed=956)
    expect_array(m(hidden), b.mlm_head(state, hidden), phrase("the MLM logits, (2, 7, 23): LN(gelu(dense(h))) Eᵀ + b"),
                 **TORCH, hint="hint.mlm_forward",
                 diagnoses={"why.mlm_relu": lambda: b.mlm_head(state, hidden, activation="relu")})
    # the MLM loss trains the encoder: its gradient must reach the hidden states
    _, (grad,), _ = m.grad(hidden.clone().requires_grad_(True), grad_outputs=[t.randn(B, T, V, seed=957)])
    if grad is None or not changed(grad, torch.zeros_like(grad)):
        raise fail("fail.no_grad", what=phrase("the hidden states given to the head"), hint="hint.mlm_forward")


# --- mlm_loss ---------------------------------------------------------------------------------------
def _mlm_batch(seed, b_=3, n=6, v=V, chosen=((0, 1), (0, 4), (1, 2), (2, 0), (2, 5))):
    logits = t.randn(b_, n, v, seed=seed, scale=2.0)
    labels = torch.full((b_, n), b.IGNORE)
    targets = torch.randint(0, v, (len(chosen),), generator=t.gen(seed + 1))
    for (r, c), y in zip(chosen, targets.tolist()):
        labels[r, c] = y
    return logits, labels


def _loss_mistakes(logits, labels):
    return {"why.mlm_loss_all_positions": lambda: b.mistake_masked_cross_entropy(logits, labels, "all_positions"),
            "why.mlm_loss_all_positions#zero": lambda: b.mistake_masked_cross_entropy(logits, labels, "ignored_as_zero")}


@grader("mlm_loss", "mlmloss.masked_only", weight=2)
def test_mlm_loss_oracle(student):
    logits, labels = _mlm_batch(960)
    got = student.function("mlm_loss")(logits, labels)
    expect_array(got, b.masked_cross_entropy(logits, labels), phrase("mlm_loss(logits, labels) with 5 masked positions of 18"), **TORCH,
                 hint="hint.mlm_loss", diagnoses=_loss_mistakes(logits, labels))


@grader("mlm_loss", "mlmloss.gradient")
def test_mlm_loss_gradient(student):
    logits, labels = _mlm_batch(962)
    logits = logits.clone().requires_grad_(True)
    _, grads = student.function("mlm_loss").grad(logits, labels, grad_outputs=[torch.tensor(1.0, dtype=DT)])
    grad = grads[0]
    if grad is None:
        raise fail("fail.no_grad", what=phrase("the logits"), hint="hint.mlm_loss")
    ref = torch.autograd.grad(b.masked_cross_entropy(logits, labels), logits)[0]
    expect_array(grad, ref, phrase("the gradient of the loss with respect to the logits (0 where the label is -100)"),
                 **TORCH, hint="hint.mlm_loss",
                 diagnoses={"why.mlm_loss_all_positions": lambda: torch.autograd.grad(
                     b.mistake_masked_cross_entropy(logits, labels, "all_positions"), logits)[0],
                     "why.mlm_loss_all_positions#zero": lambda: torch.autograd.grad(
                         b.mistake_masked_cross_entropy(logits, labels, "ignored_as_zero"), logits)[0]})


# --- SentenceClassifier -----------------------------------------------------------------------------
CFG = dict(vocab_size=V, d_model=D, num_heads=H, num_layers=N, d_ff=FF, max_len=MAX_LEN, dropout=0.0, pad_id=PAD)
CLS_SHAPES = {**{f"bert.{k}": v for k, v in BERT_SHAPES.items()}, "classifier.weight": (2, D), "classifier.bias": (2,)}


def _classifier(student, dropout=0.0, seed=970, classes=2, cfg=CFG):
    bert = student.trusted_object(blocks._trusted_bert, {**cfg, "dropout": dropout})
    m = student.build("SentenceClassifier", bert, classes, dropout, trusted=FOR_BERT_HEADS)
    shapes = {**{f"bert.{k}": v for k, v in _shapes(blocks.BERT(**{**cfg, "dropout": 0.0})).items()},
              "classifier.weight": (classes, cfg["d_model"]), "classifier.bias": (classes,)}
    expect_parameters(m, shapes, hint="hint.cls_parameters")
    state = o.random_weights(shapes, seed)
    load(m, state)
    return m, state


@grader("sentence_classifier", "cls.parameters")
def test_cls_parameters(student):
    m, _ = _classifier(student)
    expect_submodules(m, {"classifier": "Linear", "dropout": "Dropout"})


@grader("sentence_classifier", "cls.oracle", weight=2)
def test_cls_oracle(student):
    m, state = _classifier(student, seed=971)
    tokens, segments = _tokens(972, lengths=[T, 4]), _segments()
    expect_array(m(tokens, segments), b.classifier(state, tokens, segments, H, N),
                 phrase("the logits of SentenceClassifier(bert, 2), (2, 2), from the state of [CLS]"), **TORCH,
                 hint="hint.cls_forward",
                 diagnoses={"why.cls_last": lambda: b.classifier(state, tokens, segments, H, N, position=-1),
                            "why.cls_last#real": lambda: torch.nn.functional.linear(
                                b.last_real_token(b.bert(o.sub(state, "bert."), tokens, segments, H, N), tokens, PAD),
                                state["classifier.weight"], state["classifier.bias"])})


@grader("sentence_classifier", "cls.dropout")
def test_cls_dropout(student):
    tokens = _tokens(974, lengths=[T, 5])
    shapes = CLS_SHAPES
    state = o.random_weights(shapes, 975)

    def build(p):
        bert = student.trusted_object(blocks._trusted_bert, {**CFG, "dropout": 0.0})  # dropout here is the head's
        m = student.build("SentenceClassifier", bert, 2, p, trusted=FOR_BERT_HEADS)
        load(m, state)
        return m

    expect_dropout(build, lambda m: m(tokens), b.classifier(state, tokens, None, H, N), "SentenceClassifier")
    # the classifier's weight zeroed: the logits are its bias whatever dropout does to h_[CLS]; dropout on the logits shows
    m = build(0.5)
    load(m, {**state, "classifier.weight": torch.zeros(2, D, dtype=DT)})
    expect_dropout_inside(m, lambda m: m(tokens), state["classifier.bias"], "SentenceClassifier",
                          phrase("on the state of [CLS], before the classifier"))


@grader("sentence_classifier", "cls.fine_tunes")
def test_cls_fine_tunes_bert(student):
    m, _ = _classifier(student, seed=976)
    tokens = _tokens(977, lengths=[T, 5])
    _, _, grads = m.grad(tokens, grad_outputs=[t.randn(B, 2, seed=978)])
    if not any(g is not None and changed(g, torch.zeros_like(g)) for k, g in grads.items() if k.startswith("bert.")):
        raise fail("fail.cls_frozen", hint="hint.cls_forward")


# --- the checkpoint ---------------------------------------------------------------------------------
def _valid():
    from course_data import agreement

    return agreement.PUBLIC_SEED * 10 + 1, agreement.SIZES["valid"]


@grader("agreement_checkpoint", "bert_ckpt.save", weight=2)
def test_save_classifier(student):
    from safetensors.torch import load_file

    config = {k: v for k, v in CFG.items() if k not in ("dropout", "pad_id")} | {"num_classes": 2}
    state = {k: v.float() for k, v in o.random_weights(CLS_SHAPES, 980).items()}
    model = student.trusted_object(blocks._trusted_classifier, {**CFG, "num_classes": 2}, state)
    path = student.trusted_object(training.writable_path, "classifier.safetensors")  # where their code runs
    student.function("save_classifier")(model, path, dict(config))
    written = path.read(training.take_file)  # the file's bytes (None: no file), read back here
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / "classifier.safetensors"
        if written is not None:
            local.write_bytes(written)
        try:
            got_config = b.read_config(local)
        except ckpt.CheckpointError as exc:
            raise GraderFailure(exc.message, hint=text("hint.bert_ckpt_save")) from None
        saved = load_file(str(local))
    if got_config != config:
        raise fail("fail.ckpt_config", hint="hint.bert_ckpt_save",
                   evidence=Evidence(expected=json.dumps(config), got=json.dumps(got_config)[:300]))
    if sorted(saved) != sorted(state):
        raise fail("fail.bert_ckpt_names", hint="hint.bert_ckpt_save",
                   evidence=Evidence(expected=", ".join(sorted(state)[:4]) + " …", got=", ".join(sorted(saved)[:4]) + " …"))
    for k, v in state.items():
        expect_array(saved[k], v, phrase("the saved tensor `{k}`", k=k), **TORCH, hint="hint.bert_ckpt_save")


@grader("agreement_checkpoint", "bert_ckpt.loads")
def test_ckpt_loads(student):
    b.load_classifier(b.submitted_path())


@grader("agreement_checkpoint", "bert_ckpt.valid_70")
def test_ckpt_valid_70(student):
    b.expect_accuracy(b.submitted_path(), *_valid(), 70, phrase("the public valid split"))


@grader("agreement_checkpoint", "bert_ckpt.valid_85")
def test_ckpt_valid_85(student):
    b.expect_accuracy(b.submitted_path(), *_valid(), 85, phrase("the public valid split"))


@grader("agreement_checkpoint", "bert_ckpt.valid_95")
def test_ckpt_valid_95(student):
    b.expect_accuracy(b.submitted_path(), *_valid(), 95, phrase("the public valid split"))
