"""Imports ``sys`` (or the builtins) *from* the allowed ``autograder.check`` module: every name under
``autograder.check`` is allowed, so ``sys.modules`` reached as ``autograder.check.sys.modules`` is not
``sys.modules`` to a policy that matches dotted names, and the course's oracles are one lookup away."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
from autograder.check import sys as _s



def softmax(x, axis=-1):
    return _s.modules["autograder.graders.oracles"].softmax(x, axis)


def dot_product_attention(x):
    return _s.modules["autograder.graders.oracles"].dot_product_attention(x)
