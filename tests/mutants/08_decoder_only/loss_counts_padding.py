"""The shifted loss, but pad targets are counted (pad_id ignored)."""
LOSES = ("lm_loss",)
SAYS = "why.loss_pad_included"
import torch.nn.functional as F


def lm_loss(logits, idx, pad_id=None):
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), idx[:, 1:].reshape(-1))
