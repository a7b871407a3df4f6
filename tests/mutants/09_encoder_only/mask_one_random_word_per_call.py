"""A single random word is drawn per call and used for every replaced position of the batch
(torch.randint(..., (1,))), so the 10 % random replacements are all the same word."""
LOSES = ("mask_tokens",)
SAYS = "were never drawn as the random replacement"
import torch


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special |= tokens == s
    chosen = (torch.rand(tokens.shape, generator=generator) < prob) & ~special
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    kind = torch.rand(tokens.shape, generator=generator)
    words = torch.tensor([i for i in range(vocab_size) if i not in set(special_ids)])
    random_word = words[torch.randint(len(words), (1,), generator=generator)]
    inputs = torch.where(chosen & (kind < 0.8), torch.full_like(tokens, mask_id), tokens)
    inputs = torch.where(chosen & (kind >= 0.8) & (kind < 0.9), random_word.expand_as(tokens), inputs)
    return inputs, labels
