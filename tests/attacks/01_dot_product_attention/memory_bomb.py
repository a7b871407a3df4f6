"""Allocate memory until something gives; dot_product_attention (reference) must be unaffected."""
ATTACKS = ("softmax",)


def softmax(x, axis=-1):
    chunks = []
    while True:
        chunks.append(bytearray(128 << 20))
