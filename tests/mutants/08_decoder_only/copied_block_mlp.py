"""The grader's trusted MLP pasted in as the student's own: it computes through torch.ops.aten."""
LOSES = ("mlp",)
SAYS = "calls PyTorch's internals, `torch.ops"
import torch
import torch.nn as nn


class MLP(nn.Module):  # pasted from autograder/graders/blocks.py
    def __init__(self, d_model, d_ff, dropout=0.0):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        hidden = torch.ops.aten.gelu(torch.ops.aten.linear(x, self.linear1.weight, self.linear1.bias))
        return self.dropout(torch.ops.aten.linear(hidden, self.linear2.weight, self.linear2.bias))
