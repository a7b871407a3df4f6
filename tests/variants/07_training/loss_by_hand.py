"""A correct label-smoothed loss written by hand: log_softmax, a smoothed target distribution, a masked mean."""
import torch
import torch.nn.functional as F


def label_smoothed_loss(logits, target, pad_id, smoothing):
    k = logits.size(-1)
    logp = F.log_softmax(logits, dim=-1).reshape(-1, k)
    y = target.reshape(-1)
    dist = torch.full_like(logp, smoothing / k)
    dist.scatter_(1, y.unsqueeze(1), 1.0 - smoothing + smoothing / k)
    per_token = -(dist * logp).sum(dim=-1)
    keep = y != pad_id
    return per_token[keep].sum() / keep.sum()
