"""The ``builtins`` module as ``len.__self__``; its ``__import__`` as an *attribute*, where the policy
only flags the bare name."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True


def _oracles():
    return len.__self__.__import__("autograder.graders.oracles", fromlist=["softmax"])


def softmax(x, axis=-1):
    return _oracles().softmax(x, axis)


def dot_product_attention(x):
    return _oracles().dot_product_attention(x)
