"""Finds the course's own softmax among the objects in memory (the grader's trusted building blocks
live in the process that runs the student's code) and calls it without ever naming the course."""
ATTACKS = ("softmax", "dot_product_attention")
SAYS = "reaches code without naming it"
SKELETON = True
import gc


def _course_function(name):
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") == name and getattr(obj, "__module__", "") != __name__:
            if "__student__" not in str(getattr(obj, "__module__", "")):
                return obj
    return None


def softmax(x, axis=-1):
    return _course_function("softmax")(x, axis)


def dot_product_attention(x):
    return _course_function("dot_product_attention")(x)
