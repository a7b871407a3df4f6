"""Hidden graders of stage 09: other sizes, float32, three segments or classes, other special tokens,
and the checkpoint on a test split drawn from a seed that only this file holds."""

from __future__ import annotations

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array, fail
from autograder.graders import bert_oracles as b
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import training_oracles as training
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import TORCH, expect_parameters, load

# The hidden test split of the agreement task (course_data.agreement.make_split): never shipped.
TEST_SEED, TEST_SIZE = 861209, 1000

# what the student's classes run on: this stage's blocks and stage 03's padding mask (a plain function,
# kept out of blocks.py, whose functions ship to students as recorded values)
FOR_BERT = {**blocks.FOR_BERT, "padding_mask": training.padding_mask}
FOR_BERT_HEADS = {**blocks.FOR_BERT_HEADS, "padding_mask": training.padding_mask}
FOR_BERT_EMBEDDINGS = blocks.FOR_BERT_EMBEDDINGS


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


@grader("bert_embeddings", "emb.oracle")
def test_emb_three_segments_float32(student):
    m = student.build("BertEmbeddings", 11, 8, 6, 3, 0.0, trusted=FOR_BERT_EMBEDDINGS)
    shapes = _shapes(blocks.BertEmbeddings(11, 8, 6, 3))
    expect_parameters(m, shapes, hint="hint.emb_parameters")
    state = o.random_weights(shapes, 1900)
    load(m, state, dtype=torch.float32)
    tokens = torch.randint(0, 11, (1, 6), generator=t.gen(1901))
    segments = torch.tensor([[0, 0, 1, 1, 2, 2]])
    expect_array(m(tokens, segments), b.embeddings(state, tokens, segments), phrase("the float32 embeddings with 3 segments"),
                 **TORCH, dtype=torch.float32, rtol=1e-4, atol=1e-5, hint="hint.emb_sum")


@grader("bert", "bert.oracle")
def test_bert_one_and_three_layers(student):
    for n in (1, 3):
        m = student.build("BERT", 13, 8, 2, n, 12, 9, 0.0, 0, trusted=FOR_BERT)
        shapes = _shapes(blocks.BERT(13, 8, 2, n, 12, 9))
        expect_parameters(m, shapes, hint="hint.bert_parameters")
        state = o.random_weights(shapes, 1910 + n)
        load(m, state)
        tokens = torch.randint(1, 13, (3, 9), generator=t.gen(1914))
        tokens[2, 4:] = 0
        expect_array(m(tokens), b.bert(state, tokens, None, 2, n), phrase("the hidden states of a {n}-layer BERT, T = max_len", n=n),
                     **TORCH, hint="hint.bert_forward",
                     diagnoses={"why.bert_mask_ignored": lambda: b.bert(state, tokens, None, 2, n, use_mask=False)})


@grader("mask_tokens", "mask.split")
def test_mask_other_specials(student):
    vocab, mask_id, specials = 40, 5, (0, 5, 7, 39)
    g = t.gen(1920)
    tokens = torch.randint(0, vocab, (96, 48), generator=g)
    inputs, labels = student.function("mask_tokens")(tokens, mask_id, vocab, specials, 0.3,
                                                     student.trusted_object(blocks._generator, 1921))
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in specials:
        special |= tokens == s
    chosen = labels != b.IGNORE
    if chosen.all():
        raise fail("fail.mask_labels_everywhere", hint="hint.mask_labels")
    if (chosen & special).any() or (inputs[special] != tokens[special]).any():
        raise fail("fail.mask_specials", n=int((chosen & special).sum()), why="why.mask_specials")
    replaced = chosen & (inputs != mask_id) & (inputs != tokens)
    for s in specials:
        if (inputs[replaced] == s).any():
            raise fail("fail.mask_random_special", hint="hint.mask_split")
    n_chosen, n = int(chosen.sum()), int((~special).sum())
    for got, count, p, what in ((n_chosen, n, 0.3, phrase("the chosen positions at prob = 0.3")),
                                (int((inputs[chosen] == mask_id).sum()), n_chosen, 0.8, phrase("the chosen positions that became [MASK]"))):
        bound = b.binomial_bound(count, p)
        if abs(got - count * p) > bound:
            raise fail("fail.mask_rate", what=what, hint="hint.mask_split")


