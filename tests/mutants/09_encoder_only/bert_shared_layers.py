"""nn.ModuleList([layer] * num_layers): one encoder layer repeated, its weights shared."""
LOSES = ("bert",)
SAYS = "hint.bert_parameters"
import torch.nn as nn


class BERT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1, pad_id=0):
        super().__init__()
        self.pad_id = pad_id
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, 2, dropout)
        self.layers = nn.ModuleList([EncoderLayer(d_model, num_heads, d_ff, dropout)] * num_layers)

    def forward(self, tokens, segments=None):
        mask = padding_mask(tokens, self.pad_id)
        x = self.embeddings(tokens, segments)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def pool(self, hidden):
        return hidden[:, 0]
