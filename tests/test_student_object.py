"""The student object's guards: trusted names reach decorated code, only trusted blocks may call
what an item forbids, and the engine's own objects are never taken for a student's work."""

from __future__ import annotations

import pytest
import torch

from autograder import registry
from autograder.catalogue import text
from autograder.failures import ForbiddenCall
from autograder.graders import blocks
from autograder.student import LocalStudent

MHA_FORWARD = "torch.nn.functional.multi_head_attention_forward"
SOURCE = '''
import torch
import torch.nn as nn


def helper():
    return "the student's own helper"


@torch.no_grad()
def decorated():
    return helper()


class Decorated(nn.Module):
    @torch.no_grad()
    def forward(self):
        return helper()


class Borrower(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = blocks.MultiHeadAttention(8, 2)
        for n in ("w_q", "w_k", "w_v", "w_o", "dropout"):
            setattr(self, n, getattr(self.inner, n))
        self.num_heads = 2

    def forward(self, x):  # runs the trusted block's method on the student's own object
        return blocks.MultiHeadAttention.forward(self, x, x, x)


class Honest(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = MultiHeadAttention(8, 2)  # resolved at call time: the trusted block when graded

    def forward(self, x):
        return self.attn(x, x, x)[0]
'''


def _student(forbidden=()):
    namespace = {"__name__": "__student__", "blocks": blocks}
    exec(compile(SOURCE, "<student>", "exec"), namespace)  # noqa: S102 - a student's notebook
    return LocalStudent(namespace, forbidden=forbidden)


def _trusted_helper():
    return "trusted"


def test_trusted_names_reach_functions_and_methods_behind_decorators():
    student = _student()
    assert student.function("decorated", trusted={"helper": _trusted_helper})() == "trusted"
    assert student.build("Decorated", trusted={"helper": _trusted_helper})() == "trusted"
    assert student.function("decorated")() == "the student's own helper"  # and only while graded


def test_a_trusted_block_may_call_what_the_item_forbids():
    student = _student(forbidden=(MHA_FORWARD,))
    x = torch.randn(1, 3, 8)
    out = student.build("Honest", trusted={"MultiHeadAttention": blocks.MultiHeadAttention})(x)
    assert out.shape == (1, 3, 8)


def test_the_students_code_may_not_borrow_a_blocks_method():
    student = _student(forbidden=(MHA_FORWARD,))
    with pytest.raises(ForbiddenCall, match="multi_head_attention_forward"):
        student.build("Borrower", trusted={"MultiHeadAttention": blocks.MultiHeadAttention})(torch.randn(1, 3, 8))


def test_the_engines_own_objects_are_refused_by_name():
    """Course code zeroes the item (ForbiddenCall), in the kernel as in hardened grading: the static
    policy's sentence where the source is known, the run-time refusal's twin where it is not."""
    ns = {"MultiHeadAttention": blocks.MultiHeadAttention, "split_heads": blocks.split_heads}
    for source, key in ((None, "policy.course"), ("", "fail.from_autograder")):  # "": no source to read
        student = LocalStudent(ns, source=source)
        for name, call in (("MultiHeadAttention", lambda: student.build("MultiHeadAttention", 8, 2)),
                           ("split_heads", lambda: student.function("split_heads"))):
            with pytest.raises(ForbiddenCall) as exc:
                call()
            assert str(exc.value).startswith(text(key, name=name, origin="X", construct="X", line=1).split("X")[0])
            assert "autograder.graders.blocks." in str(exc.value)


def test_a_class_built_on_a_course_block_is_refused_and_an_own_class_is_not():
    ns: dict = {}
    exec("import torch.nn as nn\nfrom autograder.graders.blocks import _Stack\n"
         "class Decoder(_Stack):\n    pass\n"
         "class Encoder(nn.Module):\n    def __init__(self):\n        super().__init__()\n", ns)
    for source in (None, ""):
        student = LocalStudent(ns, source=source)
        with pytest.raises(ForbiddenCall):
            student.build("Decoder")
        assert student.build("Encoder").parameter_shapes() == {}


def test_every_layer_item_of_stage_06_forbids_the_attention_built_in():
    for item in ("multi_head_attention", "encoder_layer", "decoder_layer", "encoder_decoder", "transformer"):
        assert MHA_FORWARD in registry.item(item).forbidden


LAYER_NORM = "torch.nn.functional.layer_norm"
NORMED = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Normed(nn.Module):
    """Stage 09's BertEmbeddings in small: a trusted LayerNorm on the student's own parameter."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 6))
        self.norm = LayerNorm(6)

    def forward(self, x):
        return self.norm(x * self.w)


class OwnNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 6))

    def forward(self, x):
        return F.layer_norm(x * self.w, (6,))


class _Sneaky(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return F.layer_norm(g, (6,)) * 0 + 2 * g  # a forbidden call made by the student's own backward


class SneakyBackward(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 6))

    def forward(self, x):
        return _Sneaky.apply(x * self.w)
'''


def _normed_student():
    namespace = {"__name__": "__student__"}
    exec(compile(NORMED, "<student>", "exec"), namespace)  # noqa: S102 - a student's notebook
    return LocalStudent(namespace, forbidden=(LAYER_NORM,))


def test_backpropagating_through_a_trusted_block_is_not_a_forbidden_call():
    """The backward pass runs aten.native_layer_norm_backward for the trusted LayerNorm with no Python
    frame on the stack: a gradient check on a module built on trusted blocks must not zero the item
    (it did: stage 09's check that positions are learned scored a correct BertEmbeddings 0)."""
    x = torch.randn(4, 6)
    m = _normed_student().build("Normed", trusted={"LayerNorm": blocks.LayerNorm})
    _, _, grads = m.grad(x, grad_outputs=[torch.randn(4, 6)])
    assert grads["w"] is not None and grads["w"].abs().sum() > 0


def test_a_forbidden_call_is_still_seen_in_the_forward_and_in_the_students_own_backward():
    x = torch.randn(4, 6)
    student = _normed_student()
    with pytest.raises(ForbiddenCall, match="layer_norm"):
        student.build("OwnNorm").grad(x, grad_outputs=[torch.randn(4, 6)])
    with pytest.raises(ForbiddenCall, match="layer_norm"):
        student.build("SneakyBackward").grad(x, grad_outputs=[torch.randn(4, 6)])
