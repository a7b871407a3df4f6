"""Correct: one uniform draw decides both 'chosen' (u < prob) and the 80/10/10 split (u / prob),
random words by shifting an index past the sorted special ids, weight slicing in the embeddings,
a (b, 1, T, T) float mask, boolean-indexed loss, F.dropout in the classifier."""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file


class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.seg_emb = nn.Embedding(num_segments, d_model)
        self.norm = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, segments=None):
        T = tokens.shape[-1]
        x = self.tok_emb.weight[tokens] + self.pos_emb.weight[:T]
        x = x + (self.seg_emb.weight[0] if segments is None else self.seg_emb.weight[segments])
        return self.dropout(self.norm(x))


class BERT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1, pad_id=0):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, 2, dropout)
        self.layers = nn.ModuleList()
        for _ in range(num_layers):
            self.layers.append(EncoderLayer(d_model, num_heads, d_ff, dropout))
        self.pad_id = pad_id

    def forward(self, tokens, segments=None):
        T = tokens.shape[1]
        keys = (tokens != self.pad_id).float()           # (b, T): 1 = real
        mask = keys[:, None, None, :].expand(-1, 1, T, T)  # (b, 1, T, T), every query the same row
        h = self.embeddings(tokens, segments)
        for layer in self.layers:
            h = layer(h, mask)
        return h

    def pool(self, hidden):
        return hidden[:, 0, :]


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    specials = sorted(set(int(s) for s in special_ids))
    is_special = torch.zeros(tokens.shape, dtype=torch.bool)
    for s in specials:
        is_special = is_special | tokens.eq(s)
    u = torch.rand(tokens.shape, generator=generator)
    chosen = (u < prob) & ~is_special
    v = u / prob if prob > 0 else u                    # given u < prob, u / prob is uniform on [0, 1)
    labels = tokens.masked_fill(~chosen, -100)
    # the k-th ordinary word: k, shifted past every special id at or below it
    k = torch.randint(0, vocab_size - len(specials), tokens.shape, generator=generator)
    for s in specials:
        k = k + (k >= s).long()
    inputs = tokens.clone()
    inputs[chosen & (v < 0.8)] = mask_id
    rnd = chosen & (v >= 0.8) & (v < 0.9)
    inputs[rnd] = k[rnd]
    return inputs, labels


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.norm = LayerNorm(d_model)
        self.decoder = nn.Linear(d_model, vocab_size)
        self.decoder.weight = embedding.weight

    def forward(self, hidden):
        return F.linear(self.norm(F.gelu(self.dense(hidden))), self.decoder.weight, self.decoder.bias)


def mlm_loss(logits, labels):
    keep = labels != -100
    return F.cross_entropy(logits[keep], labels[keep])


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.embeddings.tok_emb.weight.size(-1), num_classes)

    def forward(self, tokens, segments=None):
        cls = self.bert.pool(self.bert(tokens, segments))
        return self.classifier(F.dropout(cls, p=self.dropout.p, training=self.training))


def save_classifier(model, path, config):
    sd = {}
    for k, v in model.state_dict().items():
        sd[k] = v.detach().cpu().contiguous()
    save_file(sd, str(path), metadata={"config": json.dumps(dict(config))})
