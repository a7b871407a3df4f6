"""The position table is used through .weight.detach()[:T]: positions are never learned (the notebook:
"a position embedding, learned")."""
LOSES = ("bert_embeddings",)
SAYS = "No gradient reached every row of pos_emb.weight"
import torch
import torch.nn as nn


class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.seg_emb = nn.Embedding(num_segments, d_model)
        self.norm = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, segments=None):
        if segments is None:
            segments = torch.zeros_like(tokens)
        pos = self.pos_emb.weight.detach()[: tokens.shape[1]]
        return self.dropout(self.norm(self.tok_emb(tokens) + pos + self.seg_emb(segments)))
