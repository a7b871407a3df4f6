"""``python -m autograder similarity``: pairs of submissions whose graded code is unusually alike.

    python -m autograder similarity submitted/ --stage 01_dot_product_attention --out similarity.html --top 20

For the instructor to review, never a penalty. What is compared is what is graded: a notebook's
definitions (``notebook.code_definitions``: imports, functions, classes, constants; no check cell,
no exploration, no output), with docstrings dropped and the code re-printed from its syntax tree
(so whitespace and comments are gone). copydetect (winnowing over k-grams, the MOSS algorithm) then
tokenises it with Pygments and replaces every name by one symbol (renaming variables changes
nothing) and removes every fingerprint of the released skeleton (``assignments/<stage>/``: the
signatures, helpers and plots every student starts from are never evidence).

A pair's similarity is the mean of the two shares ("how much of A's own code is in B" and the
reverse); the report ranks the pairs, shows both shares and each pair side by side (difflib), and
lists the notebooks that could not be read. Student code is parsed, never run.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..grading import batch
from .. import escape, registry
from ..catalogue import language, text
from ..notebook import NotebookError, code_definitions

REPO = Path(__file__).resolve().parents[2]
NOISE = 25  # k: matches shorter than this many normalised characters are ignored (copydetect's default)
GUARANTEE = 30  # matches at least this long are always found (copydetect's default): window = 30 - 25 + 1
WINDOW = GUARANTEE - NOISE + 1


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]


def statements(code: str) -> list[str]:
    """``code``'s top-level statements re-printed from the syntax tree, without docstrings (comments
    and layout go with them) and without imports (every solution imports numpy: never evidence);
    a statement repeated (the same helper in two cells) is kept once."""
    tree = ast.parse(code)
    _drop_docstrings(tree)
    kept = (ast.unparse(n) for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom)))
    return list(dict.fromkeys(kept))


def normalised(code: str, skeleton: Sequence[str] = ()) -> str:
    """``code`` as ``statements``, less every statement that is in ``skeleton`` as it is (the
    released helpers and plots); what the student changed of a skeleton's statement stays."""
    drop = set(skeleton)
    return "\n".join(s for s in statements(code) if s not in drop)


def graded_code(notebook: Path, skeleton: Sequence[str] = ()) -> str:
    """The definitions grading takes from ``notebook``, normalised. Raises NotebookError or SyntaxError."""
    return normalised(code_definitions(notebook), skeleton)


def _notebook_of(folder: Path, stage: registry.Stage) -> Path:
    if (folder / stage.notebook).is_file():
        return folder / stage.notebook
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(found) != 1:
        raise NotebookError(text("sandbox.no_notebook", notebook=stage.notebook, folder=folder.name))
    return found[0]


@dataclass
class Pair:
    a: str
    b: str
    share_a: float  # of a's own (non-skeleton) code, the part also in b
    share_b: float

    @property
    def score(self) -> float:
        return (self.share_a + self.share_b) / 2


@dataclass
class Comparison:
    stage: registry.Stage
    code: dict[str, str]  # student -> normalised graded code
    unreadable: dict[str, str]  # student -> why
    pairs: list[Pair]  # ranked, most similar first; pairs sharing nothing left out


def skeleton_statements(stage: registry.Stage) -> list[str]:
    release = REPO / "assignments" / stage.id / stage.notebook
    if not release.is_file():  # without it every line of the skeleton would count as shared work
        raise ValueError(f"{release} is missing: run `make release` first")
    return statements(code_definitions(release))


