"""Stage 07's trusted padding mask (training_oracles.padding_mask, which ships) pasted in as the
student's own: it compares through torch.ops.aten.ne."""
LOSES = ("padding_mask",)
SAYS = "calls PyTorch's internals, `torch.ops"
import torch


def padding_mask(tokens, pad_id):
    return torch.ops.aten.ne(tokens, pad_id)[:, None, None, :]
