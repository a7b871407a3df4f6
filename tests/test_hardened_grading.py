"""Hardened grading end to end: the command, resuming, shards, the sandbox's walls, the fallback.

The proxy must answer every question LocalStudent answers (functions, gradients, modules and
their handles, inputs changed in place) with the same values; the sandbox must hide the
repository and clean up after each submission; where bubblewrap cannot run, grading still
works and says which isolation it had.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import hardened_kit as hk
from autograder.grading import batch, outputs
from autograder import registry
from autograder.failures import MissingDefinition, NotImplementedYet, StudentCodeError
from autograder.runner import run_items
from autograder.sandbox import cage
from autograder.sandbox.proxy import SandboxStudent, SubmissionWorker
from autograder.student import LocalStudent

S1, S2 = "01_dot_product_attention", "02_qkv_projections"

TINY = '''
import os
import numpy as np
import torch
import torch.nn as nn


class Tiny(nn.Module):
    def __init__(self, d, scale=1.0):
        super().__init__()
        self.lin = nn.Linear(d, d)
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.drop = nn.Dropout(0.0)

    def forward(self, x, mask=None):
        y = self.lin(x) * self.scale
        return (y if mask is None else y.masked_fill(~mask, 0.0)), y.sum(-1)

    def double(self, x):
        return 2 * x


def double_in_place(x):
    x *= 2
    return x.sum()


def slow(x):
    while True:
        pass


def stub(x):
    raise NotImplementedError()


def boom(x):
    raise ValueError("no good " + str(x))


def where_am_i():
    return {"cwd": os.getcwd(), "files": sorted(os.listdir(".")), "env": sorted(os.environ),
            "repo": os.path.exists(%(repo)r), "hidden": os.path.exists(%(hidden)r), "root": sorted(os.listdir("/"))}


def leave_a_sleeper():
    import subprocess
    subprocess.Popen(["sleep", "4545"], start_new_session=True)
    return 1


def big(n):
    return np.ones(n)
''' % {"repo": str(hk.REPO / "solutions"), "hidden": str(hk.REPO / "autograder" / "graders" / "hidden")}


@pytest.fixture(scope="module")
def zygote():
    isolation = cage.probe("auto")
    stage = cage.stage_library()
    z = cage.Zygote(isolation, stage, cage.Limits(call_seconds=1.0, grace_seconds=1.0, reply_mb=16), warm=False)
    z.start()
    yield z
    z.release()


@pytest.fixture()
def both(zygote):
    """The same code, as a LocalStudent and as a SandboxStudent."""
    namespace: dict = {"__name__": "__student__"}
    exec(compile(TINY, "<tiny>", "exec"), namespace)
    worker = SubmissionWorker(zygote, [("notes.txt", b"mine")], [{"name": "<cell 1>", "source": TINY}])
    yield LocalStudent(namespace, time_limit=1.0), SandboxStudent(worker, time_limit=1.0)
    worker.close()


def _same(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, (a, b)
        assert torch.allclose(a.detach(), b.detach(), equal_nan=True)
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    else:
        assert a == b


@pytest.mark.slow
def test_module_handles_answer_like_local_ones(both):
    local, remote = both
    state = {k: v for k, v in local.build("Tiny", 4, scale=2.0).state_dict().items()}
    x = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(3, 5, 4) > 0.3
    probe = torch.randn(3, 5, 4, dtype=torch.float64)
    handles = []
    for student in (local, remote):
        m = student.build("Tiny", 4, scale=2.0)
        m.to(torch.float64)
        m.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in state.items()})
        m.eval()
        handles.append(m)
    for a, b in [(h(x), g(x)) for h, g in [handles]] + [(handles[0](x, mask=mask), handles[1](x, mask=mask))]:
        _same(a, b)
    _same(handles[0].call("double", x), handles[1].call("double", x))
    _same(handles[0].grad(x, mask=mask, grad_outputs=[probe, None]),
          handles[1].grad(x, mask=mask, grad_outputs=[probe, None]))
    _same(handles[0].state_dict(), handles[1].state_dict())
    assert handles[0].parameter_shapes() == handles[1].parameter_shapes() == {"lin.weight": (4, 4), "lin.bias": (4,)}
    assert handles[0].buffer_shapes() == handles[1].buffer_shapes() == {"scale": ()}
    assert handles[0].submodule_types() == handles[1].submodule_types()
    handles[1].train()
    with pytest.raises(MissingDefinition):
        handles[1].call("nothing_here", x)


@pytest.mark.slow
def test_functions_gradients_and_failures_match(both):
    local, remote = both
    for student in (local, remote):
        x = np.arange(3.0)
        student.function("double_in_place")(x)
        assert x.tolist() == [0, 2, 4]  # changed in place, there as here
        with pytest.raises(NotImplementedYet):
            student.function("stub")(1)
        with pytest.raises(MissingDefinition, match="Did you rename it"):
            student.function("doubl_in_place")
    errors = []
    for student in (local, remote):
        with pytest.raises(StudentCodeError) as info:
            student.function("boom")(7)
        errors.append(info.value)
    assert errors[0].message == errors[1].message and errors[1].error_types[:2] == ("ValueError", "Exception")
    assert "line" in errors[1].evidence.details[0]


@pytest.mark.slow
def test_timeouts_and_oversized_answers_fail_only_that_call(both):
    _, remote = both
    with pytest.raises(Exception, match="did not finish within 1 s"):
        remote.function("slow")(1)
    with pytest.raises(StudentCodeError, match="more than 16 MB"):
        remote.function("big")(4_000_000)
    x = np.arange(3.0)
    remote.function("double_in_place")(x)  # a fresh worker took over
    assert x.tolist() == [0, 2, 4]


@pytest.mark.slow
def test_the_worker_sees_only_its_submission(both, zygote):
    _, remote = both
    seen = remote.function("where_am_i")()
    assert seen["files"] == ["notes.txt"]
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "MPLBACKEND", "OMP_NUM_THREADS", "AUTOGRADER_LANG"}
    assert seen["cwd"].startswith(("/tmp", zygote.host_root or "/tmp"))
    if zygote.isolation.level == "bwrap":
        assert not seen["repo"] and not seen["hidden"]
        # the sandbox's / holds the system, the interpreter's own folders and the staged library, nothing else
        allowed = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "tmp", "proc", "dev", "sys",
                   "sandbox"} | {Path(r).parts[1] for r in cage._python_roots()}
        assert set(seen["root"]) <= allowed, sorted(set(seen["root"]) - allowed)
    else:
        pytest.skip(f"isolation {zygote.isolation.level}: the file system is the machine's ({zygote.isolation.reason})")


def _sleepers() -> list[str]:
    found = []
    for e in os.listdir("/proc"):
        try:
            if e.isdigit() and b"4545" in Path(f"/proc/{e}/cmdline").read_bytes():
                found.append(e)
        except OSError:
            pass
    return found


@pytest.mark.slow
def test_what_a_submission_leaves_behind_dies_with_its_session(both, zygote):
    _, remote = both
    assert remote.function("leave_a_sleeper")() == 1
    for _ in range(100):  # alive while the session lasts
        if _sleepers():
            break
        time.sleep(0.02)
    assert _sleepers()
    remote.worker.close()
    assert zygote.alive and not _sleepers()


# --- the command ---------------------------------------------------------------------------------
def _mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("results.json")}


@pytest.mark.slow
def test_grade_command_shards_resumes_and_regrades_what_changed(tmp_path):
    root, out = tmp_path / "submitted", tmp_path / "graded"
    hk.write(root, "ada", S1, hk.notebook(S1))
    hk.write(root, "ben", S1, hk.notebook(S1, skeleton=True))
    hk.write(root, "cy", S1, hk.mutant_notebook(hk.MUTANTS / S1 / "softmax_wrong_axis.py"))
    hk.write(root, "ada", S2, hk.notebook(S2))
    cmd = [sys.executable, "-m", "autograder", "grade", str(root), "--out", str(out), "--no-gradebook", "-q"]
    proc = subprocess.run([*cmd, "--shard", "1/2", "--jobs", "1"], cwd=hk.REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = _mtimes(out)
    assert len(first) == 2 and "2 submissions graded" in proc.stdout

    log: list[str] = []
    report = batch.run([root], out, jobs=1, gradebook=None, progress=False, log=log.append)  # the other shard
    assert (report.graded, report.skipped) == (2, 2) and _mtimes(out) | first == _mtimes(out)
    assert all(_mtimes(out)[k] == v for k, v in first.items())
    assert any("Isolation:" in line for line in log)
    assert hk.scores(out, "ada", S1) == hk.full_marks(S1) and hk.scores(out, "ada", S2) == hk.full_marks(S2)
    assert sum(hk.scores(out, "ben", S1).values()) == 0 and 0 < sum(hk.scores(out, "cy", S1).values()) < 10

    report = batch.run([root], out, jobs=1, gradebook=None, progress=False, log=log.append)
    assert (report.graded, report.skipped, report.isolation) == (0, 4, None)  # nothing to do: no sandbox started

    before = _mtimes(out)
    (out / "ben" / S1 / "results.json").unlink()  # as if the run had been killed before ben was written
    hk.write(root, "cy", S1, hk.notebook(S1))  # cy hands in again
    report = batch.run([root], out, jobs=1, gradebook=None, progress=False, log=log.append)
    after = _mtimes(out)
    assert report.graded == 2 and {k for k in after if after[k] != before.get(k)} == {f"ben/{S1}/results.json",
                                                                                       f"cy/{S1}/results.json"}
    assert hk.scores(out, "cy", S1) == hk.full_marks(S1)
    assert not list(out.rglob("*.tmp"))
    rows = (out / "grades.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["student", "ada", "ben", "cy"]


def test_a_public_only_run_does_not_pass_for_a_full_grading(tmp_path):
    root, out = tmp_path / "submitted", tmp_path / "graded"
    hk.write(root, "ada", S1, hk.notebook(S1))
    public = batch.run([root], out, jobs=1, hidden=False, gradebook=None, progress=False, log=lambda s: None)
    full = batch.run([root], out, jobs=1, hidden=True, gradebook=None, progress=False, log=lambda s: None)
    again = batch.run([root], out, jobs=1, hidden=True, gradebook=None, progress=False, log=lambda s: None)
    assert (public.graded, full.graded, again.graded, again.skipped) == (1, 1, 0, 1)
    titles = [g["name"] for g in json.loads((out / "ada" / S1 / "results.json").read_text())["tests"]]
    assert any("hidden" in t for t in titles), titles


def test_force_regrades_what_is_already_graded(tmp_path, monkeypatch):
    root, out = tmp_path / "submitted", tmp_path / "graded"
    hk.write(root, "ada", S1, "{}")
    seen = []
    monkeypatch.setattr(cage, "probe", lambda level: cage.Isolation("rlimits", reason="test"))
    monkeypatch.setattr(batch, "grade_batch", lambda todo, config, **kw: seen.append([s.key for s in todo]) or [])
    monkeypatch.setattr(batch, "_is_done", lambda out, sub, hidden: True)
    batch.run([root], out, gradebook=None, progress=False, log=lambda s: None)
    batch.run([root], out, force=True, gradebook=None, progress=False, log=lambda s: None)
    assert seen == [[f"ada/{S1}"]]  # only the forced run had anything to do


# --- the fallback ---------------------------------------------------------------------------------
def test_probe_falls_back_loudly_when_bubblewrap_is_missing(monkeypatch):
    monkeypatch.setattr(cage.shutil, "which", lambda name: None)
    iso = cage.probe("auto")
    assert iso.level == "rlimits" and "not installed" in iso.reason
    assert "without a file-system or network sandbox" in iso.describe() and iso.reason in iso.describe()
    with pytest.raises(cage.CageError, match="not installed"):
        cage.probe("bwrap")
    assert cage.probe("rlimits").reason == "asked for with --isolation rlimits"


@pytest.mark.slow
def test_grading_with_resource_limits_only_still_works_and_says_so(tmp_path):
    root, out = tmp_path / "submitted", tmp_path / "graded"
    hk.write(root, "ada", S1, hk.notebook(S1))
    report = batch.run([root], out, jobs=1, isolation="rlimits", gradebook=None, progress=False, log=lambda s: None)
    assert report.graded == 1 and report.isolation.level == "rlimits"
    assert hk.scores(out, "ada", S1) == hk.full_marks(S1)
    data = json.loads((out / "ada" / S1 / "results.json").read_text())
    assert data["extra_data"]["isolation"]["level"] == "rlimits"
    assert "resource limits" in (out / "ada" / S1 / "report.md").read_text()


# --- stage 07: objects made by recipe ---------------------------------------------------------------
SNOOP = '''
import gc
import sys

import torch


def snoop(model, optimizer, path):
    """Reach past the arguments: the callers' frames, the modules loaded, every tensor in memory."""
    frames, frame = [], sys._getframe(1)
    while frame is not None:
        frames.append(str(frame.f_globals.get("__name__")))
        frame = frame.f_back
    mine = {id(p) for p in model.parameters()}
    shape = model.generator.weight.shape
    found = [t.detach().clone() for t in gc.get_objects()
             if isinstance(t, torch.Tensor) and t.shape == shape and id(t) not in mine][:50]
    modules = sorted(m for m in sys.modules if m.startswith(("autograder", "pytest", "_pytest")))
    same = [id(p) for g in optimizer.param_groups for p in g["params"]] == [id(p) for p in model.parameters()]
    return {"frames": frames, "modules": modules, "found": found, "optimizer_on_model": same,
            "path": path, "type": type(model).__name__}
