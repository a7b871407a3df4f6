"""The block's dropout is applied to the residual stream after the addition, dropout(x + attn(ln1(x))),
instead of on the attention branch before the addition (the contract: "on the attention branch, before the
addition"); the residual path is no longer left alone."""
LOSES = ("gpt_block",)
SAYS = "not dropout(x + a)"
import torch.nn as nn


class GPTBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        attended, cache = self.attn(self.ln1(x), cache)
        x = self.dropout(x + attended)
        x = x + self.mlp(self.ln2(x))
        return x, cache
