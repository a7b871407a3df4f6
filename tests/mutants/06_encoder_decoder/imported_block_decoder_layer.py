"""The grader's trusted DecoderLayer imported instead of written, and a Decoder borrowing a block's base."""
LOSES = ("decoder_layer", "encoder_decoder")
SAYS = "`autograder.graders.blocks."
from autograder.graders.blocks import DecoderLayer  # noqa: F401
from autograder.graders.blocks import _Stack


class Decoder(_Stack):
    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
