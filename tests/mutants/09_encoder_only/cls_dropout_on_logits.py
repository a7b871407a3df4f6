"""The dropout applied to the logits, after the Linear."""
LOSES = ("sentence_classifier",)
SAYS = "drops values of its output"
import torch.nn as nn


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.embeddings.tok_emb.embedding_dim, num_classes)

    def forward(self, tokens, segments=None):
        return self.dropout(self.classifier(self.bert.pool(self.bert(tokens, segments))))
