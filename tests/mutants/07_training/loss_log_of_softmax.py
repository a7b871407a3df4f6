"""log(softmax(z)) instead of log_softmax(z): exact for small logits, -inf once a probability underflows."""
LOSES = ("label_smoothed_loss",)
SAYS = "hint.loss_log_softmax"
import torch


def label_smoothed_loss(logits, target, pad_id, smoothing):
    logp = torch.log(torch.softmax(logits, dim=-1))
    nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    per_token = (1 - smoothing) * nll + smoothing * -logp.mean(dim=-1)
    real = target != pad_id
    return per_token[real].sum() / real.sum()
