"""``logging.config``'s configurator imports a dotted name (``ext://`` strings in dictConfig)."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
import logging.config


def softmax(x, axis=-1):
    return logging.config.BaseConfigurator({}).resolve("autograder.graders.oracles.softmax")(x, axis)


def dot_product_attention(x):
    return logging.config.BaseConfigurator({}).resolve("autograder.graders.oracles.dot_product_attention")(x)
