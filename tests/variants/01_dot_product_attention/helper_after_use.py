"""Correct stage 01 whose helpers come after the functions that use them (separate cells), with
a computed axis constant; `# %%` starts a new code cell."""
import numpy as np

AXES = tuple(range(-1, 0))
ROW_AXIS = AXES[0]


def softmax(x, axis=ROW_AXIS):
    return _normalise(np.exp(_shifted(x, axis)), axis)


def dot_product_attention(x):
    w = softmax(x @ _transposed(x))
    return w @ x, w
# %%
def _shifted(x, axis):
    return x - x.max(axis=axis, keepdims=True)


def _normalise(e, axis):
    return e / e.sum(axis=axis, keepdims=True)


_transposed = lambda x: np.swapaxes(x, -1, -2)  # noqa: E731
