"""Decoder input and labels are the same, unshifted sequence: the decoder sees the word it must predict."""
LOSES = ("make_batch",)
SAYS = "why.batch_not_shifted"
import torch


def make_batch(src_seqs, tgt_seqs, pad_id=0, bos_id=1, eos_id=2):
    def pad(rows):
        width = max(len(row) for row in rows)
        return torch.tensor([row + [pad_id] * (width - len(row)) for row in rows], dtype=torch.long)

    src = pad([list(s) + [eos_id] for s in src_seqs])
    tgt = pad([[bos_id] + list(t) + [eos_id] for t in tgt_seqs])
    return {"src": src, "src_mask": padding_mask(src, pad_id), "tgt_in": tgt, "tgt_out": tgt,
            "tgt_mask": padding_mask(tgt, pad_id) & causal_mask(tgt.shape[1])}
