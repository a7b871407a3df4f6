"""``np.load(allow_pickle=True)`` on a pickle in a bytes literal: its GLOBAL opcode imports by name."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import io

import numpy as np


def _get(name):
    return np.load(io.BytesIO(b"\x80\x02cautograder.graders.oracles\n" + name.encode() + b"\n."), allow_pickle=True)


def softmax(x, axis=-1):
    return _get("softmax")(x, axis)


def dot_product_attention(x):
    return _get("dot_product_attention")(x)
