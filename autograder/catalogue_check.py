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

import re
import string
from collections import Counter
from collections.abc import Mapping

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
