"""Correct, Hugging Face style: BertEmbeddings with position_ids / token_type_ids buffers (persistent=False),
an extended attention mask, DataCollatorForLanguageModeling-style masking (bernoulli on full matrices,
0.8 then 0.5), BertLMPredictionHead-like head, nn.CrossEntropyLoss module, BertForSequenceClassification."""
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
        self.register_buffer("position_ids", torch.arange(max_len).expand((1, -1)), persistent=False)
        self.register_buffer("token_type_ids", torch.zeros(self.position_ids.size(), dtype=torch.long),
                             persistent=False)

    def forward(self, tokens, segments=None):
        input_shape = tokens.size()
        seq_length = input_shape[1]
        position_ids = self.position_ids[:, :seq_length]
        if segments is None:
            buffered = self.token_type_ids[:, :seq_length]
            segments = buffered.expand(input_shape[0], seq_length)
        inputs_embeds = self.tok_emb(tokens)
        token_type_embeddings = self.seg_emb(segments)
        embeddings = inputs_embeds + token_type_embeddings
        position_embeddings = self.pos_emb(position_ids)
        embeddings += position_embeddings
        embeddings = self.norm(embeddings)
        embeddings = self.dropout(embeddings)
        return embeddings


class BERT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1, pad_id=0):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, d_model=d_model, pad_id=pad_id)
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, 2, dropout)
        self.layers = nn.ModuleList([EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers)])

    def get_extended_attention_mask(self, attention_mask):
        return attention_mask[:, None, None, :].to(torch.bool)

    def forward(self, tokens, segments=None):
        attention_mask = (tokens != self.config["pad_id"]).long()
        extended_attention_mask = self.get_extended_attention_mask(attention_mask)
        hidden_states = self.embeddings(tokens, segments)
        for i, layer_module in enumerate(self.layers):
            hidden_states = layer_module(hidden_states, extended_attention_mask)
        return hidden_states

    def pool(self, hidden):
        first_token_tensor = hidden[:, 0]
        return first_token_tensor


def mask_tokens(tokens, mask_id, vocab_size, special_ids, prob=0.15, generator=None):
    inputs = tokens.clone()
    labels = tokens.clone()
    probability_matrix = torch.full(labels.shape, prob)
    special_tokens_mask = torch.isin(labels, torch.tensor(list(special_ids), dtype=labels.dtype))
    probability_matrix.masked_fill_(special_tokens_mask, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix, generator=generator).bool()
    labels[~masked_indices] = -100
    indices_replaced = torch.bernoulli(torch.full(labels.shape, 0.8), generator=generator).bool() & masked_indices
    inputs[indices_replaced] = mask_id
    indices_random = (torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool()
                      & masked_indices & ~indices_replaced)
    ordinary = torch.tensor([i for i in range(vocab_size) if i not in special_ids], dtype=torch.long)
    random_words = ordinary[torch.randint(len(ordinary), labels.shape, dtype=torch.long, generator=generator)]
    inputs[indices_random] = random_words[indices_random]
    return inputs, labels


class MLMHead(nn.Module):
    def __init__(self, d_model, vocab_size, embedding):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.transform_act_fn = nn.GELU()
        self.norm = LayerNorm(d_model)
        # BertLMPredictionHead: a bias-free decoder and a separate zero bias, linked to decoder.bias
        self.decoder = nn.Linear(d_model, vocab_size, bias=False)
        self.decoder.bias = nn.Parameter(torch.zeros(vocab_size))
        self.decoder.weight = embedding.weight

    def forward(self, hidden):
        hidden_states = self.dense(hidden)
        hidden_states = self.transform_act_fn(hidden_states)
        hidden_states = self.norm(hidden_states)
        return self.decoder(hidden_states)


def mlm_loss(logits, labels):
    loss_fct = nn.CrossEntropyLoss()
    return loss_fct(logits.view(-1, logits.size(-1)), labels.view(-1))


class SentenceClassifier(nn.Module):
    def __init__(self, bert, num_classes, dropout=0.1):
        super().__init__()
        self.num_labels = num_classes
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.embeddings.tok_emb.embedding_dim, num_classes)

    def forward(self, tokens, segments=None):
        outputs = self.bert(tokens, segments=segments)
        pooled_output = self.bert.pool(outputs)
        pooled_output = self.dropout(pooled_output)
        logits = self.classifier(pooled_output)
        return logits


def save_classifier(model, path, config):
    state_dict = model.state_dict()
    state_dict = {k: v.contiguous().cpu() for k, v in state_dict.items()}
    save_file(state_dict, path, {"config": json.dumps(config, indent=2, sort_keys=True)})
