"""amp_dtype is accepted but never used: no mixed precision anywhere."""
LOSES = ("train_step",)
SAYS = "hint.train_autocast"
import torch


def train_step(model, optimizer, batch, *, pad_id=0, smoothing=0.1, max_norm=1.0, scaler=None, amp_dtype=None):
    model.train()
    optimizer.zero_grad()
    logits = model(batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"])
    loss = label_smoothed_loss(logits, batch["tgt_out"], pad_id, smoothing)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()
