"""PyTorch's nn.LayerNorm in the embeddings instead of the student's own LayerNorm (it calls F.layer_norm)."""
LOSES = ("bert_embeddings",)
SAYS = "calls torch.nn.functional.layer_norm"
import torch
import torch.nn as nn


class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.seg_emb = nn.Embedding(num_segments, d_model)
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, segments=None):
        if segments is None:
            segments = torch.zeros_like(tokens)
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        return self.dropout(self.norm(self.tok_emb(tokens) + self.pos_emb(positions) + self.seg_emb(segments)))
