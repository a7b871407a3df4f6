"""The decoder's weight is a *new* Parameter aliasing the embedding's storage
(nn.Parameter(embedding.weight)), not the same parameter: the values start and stay equal under in-place
copies, but the two are distinct leaves, so the output-side gradient lands on decoder.weight, which the
pre-training loop leaves out of the optimizer (and .to() / .cuda() of the head breaks the alias)."""
LOSES = ("mlm_head",)
SAYS = "why.mlm_untied"
import torch.nn as nn
import torch.nn.functional as F


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.norm = LayerNorm(d_model)
        self.decoder = nn.Linear(d_model, vocab_size)
        self.decoder.weight = nn.Parameter(embedding.weight)

    def forward(self, hidden):
        return self.decoder(self.norm(F.gelu(self.dense(hidden))))
