"""GitHub Classroom's autograding result, from the reports of ``python -m autograder grade``.

Standard library only, and runnable as a plain script (``python autograder/grading/classroom.py``),
so that the job that talks to GitHub needs neither the course's dependencies nor the student's
code: in the student repository's workflow it is the only job holding a token that can write.

    python autograder/grading/classroom.py combine build/grading --github-output result
        Merge every ``<student>/<assignment>/classroom.json`` under the folder into one runner
        result (``{"version": 1, "status", "max_score", "tests"}``, the format of
        classroom-resources' autograding runners) and write it base64-encoded to
        ``$GITHUB_OUTPUT`` as ``result`` (and to ``--json PATH`` if asked).

    python autograder/grading/classroom.py notify --result-base64 "$RESULT"
        What classroom-resources/autograding-grading-reporter does with such a result: print
        every test, the total ``Points X/Y`` (also to the job summary), and, with
        ``GITHUB_TOKEN`` set, write ``Points X/Y`` into the output of this workflow run's check
        run named ``Autograding Tests``, where GitHub Classroom reads the score.

The grading itself never depends on this file: it only reformats what the grader wrote.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

try:  # in the package; as a plain script, escape.py sits one folder up (the workflow checks out both)
    from ..escape import workflow_data, workflow_safe
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from escape import workflow_data, workflow_safe  # type: ignore[no-redef]

# The job summary in the course's language. The reporting job checks out this file and escape.py
# only (no catalogue), so its two sentences live here; the grader's classroom.json names the
# language (outputs.classroom), and anything else in that field is English.
SUMMARY = {
    "en": ("### Points {total}/{max_score}\n\nThe public checks only: the instructor's grading adds hidden "
           "checks of the same items.\n"),
    "es": ("### Puntos {total}/{max_score}\n\nSolo las comprobaciones públicas: la corrección del profesor "
           "añade comprobaciones ocultas de los mismos apartados.\n"),
}
DECIMAL_COMMA = {"es"}  # as catalogue.DECIMAL_COMMA, which this standalone script cannot import


def summary_text(result: dict[str, Any]) -> str:
    lang = result.get("language") if result.get("language") in SUMMARY else "en"
    total, max_score = (_fmt(x) for x in points(result))
    if lang in DECIMAL_COMMA:
        total, max_score = total.replace(".", ","), max_score.replace(".", ",")
    return SUMMARY[lang].format(total=total, max_score=max_score)

CHECK_NAME = "Autograding Tests"  # the check run GitHub Classroom reads (the reporting job's name)


def combine(out: str | Path) -> dict[str, Any]:
    """One runner result from all ``classroom.json`` files under ``out`` (sorted by student, then stage)."""
    tests: list[dict[str, Any]] = []
    max_score = 0.0
    statuses: list[str] = []
    languages: list[str] = []
    for path in sorted(Path(out).glob("*/*/classroom.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        stage = path.parent.name
        number = stage.split("_", 1)[0]
        max_score += float(data.get("max_score") or 0)
        statuses.append(data.get("status", "error"))
        languages += [data["language"]] if isinstance(data.get("language"), str) else []
        for t in data.get("tests", []):
            tests.append({**t, "name": f"{number} · {t.get('name', '?')}"})
    status = ("error" if not statuses or "error" in statuses
              else "pass" if all(s == "pass" for s in statuses) else "fail")
    combined = {"version": 1, "status": status, "max_score": round(max_score, 2), "tests": tests}
    if languages:
        combined["language"] = languages[0]
    return combined


def encode(result: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(result, ensure_ascii=False).encode("utf-8")).decode("ascii")


def decode(text: str) -> dict[str, Any]:
    return json.loads(base64.b64decode(text.strip()).decode("utf-8"))


def points(result: dict[str, Any]) -> tuple[float, float]:
    """(total, max): the sum of the tests' scores and the runner's max_score, as the reporter adds them."""
    total = sum(float(t.get("score") or 0) for t in result.get("tests", []))
    return round(total, 2), float(result.get("max_score") or 0)


def _fmt(x: float) -> str:
    return f"{x:g}"


def console(result: dict[str, Any]) -> str:
    lines = []
    for t in result.get("tests", []):
        mark = "✅" if t.get("status") == "pass" else "❌"
        # Names and messages carry student text: never a workflow command on this job's log.
        lines.append(f"{mark} {workflow_safe(t.get('name'))}: {_fmt(float(t.get('score') or 0))}")
        if t.get("status") != "pass" and t.get("message"):
            lines += [f"    {workflow_safe(ln)}" for ln in str(t["message"]).splitlines()]
    total, max_score = points(result)
    lines.append(f"Points {_fmt(total)}/{_fmt(max_score)}")
    return "\n".join(lines)


# --- GitHub's REST API (the two calls the reporter makes, and the update) ---------------------
def _api(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "transformer-course-autograder",
        **({"Content-Type": "application/json"} if data is not None else {}),
    })
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def notify_check_run(total: float, max_score: float, env: dict[str, str] | None = None) -> str:
    """Write ``Points total/max`` into this run's "Autograding Tests" check run; returns what happened."""
    env = dict(os.environ if env is None else env)
    token = env.get("GITHUB_TOKEN", "")
    repo = env.get("GITHUB_REPOSITORY", "")
    run_id = env.get("GITHUB_RUN_ID", "")
    if not token or "/" not in repo or not run_id.isdigit():
        return "not in a GitHub Actions run with GITHUB_TOKEN: the check run was not updated"
    api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    base = f"{api}/repos/{repo}"
    run = _api("GET", f"{base}/actions/runs/{run_id}", token)
    suite_id = str(run["check_suite_url"]).rstrip("/").rsplit("/", 1)[-1]
    query = urllib.parse.urlencode({"check_name": CHECK_NAME})
    runs = _api("GET", f"{base}/check-suites/{suite_id}/check-runs?{query}", token)
    if runs.get("total_count") != 1:
        return f"found {runs.get('total_count')} check runs named {CHECK_NAME!r} (expected 1): not updated"
    text = f"Points {_fmt(total)}/{_fmt(max_score)}"
    _api("PATCH", f"{base}/check-runs/{runs['check_runs'][0]['id']}", token, {
        "output": {
            "title": "Autograding",
            "summary": text,
            "text": text,
            "annotations": [{"path": ".github", "start_line": 1, "end_line": 1, "annotation_level": "notice",
                             "message": text, "title": "Autograding complete"}],
        },
    })
    return f"check run {CHECK_NAME!r} updated: {text}"


