"""Correct, functional style: CSA returns a list-free tuple cache built by preallocating the full
(batch, heads, T_past + T, d_k) tensors and copying past and new in (no torch.cat); a boolean mask built
with torch.tril(..., diagonal=past) always (also for T = 1); dropout always applied to the weights;
nn.GELU as a module attribute named `act`; GPT with a shared nn.Parameter tie made after construction;
lm_loss via F.nll_loss(log_softmax) with ignore_index; sampling by the Gumbel-max trick with
torch.rand(generator=...), top-p by sort + scatter of a keep mask, temperature 0 = argmax, no_grad as a
context manager with try/finally; save_lm building the dict and deleting head.weight."""
import json
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError("num_heads must divide d_model")
        self.h = num_heads
        self.d_k = d_model // num_heads
        self.w_q, self.w_k, self.w_v, self.w_o = [nn.Linear(d_model, d_model) for _ in range(4)]
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        b, t, _ = x.shape
        q = split_heads(self.w_q(x), self.h)
        k_new = split_heads(self.w_k(x), self.h)
        v_new = split_heads(self.w_v(x), self.h)
        past = 0 if cache is None else cache[0].shape[2]
        k = k_new.new_empty(b, self.h, past + t, self.d_k)
        v = v_new.new_empty(b, self.h, past + t, self.d_k)
        if past:
            k[:, :, :past] = cache[0]
            v[:, :, :past] = cache[1]
        k[:, :, past:] = k_new
        v[:, :, past:] = v_new
        mask = torch.tril(torch.ones(t, past + t, dtype=torch.bool, device=x.device), diagonal=past)
        _, w = scaled_dot_product_attention(q, k, v, mask)
        out = torch.matmul(self.dropout(w), v)
        return self.w_o(merge_heads(out)), (k, v)


class MLP(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.act = nn.GELU()
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = self.linear1(x)
        x = self.act(x)
        x = self.linear2(x)
        return self.dropout(x)


class GPTBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.ln2 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.mlp = MLP(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        y, kv = self.attn(self.ln1(x), cache)
        x = torch.add(x, self.dropout(y))
        return torch.add(x, self.mlp(self.ln2(x))), kv


class GPT(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1):
        super().__init__()
        self.max_len = max_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(GPTBlock(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.ln_f = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        shared = nn.Parameter(torch.randn(vocab_size, d_model) * 0.02)
        self.tok_emb.weight = shared
        self.head.weight = shared

    def forward(self, idx, cache=None):
        caches = cache if cache is not None else [None] * len(self.blocks)
        past = 0 if caches[0] is None else caches[0][0].shape[-2]
        T = idx.shape[1]
        if T + past > self.max_len:
            raise ValueError(f"{T + past} positions requested; the model has max_len={self.max_len}")
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device) + past)
        x = self.drop(x)
        out_cache = list()
        for blk, c in zip(self.blocks, caches):
            x, c = blk(x, c)
            out_cache += [c]
        return self.head(self.ln_f(x)), out_cache


def lm_loss(logits, idx, pad_id=None):
    V = logits.size(-1)
    logp = F.log_softmax(logits[:, :-1].reshape(-1, V), dim=-1)
    tgt = idx[:, 1:].reshape(-1)
    if pad_id is None:
        return F.nll_loss(logp, tgt)
    return F.nll_loss(logp, tgt, ignore_index=pad_id)


def _gumbel_argmax(logits, generator):
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=torch.float64)
    g = -torch.log(-torch.log(u.clamp_min(1e-300)))
    return (logits.double() + g).argmax(dim=-1, keepdim=True)


def _nucleus(logits, top_p):
    probs = logits.softmax(-1)
    sp, order = probs.sort(-1, descending=True)
    keep_sorted = (sp.cumsum(-1) - sp) < top_p
    keep_sorted[:, 0] = True
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return logits.masked_fill(~keep, float("-inf"))


def sample(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None):
    mode = model.training
    model.train(False)
    try:
        with torch.no_grad():
            seq = idx
            logits, cache = model(seq)
            for n in range(max_new_tokens):
                z = logits[:, -1]
                if not temperature:
                    tok = z.argmax(-1, keepdim=True)
                else:
                    z = z / temperature
                    if top_k:
                        kth = z.topk(min(top_k, z.shape[-1]), -1).values[:, -1:]
                        z = z.masked_fill(z < kth, float("-inf"))
                    if top_p is not None:
                        z = _nucleus(z, top_p)
                    tok = _gumbel_argmax(z, generator)
                seq = torch.cat((seq, tok), 1)
                if n + 1 < max_new_tokens:
                    logits, cache = model(tok, cache)
            return seq
    finally:
        model.train(mode)


def save_lm(model, path, config):
    tensors = dict()
    for name, tensor in model.state_dict().items():
        tensors[name] = tensor.detach().to("cpu").contiguous()
    del tensors["head.weight"]
    save_file(tensors, path, metadata={"config": json.dumps(dict(config))})
