"""The cage around the worker: what it can see, what it may use, and how it is started.

Two isolation levels, chosen once per grading run and written into every report:

``bwrap``
    The worker runs under bubblewrap: new network, PID, IPC and UTS namespaces (no network at
    all, no view of other processes), a read-only view of the system libraries, the Python
    installation, its site-packages and a staged copy of the few public modules the worker needs
    (``worker.py``, ``protocol.py``, ``student.py`` with the catalogue, the public oracles, the code
    of ``course_data``), and a private size-limited tmpfs for the submission. Nothing else of the
    machine exists inside:
    not the repository, the hidden graders, the solutions, the data files or the home directory.
``rlimits``
    Where bubblewrap is missing or the kernel forbids namespaces (some containers), the worker is
    an ordinary process: resource limits, a minimal environment, a private working directory and
    the same staged library, but the file system and the network are those of the machine.

At both levels a grader running as root also drops the worker to a user id of its own (one per
parallel slot), so that the process limit holds and everything the worker leaves behind can be
killed by user id. Resource limits (``Limits``) apply in the child: CPU time, address space, file
size, processes, open files; the grader adds a wall-clock deadline per request.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import protocol

PACKAGE = Path(__file__).resolve().parents[1]  # .../autograder
SANDBOX_LIB = "/sandbox/lib"  # where the staged library appears inside bubblewrap
UID_BASE = int(os.environ.get("AUTOGRADER_SANDBOX_UID_BASE", "61000"))
UID_RANGE = 2000  # sandbox user ids: UID_BASE ... UID_BASE + UID_RANGE - 1
UID_LOCKS = Path(tempfile.gettempdir()) / "autograder-sandbox-uids"

# What the worker may import from the engine: copied, never the package itself. A rule, not a list
# (docs/architecture.md, "Layout"): the modules that sandbox/worker.py and the trusted modules
# (protocol.TRUSTED_MODULES, which it resolves by name) import, followed through the package; never
# autograder/graders/hidden/, autograder/grading/ or autograder/instructor/, which the worker has no
# business with (a test checks that the closure holds none of them).
STAGE_ROOTS = ("autograder.sandbox.worker", *protocol.TRUSTED_MODULES)
NEVER_STAGED = ("autograder.graders.hidden", "autograder.grading", "autograder.instructor")


def _module_file(package_root: Path, dotted: str) -> Path | None:
    path = package_root.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports_of(path: Path, dotted: str) -> set[str]:
    """The ``autograder.*`` modules a file imports anywhere in it (function bodies included: the
    catalogue imports its Spanish edition lazily), relative imports resolved."""
    import ast

    package = dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # ``from . import protocol``
    return {m for m in found if m == "autograder" or m.startswith("autograder.")}


def staged_modules(package_root: Path | None = None) -> dict[str, str]:
    """Source file (relative to the repository) -> where it goes in the staged library (relative to
    its ``autograder/``), for every module the worker can reach (:data:`STAGE_ROOTS`). A module a
    student export leaves out (a later stage's oracles) is simply not there to stage.

    The package's ``__init__``, ``check`` and ``carry`` are never staged: the worker gets stubs of
    its own (_STUB_INIT, _STUB_CARRY), so that nothing of the kernel's engine runs in the sandbox.
    """
    root = package_root or PACKAGE.parent
    todo = [m for m in STAGE_ROOTS if _module_file(root, m) is not None]
    seen: dict[str, Path] = {}
    while todo:
        dotted = todo.pop()
        path = _module_file(root, dotted)
        if dotted in seen or path is None or path.name == "__init__.py":
            continue  # packages are staged as folders with stub or empty __init__ files
        if any(dotted == n or dotted.startswith(n + ".") for n in NEVER_STAGED):
            raise CageError(f"{dotted} must never reach the grading sandbox, and the worker imports it.")
        seen[dotted] = path
        todo.extend(_imports_of(path, dotted))
    return {str(path.relative_to(root)): str(path.relative_to(root / "autograder"))
            for _, path in sorted(seen.items())}


# The course's public data package: stage 07's notebook imports it for its special token ids and
# builds its vocabularies and splits from it in module-level constants, which hardened grading runs as
# the kernel does (notebook.plan), so the public splits and vocabularies are staged too (450 kB; every
# student has them). The hidden test split is generated by the hidden graders and never staged.
STAGED_TOP = {
    "datasets/course_data/__init__.py": "course_data/__init__.py",
    "datasets/course_data/grammar.py": "course_data/grammar.py",
    "datasets/course_data/agreement.py": "course_data/agreement.py",  # stage 09's task and vocabulary
    "datasets/course_data/data/train.tsv": "course_data/data/train.tsv",
    "datasets/course_data/data/valid.tsv": "course_data/data/valid.tsv",
    "datasets/course_data/data/vocab.en.txt": "course_data/data/vocab.en.txt",
    "datasets/course_data/data/vocab.es.txt": "course_data/data/vocab.es.txt",
}


_STUB_INIT = '''"""The course engine as the grading sandbox sees it: check() does nothing here."""


def check(*args, **kwargs):
    return None


__all__ = ["check"]
'''

_STUB_CARRY = '''"""carry_forward inside the grading sandbox: graders hand trusted building blocks instead."""


def carry_forward(stage_id, *names):
    def unavailable(*args, **kwargs):
        raise RuntimeError("Earlier stages are not loaded while grading; the graders supply these pieces.")

    values = tuple(unavailable for _ in names)
    return values[0] if len(values) == 1 else values
'''


class CageError(RuntimeError):
    """The sandbox could not be set up (the message says why and what to do)."""


@dataclass(frozen=True)
class Limits:
    call_seconds: float = 10.0  # one call of student code (the same limit as in a check cell)
    grace_seconds: float = 5.0  # past its own time limit, a worker that does not answer is killed
    cell_seconds: float = 30.0  # one notebook cell's definitions, at load time
    function_seconds: float = 120.0  # all calls of one function (or class) of a submission together
    submission_seconds: float = 600.0  # all of one submission's grading
    cpu_seconds: int = 120  # CPU time of one worker process
    memory_mb: int = 2048  # address space a worker may add to what numpy and torch already use
    file_mb: int = 16  # largest file a worker may write
    processes: int = 64  # processes and threads (per sandbox user id)
    open_files: int = 256
    reply_mb: int = 512  # largest answer the grader accepts from a worker
    max_respawns: int = 32  # fresh workers after crashes, per submission (each costs milliseconds)
    tmpfs_mb: int = 512  # the private /tmp under bubblewrap

    def for_child(self) -> dict[str, Any]:
        limits = {k: getattr(self, k) for k in ("cpu_seconds", "memory_mb", "file_mb", "processes", "open_files")}
        if os.geteuid() != 0:  # RLIMIT_NPROC counts all of the user's tasks: start from what we see here
            from .worker import _tasks_of_uid

            limits["user_tasks"] = _tasks_of_uid(os.getuid())
        return limits


@dataclass(frozen=True)
class Isolation:
    level: str  # "bwrap" or "rlimits"
    reason: str = ""  # why not bwrap, when it is not
    uid_switch: bool = False  # the worker runs under a user id of its own
    bwrap: str | None = None  # path of the bwrap binary
    details: list[str] = field(default_factory=list)

    def describe(self) -> str:
        from ..catalogue import text

        key = "sandbox.isolation.bwrap" if self.level == "bwrap" else "sandbox.isolation.rlimits"
        sentence = text(key, reason=self.reason or "-")
        if self.uid_switch:
            sentence += " " + text("sandbox.isolation.uid")
        return sentence

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["description"] = self.describe()
        return d


# --- staging ------------------------------------------------------------------------------------
def stage_library(dest: Path | None = None) -> Path:
    """A directory holding only what the worker imports (world-readable, for a dropped user id)."""
    dest = Path(dest or tempfile.mkdtemp(prefix="autograder-worker-lib-"))
    root = dest / "autograder"
    for sub in ("", "graders", "sandbox"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for src, rel in staged_modules().items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE.parent / src, root / rel)
    # The recorded expected values that the export's trusted blocks look their outputs up in: staged
    # only where the staged oracle modules are the export's stubs. The instructor's are live and need
    # none, and the public checks' expected outputs must not lie where the student's code can read them.
    expected = PACKAGE / "graders" / "public" / "expected"
    from autograder.graders.replay import STUB_IMPORT

    stubs = any(STUB_IMPORT in path.read_text(encoding="utf-8").splitlines() for path in (root / "graders").glob("*.py"))
    if expected.is_dir() and stubs:
        (root / "graders" / "public" / "expected").mkdir(parents=True, exist_ok=True)
        for path in expected.iterdir():
            if path.suffix in (".json", ".npz") and path.is_file():
                shutil.copyfile(path, root / "graders" / "public" / "expected" / path.name)
    for src, rel in STAGED_TOP.items():
        if (PACKAGE.parent / src).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PACKAGE.parent / src, dest / rel)
    (root / "__init__.py").write_text(_STUB_INIT)
    (root / "carry.py").write_text(_STUB_CARRY)
    (root / "graders" / "__init__.py").write_text("")
    (root / "sandbox" / "__init__.py").write_text('"""The worker side of the sandbox (staged copy)."""\n')
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


# --- the command --------------------------------------------------------------------------------
def _python_roots() -> list[str]:
    """Directories the interpreter and its packages live in (read-only inside the sandbox)."""
    roots = []
    for p in (sys.base_prefix, sys.prefix, *[q for q in sys.path if q.endswith(("site-packages", "dist-packages"))]):
        p = os.path.realpath(p)
        if p and os.path.isdir(p) and not p.startswith("/usr/"):
            roots.append(p)
    exe = os.path.realpath(sys.executable)
    if not exe.startswith("/usr/"):
        roots.append(os.path.dirname(exe))
    # Keep the outermost of nested roots, but never one holding the repository (a venv made at
    # its root would bring the solutions and the hidden graders along): its site-packages only.
    repo = str(PACKAGE.parent) if (PACKAGE.parent / "pyproject.toml").is_file() else None
    roots = sorted({r for r in roots if not repo or not (repo + "/").startswith(r + "/")}, key=len)
    keep: list[str] = []
    for r in roots:
        if not any(r == k or r.startswith(k + "/") for k in keep):
            keep.append(r)
    return keep


def bwrap_command(bwrap: str, stage: Path, *, root: bool, tmpfs_mb: int) -> list[str]:
    cmd = [bwrap, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--hostname", "sandbox", "--cap-drop", "ALL"]
    if root:  # the zygote drops each child to a user id of its own
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-user"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf"):
        cmd += ["--ro-bind-try", f, f]
    cmd += ["--ro-bind-try", "/etc/ld.so.conf.d", "/etc/ld.so.conf.d"]
    # The sandbox's own /tmp comes first, so that a Python (a venv) living under the machine's /tmp
    # is bound on top of it rather than hidden by it.
    cmd += ["--perms", "1777", "--size", str(tmpfs_mb << 20), "--tmpfs", "/tmp"]
    binds = [(r, r) for r in _python_roots()] + [(str(stage), SANDBOX_LIB)]
    made = {"/", "/usr", "/tmp", "/proc", "/dev", "/etc", "/sys"}
    for _, dst in binds:
        parts = Path(dst).parts
        for i in range(2, len(parts)):
            d = str(Path(*parts[:i]))
            if d not in made:
                cmd += ["--perms", "0755", "--dir", d]
                made.add(d)
    for src, dst in binds:
        cmd += ["--ro-bind", src, dst]
    # The engine itself, where a bound directory holds it (installed into site-packages or /usr,
    # hidden graders included), is covered by an empty tmpfs: the worker has its staged copy.
    if any(str(PACKAGE).startswith(r.rstrip("/") + "/") for r in ["/usr", *(src for src, _ in binds)]):
        cmd += ["--tmpfs", str(PACKAGE)]
    cmd += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    # A GPU machine gives the worker its GPUs (NVIDIA's device nodes; the driver's libraries are
    # under the read-only /usr), so the CUDA graders run in the sandbox as outside it. bwrap's own
    # /dev has none of them; a machine without a GPU has none to bind.
    for node in gpu_device_nodes():
        cmd += ["--dev-bind", node, node]
    cmd += ["--chdir", "/tmp", "--clearenv"]
    return cmd


def gpu_device_nodes() -> list[str]:
    """NVIDIA's device nodes on this machine (/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, ...)."""
    import glob

    return sorted(glob.glob("/dev/nvidia*"))


def _env(pythonpath: str, home: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PYTHONPATH": pythonpath,
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": f"{home}/.mpl", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    from ..catalogue import language  # the setting, or a Spanish export's autograder/LANGUAGE

    env["AUTOGRADER_LANG"] = language()
    return env


_BOOT = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
         "from autograder.sandbox.worker import main; main(sys.argv[1:])")


def _python_argv() -> list[str]:
    return [sys.executable, "-s", "-B", "-c", _BOOT]


def probe(requested: str = "auto", *, stage: Path | None = None) -> Isolation:
    """Decide the isolation level: bubblewrap when it really works here, else resource limits."""
    root = os.geteuid() == 0
    if requested not in ("auto", "bwrap", "rlimits"):
        raise CageError(f"unknown isolation level {requested!r} (auto, bwrap or rlimits)")
    if requested == "rlimits":
        return Isolation("rlimits", reason="asked for with --isolation rlimits", uid_switch=root)
    bwrap = shutil.which("bwrap")
    reason = ""
    if not bwrap:
        reason = "bubblewrap (bwrap) is not installed"
    else:
        own_stage = stage is None
        stage = stage or stage_library()
        try:
            cmd = bwrap_command(bwrap, stage, root=root, tmpfs_mb=16)
            env = _env(SANDBOX_LIB, "/tmp")
            for k, v in env.items():
                cmd += ["--setenv", k, v]
            # The interpreter, its site-packages and the staged library: what the worker needs first.
            check = "import site, autograder.sandbox.protocol; print(site.getsitepackages()[0])"
            proc = subprocess.run([*cmd, sys.executable, "-s", "-B", "-c", check], capture_output=True,
                                  text=True, timeout=180)
            if proc.returncode == 0:
                return Isolation("bwrap", uid_switch=root, bwrap=bwrap)
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            reason = f"bubblewrap cannot create its sandbox here ({lines[-1] if lines else f'exit {proc.returncode}'})"
        except (OSError, subprocess.SubprocessError) as exc:
            reason = f"bubblewrap failed to start ({exc})"
        finally:
            if own_stage:
                shutil.rmtree(stage, ignore_errors=True)
    if requested == "bwrap":
        raise CageError(f"--isolation bwrap was asked for, but {reason}.")
    return Isolation("rlimits", reason=reason, uid_switch=root)


# --- sandbox user ids ------------------------------------------------------------------------------
class UidLease:
    """User ids for sandboxes, each held (by a lock file) for as long as this object lives.

    Every process of a sandbox user id is killed when a submission ends, so two grading runs on
    one machine (two instructors, two CI jobs, a test suite beside a batch) must never share
    one: each id is taken under an exclusive ``flock`` and only when no process runs under it.
    """

    def __init__(self, n: int) -> None:
        import fcntl

        self.uids: list[int] = []
        self._files: list[Any] = []
        UID_LOCKS.mkdir(mode=0o755, parents=True, exist_ok=True)
        busy = _uids_in_use()
        for uid in range(UID_BASE, UID_BASE + UID_RANGE):
            if len(self.uids) == n:
                break
            if uid in busy:
                continue
            fh = open(UID_LOCKS / f"{uid}.lock", "a")  # noqa: SIM115 - held until release()
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self.uids.append(uid)
            self._files.append(fh)
        if len(self.uids) < n:
            self.release()
            raise CageError(f"no free sandbox user ids in {UID_BASE}..{UID_BASE + UID_RANGE - 1}")

    def release(self) -> None:
        for fh in self._files:
            fh.close()
        self._files = []


def _uids_in_use() -> set[int]:
    from .worker import processes

    return {uid for _, uid, _, _ in processes()}


# --- the zygote, seen from the grader -----------------------------------------------------------
class ZygoteDied(RuntimeError):
    pass


class SlotUnusable(CageError):
    """A worker could not start because of the machine's state: a grading infrastructure error."""


@dataclass
class Child:
    pid: int
    sock: socket.socket


class Zygote:
    """One pre-forked worker parent per grading slot: starts once, forks a child per submission."""

    def __init__(self, isolation: Isolation, stage: Path, limits: Limits, slot: int = 0, *, warm: bool = True,
                 uid: int | None = None) -> None:
        """``uid``: the sandbox user id (root only), leased by the caller; leased here when not given."""
        self.isolation = isolation
        self.warm = warm  # prime the forbidden-call spy before forking (2-3 s once, instead of per child)
        self.stage = stage
        self.limits = limits
        self.slot = slot
        self._lease: UidLease | None = None
        if not isolation.uid_switch:
            self.uid = -1
        elif uid is not None:
            self.uid = uid
        else:
            self._lease = UidLease(1)
            self.uid = self._lease.uids[0]
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.host_root: str | None = None  # the worker's working area outside bubblewrap
        self._pending = False
        self._errlog: Any = None
        self.cuda_devices = 0  # GPUs the zygote saw before any student code ran (its ready message)

    @property
    def alive(self) -> bool:
        return (self.proc is not None and self.proc.poll() is None and self.control is not None
                and not self._pending)

    def start(self, timeout: float = 180.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def ensure(self) -> None:
        """Ready to spawn: finish a launch in progress, or (re)start a zygote that died."""
        if self._pending and self.proc is not None and self.proc.poll() is None:
            self.wait_ready()
        elif not self.alive:
            self.close()
            self.start()

    def launch(self) -> None:
        """Start the zygote without waiting for it (it imports numpy and torch meanwhile)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = theirs.fileno()
        if self.isolation.level == "bwrap":
            cmd = bwrap_command(self.isolation.bwrap or "bwrap", self.stage, root=self.isolation.uid_switch,
                                tmpfs_mb=self.limits.tmpfs_mb)
            for k, v in _env(SANDBOX_LIB, "/tmp").items():
                cmd += ["--setenv", k, v]
            cmd += [*_python_argv(), "--control-fd", str(fd), "--uid", str(self.uid), "--work-root", "/tmp",
                    *([] if self.warm else ["--no-warm-up"])]
            env, cwd = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, "/"
        else:
            self.host_root = tempfile.mkdtemp(prefix=f"autograder-slot{self.slot}-")
            os.chmod(self.host_root, 0o700)
            if self.uid >= 0:
                os.chown(self.host_root, self.uid, self.uid)
            cmd = [*_python_argv(), "--control-fd", str(fd), "--uid", str(self.uid), "--work-root", self.host_root,
                   *([] if self.warm else ["--no-warm-up"])]
            env, cwd = _env(str(self.stage), self.host_root), self.host_root
        self._errlog = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, pass_fds=[fd], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._errlog, start_new_session=True)
        theirs.close()
        self.control = ours
        self._pending = True

    def wait_ready(self, timeout: float = 180.0) -> None:
        assert self.control is not None
        self.control.settimeout(timeout)
        try:
            msg, _ = protocol.recv(self.control)
        except (EOFError, OSError, protocol.ProtocolError) as exc:
            detail = self._stderr_tail() or str(exc)
            self.close()
            raise CageError(f"the sandboxed worker did not start: {detail}") from None
        if msg.get("op") != "ready":
            self.close()
            raise CageError(f"the sandboxed worker did not start: {msg}")
        self.cuda_devices = max(0, int(msg.get("cuda_devices") or 0))
        self._pending = False

    def _stderr_tail(self) -> str:
        if self._errlog is None:
            return ""
        try:
            self._errlog.seek(0)
            lines = self._errlog.read().decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else ""
        except Exception:
            return ""

    def _request(self, msg: dict[str, Any], buffers: list[Any] = (), timeout: float = 60.0) -> dict[str, Any]:
        if not self.alive:
            raise ZygoteDied("the worker parent is not running")
        try:
            self.control.settimeout(timeout)
            protocol.send(self.control, msg, buffers)
            return protocol.recv(self.control)[0]
        except (EOFError, OSError, protocol.ProtocolError) as exc:
            self.close()
            raise ZygoteDied(f"the worker parent stopped answering ({exc})") from None

    def spawn(self, files: list[tuple[str, bytes]], env: dict[str, str] | None = None) -> Child:
        """A fresh child; its files go to it over its own socket, never through the zygote."""
        if not self.alive:
            raise ZygoteDied("the worker parent is not running")
        try:
            self.control.settimeout(60)
            protocol.send(self.control, {"op": "spawn", "limits": self.limits.for_child(), "env": env or {}})
            _, fds, _, _ = socket.recv_fds(self.control, 1, 1)
            msg, _ = protocol.recv(self.control)
        except (EOFError, OSError, protocol.ProtocolError) as exc:
            self.close()
            raise ZygoteDied(f"the worker parent stopped answering ({exc})") from None
        if not fds or msg.get("op") != "spawned":
            for f in fds:
                os.close(f)
            self.close()
            raise ZygoteDied("the worker parent did not hand over a worker")
        child = Child(int(msg["pid"]), socket.socket(fileno=fds[0]))
        try:
            child.sock.settimeout(60)
            protocol.send(child.sock, {"op": "files", "files": [[name, i] for i, (name, _) in enumerate(files)]},
                          [data for _, data in files])
            reply, _ = protocol.recv(child.sock, max_buffers=0)
        except (EOFError, OSError, protocol.ProtocolError) as exc:
            reply = {"infra": f"the new worker did not take the submission's files ({exc})"}
        if reply.get("ok") is not True:  # the slot's state, not the student's: replace the slot
            self.end(child)
            self.close()
            raise SlotUnusable(f"the sandboxed worker could not start: {str(reply.get('infra'))[:300]}")
        return child

    def end(self, child: Child) -> dict[str, Any]:
        """Kill the child and whatever it left behind; how it ended ({'how': 'exit'|'signal', ...})."""
        try:
            child.sock.close()
        except OSError:
            pass
        try:
            status = self._request({"op": "end", "pid": child.pid}, timeout=60)
        except ZygoteDied:
            return {"how": "unknown"}
        if status.get("clean") is not True:  # something of this submission survived: a fresh slot
            self.close()
        return status

    def close(self) -> None:
        if self.control is not None:
            try:
                self.control.settimeout(5)
                protocol.send(self.control, {"op": "exit"})
            except OSError:
                pass
            try:
                self.control.close()
            except OSError:
                pass
            self.control = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait()
            self.proc = None
        self._pending = False
        if self.uid >= 0 and self.isolation.level != "bwrap":  # the rlimits level: no namespace ends them
            from .worker import kill_user  # a forked helper that takes the sandbox's uid

            kill_user(self.uid)
        if self.host_root:
            shutil.rmtree(self.host_root, ignore_errors=True)
            self.host_root = None

    def release(self) -> None:
        """Close, and give the sandbox user id back (when this zygote leased it)."""
        self.close()
        if self._lease is not None:
            self._lease.release()
            self._lease = None
