"""PyTorch's own attention, reached through getattr so that the name never appears in the code."""
ATTACKS = ("scaled_dot_product_attention",)
SAYS = "calls torch.nn.functional.scaled_dot_product_attention"
import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    fn = getattr(F, "scaled_" + "dot_product_" + "attention")
    out = fn(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w.masked_fill(~mask, 0.0)
    return out, w
