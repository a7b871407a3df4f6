"""k.T used for the transpose, which breaks as soon as there is a batch axis."""
LOSES = ("cross_attention",)
SAYS = "hint.swapaxes"


def cross_attention(x, z, w_q, w_k, w_v):
    q, k, v = z @ w_q.T, x @ w_k.T, x @ w_v.T
    w = softmax(q @ k.T)
    return w @ v, w
