"""The temperature divides the probabilities after the softmax: multinomial renormalizes them, so it does nothing."""
LOSES = ("sample",)
SAYS = "why.temperature_after_softmax"
import torch


@torch.no_grad()
def sample(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None):
    was_training = model.training
    model.eval()
    logits, cache = model(idx)
    out = idx
    for step in range(max_new_tokens):
        last = logits[:, -1, :]
        if temperature == 0:
            nxt = last.argmax(dim=-1, keepdim=True)
        else:
            if top_k is not None:
                kth = torch.topk(last, min(top_k, last.shape[-1]), dim=-1).values[:, -1:]
                last = last.masked_fill(last < kth, float("-inf"))
            probs = last.softmax(dim=-1)
            if top_p is not None:
                sorted_p, order = probs.sort(dim=-1, descending=True)
                drop_sorted = (sorted_p.cumsum(dim=-1) - sorted_p) >= top_p
                probs = probs.masked_fill(torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted), 0.0)
            nxt = torch.multinomial(probs / temperature, 1, generator=generator)
        out = torch.cat([out, nxt], dim=1)
        if step + 1 < max_new_tokens:
            logits, cache = model(nxt, cache)
    model.train(was_training)
    return out
