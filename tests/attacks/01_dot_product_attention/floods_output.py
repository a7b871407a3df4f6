"""100 MB printed to stdout (at import and in every call) and garbage returned."""
ATTACKS = ("softmax",)
AT_IMPORT = """
import sys
class _Loud:
    sys.stdout.write("x" * (100 << 20))
"""
import numpy as np


def softmax(x, axis=-1):
    print("y" * (100 << 20))
    x[...] = 0  # wrong in every way: even the input is overwritten
    return np.full_like(x, 0.5)
