"""The loss scores logits at t against the token at t (no shift): the model is taught to copy its input."""
LOSES = ("lm_loss",)
SAYS = "why.loss_not_shifted"
import torch.nn.functional as F


def lm_loss(logits, idx, pad_id=None):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), idx.reshape(-1),
                           ignore_index=-100 if pad_id is None else pad_id)
