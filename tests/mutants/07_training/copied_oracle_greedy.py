"""The grader's greedy decoder (training_oracles.greedy, which ships to decode the checkpoint) pasted in
as the student's own: it picks the next token with torch.ops.aten.argmax."""
LOSES = ("greedy_decode",)
SAYS = "calls PyTorch's internals, `torch.ops"
import torch


def greedy_decode(model, src, src_mask, max_len, bos_id, eos_id):  # pasted, flags folded in
    memory = model.encode(src, src_mask)
    ys = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    with torch.no_grad():
        while ys.shape[1] < max_len:
            t = ys.shape[1]
            states = model.decode(ys, memory, src_mask, causal_mask(t).to(src.device))
            logits = model.generator(states[:, -1])
            nxt = torch.ops.aten.argmax(logits, -1)
            nxt = nxt.masked_fill(done, eos_id)
            ys = torch.cat([ys, nxt[:, None]], dim=1)
            done |= nxt == eos_id
            if bool(done.all()):
                break
    return ys
