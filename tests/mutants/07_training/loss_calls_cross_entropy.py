"""PyTorch's F.cross_entropy called instead of writing the loss."""
LOSES = ("label_smoothed_loss",)
SAYS = "calls torch.nn.functional.cross_entropy"
import torch
import torch.nn.functional as F


def label_smoothed_loss(logits, target, pad_id, smoothing):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=pad_id,
                           label_smoothing=smoothing)
