"""The encoder is run under torch.no_grad() (feature extraction): fine-tuning trains only the Linear,
while the notebook's fine-tuning "trains everything together"."""
LOSES = ("sentence_classifier",)
SAYS = "No gradient reaches BERT's parameters"
import torch
import torch.nn as nn


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.embeddings.tok_emb.embedding_dim, num_classes)

    def forward(self, tokens, segments=None):
        with torch.no_grad():
            cls = self.bert.pool(self.bert(tokens, segments))
        return self.classifier(self.dropout(cls))
