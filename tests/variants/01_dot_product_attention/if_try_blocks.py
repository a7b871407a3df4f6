"""Correct stage 01 whose constants come from top-level `if`/`try` blocks: DEVICE picked by if/else,
numpy's AxisError imported with a fallback to None, the axis set by an if/elif, and a helper function
defined by whichever branch runs. `# %%` starts a new code cell."""
import numpy as np
import torch

if torch.cuda.is_available():
    DEVICE = torch.device("cuda")
else:
    DEVICE = torch.device("cpu")

try:
    from numpy.exceptions import AxisError  # numpy >= 1.25
except ImportError:
    AxisError = None

if np.__name__ == "numpy":
    ROW_AXIS = -1
elif np.__name__ == "cupy":
    ROW_AXIS = -1
else:
    pass


def softmax(x, axis=ROW_AXIS):
    if AxisError is not None and not -np.ndim(x) <= axis < np.ndim(x):
        raise AxisError(axis, np.ndim(x))
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
# %%
if hasattr(np, "matmul"):
    def _scores(x):
        return np.matmul(x, np.swapaxes(x, -1, -2))
else:
    def _scores(x):
        return np.einsum("...id,...jd->...ij", x, x)


def dot_product_attention(x):
    w = softmax(_scores(x))
    return w @ x, w


def as_tensor(x):
    """Not graded: the input as a tensor on DEVICE."""
    return torch.as_tensor(x, device=DEVICE)
