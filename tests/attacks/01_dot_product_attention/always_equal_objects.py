"""Return objects that claim equality with anything: an __eq__ that is always true, an ndarray subclass."""
ATTACKS = ("softmax", "dot_product_attention")
import numpy as np


class _Yes:
    shape = (2, 5, 7)
    dtype = np.float64

    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.full(self.shape, np.nan)


class _Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in ("allclose", "array_equal", "isclose"):
            return True
        return super().__array_function__(func, types, args, kwargs)


def softmax(x, axis=-1):
    x[...] = 0  # wrong in every way: even the input is overwritten
    return np.zeros_like(x).view(_Agreeable)


def dot_product_attention(x):
    return _Yes(), _Yes()
