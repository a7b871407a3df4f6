"""The result model: one per grader, one per item. Every report is rendered from these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .catalogue import CATALOGUES
from .escape import clean
from .failures import Evidence
from .registry import Item


_TEXT_FIELDS = frozenset({"message", "hint", "misconception"})


def _clean_opt(s: str | None) -> str | None:
    return None if s is None else clean(s)


def misconception_key(sentence: str | None) -> str | None:
    """The ``why.*`` catalogue key whose sentence (in any language) is exactly ``sentence``.

    Failures carry the sentence (``expect.fail``); the class report counts misconceptions by key,
    so that a report reads the same in every language and no renderer compares sentences. The
    sentences are whole catalogue entries without parameters, unique per key (a test checks).
    """
    if not sentence:
        return None
    for table in CATALOGUES.values():
        for key, value in table.items():
            if key.startswith("why.") and value == sentence:
                return key
    return None


@dataclass
class GraderResult:
    item: str
    name: str  # the test function's name, e.g. "test_rows_sum_to_one"
    title: str  # the sentence the learner reads
    visibility: str  # "public" or "hidden"
    weight: float = 1.0
    status: str = "passed"  # "passed", "failed" or "error" (a grader bug)
    message: str = ""
    evidence: Evidence | None = None
    hint: str | None = None
    misconception: str | None = None
    forbidden: bool = False
    missing: bool = False  # the student's definition was not found (missing, renamed, or an earlier cell crashed)
    # The ``why.*`` key of ``misconception``, kept in results.json for the class report. None given
    # (the default) means "derive it from the sentence"; a stored key is kept as it was written.
    misconception_key: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # The data boundary: messages and evidence carry student text (their exceptions, their
        # output, their names). Cleaned whenever they are set (the runner fills them in after
        # construction), every report and stored result is free of control characters, ANSI
        # escapes, bidi overrides and lone surrogates; renderers escape the rest per format.
        if name in _TEXT_FIELDS:
            value = _clean_opt(value)
            if name == "misconception":
                super().__setattr__("misconception_key", misconception_key(value))
        elif name == "misconception_key" and value is None:
            value = misconception_key(getattr(self, "misconception", None))
        elif name == "evidence" and value is not None:
            value = Evidence(clean(value.expected), clean(value.got), [clean(d) for d in value.details])
        super().__setattr__(name, value)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def one_likely_cause(graders: list[GraderResult]) -> None:
    """The item's feedback names each likely cause once, and guesses nothing once one is named.

    One mistake fails several checks, and each check that can name it would ("Likely cause"
    three times); it is shown where it first appears. Once a check's evidence named a cause, the
    generic hints of the item's other failed checks are guesses that compete with that evidence
    (a softmax over the wrong axis told to "reduce with keepdims=True"), so they are dropped.
    Applied to the results, not the rendering: results.json, Markdown and HTML say the same.
    """
    failed = [g for g in graders if not g.passed]
    if not any(g.misconception for g in failed):
        return
    shown: set[str] = set()
    for g in failed:
        if g.misconception in shown:
            g.misconception = None
        elif g.misconception:
            shown.add(g.misconception)
        g.hint = None


@dataclass
class ItemResult:
    item: Item
    graders: list[GraderResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # engine-level messages (hidden graders missing, ...)
    incomplete: bool = False  # some graders that should have run could not

    def __post_init__(self) -> None:
        self.notes = [clean(n) for n in self.notes]  # notes quote student errors (see GraderResult)

    @property
    def max_points(self) -> float:
        return float(self.item.points)

    @property
    def score(self) -> float:
        if self.incomplete or not self.graders or any(g.forbidden for g in self.graders):
            return 0.0
        total = sum(g.weight for g in self.graders)
        earned = sum(g.weight for g in self.graders if g.passed)
        # Rounded down to 2 decimals so a nearly-all-passed item never shows as full marks.
        return int(self.max_points * earned / total * 100) / 100

    @property
    def passed(self) -> int:
        return sum(g.passed for g in self.graders)

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item.id,
            "stage": self.item.stage,
            "score": self.score,
            "max_score": self.max_points,
            "notes": [clean(n) for n in self.notes],  # appended to after construction too
            "graders": [
                {k: v for k, v in asdict(g).items() if v not in (None, "", [])} for g in self.graders
            ],
        }
