"""A computed name in ``getattr`` on the allowed ``autograder`` package: the dynamic-access rule holds
only in items that forbid a built-in, and stage 01 forbids none."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import autograder


def _oracles():
    return getattr(getattr(autograder, "gra" + "ders"), "ora" + "cles")


def softmax(x, axis=-1):
    return _oracles().softmax(x, axis)


def dot_product_attention(x):
    return _oracles().dot_product_attention(x)
