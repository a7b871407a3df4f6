"""One source, two languages: the notebooks' prose in English and Spanish, their code once.

Every markdown cell of a source notebook (``solutions/``) carries its language in its metadata,
``"lang": "en"`` or ``"lang": "es"``, and every English cell is followed by its Spanish cell, which
records which English text it translates (``"translates"``: the first 12 hex digits of the English
source's SHA-256). Code cells have no language: both editions share them, so the graded cells, their
ids and their checksums are the same in both and nbgrader's gradebook does not care which edition a
student worked in.

``KeepLanguage`` is the first step of ``nbgrader generate_assignment`` (``nbgrader_config.py``): it
keeps the course language's cells and drops the other's. ``problems`` lists what breaks the pairing
(an untagged cell, an English cell without its Spanish, a Spanish cell whose English text changed since
it was translated); ``tests/test_bilingual.py`` runs it on every stage. ``dump`` and ``load`` move the
prose in and out of a notebook as a plain Markdown file, for whoever translates:

    python -m autograder translations dump solutions/01_dot_product_attention/dot_product_attention.ipynb > en.md
    python -m autograder translations load solutions/01_dot_product_attention/dot_product_attention.ipynb es.md
    python -m autograder translations check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from ..catalogue import language as course_language

LANGUAGES = ("en", "es")
SOURCE_LANGUAGE = "en"
MARKER = re.compile(r"^<!-- cell: ([A-Za-z0-9_-]+) -->$", re.MULTILINE)


# Where each edition's release lives (nbgrader's release_directory); the student export always
# calls its copy assignments/.
RELEASE_DIRECTORIES = {"en": "assignments", "es": "assignments_es"}


def release_directory(lang: str) -> str:
    if lang not in RELEASE_DIRECTORIES:
        raise ValueError(f"the course language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return RELEASE_DIRECTORIES[lang]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def keep_language(cells: list, lang: str) -> list:
    """The cells of ``lang``'s edition: code cells, and the markdown cells in ``lang``, untagged."""
    kept = []
    for cell in cells:
        tag = cell.get("metadata", {}).get("lang")
        if tag is not None and tag != lang:
            continue
        if tag is not None:
            cell["metadata"].pop("lang", None)
            cell["metadata"].pop("translates", None)
        kept.append(cell)
    return kept


def generate_assignment_steps() -> list:
    """nbgrader's ``GenerateAssignment.preprocessors`` with ``KeepLanguage`` first."""
    from nbgrader.converters.generate_assignment import GenerateAssignment

    return [KeepLanguage, *GenerateAssignment.class_traits()["preprocessors"].default()]


class KeepLanguage(Preprocessor):
    """nbgrader step: keep the course language's prose (``AUTOGRADER_LANG``, else English)."""

    language = Unicode("", help="en or es; empty: the course language (AUTOGRADER_LANG)").tag(config=True)
    enabled = Bool(True)  # nbconvert runs a registered preprocessor only when it is enabled

    def preprocess(self, nb, resources):
        lang = self.language or course_language()
        if lang not in LANGUAGES:
            raise ValueError(f"KeepLanguage.language must be one of {LANGUAGES}, not {lang!r}")
        nb.cells = keep_language(list(nb.cells), lang)
        return nb, resources


def problems(cells: list) -> list[str]:
    """What breaks the pairing of English and Spanish cells, one readable line each."""
    found = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        meta = cell.get("metadata", {})
        where = f"cell {i} ({cell.get('id', '?')})"
        tag = meta.get("lang")
        if tag not in LANGUAGES:
            found.append(f"{where}: markdown without \"lang\": \"en\" or \"es\" in its metadata")
        elif tag == SOURCE_LANGUAGE:
            nxt = cells[i + 1] if i + 1 < len(cells) else {}
            if nxt.get("cell_type") != "markdown" or nxt.get("metadata", {}).get("lang") != "es":
                found.append(f"{where}: English cell without its Spanish cell right after it")
            elif nxt["metadata"].get("translates") != fingerprint(_source(cell)):
                found.append(f"{where}: the English text changed after its Spanish was written "
                             "(translate it again, then `translations load`)")
            elif not _source(nxt).strip():
                found.append(f"{where}: its Spanish cell is empty")
        else:
            prev = cells[i - 1] if i else {}
            if prev.get("cell_type") != "markdown" or prev.get("metadata", {}).get("lang") != SOURCE_LANGUAGE:
                found.append(f"{where}: Spanish cell that follows no English cell")
    return found


