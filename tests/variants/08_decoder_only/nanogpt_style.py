"""Correct stage-08 pieces written differently: a mask from position comparisons, F.gelu, the tie made
the other way round (tok_emb takes the head's weight), a hand-written masked loss, sampling under
torch.inference_mode with sorted filters and one extra call after the last token."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        assert_ok = d_model % num_heads == 0
        if not assert_ok:
            raise ValueError("num_heads must divide d_model")
        self.num_heads = num_heads
        for name in ("w_q", "w_k", "w_v", "w_o"):
            setattr(self, name, nn.Linear(d_model, d_model))
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x, cache=None):
        q, k, v = (split_heads(proj(x), self.num_heads) for proj in (self.w_q, self.w_k, self.w_v))
        if cache is not None:
            past_k, past_v = cache
            k, v = torch.cat((past_k, k), dim=2), torch.cat((past_v, v), dim=2)
        n_new, n_all = q.size(2), k.size(2)
        query_pos = torch.arange(n_all - n_new, n_all, device=x.device)[:, None]
        mask = torch.arange(n_all, device=x.device)[None, :] <= query_pos
        weights = scaled_dot_product_attention(q, k, v, mask=mask)[1]
        return self.w_o(merge_heads(torch.matmul(self.dropout(weights), v))), (k, v)


class MLP(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0):
        super().__init__()
        self.linear1 = nn.Linear(in_features=d_model, out_features=d_ff)
        self.linear2 = nn.Linear(in_features=d_ff, out_features=d_model)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        h = F.gelu(self.linear1(x))  # exact (erf) GELU by default
        return self.dropout(self.linear2(h))


class GPTBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout=dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, d_ff, dropout=dropout)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x, cache=None):
        out = self.attn(self.ln1(x), cache=cache)
        h = x + self.dropout(out[0])
        return h + self.mlp(self.ln2(h)), out[1]


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
        self.tok_emb.weight = self.head.weight  # tied the other way round: still one tensor

    def forward(self, idx, cache=None):
        b, t = idx.shape
        start = cache[0][0].size(-2) if cache else 0
        if start + t > self.max_len:
            raise ValueError(f"sequence of {start + t} tokens, max_len is {self.max_len}")
        pos = torch.arange(start, start + t, device=idx.device).unsqueeze(0)
        h = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        layers_cache = cache if cache else [None] * len(self.blocks)
        new = []
        for block, c in zip(self.blocks, layers_cache):
            h, c = block(h, c)
            new.append(c)
        return self.head(self.ln_f(h)), new


def lm_loss(logits, idx, pad_id=None):
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    target = idx[:, 1:]
    picked = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    keep = torch.ones_like(target, dtype=torch.bool) if pad_id is None else target.ne(pad_id)
    return -(picked * keep).sum() / keep.sum()


def _filter(logits, top_k, top_p):
    if top_k is not None:
        values, _ = torch.sort(logits, dim=-1, descending=True)
        logits = torch.where(logits < values[..., min(top_k, logits.size(-1)) - 1:min(top_k, logits.size(-1))],
                             torch.full_like(logits, float("-inf")), logits)
    if top_p is not None:
        probs = F.softmax(logits, dim=-1)
        p_sorted, idx = torch.sort(probs, dim=-1, descending=True)
        cum = torch.cumsum(p_sorted, dim=-1)
        remove_sorted = (cum - p_sorted) >= top_p
        remove = remove_sorted.scatter(-1, idx, remove_sorted)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


def sample(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None):
    mode = model.training
    model.eval()
    with torch.inference_mode():
        tokens = idx.clone()
        logits, cache = model(idx)
        for _ in range(max_new_tokens):
            scores = logits[:, -1]
            if temperature <= 0:
                nxt = torch.argmax(scores, dim=-1).unsqueeze(-1)
            else:
                probs = F.softmax(_filter(scores / temperature, top_k, top_p), dim=-1)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)
            tokens = torch.cat((tokens, nxt), dim=-1)
            logits, cache = model(nxt, cache)  # one call more than needed: harmless
    model.train(mode)
    return tokens
