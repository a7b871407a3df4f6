"""Correct stage 01 whose constants are filled in after they are made: an item assignment, an
attribute of the notebook's own object, an append and a loop filling a dict. A kernel runs these
lines; hardened grading runs them with the constant they fill (never a change to an import)."""
import numpy as np


class Settings:
    """Not graded: a place for the notebook's settings."""


AXIS_OF = {}
AXIS_OF["rows"] = -1
STABLE = []
STABLE.append(True)
REDUCE = {}
for name, fn in (("max", np.max), ("sum", np.sum)):
    REDUCE[name] = fn
SETTINGS = Settings()
SETTINGS.keepdims = True


def softmax(x, axis=None):
    # the constants are read when softmax runs (a default value would be read once, at definition)
    axis = AXIS_OF["rows"] if axis is None else axis
    shift = REDUCE["max"](x, axis=axis, keepdims=SETTINGS.keepdims) if STABLE[0] else 0.0
    e = np.exp(x - shift)
    return e / REDUCE["sum"](e, axis=axis, keepdims=SETTINGS.keepdims)