def dump(cells: list, *, only_stale: bool = False) -> str:
    """The English prose as one Markdown file: a ``<!-- cell: ID -->`` line before each cell."""
    parts = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown" or cell.get("metadata", {}).get("lang", "en") != "en":
            continue
        if only_stale:
            nxt = cells[i + 1] if i + 1 < len(cells) else {}
            if nxt.get("metadata", {}).get("translates") == fingerprint(_source(cell)):
                continue
        parts.append(f"<!-- cell: {cell['id']} -->\n{_source(cell).rstrip()}\n")
    return "\n".join(parts)


def parse(text: str) -> dict[str, str]:
    """``{English cell id: Spanish text}`` from a file written like ``dump``'s output."""
    pieces = MARKER.split(text)
    return {pieces[k]: pieces[k + 1].strip("\n") for k in range(1, len(pieces) - 1, 2)}


def load(cells: list, spanish: dict[str, str]) -> tuple[list, list[str]]:
    """``cells`` with each English cell named in ``spanish`` followed by its (new) Spanish cell.

    Tags untagged markdown cells as English on the way. Returns the cells and the ids not found.
    """
    by_id = {c.get("id"): c for c in cells if c.get("cell_type") == "markdown"}
    unknown = [cid for cid in spanish if cid not in by_id or by_id[cid].get("metadata", {}).get("lang") == "es"]
    out = []
    skip_next = False
    for i, cell in enumerate(cells):
        if skip_next:
            skip_next = False
            continue
        out.append(cell)
        if cell.get("cell_type") != "markdown":
            continue
        meta = cell.setdefault("metadata", {})
        meta.setdefault("lang", "en")
        if meta["lang"] != "en" or cell.get("id") not in spanish:
            continue
        nxt = cells[i + 1] if i + 1 < len(cells) else None
        if nxt is not None and nxt.get("metadata", {}).get("lang") == "es":
            skip_next = True  # replaced below
        out.append({
            "cell_type": "markdown",
            "id": f"{cell['id']}-es"[:64],
            "metadata": {"lang": "es", "translates": fingerprint(_source(cell))},
            "source": spanish[cell["id"]].splitlines(keepends=True),
        })
    return out, unknown


# --- the command line ------------------------------------------------------------------------------

def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, nb: dict) -> None:
    # nbformat's own layout (one-space indent, sorted keys as Jupyter writes them), so diffs stay small
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def source_notebooks(repo: Path) -> list[Path]:
    return sorted((repo / "solutions").glob("*/*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder translations",
                                     description="the notebooks' prose in English and Spanish")
    sub = parser.add_subparsers(dest="action", required=True)
    d = sub.add_parser("dump", help="print a notebook's English prose as Markdown, one marked block per cell")
    d.add_argument("notebook", type=Path)
    d.add_argument("--stale", action="store_true", help="only the cells whose Spanish is missing or out of date")
    ld = sub.add_parser("load", help="put the Spanish of a Markdown file (as dump writes it) after its English cells")
    ld.add_argument("notebook", type=Path)
    ld.add_argument("spanish", type=Path)
    sub.add_parser("check", help="list the cells of solutions/ whose Spanish is missing or stale")
    args = parser.parse_args(argv)

    if args.action == "dump":
        sys.stdout.write(dump(_read(args.notebook)["cells"], only_stale=args.stale))
        return 0
    if args.action == "load":
        nb = _read(args.notebook)
        nb["cells"], unknown = load(nb["cells"], parse(args.spanish.read_text(encoding="utf-8")))
        if unknown:
            print(f"no English markdown cell with id {', '.join(unknown)} in {args.notebook}; nothing written",
                  file=sys.stderr)
            return 1
        _write(args.notebook, nb)
        left = problems(nb["cells"])
        print(f"{args.notebook}: Spanish loaded; {len(left)} cell(s) still to translate")
        return 0
    repo = Path(__file__).resolve().parents[2]
    bad = 0
    for path in source_notebooks(repo):
        for line in problems(_read(path)["cells"]):
            print(f"{path.relative_to(repo)}: {line}")
            bad += 1
    print("every English cell has its Spanish, up to date" if not bad else f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
