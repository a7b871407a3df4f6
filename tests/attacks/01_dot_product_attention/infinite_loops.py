"""Infinite loops: one that the time limit interrupts, one that swallows the interruption."""
ATTACKS = ("softmax", "dot_product_attention")


def softmax(x, axis=-1):
    while True:
        pass


def dot_product_attention(x):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
