"""save_classifier writes the tensors but no config in the metadata."""
LOSES = ("agreement_checkpoint",)
SAYS = "has no \"config\" in its metadata"
from safetensors.torch import save_file


def save_classifier(model, path, config):
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(path))
