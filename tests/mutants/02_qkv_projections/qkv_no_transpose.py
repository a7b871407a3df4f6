"""Projections written as x @ W instead of nn.Linear's x @ Wᵀ."""
LOSES = ("project_qkv",)
SAYS = "why.qkv_transposed"


def project_qkv(x, w_q, w_k, w_v):
    return x @ w_q, x @ w_k, x @ w_v
