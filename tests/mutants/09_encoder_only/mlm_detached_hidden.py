"""The MLM head detaches its input (hidden.detach()), so the MLM loss never trains the encoder."""
LOSES = ("mlm_head",)
SAYS = "No gradient reached the hidden states"
import torch.nn as nn
import torch.nn.functional as F


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.norm = LayerNorm(d_model)
        self.decoder = nn.Linear(d_model, vocab_size)
        self.decoder.weight = embedding.weight

    def forward(self, hidden):
        return self.decoder(self.norm(F.gelu(self.dense(hidden.detach()))))
