"""Stages 06 and 08 of tests/test_graders_discriminate.py: the same tests, over ``LATER``.

A file of their own so that pytest-xdist grades this half of the mutant corpus (in process and in
the sandbox) on one core while the other half is graded on another.
"""

from __future__ import annotations

from test_graders_discriminate import *  # noqa: F401,F403 - the tests, their fixtures, the parametrizing hook
from test_graders_discriminate import LATER

HERE = LATER