@grader("mask_tokens", "mask.contract")
def test_mask_without_generator(student):
    # prob = 1.0 chooses every ordinary token, whatever the global generator's state: about 240 of them, so about
    # 24 are left unchanged (none by chance: 1e-11), and each must be labelled as well as the changed ones
    g = torch.Generator().manual_seed(1990)
    tokens = torch.randint(4, 20, (6, 50), generator=g)
    tokens[:, 0], tokens[:, -1], tokens[1:3, 40:] = 1, 2, 0
    inputs, labels = student.function("mask_tokens")(tokens, 3, 20, (0, 1, 2, 3), 1.0)
    wrong = (labels != b.IGNORE) != (tokens > 3)
    if wrong.any():
        raise fail("fail.mask_prob_one", n=int(wrong.sum()), hint="hint.mask_labels")


@grader("mlm_head", "mlm.oracle")
def test_mlm_other_sizes(student):
    d, v = 8, 17
    table = (t.randn(v, d, seed=1930) / d ** 0.5)
    emb = student.trusted_object(blocks._trusted_embedding, table)
    m = student.build("MLMHead", d, v, emb, trusted=blocks.FOR_LAYERS)
    shapes = {"dense.weight": (d, d), "dense.bias": (d,), "norm.weight": (d,), "norm.bias": (d,),
              "decoder.weight": (v, d), "decoder.bias": (v,)}
    expect_parameters(m, shapes, hint="hint.mlm_parameters")
    state = o.random_weights(shapes, 1931)
    load(m, state)
    hidden = t.randn(1, 3, d, seed=1932)
    expect_array(m(hidden), b.mlm_head(state, hidden), phrase("the MLM logits with d_model = 8 and 17 words"), **TORCH,
                 hint="hint.mlm_forward")


@grader("mlm_loss", "mlmloss.masked_only")
def test_mlm_loss_one_label_float32(student):
    logits = t.randn(2, 4, 9, seed=1940).float()
    labels = torch.full((2, 4), b.IGNORE)
    labels[1, 2] = 7
    expect_array(student.function("mlm_loss")(logits, labels), b.masked_cross_entropy(logits, labels),
                 phrase("the loss with one masked position of 8, in float32"), **TORCH, dtype=torch.float32, rtol=1e-4,
                 atol=1e-5, hint="hint.mlm_loss")


@grader("sentence_classifier", "cls.oracle")
def test_cls_three_classes(student):
    cfg = dict(vocab_size=15, d_model=8, num_heads=2, num_layers=1, d_ff=12, max_len=8, dropout=0.0, pad_id=0)
    bert = student.trusted_object(blocks._trusted_bert, cfg)
    m = student.build("SentenceClassifier", bert, 3, 0.0, trusted=FOR_BERT_HEADS)
    shapes = {**{f"bert.{k}": v for k, v in _shapes(blocks.BERT(**cfg)).items()},
              "classifier.weight": (3, 8), "classifier.bias": (3,)}
    expect_parameters(m, shapes, hint="hint.cls_parameters")
    state = o.random_weights(shapes, 1950)
    load(m, state)
    tokens = torch.randint(1, 15, (4, 8), generator=t.gen(1951))
    tokens[1, 5:] = 0
    expect_array(m(tokens), b.classifier(state, tokens, None, 2, 1), phrase("the logits of a 3-class classifier"), **TORCH,
                 hint="hint.cls_forward")


@grader("agreement_checkpoint", "bert_ckpt.test_70")
def test_ckpt_test_70(student):
    b.expect_accuracy(b.submitted_path(), TEST_SEED, TEST_SIZE, 70, phrase("the hidden test split"))


@grader("agreement_checkpoint", "bert_ckpt.test_85")
def test_ckpt_test_85(student):
    b.expect_accuracy(b.submitted_path(), TEST_SEED, TEST_SIZE, 85, phrase("the hidden test split"))


@grader("agreement_checkpoint", "bert_ckpt.test_95")
def test_ckpt_test_95(student):
    b.expect_accuracy(b.submitted_path(), TEST_SEED, TEST_SIZE, 95, phrase("the hidden test split"))
