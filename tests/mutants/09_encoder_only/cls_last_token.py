"""The classifier reads the last position's state instead of [CLS]."""
LOSES = ("sentence_classifier",)
SAYS = "why.cls_last"
import torch.nn as nn


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.embeddings.tok_emb.embedding_dim, num_classes)

    def forward(self, tokens, segments=None):
        hidden = self.bert(tokens, segments)
        return self.classifier(self.dropout(hidden[:, -1]))
