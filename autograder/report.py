"""Render item results for people: plain text (check cells, terminals) and Markdown."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from . import escape
from .catalogue import number, text
from .results import GraderResult, ItemResult

PASS, FAIL = "✓", "✗"


WIDTH = 100  # a notebook's output area without horizontal scrolling


def _wrapped(sentence: str, indent: str) -> list[str]:
    # one_line: a student's newline shows as ⏎ and can never start a line of the report.
    return textwrap.wrap(escape.one_line(sentence), WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False) or [indent]


def _failure_lines(g: GraderResult, indent: str) -> list[str]:
    lines = _wrapped(g.message, indent)
    if g.evidence:
        if g.evidence.expected or g.evidence.got:
            expected, got = f"{text('report.expected')}:", f"{text('report.got')}:"
            width = max(len(expected), len(got)) + 1  # the two values start in one column
            lines.append(f"{indent}{expected.ljust(width)}{escape.one_line(g.evidence.expected)}")
            lines.append(f"{indent}{got.ljust(width)}{escape.one_line(g.evidence.got)}")
        lines += [f"{indent}{escape.one_line(d)}" for d in g.evidence.details]
    if g.misconception:
        lines += _wrapped(f"{text('report.likely')}: {g.misconception}", indent)
    if g.hint:
        lines += _wrapped(f"{text('report.hint')}: {g.hint}", indent)
    return lines


def item_text(result: ItemResult) -> str:
    r = result
    lines = [text("report.header", title=r.item.title, item=r.item.id, score=r.score, points=r.max_points)]
    for n in r.notes:
        lines += _wrapped(f"! {n}", "  ")
    failed = [g for g in r.graders if not g.passed]
    if r.graders:
        lines.append("  " + (text("report.all_passed", n=len(r.graders)) if not failed
                             else text("report.some_failed", passed=r.passed, n=len(r.graders))))
    forbidden = next((g for g in r.graders if g.forbidden), None)
    if forbidden:
        lines += _wrapped(f"! {forbidden.message}", "  ")
    # When every check failed for the same reason (a stub, a missing function), say it once.
    if failed and len(failed) == len(r.graders) and len({g.message for g in failed}) == 1 and len(failed) > 1:
        first, *rest = _failure_lines(failed[0], "    ")
        lines.append(f"  {FAIL} {first.strip()}")
        lines += rest
        return "\n".join(lines)
    for g in r.graders:
        tag = f" {text('report.hidden_note')}" if g.visibility == "hidden" else ""
        lines.append(f"  {PASS if g.passed else FAIL} {g.title}{tag}")
        if not g.passed and not g.forbidden:
            lines += _failure_lines(g, "      ")
    return "\n".join(lines)


def items_markdown(results: Sequence[ItemResult]) -> str:
    """A Markdown report: a summary table, then the failed checks with their evidence."""
    total = sum(r.score for r in results)
    out = [text("report.table_head"), "| --- | ---: | ---: |"]
    for r in results:
        out.append(f"| {r.item.title} (`{r.item.id}`) | {number(r.score)} / {number(r.max_points)} | {r.passed} / {len(r.graders)} |")
    out.append(f"| **{text('report.table_total')}** | **{number(total)} / {number(sum(r.max_points for r in results))}** | |")
    for r in results:
        if r.score < r.max_points:
            # A fence no line of the report can close: student text stays inside the block.
            out += ["", f"### {r.item.title} (`{r.item.id}`)", "", escape.markdown_code(item_text(r), "text")]
    return "\n".join(out) + "\n"


def score_badge_html(result: ItemResult) -> str:
    full = result.score >= result.max_points
    colour = "#1a7f37" if full else ("#9a6700" if result.score > 0 else "#cf222e")
    label = escape.html(text("report.badge", score=result.score, points=result.max_points))
    return f'<span style="font-weight:600;color:{colour}">{label}</span>'
