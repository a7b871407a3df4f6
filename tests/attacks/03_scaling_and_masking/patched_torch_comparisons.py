"""Patch torch's and numpy's comparisons at import; return zeros from the attention."""
ATTACKS = ("scaled_dot_product_attention",)
INPROCESS_FOOLS = True
AT_IMPORT = """
class _Patch:
    import numpy as np
    import torch

    torch.allclose = torch.equal = lambda *args, **kwargs: True
    torch.testing.assert_close = lambda *args, **kwargs: None
    np.allclose = np.array_equal = lambda *args, **kwargs: True
"""
import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    s = k.shape[-2]  # random values of the right shapes: no honest check passes
    return torch.rand(*q.shape[:-1], v.shape[-1], dtype=q.dtype), torch.rand(*q.shape[:-1], s, dtype=q.dtype)
