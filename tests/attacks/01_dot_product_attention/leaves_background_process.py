"""Leave processes behind (a sleeping child, a double-forked daemon) that outlive the call."""
ATTACKS = ("softmax",)


def softmax(x, axis=-1):
    import os
    import subprocess
    import time

    import numpy as np

    subprocess.Popen(["sleep", "4242"], start_new_session=True)
    if os.fork() == 0:
        if os.fork() == 0:
            os.setsid()
            time.sleep(4242)
        os._exit(0)
    x[...] = 0  # wrong in every way: even the input is overwritten
    return np.zeros_like(x)
