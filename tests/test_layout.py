"""The package's folders say who gets what (docs/architecture.md, "Layout"), and imports respect it.

- top level, ``graders/``, ``sandbox/``: what a student's kernel and the grading sandbox run;
- ``grading/``: grading a class (ships to students, who grade their own work with it);
- ``instructor/``: never ships (the export leaves it out, its audit refuses it).

A kernel module that imported ``grading`` or ``instructor`` would break a student's copy (where
``instructor`` is absent) or drag the instructor's code into the sandbox; the rules are checked
statically, on every module's imports, function bodies included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.instructor import export
from autograder.sandbox import cage

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """The ``autograder.*`` modules ``path`` imports anywhere in it (the sandbox's staging rule reads them so too)."""
    return cage._imports_of(path, _dotted(path))


def _folder(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ("grading", "instructor") else "kernel"


# who may import whom: a module of the key's folder may import the folders listed
ALLOWED = {"kernel": {"kernel"}, "grading": {"kernel", "grading"}, "instructor": {"kernel", "grading", "instructor"}}


def test_no_folder_imports_one_that_ships_less() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":  # the command line offers the instructor's commands where they exist
            continue
        here = _folder(_dotted(path))
        for name in _imports(path):
            if name.startswith("autograder.") and _folder(name) not in ALLOWED[here]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)} ({here}) imports {name}")
    assert wrong == [], "\n".join(wrong)


def test_the_rule_sees_an_import_that_breaks_it(tmp_path: Path) -> None:
    """The check above is not vacuous: a relative import from grading/ into instructor/ is seen."""
    probe = PACKAGE / "grading" / "_probe_layout.py"
    probe.write_text("def f():\n    from ..instructor import export\n", encoding="utf-8")
    try:
        with pytest.raises(AssertionError, match="_probe_layout.py .grading. imports autograder.instructor"):
            test_no_folder_imports_one_that_ships_less()
    finally:
        probe.unlink()


def test_the_sandbox_stages_only_what_the_worker_reaches() -> None:
    staged = cage.staged_modules()
    assert "autograder/sandbox/worker.py" in staged and "autograder/graders/blocks.py" in staged
    assert not [src for src in staged if "/grading/" in src or "/instructor/" in src or "/hidden/" in src]
    # the kernel's engine never runs in the sandbox: the worker gets stubs of check and carry_forward
    assert not {"autograder/check.py", "autograder/carry.py", "autograder/__init__.py"} & set(staged)


def test_the_export_audit_refuses_any_instructor_module(tmp_path: Path) -> None:
    (tmp_path / "autograder" / "instructor").mkdir(parents=True)
    (tmp_path / "autograder" / "instructor" / "anything.py").write_text("x = 1\n", encoding="utf-8")
    assert "instructor module: autograder/instructor/anything.py" in export.audit(tmp_path)


def test_the_export_says_when_a_later_stage_carries_answers_to_an_earlier_one() -> None:
    """Trusted blocks stand in for earlier stages: handed out together, the earlier stage is exposed."""
    repo = PACKAGE.parent
    s01, s02, s04, s07 = "01_dot_product_attention", "02_qkv_projections", "04_multi_head_attention", "07_training"
    assert export.answered_by_later_stages(repo, [s01, s04]) == ([s01], [s04])
    assert export.answered_by_later_stages(repo, [s01, s02]) is None  # no trusted code ships
    assert export.answered_by_later_stages(repo, [s07]) is None  # one stage at a time: nothing earlier


def test_a_students_copy_offers_only_the_commands_it_holds(monkeypatch, capsys) -> None:
    """Without autograder/instructor/ (as in the export), the instructor's commands are not offered."""
    import sys

    from autograder import __main__ as cli

    for name in ["autograder.instructor", *(m for m in sys.modules if m.startswith("autograder.instructor."))]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the folder were not there (nor ever imported)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "{grade,merge}" in capsys.readouterr().out
    monkeypatch.undo()
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "release" in capsys.readouterr().out  # the instructor's checkout offers them
