"""Hidden graders of stage 06: other sizes, leading axes, float32, 3-D masks, one and three layers."""

from __future__ import annotations

import torch

from autograder.catalogue import phrase
from autograder.dsl import grader
from autograder.expect import expect_array
from autograder.graders import blocks
from autograder.graders import torch_oracles as t
from autograder.graders import transformer_oracles as o
from autograder.graders.module_checks import TORCH, expect_parameters, load, no_builtin


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.named_parameters()}


@grader("layer_norm", "ln.oracle")
def test_ln_leading_axes_float32(student):
    m = student.build("LayerNorm", 6)
    no_builtin(m)
    expect_parameters(m, {"weight": (6,), "bias": (6,)}, hint="hint.ln_parameters")
    x = (t.randn(3, 2, 4, 6, seed=800) * 3 + 1e3).float()  # large mean, small spread
    expect_array(m(x), torch.nn.functional.layer_norm(x.double(), (6,)), phrase("LayerNorm(6) of a float32 (3, 2, 4, 6) input"),
                 **TORCH, dtype=torch.float32, rtol=1e-3, atol=1e-3, hint="hint.ln_formula")


@grader("feed_forward", "ffn.oracle")
def test_ffn_narrow_hidden_layer(student):
    m = student.build("FeedForward", 10, 4, 0.0, trusted=blocks.FOR_LAYERS)
    shapes = _shapes(blocks.FeedForward(10, 4))
    expect_parameters(m, shapes, hint="hint.ffn")
    state = o.random_weights(shapes, 801)
    load(m, state)
    x = t.randn(1, 3, 10, seed=802)
    expect_array(m(x), o.feed_forward(state, x), phrase("FeedForward(10, 4) of x"), **TORCH, hint="hint.ffn", diagnoses={
        "why.ffn_activation": lambda: o.feed_forward(state, x, activation="gelu"),
        "why.ffn_activation#tanh": lambda: o.mistake_feed_forward_tanh_gelu(state, x)})


@grader("encoder_layer", "enc.mask")
def test_enc_3d_mask_batch_one(student):
    m = student.build("EncoderLayer", 8, 2, 16, 0.0, trusted=blocks.FOR_LAYERS)
    shapes = _shapes(blocks.EncoderLayer(8, 2, 16))
    expect_parameters(m, shapes, hint="hint.enc_parameters")
    state = o.random_weights(shapes, 803)
    load(m, state)
    x = t.randn(1, 5, 8, seed=804)
    mask = t.random_mask(1, 5, 5, seed=805)
    expect_array(m(x, mask), o.encoder_layer_reference(state, x, mask, 2), phrase("the output under a (1, S, S) mask"),
                 **TORCH, hint="hint.enc_mask",
                 diagnoses={f"why.layer_norm_eps#{i}": (lambda i=i: o.mistake_encoder_layer_eps(state, x, mask, 2, i))
                            for i in range(len(o.TUTORIAL_EPS))})


@grader("decoder_layer", "dec.oracle")
def test_dec_without_source_mask(student):
    m = student.build("DecoderLayer", 8, 4, 16, 0.0, trusted=blocks.FOR_LAYERS)
    shapes = _shapes(blocks.DecoderLayer(8, 4, 16))
    expect_parameters(m, shapes, hint="hint.dec_parameters")
    state = o.random_weights(shapes, 806)
    load(m, state)
    x, memory = t.randn(3, 1, 8, seed=807), t.randn(3, 4, 8, seed=808)
    expect_array(m(x, memory, None, t.causal(1)), o.decoder_layer_reference(state, x, memory, None, t.causal(1), 4),
                 phrase("the output for one target position and no source mask"), **TORCH, hint="hint.dec_order",
                 diagnoses={f"why.layer_norm_eps#{i}": (
                     lambda i=i: o.mistake_decoder_layer_eps(state, x, memory, None, t.causal(1), 4, i))
                     for i in range(len(o.TUTORIAL_EPS))})


@grader("encoder_decoder", "stack.sizes")
def test_stacks_of_one_and_three(student):
    for n in (1, 3):
        for cls in ("Encoder", "Decoder"):
            m = student.build(cls, 8, 2, n, 12, 0.0, trusted=blocks.FOR_STACKS)
            shapes = _shapes(getattr(blocks, cls)(8, 2, n, 12))
            expect_parameters(m, shapes, hint="hint.stack")
            state = o.random_weights(shapes, 810 + n)
            load(m, state)
            x, memory = t.randn(2, 4, 8, seed=811), t.randn(2, 3, 8, seed=812)
            if cls == "Encoder":
                got, expected = m(x), o.encoder_reference(state, x, None, 2, n)
            else:
                got, expected = m(x, memory, None, t.causal(4)), o.decoder_reference(state, x, memory, None, t.causal(4), 2, n)
            expect_array(got, expected, phrase("the output of a {n}-layer {cls}", n=n, cls=cls), **TORCH, hint="hint.stack")


@grader("transformer", "tf.oracle")
def test_tf_other_sizes_without_masks(student):
    m = student.build("Transformer", 9, 7, 16, 4, 1, 24, 0.0, 10, trusted=blocks.FOR_MODEL)
    shapes = {"src_embed.weight": (9, 16), "tgt_embed.weight": (7, 16), "generator.weight": (7, 16),
              "generator.bias": (7,)}
    shapes.update({f"encoder.{k}": v for k, v in _shapes(blocks.Encoder(16, 4, 1, 24)).items()})
    shapes.update({f"decoder.{k}": v for k, v in _shapes(blocks.Decoder(16, 4, 1, 24)).items()})
    expect_parameters(m, shapes, hint="hint.tf_parameters")
    state = o.random_weights({**shapes, "pos_encoding.pe": (10, 16)}, 820)
    load(m, state)
    src = torch.randint(0, 9, (3, 10), generator=t.gen(821))
    tgt = torch.randint(0, 7, (3, 1), generator=t.gen(822))
    _, _, logits = o.transformer_reference(state, src, tgt, None, None, 4, 1)
    expect_array(m(src, tgt), logits, phrase("the logits with d_model = 16, 4 heads, 1 layer, S = max_len and T = 1"),
                 **TORCH, hint="hint.tf_forward",
                 diagnoses={"why.tf_log_softmax": lambda: o.mistake_log_softmax_generator(logits)})
