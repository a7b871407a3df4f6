"""The loss takes the course's PAD_ID instead of the pad_id passed to train_step."""
LOSES = ("train_step",)
SAYS = "the returned loss"
import torch


def train_step(model, optimizer, batch, *, pad_id=0, smoothing=0.1, max_norm=1.0, scaler=None, amp_dtype=None):
    model.train()
    optimizer.zero_grad()
    with torch.autocast(device_type=batch["src"].device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        logits = model(batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"])
        loss = label_smoothed_loss(logits, batch["tgt_out"], PAD_ID, smoothing)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()
