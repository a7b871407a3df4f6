"""Value failures print enough digits to show the difference (issue 11, item 10)."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.expect import digits_to_show, expect_array
from autograder.failures import GraderFailure


def _evidence(got, expected):
    with pytest.raises(GraderFailure) as info:
        expect_array(np.asarray(got), np.asarray(expected), "x")
    return info.value.evidence


def test_a_small_error_is_visible_in_the_excerpt():
    # a LayerNorm with eps 1e-3 instead of 1e-5: equal in four digits
    ev = _evidence([-0.70954, 0.95084], [-0.70951234, 0.95081234])
    assert ev.expected.split("=")[1] != ev.got.split("=")[1]


def test_a_scalar_loss_shows_its_difference():
    ev = _evidence(1709.4, 1709.2)
    assert ev.expected != ev.got and "1709.2" in ev.expected


def test_a_gross_error_keeps_four_digits():
    assert digits_to_show(np.array([1.0, 2.0]), 0.5) == 4
    assert digits_to_show(np.array([1.0]), 0.0) == 4
    assert digits_to_show(np.array([1.0]), 1e-30) == 17
