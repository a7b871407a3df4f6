"""The checkpoint written with torch.save (a pickle) instead of safetensors."""
LOSES = ("translation_checkpoint",)
SAYS = "is not a safetensors file"
import torch


def save_checkpoint(model, path, config):
    torch.save({"state_dict": model.state_dict(), "config": config}, path)
