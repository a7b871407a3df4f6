"""Whether a translated catalogue table can stand in for the English one.

A translation is complete when it has exactly the English table's keys, and each of its
templates has the same ``str.format`` replacement fields as the English one: the same names,
each as often, with the same conversion (``!r``) and format spec (``:g``, ``:.2f``). The one
exception is ``:a``, the English article (``{cls:a}`` -> "a Linear", see ``catalogue._Formatter``):
another language writes its own article into the sentence, so it uses the bare field (``{cls}``)
and must not use ``:a`` at all. The figures written into the English text (thresholds, sizes,
stage numbers) must appear in the translation too, whatever its decimal and thousands separators
("4.0" is "4,0", "196,608" is "196.608"): an English figure changed after the translation was
written shows up here. Importing this module has no side effects.
"""

from __future__ import annotations

import ast
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping

ARTICLE_SPEC = "a"  # catalogue._Formatter's English-article spec

Field = tuple[str, str, str]  # (field name, conversion, format spec)

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def fields(template: str) -> Counter[Field]:
    """Every replacement field of ``template``, counted; raises ``ValueError`` if it is malformed
    (a lone ``{`` or ``}``)."""
    found: Counter[Field] = Counter()
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is not None:  # None: the template's trailing literal text
            found[(name, conversion or "", spec or "")] += 1
    return found


def figures(template: str) -> Counter[str]:
    """The numbers in ``template``'s literal text (not in its fields), counted, with their
    separators dropped so that "4.0" and "4,0" are the same figure."""
    literal = "".join(text for text, *_ in string.Formatter().parse(template))
    return Counter(re.sub(r"[.,]", "", n) for n in _FIGURE.findall(literal))


def _show(found: Counter[Field]) -> str:
    parts = []
    for (name, conversion, spec), n in sorted(found.items()):
        field = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        parts.append(field if n == 1 else f"{field}×{n}")
    return ", ".join(parts) or "none"


def _expected_in_translation(reference: Counter[Field]) -> Counter[Field]:
    # {cls:a} in English is {cls} in a language that writes its own article
    out: Counter[Field] = Counter()
    for (name, conversion, spec), n in reference.items():
        out[(name, conversion, "" if spec == ARTICLE_SPEC else spec)] += n
    return out


def problems(reference: Mapping[str, str], translated: Mapping[str, str]) -> list[str]:
    """One line per problem of ``translated`` against ``reference`` (empty: none): keys missing
    or extra, templates that are not strings or do not parse, replacement fields that differ, and
    figures of the reference that the translation lacks."""
    out: list[str] = []
    for key in reference:
        if key not in translated:
            out.append(f"missing key: {key}")
    for key in translated:
        if key not in reference:
            out.append(f"extra key: {key}")
    for key, template in translated.items():
        if key not in reference:
            continue
        if not isinstance(template, str):
            out.append(f"{key}: the template is {type(template).__name__}, not str")
            continue
        try:
            got = fields(template)
        except ValueError as error:
            out.append(f"{key}: not a valid format template ({error})")
            continue
        if any(spec == ARTICLE_SPEC for _name, _conversion, spec in got):
            out.append(f"{key}: uses the English article spec ':{ARTICLE_SPEC}'; write the article into the sentence")
            continue
        want = _expected_in_translation(fields(reference[key]))
        if got != want:
            out.append(f"{key}: placeholders {_show(got)}, expected {_show(want)}")
        lacking = figures(reference[key]) - figures(template)
        if lacking:
            out.append(f"{key}: lacks the figure(s) {', '.join(sorted(lacking.elements()))} of the reference")
    return out


def same_as_reference(reference: Mapping[str, str], translated: Mapping[str, str]) -> list[str]:
    """Keys whose translation is character for character the reference: not a problem in itself
    ("#", a formula), but the place to look for a sentence left untranslated."""
    return [key for key, template in translated.items() if reference.get(key) == template]


# --- phrases: the English a grader builds into a sentence ------------------------------------------
# ``catalogue.phrase(template, ...)`` translates a phrase by its English template. What follows finds
# every such template in a module's source, and every English literal that reaches a student
# without passing through ``phrase`` (or the catalogue's ``text``).