def compare(code: dict[str, str], skeleton: str) -> list[Pair]:
    """Every pair of ``code``'s students with something in common beyond ``skeleton``, ranked."""
    import numpy as np
    from copydetect import CodeFingerprint, compare_files
    from copydetect.utils import filter_code, get_document_fingerprints

    filtered, _ = filter_code(skeleton, "skeleton.py", "python")
    boilerplate = np.unique(np.array(sorted(get_document_fingerprints(filtered, NOISE, WINDOW)[0]), dtype=np.int64))
    prints = {s: CodeFingerprint(f"{s}.py", NOISE, WINDOW, boilerplate, fp=io.StringIO(c), language="python")
              for s, c in code.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        overlap, (share_a, share_b), _ = compare_files(prints[a], prints[b])
        if overlap:
            pairs.append(Pair(a, b, min(1.0, float(share_a)), min(1.0, float(share_b))))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


def run(paths: Sequence[str | Path], stage_id: str) -> Comparison:
    stage = registry.stage(stage_id)
    subs, _ = batch.discover(paths)
    code: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    skeleton = skeleton_statements(stage)
    for sub in (s for s in subs if s.assignment == stage.id):
        if (sub.folder / "results.json").is_file() and not any(sub.folder.glob("*.ipynb")):
            continue  # a `grade --out` folder: reports, no code (the submission is elsewhere)
        try:
            code[sub.student] = graded_code(_notebook_of(sub.folder, stage), skeleton)
        except (NotebookError, SyntaxError, OSError, ValueError, RecursionError) as exc:
            unreadable[sub.student] = escape.one_line(str(exc) or type(exc).__name__)
    return Comparison(stage, code, unreadable, compare(code, "\n".join(skeleton)) if len(code) > 1 else [])


# --- HTML -------------------------------------------------------------------------------------
CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}.notice{background:#fff8c5;padding:.6rem}
table.diff{font-family:ui-monospace,monospace;font-size:12px}table.diff td{border:none;white-space:pre-wrap;vertical-align:top}
.diff_header{background:#f6f8fa;color:#656d76}.diff_next{display:none}.diff_add{background:#dafbe1}
.diff_chg{background:#fff8c5}.diff_sub{background:#ffebe9}"""


def _e(s: object) -> str:
    return escape.html(s)


def render(cmp: Comparison, top: int = 20) -> str:
    shown = cmp.pairs[:top]
    rows = [f'<tr class="pair" data-rank="{n}" data-a="{_e(p.a)}" data-b="{_e(p.b)}" data-score="{p.score:.4f}">'
            f'<td class="n">{n}</td><td><a href="#pair-{n}">{_e(p.a)} &amp; {_e(p.b)}</a></td>'
            f'<td class="n">{100 * p.score:.0f}%</td><td class="n">{100 * p.share_a:.0f}% / {100 * p.share_b:.0f}%</td></tr>'
            for n, p in enumerate(shown, start=1)]
    body = [f"<h1>{_e(text('similarity.title', stage=cmp.stage.id))}</h1>",
            f'<p class="notice">{_e(text("similarity.notice"))}</p>',
            f'<p data-compared="{len(cmp.code)}">{_e(text("similarity.method", n=len(cmp.code), k=NOISE, window=WINDOW))}</p>']
    if rows:
        head = "".join(f"<th>{_e(text(k))}</th>" for k in ("similarity.col_rank", "similarity.col_pair",
                                                           "similarity.col_score", "similarity.col_shares"))
        body.append(f"<table><tr>{head}</tr>{''.join(rows)}</table>")
    else:
        body.append(f"<p>{_e(text('similarity.none'))}</p>")
    if cmp.unreadable:
        body.append(f"<h2>{_e(text('similarity.unreadable'))}</h2><ul>" + "".join(
            f'<li class="unreadable" data-student="{_e(s)}">{_e(s)}: {_e(why)}</li>'
            for s, why in sorted(cmp.unreadable.items())) + "</ul>")
    differ = difflib.HtmlDiff(wrapcolumn=70)
    for n, p in enumerate(shown, start=1):
        # HtmlDiff escapes the code lines (&, <, >) but writes the column headers as given: escaped here.
        table = differ.make_table(cmp.code[p.a].splitlines(), cmp.code[p.b].splitlines(), _e(p.a), _e(p.b))
        body.append(f'<h2 id="pair-{n}">{n}. {_e(p.a)} &amp; {_e(p.b)}: {100 * p.score:.0f}%</h2>{table}')
    return (f'<!DOCTYPE html>\n<html lang="{language()}"><head><meta charset="utf-8">'
            f"<title>{_e(text('similarity.title', stage=cmp.stage.id))}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# --- the command ------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="SUBMISSIONS",
                   help="folders holding <student>/<stage>/<notebook>.ipynb (nbgrader's submitted/ or autograded/)")
    p.add_argument("--stage", required=True, metavar="ID", help="the stage to compare, e.g. 01_dot_product_attention")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--top", type=int, default=20, help="how many pairs to list (default: 20)")


def main(args: argparse.Namespace) -> int:
    try:
        cmp = run(args.paths, args.stage)
    except (registry.UnknownItem, ValueError) as exc:
        print(f"similarity: {exc}", file=sys.stderr)
        return 2
    except ImportError:
        print("similarity needs copydetect: pip install -e '.[instructor]'", file=sys.stderr)
        return 1
    if not cmp.code and not cmp.unreadable:
        print(f"similarity: no submission of {args.stage} found (expected <student>/{args.stage}/*.ipynb, as in "
              "nbgrader's submitted/ or autograded/; a `grade --out` folder holds reports, not notebooks).",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(cmp, args.top), encoding="utf-8")
    first = f"; most similar: {cmp.pairs[0].a} & {cmp.pairs[0].b} ({100 * cmp.pairs[0].score:.0f}%)" if cmp.pairs else ""
    print(escape.one_line(f"Compared {len(cmp.code)} submissions of {args.stage} ({len(cmp.unreadable)} unreadable)"
                          f"{first}: {out}"))
    return 0
