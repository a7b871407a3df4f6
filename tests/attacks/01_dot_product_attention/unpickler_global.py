"""A pickle's GLOBAL opcode imports by name: ``pickle.Unpickler(...).load()`` and ``_pickle.loads``
are not ``pickle.loads``/``pickle.load``, and the module name sits in a bytes literal."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import io
import pickle

import _pickle


def softmax(x, axis=-1):
    return pickle.Unpickler(io.BytesIO(b"cautograder.graders.oracles\nsoftmax\n.")).load()(x, axis)


def dot_product_attention(x):
    return _pickle.loads(b"cautograder.graders.oracles\ndot_product_attention\n.")(x)
