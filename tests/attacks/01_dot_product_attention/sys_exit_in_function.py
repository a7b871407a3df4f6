"""sys.exit(0) inside softmax: the SystemExit must not end the grading."""
ATTACKS = ("softmax",)
SAYS = "SystemExit"


def softmax(x, axis=-1):
    import sys

    sys.exit(0)
