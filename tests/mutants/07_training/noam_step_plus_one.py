"""Every step shifted by one (step + 1), not only step 0."""
LOSES = ("noam_lr",)
SAYS = "why.noam_off_by_one"


def noam_lr(step, d_model, warmup):
    s = step + 1
    return d_model ** -0.5 * min(s ** -0.5, s * warmup ** -1.5)
