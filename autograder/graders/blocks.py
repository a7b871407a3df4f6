"""Trusted building blocks: what a student's new code runs on while it is graded.

Stage 04's MultiHeadAttention calls stage 03's attention; stage 06's layers build stage 04's
MultiHeadAttention and stage 05's PositionalEncoding, and its Transformer builds the layers of
the same stage. The graders pass these classes and functions as ``trusted=`` to
``student.function``/``student.build``: while the student's code runs, those names in its
namespace point here. A bug in an earlier item or stage then costs points only where it was made.

These files ship to students with the public graders, so a block must not be the course's
answer. Each one keeps the course's contract (parameter and buffer names, shapes, argument
order, boolean masks with True = may attend, all-zero weights for a query that may see no key),
but computes with PyTorch's own code:

- ``MultiHeadAttention``: ``F.multi_head_attention_forward``, given the block's W_q, W_k, W_v, W_o;
- ``LayerNorm``: ``nn.LayerNorm``;
- ``EncoderLayer``, ``DecoderLayer``, ``Encoder``, ``Decoder``: ``nn.TransformerEncoderLayer`` /
  ``nn.TransformerDecoderLayer`` (post-LN, batch_first), run on the block's own parameters with
  ``torch.func.functional_call``, so gradients reach them;
- ``sinusoidal_positional_encoding``: the float64 formula of the public oracle.

Every item forbids the built-in that would do its job (registry.py), and the student object lets
these blocks, and only them, call it: a copy of a block handed in as a student's own code calls
a forbidden built-in and scores nothing (tests/mutants/*/copied_block_*.py). The blocks whose job
no built-in does (``PositionalEncoding``, ``FeedForward``, ``MLP``) compute through
``torch.ops.aten``, PyTorch's dispatcher, which the static policy refuses in every item
(``policy.INTERNALS``): a copy of one scores nothing either.
tests/test_blocks.py checks the blocks against PyTorch's modules.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from autograder.graders.transformer_oracles import positional_encoding

# --- stage 03 -----------------------------------------------------------------------------------


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q kᵀ / √d_k) v with a boolean mask (True = may attend); returns (out, weights)."""
    scores = torch.einsum("...td,...sd->...ts", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask.logical_not(), float("-inf"))
    weights = scores.softmax(dim=-1)
    if mask is not None:  # a query that may see nothing: zero weights instead of nan
        weights = weights.masked_fill(mask.logical_not(), 0.0)
    return torch.einsum("...ts,...sd->...td", weights, v), weights


# --- stage 04 -----------------------------------------------------------------------------------


