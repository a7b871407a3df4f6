"""Step 0 used as it is: 0 ** -0.5 divides by zero on the scheduler's first call."""
LOSES = ("noam_lr",)
SAYS = "ZeroDivisionError"


def noam_lr(step, d_model, warmup):
    return d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)
