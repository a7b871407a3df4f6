"""The graded function reaches its helper through ``globals()[name]``, not by a name: the helper is
not *reachable* to the policy, so its ``sys.modules`` is never read (``globals`` is only flagged in
items that forbid a built-in)."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import sys


def _hidden(name):
    return getattr(sys.modules["autograder.graders.oracles"], name)


def softmax(x, axis=-1):
    return globals()["_hid" + "den"]("softmax")(x, axis)


def dot_product_attention(x):
    return globals()["_hid" + "den"]("dot_product_attention")(x)
