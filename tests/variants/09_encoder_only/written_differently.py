"""Correct stage-09 code written as public code often is: a position buffer, torch.bernoulli and
multinomial for the masking, the mask built inline, a hand-written masked cross-entropy, einsum."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super(BertEmbeddings, self).__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.seg_emb = nn.Embedding(num_segments, d_model)
        self.norm = LayerNorm(d_model)
        self.dropout = nn.Dropout(p=dropout)
        self.register_buffer("position_ids", torch.arange(max_len).unsqueeze(0), persistent=False)

    def forward(self, tokens, segments=None):
        seq_len = tokens.size(1)
        if segments is None:
            segments = tokens.new_zeros(tokens.shape)
        embeddings = self.tok_emb(tokens)
        embeddings = embeddings + self.pos_emb(self.position_ids[:, :seq_len])
        embeddings = embeddings + self.seg_emb(segments)
        embeddings = self.norm(embeddings)
        return self.dropout(embeddings)


class BERT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1, pad_id=0):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, num_segments=2, dropout=dropout)
        self.layers = nn.ModuleList()
        for _ in range(num_layers):
            self.layers.append(EncoderLayer(d_model, num_heads, d_ff, dropout))
        self.pad_id = pad_id

    def forward(self, tokens, segments=None):
        attention_mask = (tokens != self.pad_id).unsqueeze(1).unsqueeze(2)
        hidden = self.embeddings(tokens, segments=segments)
        for block in self.layers:
            hidden = block(hidden, mask=attention_mask)
        return hidden

    def pool(self, hidden):
        return hidden.select(1, 0)


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    labels = tokens.clone()
    probability = torch.full(labels.shape, prob)
    for sid in special_ids:
        probability.masked_fill_(tokens == sid, 0.0)
    chosen = torch.bernoulli(probability, generator=generator).bool()
    labels[~chosen] = -100
    inputs = tokens.clone()
    to_mask = torch.bernoulli(torch.full(labels.shape, 0.8), generator=generator).bool() & chosen
    inputs[to_mask] = mask_id
    to_random = torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool() & chosen & ~to_mask
    weights = torch.ones(vocab_size)
    weights[list(special_ids)] = 0.0
    if to_random.any():
        draws = torch.multinomial(weights, int(to_random.sum()), replacement=True, generator=generator)
        inputs[to_random] = draws
    return inputs, labels


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.norm = LayerNorm(d_model)
        self.decoder = nn.Linear(d_model, vocab_size, bias=True)
        self.decoder.weight = embedding.weight
        nn.init.zeros_(self.decoder.bias)

    def forward(self, hidden):
        h = F.gelu(self.dense(hidden))
        return self.decoder(self.norm(h))


def mlm_loss(logits, labels):
    log_probs = torch.log_softmax(logits, dim=-1)
    keep = labels != -100
    picked = log_probs[keep].gather(-1, labels[keep].unsqueeze(-1)).squeeze(-1)
    return -picked.mean()


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.embeddings.tok_emb.weight.shape[1], num_classes)

    def forward(self, tokens, segments=None):
        cls_state = self.bert(tokens, segments)[:, 0, :]
        return self.classifier(self.dropout(cls_state))


def save_classifier(model, path, config):
    import json
    from safetensors.torch import save_file

    state = {}
    for name, tensor in model.state_dict().items():
        state[name] = tensor.detach().to("cpu").contiguous()
    save_file(state, path, metadata={"config": json.dumps(config)})
