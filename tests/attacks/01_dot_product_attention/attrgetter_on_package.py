"""Walks from the allowed ``autograder`` package to its oracles with ``operator.attrgetter`` and a
dotted string: no attribute named in the source, no ``getattr`` call."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import operator

import autograder


def softmax(x, axis=-1):
    return operator.attrgetter("graders.oracles.softmax")(autograder)(x, axis)


def dot_product_attention(x):
    return operator.attrgetter("graders.oracles.dot_product_attention")(autograder)(x)
