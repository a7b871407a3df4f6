"""PyTorch's own attention, with the runtime spy muted by code that runs at definition time (a
decorator suspending every torch mode around the call) and inside the call (torch._C's switch)."""
ATTACKS = ("scaled_dot_product_attention",)
SAYS = "calls torch.nn.functional.scaled_dot_product_attention"
import torch
import torch.nn.functional as F


def _quiet(fn):
    from torch.utils._python_dispatch import _disable_current_modes

    def run(*args, **kwargs):
        with _disable_current_modes(), torch._C.DisableTorchFunction():
            return fn(*args, **kwargs)

    return run


@_quiet
def scaled_dot_product_attention(q, k, v, mask=None):
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w.masked_fill(~mask, 0.0)
    return out, w
