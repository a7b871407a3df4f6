"""-100 turned into class 0 (labels.clamp(min=0)), so every position counts in the loss."""
LOSES = ("mlm_loss",)
SAYS = "why.mlm_loss_all_positions"
import torch.nn.functional as F


def mlm_loss(logits, labels):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.clamp(min=0).reshape(-1))
