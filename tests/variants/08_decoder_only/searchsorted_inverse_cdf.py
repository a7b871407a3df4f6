"""Correct, 'from scratch' style: heads split with reshape+permute and merged with permute+reshape,
scores via q @ k.mT * d_k**-0.5 with an additive -inf mask from arange comparisons (scaled_dot_product
_attention not used), the weights' dropout; MLP with the erf formula via torch.special.ndtr (Phi);
GPTBlock that calls its sub-modules by keyword; GPT whose cache is a tuple of the per-block pairs turned
into a list on return, positions broadcast with expand; a loss that averages over a boolean-indexed
selection; sampling by inverse CDF: cumsum + torch.searchsorted(right=True) on a torch.rand(generator=)
uniform; top-k by kthvalue; top-p by scattering sorted probabilities back; temperature 0 = argmax."""
import json
import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"{num_heads} heads do not divide d_model = {d_model}")
        self.num_heads = num_heads
        self.w_q = nn.Linear(d_model, d_model)
        self.w_k = nn.Linear(d_model, d_model)
        self.w_v = nn.Linear(d_model, d_model)
        self.w_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        B, T, D = x.shape
        H = self.num_heads
        q, k, v = (lin(x).reshape(B, T, H, D // H).permute(0, 2, 1, 3) for lin in (self.w_q, self.w_k, self.w_v))
        if cache is not None:
            k = torch.cat((cache[0], k), -2)
            v = torch.cat((cache[1], v), -2)
        S = k.shape[-2]
        scores = q @ k.mT * (D // H) ** -0.5
        qpos = torch.arange(S - T, S, device=x.device).view(T, 1)
        kpos = torch.arange(S, device=x.device).view(1, S)
        additive = torch.zeros(T, S, dtype=scores.dtype, device=x.device).masked_fill(kpos > qpos, float("-inf"))
        weights = torch.softmax(scores + additive, dim=-1)
        out = self.dropout(weights) @ v
        out = out.permute(0, 2, 1, 3).reshape(B, T, D)
        return self.w_o(out), (k, v)


class MLP(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        z = self.linear1(x)
        return self.dropout(self.linear2(z * torch.special.ndtr(z)))


class GPTBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model=d_model, num_heads=num_heads, dropout=dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model=d_model, d_ff=d_ff, dropout=dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        h = self.ln1(x)
        out = self.attn(x=h, cache=cache)
        x = x + self.dropout(out[0])
        x = x + self.mlp(x=self.ln2(x))
        return x, out[1]


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
        B, T = idx.shape
        T_past = cache[0][0].shape[2] if cache else 0
        if T_past + T > self.max_len:
            raise ValueError("the sequence is longer than max_len")
        positions = torch.arange(T_past, T_past + T, device=idx.device).expand(B, T)
        h = self.drop(self.tok_emb(idx) + self.pos_emb(positions))
        per_block = tuple(cache) if cache else (None,) * len(self.blocks)
        new = []
        for block, c in zip(self.blocks, per_block):
            h, kv = block(h, cache=c)
            new.append(kv)
        return self.head(self.ln_f(h)), new


def lm_loss(logits, idx, pad_id=None):
    logp = logits[:, :-1].log_softmax(-1)
    target = idx[:, 1:]
    nll = -logp.gather(2, target[..., None])[..., 0]
    if pad_id is not None:
        nll = nll[target != pad_id]
    return nll.mean()


def _inverse_cdf(probs, generator):
    cdf = probs.double().cumsum(-1)
    u = torch.rand(probs.shape[0], 1, generator=generator, dtype=torch.float64, device=probs.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_max(probs.shape[-1] - 1)


def sample(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None):
    found = model.training
    model.eval()
    with torch.no_grad():
        out = idx
        logits, cache = model(idx)
        for i in range(max_new_tokens):
            last = logits[:, -1, :].float()
            if temperature == 0:
                nxt = torch.argmax(last, dim=-1).unsqueeze(1)
            else:
                last = last / temperature
                if top_k is not None and top_k < last.shape[-1]:
                    kth = torch.kthvalue(last, last.shape[-1] - top_k + 1, dim=-1, keepdim=True).values
                    last = torch.where(last >= kth, last, torch.full_like(last, float("-inf")))
                probs = torch.softmax(last, -1)
                if top_p is not None:
                    sp, order = torch.sort(probs, dim=-1, descending=True)
                    before = torch.cumsum(sp, -1) - sp
                    sp = torch.where(before < top_p, sp, torch.zeros_like(sp))
                    probs = torch.empty_like(probs).scatter_(-1, order, sp)
                    probs = probs / probs.sum(-1, keepdim=True)
                nxt = _inverse_cdf(probs, generator)
            out = torch.cat([out, nxt], dim=1)
            if i + 1 < max_new_tokens:
                logits, cache = model(nxt, cache)
    model.train(found)
    return out
