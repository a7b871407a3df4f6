"""Detect the grader (environment, call stack) and disarm its checks from inside; else return zeros.

It once fooled in-process grading; walking the frames and sys.modules is now reflection that the
static policy refuses in every item, in the kernel as in the sandbox."""
ATTACKS = ("softmax",)
SAYS = "reaches code without naming it"


def softmax(x, axis=-1):
    import inspect
    import os
    import sys

    import numpy as np

    graded = any(k.startswith(("PYTEST", "AUTOGRADER", "NBGRADER")) for k in os.environ)
    graded = graded or any("autograder" in (f.filename or "") for f in inspect.stack())
    if graded or "pytest" in sys.modules:
        frame = sys._getframe(1)
        while frame is not None:  # the grader's frame: make its checks no-ops
            for name in list(frame.f_globals):
                if name.startswith("expect_"):
                    frame.f_globals[name] = lambda *a, **k: a[0] if a else None
            frame = frame.f_back
        expect = sys.modules.get("autograder.expect")
        if expect is not None:
            expect.expect_array = lambda *a, **k: None
    x[...] = 0  # wrong in every way: even the input is overwritten
    return np.zeros_like(x)
