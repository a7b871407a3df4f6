"""Imports the course's oracles by a dotted name in a string: ``pkgutil.resolve_name`` is import
machinery the policy does not list (it lists ``importlib``, ``pydoc.locate``, ``__import__``)."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import pkgutil


def softmax(x, axis=-1):
    return pkgutil.resolve_name("autograder.graders.oracles:softmax")(x, axis)


def dot_product_attention(x):
    return pkgutil.resolve_name("autograder.graders.oracles:dot_product_attention")(x)
