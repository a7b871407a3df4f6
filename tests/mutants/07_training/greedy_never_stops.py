"""Decoding always runs to max_len, even after every row has produced <eos>."""
LOSES = ("greedy_decode",)
SAYS = "why.greedy_no_stop"
import torch


def greedy_decode(model, src, src_mask, max_len, bos_id, eos_id):
    with torch.no_grad():
        memory = model.encode(src, src_mask)
        ys = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        finished = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        while ys.shape[1] < max_len:
            states = model.decode(ys, memory, src_mask, causal_mask(ys.shape[1]).to(src.device))
            next_word = model.generator(states[:, -1]).argmax(dim=-1).masked_fill(finished, eos_id)
            ys = torch.cat([ys, next_word.unsqueeze(1)], dim=1)
            finished |= next_word == eos_id
    return ys
