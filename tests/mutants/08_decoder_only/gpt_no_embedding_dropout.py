"""The embedding dropout `drop` is built but never applied (the contract: drop(tok_emb(idx) + pos_emb(positions)))."""
LOSES = ("gpt",)
SAYS = "adds no dropout of its own"
import torch
import torch.nn as nn


class GPT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1):
        super().__init__()
        self.max_len = max_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([GPTBlock(d_model, num_heads, d_ff, dropout) for _ in range(num_layers)])
        self.ln_f = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight

    def forward(self, idx, cache=None):
        past = 0 if cache is None else cache[0][0].shape[-2]
        t = idx.shape[-1]
        if past + t > self.max_len:
            raise ValueError("too long")
        positions = torch.arange(past, past + t, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(positions)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if cache is None else cache[i])
            new_cache.append(kv)
        return self.head(self.ln_f(x)), new_cache