_ENGLISH_WORD = re.compile(
    r"(?<![\w.`])(the|of|with|without|for|and|or|after|before|under|when|while|an|is|are|not|no|"
    r"returns?|to|in|at|by|from|into|on|one|two|three|every|all|its|their|this|that|than|"
    r"tensor|array|number|shape|dtype|steps?|tokens?|loss|output|weights?|logits|rows?|"
    r"values?|positions?|mask|split|file|entries|more|gradient|sequence|layers?)(?![\w`(])",
    re.IGNORECASE)
# Exceptions whose messages mirror Python's or PyTorch's own (English) errors: a trusted block
# refuses a bad argument as ``nn.Linear`` would; they are not the grader's feedback.
_BUILTIN_ERRORS = {"ValueError", "TypeError", "RuntimeError", "KeyError", "IndexError",
                   "NotImplementedError", "OSError", "FileNotFoundError", "SystemExit"}
# Calls whose string arguments a student never reads as feedback: logs, the command line's help,
# a check pytest skips (the report does not show skip reasons).
_NOT_FEEDBACK_CALLS = {"skip", "add_argument", "ArgumentParser", "debug", "info", "warning", "error",
                       "exception", "print", "getLogger", "compile", "search", "match", "fullmatch",
                       "sub", "split", "startswith", "endswith", "replace", "strip", "join", "format",
                       "get", "setdefault", "getattr", "hasattr", "environ", "getenv"}


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _literal_text(node: ast.AST) -> str | None:
    """A string constant's value, or an f-string's literal text with ``{}`` for its fields."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def phrase_templates(source: str) -> list[tuple[int, str | None]]:
    """``(line, template)`` for every ``phrase(...)`` call in ``source``; ``template`` is None where
    the first argument is not one literal string (an f-string or a variable cannot be looked up)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _call_name(node) == "phrase":
            first = node.args[0] if node.args else None
            ok = isinstance(first, ast.Constant) and isinstance(first.value, str)
            found.append((node.lineno, first.value if ok else None))
    return found


def looks_english(value: str) -> bool:
    """Whether a literal reads as English prose: two words or more, at least one of them a common
    English word, once code in backticks and ``{fields}`` are left out."""
    try:  # a call, expression or statement shown as written ("padding_mask(tokens, 0)") is code
        ast.parse(value.replace("{}", "x"))
        return False
    except SyntaxError:
        pass
    prose = re.sub(r"`[^`]*`|\{[^{}]*\}|<[^<>]*>", " ", value)  # code, fields, HTML tags
    return " " in prose.strip() and len(re.findall(r"[A-Za-z]{2,}", prose)) >= 2 and _ENGLISH_WORD.search(prose) is not None


def english_literals(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` for every English-looking string literal in ``source`` that is not a
    docstring, not a ``phrase``/``text``/``fail`` argument that the catalogue translates, not a
    dictionary key or a comparison, and not an argument of a call that is no feedback
    (``_NOT_FEEDBACK_CALLS``) or of a built-in exception (``_BUILTIN_ERRORS``)."""
    tree = ast.parse(source)
    exempt: set[int] = set()

    def exempt_all(node: ast.AST) -> None:
        exempt.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _literal_text(body[0].value) is not None:
                exempt_all(body[0])
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name == "phrase" and node.args:
                exempt_all(node.args[0])  # the template; its parameters are checked like any value
            elif name in _NOT_FEEDBACK_CALLS:
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    exempt_all(arg)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _call_name(node.exc) in _BUILTIN_ERRORS:
            exempt_all(node.exc)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    exempt_all(key)
        elif isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                exempt_all(part)
        elif isinstance(node, ast.JoinedStr):
            exempt.update(id(v) for v in node.values)  # judged as one f-string
    found = []
    for node in ast.walk(tree):
        value = _literal_text(node) if id(node) not in exempt else None
        if value is not None and looks_english(value):
            found.append((node.lineno, value))
    return sorted(found)


def phrase_problems(templates: Iterable[str], translated: Mapping[str, str]) -> list[str]:
    """What stops ``translated`` from standing in for the English ``templates`` (as ``problems``:
    missing and extra entries, placeholders that differ)."""
    reference = {t: t for t in templates}
    return problems(reference, translated)
