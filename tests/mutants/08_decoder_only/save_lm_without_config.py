"""save_lm writes the tensors but not the config: the grader cannot know the model's sizes."""
LOSES = ("lm_checkpoint",)
SAYS = 'has no "config" in its metadata'


def save_lm(model, path, config):
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != "head.weight"}
    save_file(state, str(path))
