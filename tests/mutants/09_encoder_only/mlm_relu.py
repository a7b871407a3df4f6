"""The MLM transform uses ReLU instead of GELU."""
LOSES = ("mlm_head",)
SAYS = "why.mlm_relu"
import torch
import torch.nn as nn


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.norm = LayerNorm(d_model)
        self.decoder = nn.Linear(d_model, vocab_size)
        self.decoder.weight = embedding.weight

    def forward(self, hidden):
        return self.decoder(self.norm(torch.relu(self.dense(hidden))))
