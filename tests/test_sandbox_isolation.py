"""One submission leaves nothing for the next in its slot (issue 11, items 1 and 6).

A class is graded in one slot, one submission after another (``jobs=1``, in the order of the
student ids): a reader that searches its own memory for the text of the classmate graded just
before it, a student that fills the slot's ``/tmp`` followed by a correct one, and a student
that fakes CUDA. A worker that cannot start because of the machine is an infrastructure error
(no result, retried), never a student's zero.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

import hardened_kit as hk
from autograder.grading import batch, outputs
from autograder.sandbox import cage
from autograder.sandbox.proxy import SandboxStudent, SubmissionWorker

STAGE = "01_dot_product_attention"
LIMITS = cage.Limits(call_seconds=10.0, grace_seconds=2.0, function_seconds=60.0, submission_seconds=120.0,
                     cpu_seconds=60, memory_mb=1024, file_mb=8, tmpfs_mb=96)

# The reader looks for two halves that must follow each other in memory, so that the whole
# secret is never built in its own process: found only if it came from elsewhere. Its own
# notebook's marker (written whole in a comment) proves that the search sees what is there.
_READER = '''
import numpy as np
import ctypes as _ctypes

OTHER = ("%(other_a)s", "%(other_b)s")
OWN = ("%(own_a)s", "%(own_b)s")  # its own notebook says: %(own_a)s%(own_b)s


def _found(a, b):
    a, b = a.encode(), b.encode()
    with open("/proc/self/maps") as fh:
        maps = fh.read().splitlines()
    # /proc/self/mem is closed to a process that changed its user id: read the memory directly
    for line in maps:
        parts = line.split()
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        if "r" not in parts[1] or (len(parts) > 5 and not parts[5].startswith("[heap")) or hi - lo > 1 << 30:
            continue
        chunk = _ctypes.string_at(lo, hi - lo)
        i = chunk.find(a)
        while i >= 0:
            if chunk[i + len(a):i + len(a) + len(b)] == b:
                return True
            i = chunk.find(a, i + 1)
        del chunk
    return False


class _Scan:
    # Definition-time code: it runs when the cell loads, and the static policy judges only what a
    # graded name reaches (ctypes would cost softmax the item), so the memory scan happens here and
    # its verdict travels in the environment, a channel the policy does not forbid.
    import os as _os
    _os.environ["READER_SEEN"] = f"{int(_found(*OWN))}{int(_found(*OTHER))}"


def softmax(x, axis=-1):
    import os

    own, other = (c == "1" for c in os.environ.get("READER_SEEN", "00"))
    if not own or other:  # blind, or it read a classmate: wrong answers, so the test sees it
        return np.zeros_like(x)
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
'''

_FILLER = '''
import numpy as np


def _fill():
    for i in range(64):
        try:
            with open(f"/tmp/fill-{i}", "wb") as fh:  # the slot's /tmp, not TMPDIR
                for _ in range(8):
                    fh.write(b"x" * (1 << 20))
        except OSError:
            return


def softmax(x, axis=-1):
    _fill()
    x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
'''

_FAKE_CUDA = '''
import torch
torch.cuda.is_available = lambda: True
torch.cuda.device_count = lambda: 4
'''


def _halves(tag: str) -> tuple[str, str]:
    token = secrets.token_hex(8)
    return f"{tag}-{token[:8]}", f"{token[8:]}-end"


def test_a_worker_cannot_read_the_classmate_graded_before_it(tmp_path):
    other, own = _halves("classmate"), _halves("reader")
    root, out = tmp_path / "class", tmp_path / "out"
    hk.write(root, "s1_classmate", STAGE, hk.notebook(STAGE, extra_cells=[f"# secret: {other[0]}{other[1]}\n"]))
    reader = _READER % {"other_a": other[0], "other_b": other[1], "own_a": own[0], "own_b": own[1]}
    hk.write(root, "s2_reader", STAGE, hk.notebook(STAGE, replace={"softmax": reader}))
    report = batch.run([root], out, jobs=1, limits=LIMITS, gradebook=None, progress=False, log=lambda s: None)
    assert report.graded == 2 and not report.failed
    assert hk.scores(out, "s1_classmate", STAGE) == hk.full_marks(STAGE)
    # full marks: it saw its own notebook's text, and not the classmate's
    assert hk.scores(out, "s2_reader", STAGE)["softmax"] == 4.0


def test_filling_tmp_does_not_change_the_next_score_in_the_slot(tmp_path):
    root, out = tmp_path / "class", tmp_path / "out"
    hk.write(root, "s1_filler", STAGE, hk.notebook(STAGE, replace={"softmax": _FILLER}))
    for k in (2, 3):
        hk.write(root, f"s{k}_correct", STAGE, hk.notebook(STAGE))
    report = batch.run([root], out, jobs=1, limits=LIMITS, gradebook=None, progress=False, log=lambda s: None)
    assert report.graded == 3 and not report.failed
    for k in (1, 2, 3):  # the filler's own code is correct too: filling /tmp costs nobody anything
        student = "s1_filler" if k == 1 else f"s{k}_correct"
        assert hk.scores(out, student, STAGE) == hk.full_marks(STAGE), student


@pytest.fixture(scope="module")
def zygote():
    isolation = cage.probe("auto")
    stage = cage.stage_library()
    z = cage.Zygote(isolation, stage, LIMITS, warm=False)
    z.start()
    yield z
    z.release()


def _student(zygote, extra: str) -> tuple[SandboxStudent, SubmissionWorker]:
    worker = SubmissionWorker(zygote, [], [{"name": "<cell>", "source": extra}], LIMITS)
    return SandboxStudent(worker, time_limit=LIMITS.call_seconds), worker


def test_faking_cuda_in_the_worker_does_not_change_the_graders_view(zygote, monkeypatch):
    import torch

    honest, w1 = _student(zygote, "import torch\n")
    faker, w2 = _student(zygote, _FAKE_CUDA + "def f():\n    return torch.cuda.is_available()\n")
    try:
        assert faker.function("f")() is True  # the patch took effect where the student's code runs
        assert faker.cuda_available() == honest.cuda_available() == (torch.cuda.device_count() > 0
                                                                     and zygote.cuda_devices > 0)
    finally:
        w1.close()
        w2.close()
    # the grader's answer comes from its own facts: change them and it follows (so it can fail)
    monkeypatch.setattr(zygote, "cuda_devices", 1)
    monkeypatch.setattr("autograder.student.machine_cuda_devices", lambda: 1)
    assert honest.cuda_available() is True


def test_the_zygote_never_receives_submission_bytes(zygote, monkeypatch):
    sent: list[tuple[dict, list]] = []
    real = cage.protocol.send

    def spy(sock, msg, buffers=()):
        if sock is zygote.control:
            sent.append((msg, list(buffers)))
        return real(sock, msg, buffers)

    monkeypatch.setattr(cage.protocol, "send", spy)
    student, worker = _student(zygote, "def f():\n    return open('data/x.txt').read()\n")
    worker.files = [("data/x.txt", b"only-for-this-child")]
    try:
        assert student.function("f")() == "only-for-this-child"
    finally:
        worker.close()
    spawns = [(m, b) for m, b in sent if m.get("op") == "spawn"]
    assert spawns and all(not b and "files" not in m for m, b in spawns)


def test_a_worker_that_cannot_start_is_an_infrastructure_error(tmp_path, monkeypatch):
    root, out = tmp_path / "class", tmp_path / "out"
    hk.write(root, "s1", STAGE, hk.notebook(STAGE))

    def broken(self, files, env=None):
        raise cage.SlotUnusable("the sandboxed worker could not start: no space left")

    real = cage.Zygote.spawn
    monkeypatch.setattr(cage.Zygote, "spawn", broken)
    report = batch.run([root], out, jobs=1, limits=LIMITS, gradebook=None, progress=False, log=lambda s: None)
    assert [o.key for o in report.failed] and "SlotUnusable" in report.failed[0].error
    kept = outputs.read_submission(out, "s1", STAGE)
    assert kept is None or kept.fingerprint == "failed"  # nothing final is cached
    # the machine is fine again: the resumed run grades it (not kept as a zero)
    monkeypatch.setattr(cage.Zygote, "spawn", real)
    report = batch.run([root], out, jobs=1, limits=LIMITS, gradebook=None, progress=False, log=lambda s: None)
    assert report.graded == 1 and not report.failed
    assert hk.scores(out, "s1", STAGE) == hk.full_marks(STAGE)


def test_what_a_submission_wrote_outside_its_folder_is_gone_before_the_next(zygote):
    """Cleaned, not only replaced: the same zygote serves the next submission, and /tmp is as before."""
    zygote.ensure()
    pid = zygote.proc.pid
    path = f"/tmp/leftover-{secrets.token_hex(4)}"
    writer, w1 = _student(zygote, f"def f():\n    open({path!r}, 'w').write('x')\n    import os\n"
                                  f"    return os.path.exists({path!r}), os.environ['TMPDIR'] != '/tmp'\n")
    try:
        assert tuple(writer.function("f")()) == (True, True)
    finally:
        w1.close()
    looker, w2 = _student(zygote, f"def g():\n    import os\n    return os.path.exists({path!r})\n")
    try:
        assert looker.function("g")() is False
    finally:
        w2.close()
    assert zygote.alive and zygote.proc.pid == pid


def test_the_public_checks_expected_values_are_not_staged_for_student_code(tmp_path, monkeypatch):
    """The recorded outputs of the public checks (graders/public/expected/) would let a student's
    function return the value the check expects without computing it. The instructor's oracle
    modules are live and need none of it, so the sandbox's library holds none; the export's stub
    modules look values up, so there (the student's own CI) the files are staged."""
    lib = cage.stage_library(tmp_path / "instructor")
    assert not (lib / "autograder" / "graders" / "public" / "expected").exists()
    assert not any(p.suffix == ".npz" for p in lib.rglob("*"))
    # the same staging over an export's package stages them: its oracle modules are stubs
    import shutil

    from autograder.graders import oracles, replay

    fake = tmp_path / "export" / "autograder"
    shutil.copytree(cage.PACKAGE, fake, ignore=shutil.ignore_patterns("__pycache__", "hidden"))
    (fake / "graders" / "oracles.py").write_text(replay.stub_source(oracles))
    staged = tmp_path / "export-lib"
    monkeypatch.setattr(cage, "PACKAGE", fake)
    cage.stage_library(staged)
    assert (staged / "autograder" / "graders" / "public" / "expected" / "01_dot_product_attention.npz").is_file()
