"""Every chosen position becomes [MASK]: no 10 % random words, no 10 % kept."""
LOSES = ("mask_tokens",)
SAYS = "why.mask_no_8010"
import torch


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special |= tokens == s
    chosen = (torch.rand(tokens.shape, generator=generator) < prob) & ~special
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    inputs = torch.where(chosen, torch.full_like(tokens, mask_id), tokens)
    return inputs, labels
