"""Labels only where the input was changed (labels = where(inputs != tokens, tokens, -100)): the
10 % kept (and random words equal to the original) are not predicted."""
LOSES = ("mask_tokens",)
SAYS = "hint.mask_labels"
import torch


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special |= tokens == s
    chosen = (torch.rand(tokens.shape, generator=generator) < prob) & ~special
    kind = torch.rand(tokens.shape, generator=generator)
    words = torch.tensor([i for i in range(vocab_size) if i not in set(special_ids)])
    random_words = words[torch.randint(len(words), tokens.shape, generator=generator)]
    inputs = torch.where(chosen & (kind < 0.8), torch.full_like(tokens, mask_id), tokens)
    inputs = torch.where(chosen & (kind >= 0.8) & (kind < 0.9), random_words, inputs)
    labels = torch.where(inputs != tokens, tokens, torch.full_like(tokens, -100))
    return inputs, labels
