"""Targets without <bos>: the decoder input starts with the first word instead of <bos>."""
LOSES = ("make_batch",)
SAYS = "why.batch_no_bos"
import torch


def make_batch(src_seqs, tgt_seqs, pad_id=0, bos_id=1, eos_id=2):
    def pad(rows):
        width = max(len(row) for row in rows)
        return torch.tensor([row + [pad_id] * (width - len(row)) for row in rows], dtype=torch.long)

    src = pad([list(s) + [eos_id] for s in src_seqs])
    tgt = pad([list(t) + [eos_id] for t in tgt_seqs])
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    return {"src": src, "src_mask": padding_mask(src, pad_id), "tgt_in": tgt_in, "tgt_out": tgt_out,
            "tgt_mask": padding_mask(tgt_in, pad_id) & causal_mask(tgt_in.shape[1])}
