"""Dropout on the sum, before the LayerNorm: LN(dropout(tok + pos + seg))."""
LOSES = ("bert_embeddings",)
SAYS = "apply dropout last, after the LayerNorm"
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
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        return self.norm(self.dropout(self.tok_emb(tokens) + self.pos_emb(positions) + self.seg_emb(segments)))
