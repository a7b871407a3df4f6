"""The nucleus is chosen on softmax(logits) at temperature 1, and only then the logits are divided by the temperature (the contract: temperature, then top-k, then top-p)."""
LOSES = ("sample",)
SAYS = "hint.sample_order"
import torch


@torch.no_grad()
def sample(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, generator=None):
    was_training = model.training
    model.eval()
    try:
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
                if top_p is not None:
                    sorted_p, order = last.softmax(dim=-1).sort(dim=-1, descending=True)
                    above = sorted_p.cumsum(dim=-1) - sorted_p
                    drop_sorted = above >= top_p
                    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
                    last = last.masked_fill(drop, float("-inf"))
                last = last / temperature
                nxt = torch.multinomial(last.softmax(dim=-1), 1, generator=generator)
            out = torch.cat([out, nxt], dim=1)
            if step + 1 < max_new_tokens:
                logits, cache = model(nxt, cache)
        return out
    finally:
        model.train(was_training)
