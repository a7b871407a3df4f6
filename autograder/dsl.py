"""What grader modules import: the ``grader`` mark."""

from __future__ import annotations

import pytest


def grader(item: str, title: str, *, weight: float = 1.0):
    """Mark a pytest test as a grader of ``item``; ``title`` is a catalogue key.

    >>> @grader("softmax", "softmax.rows_sum_to_one")
    ... def test_rows_sum_to_one(student): ...
    """
    return pytest.mark.grader(item, title, weight=weight)
