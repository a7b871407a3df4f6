"""``python -m autograder``: the course's command line.

    python -m autograder release [--check]   regenerate assignments/ and assignments_es/ from solutions/ with nbgrader
    python -m autograder demo [--full]        grade the bundled example class; show it in nbgrader
    python -m autograder grade SUBMISSIONS... --out DIR   hardened grading (sandboxed, parallel)
    python -m autograder export-student-repo DIR   the repository students start from (no solutions, no hidden graders)
    python -m autograder merge GRADED... --out DIR  merge the reports of grading shards: class CSV, gradebook, feedback
    python -m autograder record-expected      record the public checks' expected values (shipped as data)
    python -m autograder export-grades SOURCE --format moodle|canvas --out FILE   grades as an LMS import CSV
    python -m autograder class-report GRADED --out report.html   the class report: scores, checks, misconceptions, ranked
    python -m autograder similarity SUBMISSIONS --stage S --out similarity.html   similar pairs to review, never a penalty
    python -m autograder gradescope-zip --stage S OUT.zip   Gradescope's autograder for one stage (hidden graders included)
    python -m autograder translations dump|load|check   the notebooks' prose in English and Spanish
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from types import ModuleType


# The instructor's commands after grading: command -> (module in autograder.instructor, help). The
# student export leaves autograder/instructor/ out (docs/architecture.md, "Layout"), and a student's
# copy simply does not offer the instructor's commands.
AFTER_GRADING = {
    "export-grades": ("lms_export", "the class's grades as a CSV that Moodle or Canvas imports"),
    "class-report": ("class_report", "one HTML file: what the class got wrong, ranked"),
    "similarity": ("similarity", "pairs of submissions with unusually similar code, to review"),
    "gradescope-zip": ("gradescope_zip", "a Gradescope autograder zip for one stage"),
}


def _instructor_module(name: str) -> ModuleType | None:
    """``autograder.instructor.<name>``, or None where it does not ship (a student's copy of the package)."""
    package = f"{__package__ or 'autograder'}.instructor"
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in (package, f"{package}.{name}"):
            raise  # the module is there, and one of its own imports is missing: say so
        return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # False in a student's copy of the package; found, not imported (nbconvert alone takes 2 s)
    instructor = importlib.util.find_spec(f"{__package__ or 'autograder'}.instructor") is not None
    if argv[:1] == ["translations"] and instructor:
        return _instructor_module("bilingual").main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    from .grading.grade_cli import add_arguments as grade_arguments
    from .grading.merge import add_arguments as merge_arguments

    grade_arguments(sub.add_parser("grade", help="hardened grading: student code sandboxed, scores computed outside it"))
    merge_arguments(sub.add_parser("merge", help="merge the --out folders of grading shards into one class"))
    if instructor:
        _instructor_parsers(sub, argv[:1])
    args = parser.parse_args(argv)

    if args.command == "grade":
        from .grading.grade_cli import main as grade

        return grade(args)
    if args.command == "merge":
        from .grading.merge import main as merge

        return merge(args)
    return _run_instructor_command(args)


def _instructor_parsers(sub: argparse._SubParsersAction, command: list[str]) -> None:
    """The commands of autograder/instructor/ (absent from a student's copy, where they are not offered).
    Only the chosen command's module is imported for its arguments; the others give their help line."""
    rel = sub.add_parser("release", help="regenerate assignments/ (English) and assignments_es/ (Spanish) from solutions/ (nbgrader generate_assignment)")
    rel.add_argument("--check", action="store_true", help="only report whether the releases are up to date")
    demo = sub.add_parser("demo", help="release, grade the bundled example class (hardened), autograde stage 01 with nbgrader (--full: every stage)")
    demo.add_argument("--out", default="build/demo", help="course directory to create (default: build/demo)")
    demo.add_argument("--jobs", type=int, help="lanes of students graded side by side (default: up to 2, one per core)")
    demo.add_argument("--full", action="store_true",
                      help="nbgrader autogrades every stage, not only stage 01 (minutes longer, the same scores)")
    exp = sub.add_parser("export-student-repo", help="write the student template repository (public graders only)")
    exp.add_argument("dest", metavar="DIR", help="where to write it (created; must be empty unless --force)")
    exp.add_argument("--stage", action="append", metavar="ID", help="export only this stage (repeatable; default: all)")
    exp.add_argument("--force", action="store_true", help="replace everything in DIR except .git/")
    from .catalogue import language

    exp.add_argument("--lang", choices=("en", "es"), default=language(),
                     help="the edition: notebooks, README, docs and reports in English or Spanish "
                          "(default: the course language, AUTOGRADER_LANG, else en)")
    exp.add_argument("--scan-answers", action="store_true", default=True,
                     help="grade every shipped def and class under each item's name; refuse the export if one "
                          "passes (the default, for the stages whose oracles ship as recorded values)")
    exp.add_argument("--no-scan-answers", dest="scan_answers", action="store_false",
                     help="skip the answer scan (faster; the reference-text audit still runs)")
    rec = sub.add_parser("record-expected", help="record the public checks' expected values (the export ships them as data)")
    rec.add_argument("--stage", action="append", metavar="ID", help="record only this stage (repeatable; default: all that need it)")
    for name, (module, help_text) in AFTER_GRADING.items():
        parser = sub.add_parser(name, help=help_text)
        if command == [name]:
            _instructor_module(module).add_arguments(parser)


def _run_instructor_command(args: argparse.Namespace) -> int:
    if args.command == "release":
        from .instructor.course import release

        diffs = release(check_only=args.check)
        if args.check:
            if diffs:
                print("the releases are out of date with solutions/ (run `make release`):")
                print("\n".join(f"  {d}" for d in diffs))
                return 1
            print("assignments/ and assignments_es/ are exactly what nbgrader generates from solutions/.")
            return 0
        print("assignments/ and assignments_es/ regenerated" + (f" ({len(diffs)} file(s) changed)." if diffs else ": nothing changed."))
        return 0
    if args.command == "demo":
        from .instructor.demo import run_demo

        return run_demo(args.out, jobs=args.jobs, full=args.full)
    if args.command == "export-student-repo":
        from .instructor.export import main as export

        return export(args)
    if args.command == "record-expected":
        from .instructor.record_expected import main as record_expected

        return record_expected(args)
    if args.command in AFTER_GRADING:
        return _instructor_module(AFTER_GRADING[args.command][0]).main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
