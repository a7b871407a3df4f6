"""torch.rand without the generator: the masks depend on the global seed, not on the generator given."""
LOSES = ("mask_tokens",)
SAYS = "hint.mask_generator"
import torch


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special |= tokens == s
    chosen = (torch.rand(tokens.shape) < prob) & ~special
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    kind = torch.rand(tokens.shape)
    words = torch.tensor([i for i in range(vocab_size) if i not in set(special_ids)])
    random_words = words[torch.randint(len(words), tokens.shape)]
    inputs = torch.where(chosen & (kind < 0.8), torch.full_like(tokens, mask_id), tokens)
    inputs = torch.where(chosen & (kind >= 0.8) & (kind < 0.9), random_words, inputs)
    return inputs, labels
