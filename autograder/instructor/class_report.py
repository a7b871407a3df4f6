"""``python -m autograder class-report``: what the class got wrong, in one self-contained HTML file.

    python -m autograder class-report build/class --out build/class/report.html --threshold 50

Read from the stored results alone (``<graded>/<student>/<stage>/results.json``, as ``grade`` and
``merge`` write them; several shard folders may be given): per stage, the distribution of scores
(a histogram), the pass rate of every check, the named misconceptions ranked by how many students
made them, the items most students fail, and the students below ``--threshold`` percent of the
stage's points (or who handed nothing in). Plots are inline PNGs (matplotlib, Agg), so the file
can be mailed or kept as a CI artifact. Every student-controlled string is HTML-escaped.
Nothing is graded and no student code runs.
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import escape, registry
from ..grading import outputs
from ..catalogue import CATALOGUES, language, text
from ..grading.outputs import SubmissionResult

UNGRADABLE_GRADER = "submission"  # batch._synthetic's one grader per item: the notebook could not be read


# --- reading the class ------------------------------------------------------------------------
def load_class(folders: Iterable[str | Path]) -> list[SubmissionResult]:
    """Every stored result under ``folders``; a submission stored twice keeps the one graded last."""
    stages = {s.id for s in registry.STAGES}
    latest: dict[tuple[str, str], SubmissionResult] = {}
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
        for path in sorted(folder.glob("*/*/results.json")):
            student, assignment = path.parent.parent.name, path.parent.name
            if assignment not in stages:
                continue
            result = outputs.read_submission(folder, student, assignment)
            if result is None:
                continue
            key = (student, assignment)
            if key not in latest or result.graded_at >= latest[key].graded_at:
                latest[key] = result
    return [latest[k] for k in sorted(latest)]


def ungradable(result: SubmissionResult) -> bool:
    """The submission could not be graded at all (unreadable notebook, no notebook, ...)."""
    return bool(result.items) and all(
        len(r.graders) == 1 and r.graders[0].name == UNGRADABLE_GRADER for r in result.items)


# --- the figures ------------------------------------------------------------------------------
@dataclass
class CheckRate:
    item: str
    name: str  # the grader's function name: stable, never shown
    title: str
    hidden: bool
    passed: int = 0
    n: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.n if self.n else 0.0


@dataclass
class ItemRate:
    item: registry.Item
    full: int = 0  # submissions with every point of the item
    n: int = 0
    points: float = 0.0  # summed over submissions

    @property
    def failed(self) -> int:
        return self.n - self.full

    @property
    def failed_share(self) -> float:
        return self.failed / self.n if self.n else 0.0

    @property
    def mean(self) -> float:
        return self.points / self.n if self.n else 0.0


@dataclass
class Misconception:
    key: str  # a why.* key (or, for a sentence no catalogue holds, the sentence itself)
    students: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)

    @property
    def sentence(self) -> str:
        return text(self.key) if any(self.key in t for t in CATALOGUES.values()) else self.key


@dataclass
class StageStats:
    stage: registry.Stage
    max_points: float
    scores: dict[str, float] = field(default_factory=dict)  # student -> score (ungradable included: 0)
    ungradable: dict[str, list[str]] = field(default_factory=dict)  # student -> the submission's notes
    checks: list[CheckRate] = field(default_factory=list)  # sorted: lowest pass rate first
    items: list[ItemRate] = field(default_factory=list)  # sorted: most failed first
    misconceptions: list[Misconception] = field(default_factory=list)  # sorted: most students first
    below: list[tuple[str, float | None]] = field(default_factory=list)  # (student, percent or None: not handed in)


def stage_stats(stage: registry.Stage, results: Sequence[SubmissionResult], students: Sequence[str],
                threshold: float) -> StageStats:
    """The figures of one stage. ``students`` is the whole class (those who handed in nothing count)."""
    st = StageStats(stage, registry.max_points(stage.id))
    checks: dict[tuple[str, str], CheckRate] = {}
    items = {i.id: ItemRate(i) for i in registry.items_of(stage.id)}
    whys: dict[str, Misconception] = {}
    for r in results:
        st.scores[r.student] = r.score
        if ungradable(r):  # its "checks" say only that the file could not be read: not the class's code
            st.ungradable[r.student] = list(r.notes)
            continue
        for ir in r.items:
            rate = items.setdefault(ir.item.id, ItemRate(ir.item))
            rate.n += 1
            rate.full += ir.score >= ir.max_points
            rate.points += ir.score
            for g in ir.graders:
                c = checks.setdefault((ir.item.id, g.name), CheckRate(ir.item.id, g.name, g.title, g.visibility == "hidden"))
                c.n += 1
                c.passed += g.passed
                if not g.passed and (key := g.misconception_key or g.misconception):
                    m = whys.setdefault(key, Misconception(key))
                    m.students.add(r.student)
                    m.items.add(ir.item.id)
    order = {i.id: n for n, i in enumerate(registry.items_of(stage.id))}
    st.checks = sorted(checks.values(), key=lambda c: (c.rate, order.get(c.item, len(order)), c.name))
    st.items = sorted((i for i in items.values() if i.n), key=lambda i: (-i.failed_share, order.get(i.item.id, 0)))
    st.misconceptions = sorted(whys.values(), key=lambda m: (-len(m.students), m.key))
    for student in students:
        if student not in st.scores:
            st.below.append((student, None))
        elif (pct := 100 * st.scores[student] / st.max_points if st.max_points else 0.0) < threshold:
            st.below.append((student, pct))
    st.below.sort(key=lambda b: (-1.0 if b[1] is None else b[1], b[0]))
    return st


def class_stats(results: Sequence[SubmissionResult], threshold: float) -> list[StageStats | registry.Stage]:
    """Every stage up to the last one anyone handed in; a stage nobody handed in stays a bare Stage."""
    students = sorted({r.student for r in results})
    by_stage: dict[str, list[SubmissionResult]] = defaultdict(list)
    for r in results:
        by_stage[r.assignment].append(r)
    last = max((n for n, s in enumerate(registry.STAGES) if s.id in by_stage), default=-1)
    return [stage_stats(s, by_stage[s.id], students, threshold) if s.id in by_stage else s
            for s in registry.STAGES[: last + 1]]


# --- plots (inline PNG) -----------------------------------------------------------------------
def _png(fig) -> str:  # type: ignore[no-untyped-def]
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display, no window: a file
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def histogram_png(st: StageStats) -> str:
    fig, ax = _figure(5.5, 2.6)
    top = st.max_points or 1.0
    ax.hist(list(st.scores.values()), bins=min(10, max(1, int(top))), range=(0, top), color="#4c72b0", edgecolor="white")
    ax.set_xlabel(text("classreport.axis_points", max=top))
    ax.set_ylabel(text("classreport.axis_students"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def items_png(st: StageStats) -> str:
    rates = list(reversed(st.items))  # barh draws bottom-up: the most failed item on top
    fig, ax = _figure(5.5, 0.45 * len(rates) + 0.8)
    ax.barh([i.item.id for i in rates], [100 * i.full / i.n for i in rates], color="#55a868")
    ax.set_xlim(0, 100)
    ax.set_xlabel(text("classreport.axis_full_marks"))
    return _png(fig)


# --- HTML -------------------------------------------------------------------------------------
CSS = """body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.7rem;background:#4c72b0;vertical-align:middle}
section{border-top:2px solid #d0d7de;margin-top:2rem}.muted{color:#656d76}"""


def _e(s: object) -> str:
    return escape.html(s)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _table(head: Sequence[str], rows: Sequence[str]) -> str:
    if not rows:
        return f'<p class="muted">{_e(text("classreport.none"))}</p>'
    return "<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"


def _stage_html(st: StageStats) -> str:
    sid = _e(st.stage.id)
    graded = len(st.scores) - len(st.ungradable)
    mean = sum(st.scores.values()) / len(st.scores)
    out = [f'<section id="stage-{sid}" data-handed-in="{len(st.scores)}"><h2>{_e(st.stage.number)} {_e(st.stage.title)} (<code>{sid}</code>)</h2>',
           f'<p data-ungradable="{len(st.ungradable)}">{_e(text("classreport.summary", n=len(st.scores), graded=graded, mean=mean, max=st.max_points))}</p>',
           f'<h3>{_e(text("classreport.distribution"))}</h3>',
           f'<img alt="{_e(text("classreport.distribution"))}" src="{histogram_png(st)}">']
    if st.ungradable:
        out.append(f'<h3>{_e(text("classreport.ungradable"))}</h3>')
        out.append(_table([text("classreport.col_student"), text("classreport.col_reason")], [
            f'<tr class="ungradable"><td>{_e(s)}</td><td>{_e(" | ".join(notes))}</td></tr>'
            for s, notes in sorted(st.ungradable.items())]))
    out.append(f'<h3>{_e(text("classreport.items"))}</h3>')
    if st.items:
        out.append(f'<img alt="{_e(text("classreport.items"))}" src="{items_png(st)}">')
    out.append(_table([text("classreport.col_rank"), text("classreport.col_item"), text("classreport.col_failed"),
                       text("classreport.col_mean")], [
        f'<tr class="item-fail" data-item="{_e(i.item.id)}" data-rank="{n}" data-failed="{i.failed}" data-n="{i.n}">'
        f'<td class="n">{n}</td><td>{_e(i.item.title)} (<code>{_e(i.item.id)}</code>)</td>'
        f'<td class="n">{i.failed} / {i.n} ({_pct(i.failed_share)})</td>'
        f'<td class="n">{i.mean:.2f} / {i.item.points:g}</td></tr>'
        for n, i in enumerate((i for i in st.items if i.failed), start=1)]))
    out.append(f'<h3>{_e(text("classreport.misconceptions"))}</h3>')
    out.append(_table([text("classreport.col_rank"), text("classreport.col_students"), text("classreport.col_items"),
                       text("classreport.col_sentence")], [
        f'<tr class="misconception" data-key="{_e(m.key)}" data-rank="{n}" data-students="{len(m.students)}">'
        f'<td class="n">{n}</td><td class="n">{len(m.students)}</td>'
        f'<td>{", ".join(f"<code>{_e(i)}</code>" for i in sorted(m.items))}</td><td>{_e(m.sentence)}</td></tr>'
        for n, m in enumerate(st.misconceptions, start=1)]))
    out.append(f'<h3>{_e(text("classreport.checks"))}</h3>')
    out.append(_table([text("classreport.col_item"), text("classreport.col_check"), text("classreport.col_passed")], [
        f'<tr class="check" data-item="{_e(c.item)}" data-check="{_e(c.name)}" data-passed="{c.passed}" data-n="{c.n}">'
        f'<td><code>{_e(c.item)}</code></td><td>{_e(c.title)}'
        f'{" " + _e(text("report.hidden_note")) if c.hidden else ""}</td>'
        f'<td class="n"><span class="bar" style="width:{100 * c.rate:.0f}px"></span> {c.passed} / {c.n} '
        f'({_pct(c.rate)})</td></tr>' for c in st.checks]))
    return "\n".join(out) + "</section>"


def _below_html(stats: Sequence[StageStats | registry.Stage], threshold: float) -> str:
    rows = []
    for st in stats:
        if not isinstance(st, StageStats):
            continue
        for student, pct in st.below:
            shown = text("classreport.not_handed_in") if pct is None else f"{pct:.0f}%"
            rows.append(f'<tr class="below" data-stage="{_e(st.stage.id)}" data-student="{_e(student)}" '
                        f'data-percent="{"" if pct is None else f"{pct:.1f}"}"><td><code>{_e(st.stage.id)}</code></td>'
                        f'<td>{_e(student)}</td><td class="n">{_e(shown)}</td></tr>')
    return (f'<section id="below"><h2>{_e(text("classreport.below", threshold=threshold))}</h2>'
            + _table([text("classreport.col_stage"), text("classreport.col_student"), text("classreport.col_score")], rows)
            + "</section>")


def render(results: Sequence[SubmissionResult], threshold: float = 50.0) -> str:
    """The whole report as one HTML document (no external assets)."""
    stats = class_stats(results, threshold)
    students = sorted({r.student for r in results})
    body = [f"<h1>{_e(text('classreport.title'))}</h1>",
            f'<p data-students="{len(students)}" data-submissions="{len(results)}">'
            f'{_e(text("classreport.intro", students=len(students), submissions=len(results)))}</p>',
            _below_html(stats, threshold)]
    for st in stats:
        if isinstance(st, StageStats):
            body.append(_stage_html(st))
        else:
            body.append(f'<section id="stage-{_e(st.id)}" data-handed-in="0"><h2>{_e(st.number)} {_e(st.title)} '
                        f'(<code>{_e(st.id)}</code>)</h2><p class="muted">{_e(text("classreport.nobody"))}</p></section>')
    return (f'<!DOCTYPE html>\n<html lang="{language()}"><head><meta charset="utf-8">'
            f"<title>{_e(text('classreport.title'))}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# --- the command ------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("graded", nargs="+", metavar="GRADED", help="--out folder(s) of `grade` or `merge`")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--threshold", type=float, default=50.0,
                   help="list the students below this percent of a stage's points (default: 50)")


def main(args: argparse.Namespace) -> int:
    try:
        results = load_class(args.graded)
    except ValueError as exc:
        print(f"class-report: {exc}", file=sys.stderr)
        return 2
    if not results:
        print("class-report: no graded submissions found (expected <student>/<assignment>/results.json).",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results, args.threshold), encoding="utf-8")
    counts = Counter(r.assignment for r in results)
    print(f"Class report of {len({r.student for r in results})} students, {len(results)} graded submission"
          f"{'s' if len(results) != 1 else ''} ({', '.join(f'{a}: {n}' for a, n in sorted(counts.items()))}): {out}")
    return 0
