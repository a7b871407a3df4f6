"""Grading engine of the Transformer course kit.

Students meet it as ``check("<item>")`` in the check cells; instructors through nbgrader and
``python -m autograder``. See docs/architecture.md.
"""

from .check import check

__all__ = ["check"]
__version__ = "0.1.0"
