"""The grader's trusted BertEmbeddings pasted in as the student's own: it calls F.layer_norm."""
LOSES = ("bert_embeddings",)
SAYS = "calls torch.nn.functional.layer_norm"
import torch
import torch.nn as nn
import torch.nn.functional as F


class BertEmbeddings(nn.Module):  # pasted from autograder/graders/blocks.py
    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.seg_emb = nn.Embedding(num_segments, d_model)
        self.norm = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, segments=None):
        positions = torch.arange(tokens.shape[-1], device=tokens.device)
        segment = self.seg_emb.weight[0] if segments is None else F.embedding(segments, self.seg_emb.weight)
        x = F.embedding(tokens, self.tok_emb.weight) + F.embedding(positions, self.pos_emb.weight) + segment
        return self.dropout(F.layer_norm(x, (x.shape[-1],), self.norm.weight, self.norm.bias, self.norm.eps))
