"""The grader's trusted EncoderLayer pasted in as the student's own: it runs nn.TransformerEncoderLayer."""
LOSES = ("encoder_layer",)
SAYS = "uses the course's own code, `autograder.graders.blocks._"
import torch.nn as nn
from torch.func import functional_call

from autograder.graders.blocks import _layer_for_torch, _layer_mask


class EncoderLayer(nn.Module):  # pasted from autograder/graders/blocks.py, base class folded in
    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.dropout_p, self.sizes = dropout, (d_model, num_heads, d_ff)

    def forward(self, x, mask=None):
        d_model, num_heads, d_ff = self.sizes
        layer = nn.TransformerEncoderLayer(d_model, num_heads, d_ff, self.dropout_p if self.training else 0.0,
                                           batch_first=True, norm_first=False).train()
        params = _layer_for_torch(dict(self.named_parameters()))
        return functional_call(layer, params, (x,), {"src_mask": _layer_mask(mask, x, x, num_heads)})
