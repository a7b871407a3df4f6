"""The MLM decoder is a new nn.Linear with its own weight, not tied to the token embedding."""
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

    def forward(self, hidden):
        return self.decoder(self.norm(F.gelu(self.dense(hidden))))
