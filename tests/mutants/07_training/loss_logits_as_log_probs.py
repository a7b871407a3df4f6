"""A loss written for a model whose generator applies log_softmax (the Annotated Transformer's): the
logits are used as log-probabilities, so every row is off by its log-sum-exp."""
LOSES = ("label_smoothed_loss",)
SAYS = "why.loss_logits_as_log_probs"
import torch


def label_smoothed_loss(logits, target, pad_id, smoothing):
    logp = logits  # the tutorial's generator already returned log_softmax
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    per_token = (1 - smoothing) * nll + smoothing * -logp.mean(dim=-1)
    real = target != pad_id
    return per_token[real].sum() / real.sum()
