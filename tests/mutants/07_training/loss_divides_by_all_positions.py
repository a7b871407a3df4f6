"""Padding is zeroed out, but the sum is divided by every position instead of the real tokens."""
LOSES = ("label_smoothed_loss",)
SAYS = "why.loss_divide_by_all"
import torch


def label_smoothed_loss(logits, target, pad_id, smoothing):
    logp = logits.log_softmax(dim=-1)
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    per_token = (1 - smoothing) * nll + smoothing * -logp.mean(dim=-1)
    return (per_token * (target != pad_id)).sum() / target.numel()
