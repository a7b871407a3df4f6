"""The loss is summed over the masked positions but divided by every position."""
LOSES = ("mlm_loss",)
SAYS = "why.mlm_loss_all_positions"
import torch.nn.functional as F


def mlm_loss(logits, labels):
    per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100,
                                reduction="none")
    return per_token.mean()
