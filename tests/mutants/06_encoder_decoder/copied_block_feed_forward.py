"""The grader's trusted FeedForward pasted in as the student's own: it computes through torch.ops.aten."""
LOSES = ("feed_forward",)
SAYS = "calls PyTorch's internals, `torch.ops"
import torch
import torch.nn as nn


class FeedForward(nn.Module):  # pasted from autograder/graders/blocks.py
    """Parameters linear1 (d_model → d_ff), linear2 (d_ff → d_model); the slides' max(0, x W_1 + b_1) W_2 + b_2."""

    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        hidden = torch.ops.aten.relu(torch.ops.aten.linear(x, self.linear1.weight, self.linear1.bias))
        return torch.ops.aten.linear(self.dropout(hidden), self.linear2.weight, self.linear2.bias)