# --- the command line -------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="classroom.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("combine", help="one runner result from the grader's classroom.json files")
    c.add_argument("out", help="the --out folder of `python -m autograder grade`")
    c.add_argument("--github-output", metavar="NAME", help="write NAME=<base64 result> to $GITHUB_OUTPUT")
    c.add_argument("--json", metavar="PATH", help="also write the result as JSON to PATH")
    n = sub.add_parser("notify", help="print the result and report the points to GitHub Classroom")
    src = n.add_mutually_exclusive_group(required=True)
    src.add_argument("--result-base64", metavar="B64", help="a result as `combine` encodes it")
    src.add_argument("--json", metavar="PATH", help="a result as JSON")
    args = parser.parse_args(argv)

    if args.command == "combine":
        result = combine(args.out)
        if not result["tests"]:
            print(f"classroom.py: no classroom.json under {args.out}", file=sys.stderr)
            return 2
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if args.github_output:
            target = os.environ.get("GITHUB_OUTPUT")
            if not target:
                print("classroom.py: --github-output needs $GITHUB_OUTPUT", file=sys.stderr)
                return 2
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(f"{args.github_output}={encode(result)}\n")
        total, max_score = points(result)
        print(f"{len(result['tests'])} tests, Points {_fmt(total)}/{_fmt(max_score)}")
        return 0

    try:
        result = decode(args.result_base64) if args.result_base64 else json.loads(
            Path(args.json).read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        print(f"classroom.py: not a runner result: {exc}", file=sys.stderr)
        return 2
    print(console(result))
    total, max_score = points(result)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(summary_text(result))
    try:
        print(notify_check_run(total, max_score))
    except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
        # The score is in the log and the summary; GitHub Classroom just does not get it this time.
        print(f"::warning::could not report the points to GitHub Classroom: {workflow_data(exc)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
