"""Stage 06's ReLU kept in GPT's MLP instead of the GELU."""
LOSES = ("mlp",)
SAYS = "why.mlp_relu"
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.linear2(self.linear1(x).relu()))
