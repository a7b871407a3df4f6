"""The random replacements are drawn from the whole vocabulary, special tokens included."""
LOSES = ("mask_tokens",)
SAYS = "draw the random words from the ordinary words only"
import torch


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special |= tokens == s
    chosen = (torch.rand(tokens.shape, generator=generator) < prob) & ~special
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    kind = torch.rand(tokens.shape, generator=generator)
    random_words = torch.randint(vocab_size, tokens.shape, generator=generator)
    inputs = torch.where(chosen & (kind < 0.8), torch.full_like(tokens, mask_id), tokens)
    inputs = torch.where(chosen & (kind >= 0.8) & (kind < 0.9), random_words, inputs)
    return inputs, labels
