"""Student-controlled text, made safe for each place it is shown.

Failure messages (a student's exception, printed output), folder and file names, student ids
and notebook names reach reports that other people read and machines interpret. Two layers:

- ``clean`` at the data boundary (the result model calls it when a result is built or read
  back): lone surrogates, control characters (ANSI escapes included) and bidirectional
  overrides are removed, so no renderer ever sees them. Newlines and tabs stay: they are text.
- one function per output format, used by every renderer:

  ============== ===============================================================================
  ``one_line``   plain text on one line: newlines become " ⏎ " (a check report cannot gain a line)
  ``markdown_text``  inline Markdown (a table cell, a heading, a list item): no markup, no link
  ``markdown_code``  a fenced block whose fence no line of the text can close
  ``html``       HTML text and attribute values
  ``csv_cell``   a spreadsheet cell that is never a formula
  ``workflow_safe``  a line on stdout/stderr of a GitHub Actions step: never a workflow command
  ``workflow_data``  the message of a workflow command the grader itself prints
  ============== ===============================================================================

Standard library only and no relative imports: ``autograder/grading/classroom.py`` runs as a plain
script next to it in a job that has neither the course's dependencies nor the student's code.
"""

from __future__ import annotations

import html as _html
import re

NEWLINE_MARK = " ⏎ "  # what a newline inside one line of a report reads as
ZWSP = "\u200b"  # breaks an autolink or a command marker without changing what a reader sees

# CSI/OSC sequences first (so "\x1b[31m" leaves nothing behind), then single control characters.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but \t and \n, DEL, C1 (a lone \r is a line break to a terminal)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides, isolates
    "\u2028\u2029\ufeff\ufff9-\ufffb]"  # line/paragraph separators, BOM, interlinear annotations
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n|\r|\n|\x0b|\x0c|\x85|\u2028|\u2029")

# Markdown: the characters that start inline markup anywhere on a line (CommonMark §2.4 lets
# any ASCII punctuation be backslash-escaped), and those that start a block at its beginning.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>#|~&])")
_MD_BLOCK_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")  # a list, setext line, quote, ordered list
# GitHub links bare URLs, www. names, e-mail addresses and @mentions after escapes are resolved.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_FORMULA_START = tuple("=+-@\t\r") + ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width forms
_COMMAND = re.compile(r"::|##\[|##vso\[", re.IGNORECASE)


def clean(s: object) -> str:
    """``s`` as text with nothing a terminal, a bidi renderer or an encoder could trip on.

    Lone surrogates (a non-UTF-8 file name, a broken exception message) become U+FFFD so the
    text can always be written as UTF-8; ANSI escapes, other control characters and bidi
    overrides are dropped; a lone CR becomes a newline. Idempotent.
    """
    t = s if isinstance(s, str) else str(s)
    if t.isascii() and t.isprintable():  # the common case, without a regex
        return t
    t = _SURROGATE.sub("\ufffd", t)
    t = _ANSI.sub("", t)
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", t)


def one_line(s: object) -> str:
    """Plain text that stays on the line it is printed on."""
    return _NEWLINES.sub(NEWLINE_MARK, clean(s))


def _escape_block_start(m: re.Match[str]) -> str:
    space, marker = m.group(1), m.group(2)
    return space + (marker + "\\" if marker[0].isdigit() else "\\" + marker)  # "1\. x", "\- x"


def markdown_text(s: object) -> str:
    """Inline Markdown that renders as exactly the characters of ``s``: no emphasis, heading,
    list, quote, table cell break, HTML, entity, link, autolink or mention; one line."""
    t = _MD_INLINE.sub(r"\\\1", one_line(s))
    t = _MD_BLOCK_START.sub(_escape_block_start, t)
    return _AUTOLINK.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1:], t)


def markdown_code(s: object, info: str = "text") -> str:
    """A fenced code block holding ``s`` verbatim: the fence is longer than any run of
    backticks in ``s``, so no line of it can close the block."""
    body = clean(s)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def html(s: object) -> str:
    """HTML text or a quoted attribute value."""
    return _html.escape(clean(s), quote=True)


def csv_cell(s: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula (OWASP's rule:
    a leading ``=``, ``+``, ``-``, ``@``, tab or CR gets a ``'`` in front); one line."""
    t = one_line(s)
    return "'" + t if t.lstrip(" ").startswith(_FORMULA_START) else t


def workflow_safe(s: object) -> str:
    """Text for stdout/stderr of a CI step: one line, and no ``::command::`` (``::error``,
    ``::add-mask::``, ``::stop-commands::``) or ``##[command]`` marker anywhere in it, so
    GitHub's runner never reads it as a workflow command, wherever it lands on the line."""
    return _COMMAND.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1:], one_line(s))


def workflow_data(s: object) -> str:
    """The message of a workflow command (``::warning::{here}``), encoded as the runner decodes it."""
    return workflow_safe(s).replace("%", "%25")


__all__ = ["clean", "one_line", "markdown_text", "markdown_code", "html", "csv_cell", "workflow_safe",
           "workflow_data", "NEWLINE_MARK"]
