"""What a grader raises when a check does not pass.

Graders never let a raw ``AssertionError`` or a student's traceback reach the student: every
failure is one of these, carrying a sentence from the catalogue and, where useful, the evidence
(expected vs got) and the misconception it points to.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Evidence:
    """Expected vs got, summarised for a learner (never whole arrays)."""

    expected: str = ""
    got: str = ""
    details: list[str] = field(default_factory=list)  # e.g. "max |error| = 0.31 at index (0, 2, 1)"


class GraderFailure(AssertionError):
    """A check did not pass because of what the student's code returned or did."""

    # The check computed what its known mistakes would output and none matched: its generic hint is
    # contradicted by the evidence, so none is added later (``expect.hinted``).
    ruled_out: bool = False

    def __init__(
        self,
        message: str,
        *,
        evidence: Evidence | None = None,
        hint: str | None = None,
        misconception: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence
        self.hint = hint
        self.misconception = misconception  # a full sentence naming the likely mistake


class StudentCodeError(GraderFailure):
    """The student's code raised while a grader called it.

    ``error_types`` names the exception's class and its bases, most specific first (for
    ``ValueError``: ``("ValueError", "Exception", "BaseException", "object")``), so that a grader
    can expect a particular exception without holding the exception object (a sandbox proxy
    fills it from the worker's report).
    """

    def __init__(self, message: str, *, error_types: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.error_types = tuple(error_types)


class MissingDefinition(GraderFailure):
    """A name the item needs is not defined (or not callable) in the student's code."""


class NotImplementedYet(GraderFailure):
    """The stub still raises NotImplementedError."""


class StudentTimeout(GraderFailure):
    """The student's code ran past its time limit (an infinite loop, or far too slow)."""


class ForbiddenCall(GraderFailure):
    """The student's code called a built-in the item asks them to write themselves.

    It scores zero for the whole item, whatever else passed.
    """