def split_heads(x, num_heads):
    """(batch, T, d_model) -> (batch, heads, T, d_model / heads); head j holds columns j·d_k ... (j+1)·d_k − 1."""
    return x.unflatten(-1, (num_heads, x.shape[-1] // num_heads)).transpose(-3, -2)


def merge_heads(x):
    """(batch, heads, T, d_k) -> (batch, T, heads · d_k): the inverse of split_heads."""
    return x.transpose(-3, -2).flatten(-2)


def _torch_mask(mask, batch, heads, t, s):
    """The course's mask as PyTorch's ``attn_mask`` (batch · heads, T, S), True = may NOT attend.

    Also returns the queries that may attend to nothing, (batch, T), or None: PyTorch gives nan
    there, the course zeros. Such a query is let see every key, and its result replaced after.
    """
    if mask is None:
        return None, None
    allowed = mask.to(torch.bool)
    if allowed.dim() == 3:  # (batch, T, S): the same mask for every head
        allowed = allowed.unsqueeze(-3)
    allowed = allowed.expand(batch, heads, t, s)
    blind = allowed.logical_not().all(-1)  # (batch, heads, T)
    if not blind.any():
        return allowed.logical_not().reshape(batch * heads, t, s), None
    if not torch.equal(blind, blind[:, :1].expand_as(blind)):
        raise ValueError("a query that may attend to nothing in some heads only is outside the course's contract")
    allowed = allowed | blind.unsqueeze(-1)
    return allowed.logical_not().reshape(batch * heads, t, s), blind[:, 0]


class MultiHeadAttention(nn.Module):
    """Parameters w_q, w_k, w_v, w_o (nn.Linear(d_model, d_model)); PyTorch's attention computes."""

    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model = {d_model} is not divisible by num_heads = {num_heads}")
        self.num_heads = num_heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def forward(self, query, key, value, mask=None):
        """(batch, T, d), (batch, S, d), (batch, S, d) -> (batch, T, d) and weights (batch, heads, T, S)."""
        batch, t, s = query.shape[0], query.shape[-2], key.shape[-2]
        attn_mask, blind = _torch_mask(mask, batch, self.num_heads, t, s)
        out, weights = F.multi_head_attention_forward(
            query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1),
            embed_dim_to_check=query.shape[-1], num_heads=self.num_heads,
            in_proj_weight=None, in_proj_bias=torch.cat([self.w_q.bias, self.w_k.bias, self.w_v.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=self.dropout.p,
            out_proj_weight=self.w_o.weight, out_proj_bias=self.w_o.bias, training=self.training,
            need_weights=True, attn_mask=attn_mask, use_separate_proj_weight=True,
            q_proj_weight=self.w_q.weight, k_proj_weight=self.w_k.weight, v_proj_weight=self.w_v.weight,
            average_attn_weights=False)
        out = out.transpose(0, 1)
        if blind is not None:  # no key to attend to: weights 0, so the heads give 0 and W_o its bias
            weights = weights.masked_fill(blind[:, None, :, None], 0.0)
            out = torch.where(blind.unsqueeze(-1), self.w_o.bias, out)
        return out, weights


# --- stage 05 -----------------------------------------------------------------------------------


def sinusoidal_positional_encoding(max_len, d_model):
    """(max_len, d_model) float32 from the public float64 oracle (odd d_model ends in a sine)."""
    return torch.from_numpy(positional_encoding(max_len, d_model)).to(torch.float32)


class PositionalEncoding(nn.Module):
    """A buffer `pe` (max_len, d_model) from the oracle, added to x, then dropout."""

    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", torch.from_numpy(positional_encoding(max_len, d_model)).float())

    def forward(self, x):
        positions, max_len = x.shape[-2], len(self.pe)
        if positions > max_len:
            raise ValueError(f"sequence of length {positions} is longer than max_len = {max_len}")
        # torch.ops.aten (PyTorch's dispatcher), which the static policy refuses in every graded
        # definition (policy.INTERNALS): this block ships to students, and a copy must score nothing
        return self.dropout(torch.ops.aten.add(self.pe[:positions], x))


# --- stage 06 -----------------------------------------------------------------------------------


class LayerNorm(nn.LayerNorm):
    """PyTorch's own LayerNorm under the course's signature (parameters `weight`, `bias`)."""

    def __init__(self, d_model, eps=1e-5):
        super().__init__(d_model, eps=eps)

    def forward(self, x):
        # its own frame on the stack: items that forbid F.layer_norm (BertEmbeddings) let the block through
        return super().forward(x)


class FeedForward(nn.Module):
    """Parameters linear1 (d_model → d_ff), linear2 (d_ff → d_model); the slides' max(0, x W_1 + b_1) W_2 + b_2."""

    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        # torch.ops.aten (PyTorch's dispatcher), which the static policy refuses in every graded
        # definition (policy.INTERNALS): this block ships to students, and a copy must score nothing
        hidden = torch.ops.aten.relu(torch.ops.aten.linear(x, self.linear1.weight, self.linear1.bias))
        return torch.ops.aten.linear(self.dropout(hidden), self.linear2.weight, self.linear2.bias)


def _attention_for_torch(params, course, torch_name):
    """nn.MultiheadAttention's parameters from the course's w_q, w_k, w_v, w_o under ``course``."""
    return {
        f"{torch_name}.in_proj_weight": torch.cat([params[f"{course}.w_{n}.weight"] for n in "qkv"]),
        f"{torch_name}.in_proj_bias": torch.cat([params[f"{course}.w_{n}.bias"] for n in "qkv"]),
        f"{torch_name}.out_proj.weight": params[f"{course}.w_o.weight"],
        f"{torch_name}.out_proj.bias": params[f"{course}.w_o.bias"],
    }


def _layer_for_torch(params, prefix=""):
    """nn.TransformerEncoderLayer's / DecoderLayer's parameters from a course layer's, under ``prefix``."""
    out = _attention_for_torch(params, f"{prefix}self_attn", f"{prefix}self_attn")
    if f"{prefix}cross_attn.w_q.weight" in params:
        out.update(_attention_for_torch(params, f"{prefix}cross_attn", f"{prefix}multihead_attn"))
    for name, value in params.items():
        rest = name[len(prefix):]
        if name.startswith(prefix) and rest.startswith(("ffn.", "norm")):
            out[prefix + rest.removeprefix("ffn.")] = value
    return out


class _RunByTorch(nn.Module):
    """Course-named parameters; ``forward`` runs a PyTorch module (``_torch``) on them.

    The PyTorch module is built once, kept out of the state dict, and always called in training
    mode, so that PyTorch takes its plain code path (dropout is 0 in a copy used for eval).
    """

    def _run(self, *args, **kwargs):
        copies = self.__dict__.setdefault("_torch_copies", {})
        p = self.dropout_p if self.training else 0.0
        if p not in copies:
            copies[p] = self._build_torch(p).train()
        return functional_call(copies[p], self._torch_parameters(), args, kwargs)

    def _torch_parameters(self):
        return _layer_for_torch(dict(self.named_parameters()))


class EncoderLayer(_RunByTorch):
    """self_attn, ffn, norm1, norm2 (post-LN), computed by nn.TransformerEncoderLayer."""

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.dropout_p, self.sizes = dropout, (d_model, num_heads, d_ff)

    def _build_torch(self, p):
        d_model, num_heads, d_ff = self.sizes
        return nn.TransformerEncoderLayer(d_model, num_heads, d_ff, p, batch_first=True, norm_first=False)

    def forward(self, x, mask=None):
        """(batch, S, d_model), mask broadcastable to (batch, heads, S, S) -> (batch, S, d_model)."""
        return self._run(x, src_mask=_layer_mask(mask, x, x, self.sizes[1]))


class DecoderLayer(_RunByTorch):
    """self_attn, cross_attn, ffn, norm1-3 (post-LN), computed by nn.TransformerDecoderLayer."""

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = LayerNorm(d_model), LayerNorm(d_model), LayerNorm(d_model)
        self.dropout_p, self.sizes = dropout, (d_model, num_heads, d_ff)

    def _build_torch(self, p):
        d_model, num_heads, d_ff = self.sizes
        return nn.TransformerDecoderLayer(d_model, num_heads, d_ff, p, batch_first=True, norm_first=False)

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        """(batch, T, d_model) and memory (batch, S, d_model) -> (batch, T, d_model)."""
        heads = self.sizes[1]
        return self._run(x, memory, tgt_mask=_layer_mask(tgt_mask, x, x, heads),
                         memory_mask=_layer_mask(src_mask, x, memory, heads))


def _layer_mask(mask, queries, keys, heads):
    attn_mask, blind = _torch_mask(mask, queries.shape[0], heads, queries.shape[-2], keys.shape[-2])
    if blind is not None:
        raise ValueError("the trusted layers take no query that may attend to nothing (PyTorch would give nan)")
    return attn_mask


class _Stack(_RunByTorch):
    def _run(self, x, *args, **kwargs):
        if not len(self.layers):  # nn.TransformerEncoder needs a layer; no layers is the identity
            return x
        return super()._run(x, *args, **kwargs)

    def _torch_parameters(self):
        params, out = dict(self.named_parameters()), {}
        for i in range(len(self.layers)):
            out.update(_layer_for_torch(params, f"layers.{i}."))
        return out


class Encoder(_Stack):
    """layers.0 ... layers.{n-1}, each an EncoderLayer; run as nn.TransformerEncoder (no final norm)."""

    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.dropout_p, self.sizes = dropout, (d_model, num_heads, d_ff, num_layers)

    def _build_torch(self, p):
        d_model, num_heads, d_ff, num_layers = self.sizes
        layer = nn.TransformerEncoderLayer(d_model, num_heads, d_ff, p, batch_first=True, norm_first=False)
        return nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)

    def forward(self, x, mask=None):
        return self._run(x, mask=_layer_mask(mask, x, x, self.sizes[1]))


class Decoder(_Stack):
    """layers.0 ... layers.{n-1}, each a DecoderLayer; run as nn.TransformerDecoder (no final norm)."""

    def __init__(self, d_model, num_heads, num_layers, d_ff, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.dropout_p, self.sizes = dropout, (d_model, num_heads, d_ff, num_layers)

    def _build_torch(self, p):
        d_model, num_heads, d_ff, num_layers = self.sizes
        layer = nn.TransformerDecoderLayer(d_model, num_heads, d_ff, p, batch_first=True, norm_first=False)
        return nn.TransformerDecoder(layer, num_layers)

    def forward(self, x, memory, src_mask=None, tgt_mask=None):
        heads = self.sizes[1]
        return self._run(x, memory, tgt_mask=_layer_mask(tgt_mask, x, x, heads),
                         memory_mask=_layer_mask(src_mask, x, memory, heads))


# --- stage 09 -----------------------------------------------------------------------------------


class BertEmbeddings(nn.Module):
    """tok_emb, pos_emb (learned), seg_emb, norm, dropout: dropout(LN(tok + pos + seg)), by F.layer_norm."""

    def __init__(self, vocab_size, d_model, max_len, num_segments=2, dropout=0.1):
        super().__init__()
        self.tok_emb, self.pos_emb, self.seg_emb = (nn.Embedding(n, d_model) for n in (vocab_size, max_len, num_segments))
        self.norm, self.dropout = LayerNorm(d_model), nn.Dropout(dropout)

    def forward(self, tokens, segments=None):
        """(batch, T) int64 ids (and segment ids, None = all 0) -> (batch, T, d_model)."""
        if tokens.shape[-1] > self.pos_emb.num_embeddings:
            raise ValueError(f"sequence of length {tokens.shape[-1]} is longer than max_len = {self.pos_emb.num_embeddings}")
        positions = torch.arange(tokens.shape[-1], device=tokens.device)
        segment = self.seg_emb.weight[0] if segments is None else F.embedding(segments, self.seg_emb.weight)
        x = F.embedding(tokens, self.tok_emb.weight) + F.embedding(positions, self.pos_emb.weight) + segment
        return self.dropout(F.layer_norm(x, (x.shape[-1],), self.norm.weight, self.norm.bias, self.norm.eps))


class BERT(_Stack):
    """embeddings, layers.0 ... layers.{n-1}; the stack run as nn.TransformerEncoder under the padding mask."""

    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.1, pad_id=0):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, 2, dropout)
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.pad_id, self.dropout_p, self.sizes = pad_id, dropout, (d_model, num_heads, d_ff, num_layers)

    _build_torch = Encoder._build_torch

    def forward(self, tokens, segments=None):
        """(batch, T) ids -> hidden states (batch, T, d_model); padded keys are never attended to."""
        x = self.embeddings(tokens, segments)
        mask = (tokens != self.pad_id)[:, None, None, :]
        return self._run(x, mask=_layer_mask(mask, x, x, self.sizes[1]))

    def pool(self, hidden):
        """(batch, T, d_model) -> (batch, d_model): the state of [CLS], the first position."""
        return hidden[:, 0]


def _trusted_bert(config, training=False):
    """A trusted BERT for the student's MLM head or classifier to work on (stage 09's recipes)."""
    return BERT(**config).train(training)


def _trusted_classifier(config, state):
    """The contract's SentenceClassifier as a state dict holder (bert.*, classifier.*), for save_classifier."""
    config = dict(config)
    classes = config.pop("num_classes")
    model = nn.ModuleDict({"bert": BERT(**config), "classifier": nn.Linear(config["d_model"], classes)})
    model.load_state_dict(state)
    return model


def _generator(seed):
    """A seeded torch.Generator where the student's code runs (a generator cannot cross the sandbox as data)."""
    return torch.Generator().manual_seed(seed)


def _trusted_embedding(weight):
    """An nn.Embedding holding ``weight`` (vocab, d_model): the table an MLM head ties its decoder to."""
    return nn.Embedding.from_pretrained(weight.clone(), freeze=False)


def _embedding_weight(embedding):
    """Reader: the table's weight, as data."""
    return embedding.weight.detach().clone()


def _rebind_embedding_weight(embedding, table):
    """The table's parameter given new data (a new tensor, not copied into the old one): a head tied to that
    parameter sees it, a parameter of its own that only shared the old storage does not."""
    embedding.weight.data = torch.as_tensor(table, dtype=embedding.weight.dtype).clone()


# --- stage 08 -----------------------------------------------------------------------------------


def _offset_causal(t, s, device):
    """(T, S) bool, True = may attend: query t (absolute position S − T + t) sees keys 0 .. S − T + t."""
    return torch.ones(t, s, dtype=torch.bool, device=device).tril(s - t)


class CausalSelfAttention(nn.Module):
    """w_q, w_k, w_v, w_o and a KV cache; PyTorch's F.scaled_dot_product_attention computes."""

    def __init__(self, d_model, num_heads, dropout=0.0):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model = {d_model} is not divisible by num_heads = {num_heads}")
        self.num_heads = num_heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        """x (batch, T, d_model), cache None or (k, v) (batch, heads, T_past, d_k) -> (y, (k, v))."""
        h = self.num_heads
        q, k, v = (split_heads(F.linear(x, lin.weight, lin.bias), h) for lin in (self.w_q, self.w_k, self.w_v))
        if cache is not None:
            k, v = torch.cat([cache[0], k], -2), torch.cat([cache[1], v], -2)
        mask = _offset_causal(x.shape[-2], k.shape[-2], x.device)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                             dropout_p=self.dropout.p if self.training else 0.0)
        return F.linear(merge_heads(out), self.w_o.weight, self.w_o.bias), (k, v)