'''


@pytest.mark.slow
def test_a_student_reaching_past_the_recipe_finds_nothing_of_the_graders(zygote):
    """In process a function can walk up to the grader's frame and find the weights it expects; in the
    sandbox it gets the objects of the recipe and nothing else: no grader frame, module or tensor."""
    from autograder.graders import training_oracles as o

    config = dict(src_vocab=7, tgt_vocab=9, d_model=8, num_heads=2, num_layers=1, d_ff=12, dropout=0.0, max_len=16)
    namespace: dict = {"__name__": "__student__"}
    exec(compile(SNOOP, "<snoop>", "exec"), namespace)
    worker = SubmissionWorker(zygote, [], [{"name": "<cell 1>", "source": SNOOP}])
    seen = {}
    try:
        for where, student in (("local", LocalStudent(namespace)), ("sandbox", SandboxStudent(worker))):
            oracle = o.random_model(config, 5)
            want, _ = o.reference_step(oracle, o.make_batch([[4, 5]], [[6, 7]], 0, 1, 2), lr=0.5, pad_id=0,
                                       smoothing=0.1, max_norm=1.0)  # what the grader expects, in its frame
            expected = want["generator.weight"]
            model = student.trusted_object(o.trusted_model, config, oracle.state_dict())
            path = student.trusted_object(o.writable_path, "model.safetensors")
            got = student.function("snoop")(model, student.trusted_object(o.optimizer, model, "SGD", lr=0.5), path)
            got["reached"] = any(t.equal(expected) for t in got["found"])
            seen[where] = got
            path.read(o.take_file)
    finally:
        worker.close()
    local, remote = seen["local"], seen["sandbox"]
    assert local["reached"] and any(f.startswith("test_hardened") for f in local["frames"])  # the attack is real
    assert not remote["reached"]
    assert set(remote["frames"]) <= {"autograder.student", "autograder.sandbox.worker", "__main__"}, remote["frames"]
    assert not [m for m in remote["modules"] if m.startswith(("pytest", "_pytest", "autograder.graders.hidden",
                                                              "autograder.graders.public", "autograder.expect",
                                                              "autograder.runner", "autograder.sandbox.proxy"))]
    assert remote["optimizer_on_model"] and remote["type"] == local["type"] == "Transformer"
    assert remote["path"].endswith("/model.safetensors") and not remote["path"].startswith(str(hk.REPO))
