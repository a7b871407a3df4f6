"""The course's own code called from the student's function: the shipped oracles do the work."""
ATTACKS = ("softmax",)
import autograder.graders.oracles as oracles


def softmax(x, axis=-1):
    return oracles.softmax(x, axis)