class MLP(nn.Module):
    """linear1 (d_model → d_ff), exact GELU, linear2 (d_ff → d_model), dropout on the output (GPT-2)."""

    def __init__(self, d_model, d_ff, dropout=0.0):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        # torch.ops.aten (PyTorch's dispatcher), which the static policy refuses in every graded
        # definition (policy.INTERNALS): this block ships to students, and a copy must score nothing
        hidden = torch.ops.aten.gelu(torch.ops.aten.linear(x, self.linear1.weight, self.linear1.bias))
        return self.dropout(torch.ops.aten.linear(hidden, self.linear2.weight, self.linear2.bias))


class GPTBlock(nn.Module):
    """ln1, attn, ln2, mlp, dropout (pre-LN); the attention computed here with F.scaled_dot_product_attention
    on attn's weights (so that a copy of this block calls what gpt_block forbids)."""

    def __init__(self, d_model, num_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1, self.ln2 = LayerNorm(d_model), LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.mlp = MLP(d_model, d_ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache=None):
        """(batch, T, d_model), cache None or (k, v) -> (batch, T, d_model) and the block's new (k, v)."""
        h, attn = self.ln1(x), self.attn
        q, k, v = (split_heads(F.linear(h, lin.weight, lin.bias), attn.num_heads) for lin in (attn.w_q, attn.w_k, attn.w_v))
        if cache is not None:
            k, v = torch.cat([cache[0], k], -2), torch.cat([cache[1], v], -2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=_offset_causal(q.shape[-2], k.shape[-2], x.device),
                                           dropout_p=attn.dropout.p if self.training else 0.0)
        x = x + self.dropout(F.linear(merge_heads(a), attn.w_o.weight, attn.w_o.bias))
        return x + self.mlp(self.ln2(x)), (k, v)


class BigramModel(nn.Module):
    """A language model whose next-token logits depend on the last token only: ``table[token]``.

    What ``sample`` is graded with: forward(idx (batch, T), cache=None) -> (logits (batch, T, V), cache),
    where the cache is a list with one (k, v) whose length counts the tokens seen. Every call and every
    switch of mode is written down in ``calls`` (read back with training_oracles.calls_of). The
    generator ``sample`` draws with is ``_seeded_generator(seed)``, a private helper (it ships as code).
    """

    def __init__(self, table, training=True):
        super().__init__()
        # a parameter (frozen), not a buffer: a sampler may ask the model for its device or dtype with
        # next(model.parameters()), as it can of any GPT
        self.table = nn.Parameter(torch.as_tensor(table, dtype=torch.float32), requires_grad=False)
        self.calls = []
        super().train(training)

    def train(self, mode=True):
        self.calls.append({"event": "mode", "training": bool(mode)})
        return super().train(mode)

    def forward(self, idx, cache=None):
        past = 0 if cache is None else int(cache[0][0].shape[-2])
        self.calls.append({"event": "forward", "tokens": int(idx.shape[-1]), "past": past,
                           "training": self.training, "grad": torch.is_grad_enabled()})
        batch, t = idx.shape
        seen = torch.zeros(batch, 1, past + t, 1)
        return self.table[idx], [(seen, seen)]


class _TiedGPT(nn.Module):
    """The contract's GPT parameters (tok_emb, pos_emb, blocks, ln_f, head tied to tok_emb), for save_lm's check."""

    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout=0.0):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(vocab_size, d_model), nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(GPTBlock(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.ln_f = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight


def _gpt_for_saving(config, state):
    """A recipe: a tied GPT with ``state`` (contract names, head.weight left out) loaded."""
    model = _TiedGPT(**{k: config[k] for k in ("vocab_size", "d_model", "num_heads", "num_layers", "d_ff", "max_len")})
    model.load_state_dict({**state, "head.weight": state["tok_emb.weight"]})
    return model


def _seeded_generator(seed):
    """A torch.Generator seeded with ``seed`` (what ``sample(..., generator=)`` draws with)."""
    return torch.Generator().manual_seed(int(seed))


# --- what each item runs on ---------------------------------------------------------------------
STAGE_04 = {"scaled_dot_product_attention": scaled_dot_product_attention,
            "split_heads": split_heads, "merge_heads": merge_heads}
STAGE_05 = {"sinusoidal_positional_encoding": sinusoidal_positional_encoding}
EARLIER = {"MultiHeadAttention": MultiHeadAttention, "PositionalEncoding": PositionalEncoding}
FOR_LAYERS = {**EARLIER, "LayerNorm": LayerNorm, "FeedForward": FeedForward}
FOR_STACKS = {**FOR_LAYERS, "EncoderLayer": EncoderLayer, "DecoderLayer": DecoderLayer}
FOR_MODEL = {**FOR_STACKS, "Encoder": Encoder, "Decoder": Decoder}
FOR_BERT_EMBEDDINGS = {"LayerNorm": LayerNorm}
# (+ stage 03's padding_mask: training_oracles.padding_mask, which the stage-09 graders add)
FOR_BERT = {**FOR_STACKS, "BertEmbeddings": BertEmbeddings}
FOR_BERT_HEADS = {**FOR_BERT, "BERT": BERT}
FOR_GPT_BLOCK = {**STAGE_04, "LayerNorm": LayerNorm, "CausalSelfAttention": CausalSelfAttention, "MLP": MLP}
FOR_GPT = {**FOR_GPT_BLOCK, "GPTBlock": GPTBlock}

# The student export ships the functions above as recorded blocks (graders/replay.py: the recorded
# output of the nearest recorded input, else the student's own definition of the key's name).
TRUSTED_BLOCKS = {**STAGE_04, **STAGE_05}
# What still ships as code, and why (replay.stub_source keeps these; docs/architecture.md).
_MODULE = "a trusted module: its forward runs on the student's own tensors and parameters, which no recording covers"
AS_CODE = {
    "MultiHeadAttention": _MODULE + " (computes with F.multi_head_attention_forward, a forbidden built-in)",
    "PositionalEncoding": _MODULE + " (its buffer is transformer_oracles.positional_encoding; torch.ops.aten.add)",
    "LayerNorm": _MODULE + " (nn.LayerNorm)",
    "FeedForward": _MODULE + " (torch.ops.aten's linear and relu, refused in student code)",
    "EncoderLayer": _MODULE + " (nn.TransformerEncoderLayer)",
    "DecoderLayer": _MODULE + " (nn.TransformerDecoderLayer)",
    "Encoder": _MODULE + " (nn.TransformerEncoder)",
    "Decoder": _MODULE + " (nn.TransformerDecoder)",
    "BertEmbeddings": _MODULE + " (F.layer_norm, a forbidden built-in)",
    "BERT": _MODULE + " (nn.TransformerEncoder)",
    "CausalSelfAttention": _MODULE + " (F.scaled_dot_product_attention, a forbidden built-in)",
    "MLP": _MODULE + " (torch.ops.aten's linear and gelu, refused in student code)",
    "GPTBlock": _MODULE + " (F.scaled_dot_product_attention, a forbidden built-in)",
    "BigramModel": "a recipe for sample's graders: a fixed next-token table, no course answer",
}
