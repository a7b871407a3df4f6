"""Running a GitHub Actions workflow's ``run:`` steps here, with the commands written in the workflow.

A step runs as GitHub runs it on Linux (``bash --noprofile --norc -e``), in a folder of our
choice, with ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and ``GITHUB_ACTOR`` pointing at local
files and values, and with this virtual environment's ``python`` first on ``PATH`` (the
workflows' own install steps are what ``make install`` already did here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from autograder.instructor.export import actionlint  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
STUDENT_WORKFLOW = REPO / ".github" / "student" / "grade.yml"
ALL_WORKFLOWS = sorted(WORKFLOWS.glob("*.yml")) + [STUDENT_WORKFLOW]


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    for s in workflow["jobs"][job]["steps"]:
        if s.get("name") == name:
            return s
    raise KeyError(f"no step named {name!r} in job {job!r}")


@dataclass
class StepRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    seconds: float


def run_step(s: dict[str, Any], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> StepRun:
    """Run a step's ``run:`` script; ``env`` gives the values of the step's ``env:`` keys (and more)."""
    cwd = Path(cwd)
    scratch = cwd / ".step"
    scratch.mkdir(exist_ok=True)
    out, summary = scratch / "output", scratch / "summary"
    out.write_text(""), summary.write_text("")
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTEST_"))},
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTOR": "octo-student",
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        **{k: "" for k in s.get("env", {})},
        **(env or {}),
    }
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-c", s["run"]], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return StepRun(proc.returncode, proc.stdout, proc.stderr, outputs, summary.read_text(), seconds)


class FakeGitHub:
    """The three REST calls of GitHub Classroom's reporter, answered on localhost and recorded."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append({"method": self.command, "path": self.path, "body": body,
                                      "auth": self.headers.get("Authorization")})
                if self.command == "GET" and self.path.endswith("/actions/runs/42"):
                    reply = {"id": 42, "check_suite_url": "https://api.github.com/repos/x/y/check-suites/7"}
                elif self.command == "GET" and "/check-suites/7/check-runs?check_name=Autograding+Tests" in self.path:
                    reply = {"total_count": 1, "check_runs": [{"id": 99, "name": "Autograding Tests"}]}
                elif self.command == "PATCH" and self.path.endswith("/check-runs/99"):
                    reply = {"id": 99}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
