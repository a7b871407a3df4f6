"""Keys and values projected with each other's matrices."""
LOSES = ("project_qkv",)
SAYS = "why.qkv_swapped"


def project_qkv(x, w_q, w_k, w_v):
    return x @ w_q.T, x @ w_v.T, x @ w_k.T
