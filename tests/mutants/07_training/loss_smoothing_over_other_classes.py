"""Label smoothing spreads ε over the K − 1 wrong classes instead of all K classes."""
LOSES = ("label_smoothed_loss",)
SAYS = "why.loss_k_minus_1"
import torch


def label_smoothed_loss(logits, target, pad_id, smoothing):
    logp = logits.log_softmax(dim=-1)
    k = logits.shape[-1]
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    others = -logp.sum(dim=-1) - nll
    per_token = (1 - smoothing) * nll + smoothing / (k - 1) * others
    real = target != pad_id
    return per_token[real].sum() / real.sum()
