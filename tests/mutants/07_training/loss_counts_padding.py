"""The loss averages over every position, padding included."""
LOSES = ("label_smoothed_loss",)
SAYS = "why.loss_pad_included"
import torch


def label_smoothed_loss(logits, target, pad_id, smoothing):
    logp = logits.log_softmax(dim=-1)
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return ((1 - smoothing) * nll + smoothing * -logp.mean(dim=-1)).mean()
