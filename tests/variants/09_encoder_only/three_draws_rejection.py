"""Correct: bernoulli on full_like for 'chosen', three torch.rand draws for the split (0.8, then 0.5 of the
rest), random words over the whole vocabulary re-drawn where they hit a special id (rejection sampling),
labels via masked_fill, log_softmax + nll_loss, direct [:, 0] indexing in the classifier, int mask."""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file


class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super(BertEmbeddings, self).__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.seg_emb = nn.Embedding(num_segments, d_model)
        self.norm = LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, segments=None):
        if segments is None:
            segments = torch.zeros(tokens.shape, dtype=torch.long, device=tokens.device)
        pos = torch.arange(0, tokens.size(1), dtype=torch.long, device=tokens.device)[None]
        e = self.tok_emb(tokens)
        e = e + self.seg_emb(segments)
        e = e + self.pos_emb(pos)
        e = self.norm(e)
        e = self.dropout(e)
        return e


class BERT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1, pad_id=0):
        super().__init__()
        self.pad_id = pad_id
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, 2, dropout)
        self.layers = nn.ModuleList([EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers)])

    def forward(self, tokens, segments=None):
        mask = tokens.ne(self.pad_id).long().unsqueeze(1).unsqueeze(1)   # (b, 1, 1, T), 1 = may attend
        x = self.embeddings(tokens, segments)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def pool(self, hidden):
        return hidden[:, 0, ...]


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special = special | (tokens == s)
    chosen = torch.bernoulli(torch.full_like(tokens, prob, dtype=torch.float), generator=generator).bool() & ~special
    labels = tokens.masked_fill(~chosen, -100)
    r_mask = torch.rand(tokens.shape, generator=generator)
    r_rand = torch.rand(tokens.shape, generator=generator)
    to_mask = chosen & (r_mask < 0.8)
    to_rand = chosen & ~to_mask & (r_rand < 0.5)
    words = torch.randint(0, vocab_size, tokens.shape, generator=generator)
    bad = torch.zeros_like(words, dtype=torch.bool)
    for s in special_ids:
        bad |= words == s
    while bad.any():                                   # re-draw the special ones: uniform on the ordinary words
        words[bad] = torch.randint(0, vocab_size, (int(bad.sum()),), generator=generator)
        bad = torch.zeros_like(words, dtype=torch.bool)
        for s in special_ids:
            bad |= words == s
    inputs = tokens.clone()
    inputs[to_mask] = mask_id
    inputs[to_rand] = words[to_rand]
    return inputs, labels


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.norm = LayerNorm(d_model)
        self.decoder = nn.Linear(d_model, vocab_size, bias=True)
        self.decoder.weight = embedding.weight
        with torch.no_grad():
            self.decoder.bias.zero_()

    def forward(self, hidden):
        h = self.dense(hidden)
        h = F.gelu(h, approximate="none")
        h = self.norm(h)
        return self.decoder(h)


def mlm_loss(logits, labels):
    logp = F.log_softmax(logits, dim=-1)
    return F.nll_loss(logp.reshape(-1, logp.size(-1)), labels.reshape(-1), ignore_index=-100)


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.bert = bert
        d_model = bert.embeddings.tok_emb.embedding_dim
        self.dropout = nn.Dropout(p=dropout)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, tokens, segments=None):
        hidden = self.bert(tokens, segments)
        x = hidden[:, 0, :]
        x = self.dropout(x)
        return self.classifier(x)


def save_classifier(model, path, config):
    save_file({k: t.detach().contiguous().to("cpu") for k, t in model.state_dict().items()}, str(path),
              metadata={"config": json.dumps(config, separators=(",", ":"))})
