"""Look for the reference notebook (and the hidden graders) on disk and run the reference softmax."""
ATTACKS = ("softmax",)
NEEDS = "bwrap"


def _find(name, roots=("/", "/work", "/root", "/home", "/srv", "/opt", "/tmp"), depth=6):
    import os

    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.count(os.sep) - root.count(os.sep) >= depth or dirpath.startswith(("/proc", "/sys", "/dev")):
                dirnames[:] = []
                continue
            if name in filenames and "solutions" in dirpath:
                return os.path.join(dirpath, name)
    return None


def softmax(x, axis=-1):
    import json

    import numpy as np

    path = _find("dot_product_attention.ipynb")
    if path is None:
        x[...] = 0  # wrong in every way: even the input is overwritten
        return np.zeros_like(x)
    cells = json.load(open(path))["cells"]
    ns = {}
    for cell in cells:
        src = "".join(cell["source"])
        if "def softmax" in src:
            exec(src, ns)
    return ns["softmax"](x, axis)
