"""``sys.modules`` reached as ``os.sys.modules``: the policy matches dotted prefixes, and
``os.sys.modules`` is not under ``sys.modules`` (``os`` re-exports ``sys``)."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import os


def softmax(x, axis=-1):
    return os.sys.modules["autograder.graders.oracles"].softmax(x, axis)


def dot_product_attention(x):
    return os.sys.modules["autograder.graders.oracles"].dot_product_attention(x)
