"""The schedule decays from the first step: no linear warm-up."""
LOSES = ("noam_lr",)
SAYS = "why.noam_no_warmup"


def noam_lr(step, d_model, warmup):
    return d_model ** -0.5 * max(step, 1) ** -0.5
