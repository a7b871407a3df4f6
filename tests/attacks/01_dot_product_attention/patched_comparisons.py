"""Patch numpy's and torch's comparisons so that everything compares equal; softmax returns zeros.

dot_product_attention is the reference: it must keep full marks (the patch leaks nowhere).
"""
ATTACKS = ("softmax",)
INPROCESS_FOOLS = True
# A class body runs when the definitions load (a bare assignment to np.allclose is not a
# definition, so the grader would never execute it).
AT_IMPORT = """
class _Patch:
    import numpy as np
    import torch

    np.allclose = np.array_equal = lambda *args, **kwargs: True
    np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
    torch.allclose = torch.equal = lambda *args, **kwargs: True
    torch.testing.assert_close = lambda *args, **kwargs: None
"""
import numpy as np


def softmax(x, axis=-1):
    x[...] = 0  # wrong in every way: even the input is overwritten
    return np.zeros_like(x)
