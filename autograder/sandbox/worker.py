"""The sandboxed worker: a zygote that forks one fresh child per submission.

This module runs *inside* the cage (see ``cage.py``), from a staged copy of a few public
modules: this file, ``protocol.py``, ``autograder/student.py`` (with ``failures.py`` and
``catalogue.py``) and the public oracles. It never sees the grader's code, the hidden graders,
the solutions or the repository.

The zygote imports numpy, torch (and matplotlib, when installed) once, then waits on its
control socket. For each submission it forks a child that drops privileges (when the grader
runs as root, to a user id of its own), sets its resource limits, writes the submission into a
fresh private directory, clears its environment and then answers the grader's requests over a
socket of its own: load the notebook's definitions, look up a function, build a module, call
it. The student's code runs under :class:`autograder.student.LocalStudent`, exactly as in a
notebook's check cell, so time limits, captured output and the forbidden-call spy are the same;
its answers leave as data (``protocol``), its failures as structured records. When the session
ends the zygote kills the child and everything it left behind, and removes its directory.
"""

from __future__ import annotations

import builtins
import ctypes
import importlib
import linecache
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from autograder import interface
from autograder.sandbox import protocol

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36


_libc = None


def _prctl(option: int, arg: int) -> None:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(option, arg, 0, 0, 0)
    except Exception:  # not Linux: the limits that remain still apply
        pass


class _Sink:
    """Where the student's stray prints go: counted, never kept, never blocking."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, s: Any) -> int:
        n = len(str(s))
        self.written += n
        return n

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    encoding = "utf-8"
    errors = "replace"


# --- the zygote ---------------------------------------------------------------------------------
def _preload(warm: bool = True) -> None:
    """Import once what every submission needs, so that a child starts in milliseconds."""
    import numpy  # noqa: F401

    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except Exception:
        pass
    import autograder.student  # noqa: F401

    # The trusted modules that were staged; and what torch imports lazily (an optimizer's first
    # step, the dispatch modes), since under rlimits the sandbox's user may not be able to read
    # the standard library's files after the fork.
    for name in (*protocol.TRUSTED_MODULES, "torch.optim", "torch._dynamo", "cProfile"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if warm:
        _warm_up()


def _warm_up() -> None:
    """Run one guarded torch call with the forbidden-call spy and a backward pass, once.

    Their first use imports some 800 modules (dispatch modes pull in sympy): 1.5 s that every
    child would otherwise pay again. One intra-op thread, so no thread pool exists at fork time.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return
    from autograder.student import LocalStudent

    torch.set_num_threads(1)

    def attention(q):
        return torch.softmax(q @ q.transpose(-1, -2), -1) @ q

    attention.__module__ = "__student__"  # as a submission's would be: the engine's own are refused

    student = LocalStudent({"attention": attention},
                           forbidden=("torch.nn.functional.scaled_dot_product_attention",))
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    try:
        student.function("attention")(q)
        student.function("attention").grad(q, grad_outputs=[torch.ones(2, 3, 4, dtype=torch.float64)])
    except Exception:
        pass


class Zygote:
    def __init__(self, control: socket.socket, uid: int, work_root: str, warm: bool = True) -> None:
        self.control = control
        self.warm = warm
        self.uid = uid  # -1: keep ours
        self.work_root = work_root
        self.children: dict[int, str] = {}  # pid -> its work directory
        self.baseline: set[str] = set()  # what the work area held before any submission (kept)
        self.statuses: dict[int, dict[str, Any]] = {}  # pid -> how it ended

    def serve(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _preload(self.warm)
        self.baseline = set(os.listdir(self.work_root))
        # Facts about the machine, recorded before any student code ran (the grader trusts these,
        # never a worker's later answer). NVML's count, so that no CUDA context exists at fork time.
        torch = sys.modules.get("torch")
        devices = 0
        try:
            devices = int(torch.cuda.device_count()) if torch is not None and torch.backends.cuda.is_built() else 0
        except Exception:
            devices = 0
        global _CUDA_DEVICES
        _CUDA_DEVICES = devices
        protocol.send(self.control, {"op": "ready", "cuda_devices": devices})
        while True:
            try:
                # No buffers at all: a submission's bytes must never enter this long-lived process.
                msg, _ = protocol.recv(self.control, max_json=1 << 20, max_buffers=0)
            except (EOFError, OSError, protocol.ProtocolError):
                break
            op = msg.get("op")
            if op == "spawn":
                self._spawn(msg)
            elif op == "end":
                status = self._end(int(msg["pid"]))
                protocol.send(self.control, {"op": "ended", **status})
            elif op == "exit":
                break
            else:
                protocol.send(self.control, {"op": "error", "error": f"unknown op {op!r}"})
        for pid in list(self.children):
            self._end(pid)
        os._exit(0)

    def _spawn(self, msg: dict[str, Any]) -> None:
        """Fork a child for one submission. Its files never pass through here: the grader sends
        them to the child over the child's own socket, after the fork (see ``_receive_files``)."""
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        workdir = tempfile.mkdtemp(prefix="sub-", dir=self.work_root) if self.uid < 0 else ""
        pid = os.fork()
        if pid == 0:  # the child
            try:
                self.control.close()
                parent_end.close()
                _child(child_end, self.uid, self.work_root, workdir, msg.get("limits", {}), msg.get("env", {}))
            finally:
                os._exit(70)
        child_end.close()
        self.children[pid] = workdir
        socket.send_fds(self.control, [b"F"], [parent_end.fileno()])
        parent_end.close()
        protocol.send(self.control, {"op": "spawned", "pid": pid})

    def _end(self, pid: int) -> dict[str, Any]:
        """Stop child ``pid`` and everything it started; report how it ended."""
        self._collect(block=False)
        exited_alone = pid in self.statuses
        try:  # the session's own process group first (it called setsid)
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        if self.uid >= 0:
            self._kill_uid()
        else:
            self._kill_descendants()
        for _ in range(1000):
            if pid in self.statuses:
                break
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            self._collect(block=False)
            time.sleep(0.001)
        self._collect(block=False)
        status = self.statuses.pop(pid, {"how": "unknown"})
        status["exited_alone"] = exited_alone
        self.statuses.clear()
        self.children.pop(pid, "")
        # Everything written outside the work area's first entries goes, not only ``sub-*``: a
        # student that fills /tmp must not leave the next submission of this slot without space.
        _clear(self.work_root, self.baseline)
        status["clean"] = self._is_clean()
        return status

    def _collect(self, *, block: bool, until: int | None = None) -> None:
        """Reap children (ours and the orphans handed to us as the subreaper), noting how each ended."""
        while True:
            try:
                p, st = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if p == 0:
                return
            if os.WIFSIGNALED(st):
                self.statuses[p] = {"how": "signal", "signal": os.WTERMSIG(st)}
            else:
                self.statuses[p] = {"how": "exit", "code": os.WEXITSTATUS(st)}
            if until is not None and p == until:
                return

    def _kill_uid(self) -> None:
        """Kill every process of the sandbox's user id (ours alone) and remove what it wrote here."""
        kill_user(self.uid, then=lambda: _clear(self.work_root, self.baseline))

    def _is_clean(self) -> bool:
        """Nothing of the last submission is left: no process, no file in the shared work area."""
        if self.uid >= 0 and _live_processes_of(self.uid):
            return False
        if self.uid < 0 and _children_of(os.getpid()):
            return False
        try:
            return set(os.listdir(self.work_root)) <= self.baseline
        except OSError:
            return False

    def _kill_descendants(self) -> None:
        me = os.getpid()
        for _ in range(500):
            victims = _children_of(me)
            if not victims:
                return
            for p in victims:
                try:
                    os.killpg(p, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.001)
            self._collect(block=False)


def _proc_entries() -> list[str]:
    try:
        return os.listdir("/proc")
    except OSError:  # no procfs (not Linux): only the process groups are killed
        return []


def processes() -> Iterator[tuple[int, int, int, bytes]]:
    """(pid, uid, parent pid, state letter) of every process /proc shows; the one scan of /proc that
    the worker, the zygote and the grader's user-id leases share. A process that ends while it is
    read is skipped."""
    for entry in _proc_entries():
        if not entry.isdigit():
            continue
        try:
            uid = os.stat(f"/proc/{entry}").st_uid
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # the command name may hold spaces and ")"
        if len(fields) > 1:
            yield int(entry), uid, int(fields[1]), fields[0][:1]


def _children_of(ppid: int) -> list[int]:
    return [pid for pid, _, parent, state in processes() if parent == ppid and state != b"Z"]


def _live_processes_of(uid: int) -> list[int]:
    """Processes (not zombies) of ``uid`` visible here, except this one."""
    me = os.getpid()
    return [pid for pid, owner, _, state in processes() if owner == uid and pid != me and state not in (b"Z", b"X")]


def as_user(uid: int, work: Any) -> None:
    """In a freshly forked process: become ``uid`` (a sandbox user id), do ``work()``, exit."""
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        work()
    finally:
        os._exit(0)


def kill_user(uid: int, then: Callable[[], Any] | None = None) -> None:
    """Kill every process of ``uid`` from outside it (a forked helper that takes its id), then, as
    that user, ``then()`` (removing what it wrote where only it may)."""
    pid = os.fork()
    if pid == 0:
        as_user(uid, lambda: (kill_own_processes(), then and then()))
    os.waitpid(pid, 0)


def _clear(root: str, keep: set[str]) -> None:
    """Remove every entry of ``root`` not named in ``keep`` (as far as this process may)."""
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if name in keep:
            continue
        path = os.path.join(root, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def kill_own_processes(rounds: int = 2000) -> None:
    """SIGKILL every other process of our user id, until none is left (a fork bomb included)."""
    uid = os.getuid()
    for _ in range(rounds):
        try:
            os.kill(-1, signal.SIGKILL)  # succeeds while *any* process exists: check /proc instead
        except ProcessLookupError:
            return
        if not _live_processes_of(uid):
            return
        time.sleep(0.001)


def _tasks_of_uid(uid: int) -> int:
    n = 0
    for pid, owner, _, _ in processes():
        if owner == uid:
            try:
                n += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return n


# --- a child: one submission --------------------------------------------------------------------
# GPUs the zygote counted before any submission (NVML: no CUDA context at fork time); its children
# read it to choose their memory bound.
_CUDA_DEVICES = 0


def _status_bytes(field: str) -> int:
    """A size from /proc/self/status (``VmSize:``, ``VmData:``), in bytes; 0 if unreadable."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _vm_bytes() -> int:
    return _status_bytes("VmSize:")


def memory_limit(memory_mb: int, cuda_devices: int) -> tuple[int, int]:
    """(resource, bytes): what a worker may add to the memory it was forked with.

    Without a GPU, the address space. CUDA reserves address space by the terabyte (never backed),
    so a bound on it would stop CUDA from starting: on a GPU machine the bound is on the heap
    (writable private memory) instead; the GPU's own memory is the device's to refuse.
    """
    if cuda_devices > 0:
        return resource.RLIMIT_DATA, _status_bytes("VmData:") + memory_mb * (1 << 20)
    return resource.RLIMIT_AS, _vm_bytes() + memory_mb * (1 << 20)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        try:  # never above what we already have
            cur_soft, cur_hard = resource.getrlimit(which)
            cap = cur_hard if cur_hard != resource.RLIM_INFINITY else hard
            resource.setrlimit(which, (min(soft, cap), min(hard, cap)))
        except (ValueError, OSError):
            pass


def _child(sock: socket.socket, uid: int, work_root: str, workdir: str, limits: dict[str, Any],
           env: dict[str, str]) -> None:
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    keep = sock.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    if uid >= 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    try:
        if uid >= 0:
            workdir = tempfile.mkdtemp(prefix="sub-", dir=work_root)
        os.chdir(workdir)
        # The submission's own scratch space (TMPDIR), beside its folder; removed with it.
        tmp = tempfile.mkdtemp(prefix="tmp-", dir=work_root)
    except OSError as exc:  # the slot's state, not the student: the grader reports it as such
        _refuse(sock, f"no working directory ({exc.strerror or exc})")
    if not _receive_files(sock, workdir):
        os._exit(0)
    # The course's language (the grader's setting, inherited by the zygote) survives the clean slate.
    lang = {"AUTOGRADER_LANG": os.environ["AUTOGRADER_LANG"]} if os.environ.get("AUTOGRADER_LANG") else {}
    os.environ.clear()
    os.environ.update({**lang, "PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": tmp, "LANG": "C.UTF-8",
                       "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", **{k: str(v) for k, v in env.items()}})
    tempfile.tempdir = None  # forget the zygote's choice: the next use reads TMPDIR
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    mb = 1 << 20
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_CPU, int(limits.get("cpu_seconds", 120)), int(limits.get("cpu_seconds", 120)) + 5)
    _set_limit(resource.RLIMIT_FSIZE, int(limits.get("file_mb", 16)) * mb)
    _set_limit(resource.RLIMIT_NOFILE, int(limits.get("open_files", 256)))
    extra = int(limits.get("processes", 64))
    # Under our own user id the limit counts our processes only; otherwise it counts every
    # process of the user, some of which only the grader (outside the sandbox) can see.
    base = 0 if uid >= 0 else max(_tasks_of_uid(os.getuid()), int(limits.get("user_tasks", 0)))
    _set_limit(resource.RLIMIT_NPROC, base + extra)
    _set_limit(*memory_limit(int(limits.get("memory_mb", 2048)), _CUDA_DEVICES))
    sink = _Sink()
    sys.stdout = sys.stderr = sink
    sys.stdin = None
    sys.path[:] = [p for p in sys.path if p not in ("", ".", workdir)]
    Session(sock, sink).serve()


def _refuse(sock: socket.socket, reason: str) -> None:
    """Tell the grader this worker cannot start because of the machine's state, and stop."""
    try:
        protocol.send(sock, {"op": "files", "ok": False, "infra": reason[:300]})
    finally:
        os._exit(0)


def _receive_files(sock: socket.socket, workdir: str) -> bool:
    """The submission's files, sent by the grader to this child alone; False: the grader went away."""
    try:
        msg, bufs = protocol.recv(sock)
    except (EOFError, OSError, protocol.ProtocolError):
        return False
    try:
        for name, i in msg.get("files", []):
            path = os.path.join(workdir, str(name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(bufs[int(i)])
    except OSError as exc:  # e.g. no space left: the slot's state, before any student code ran
        _refuse(sock, f"cannot write the submission's files ({exc.strerror or exc})")
    del msg, bufs
    protocol.send(sock, {"op": "files", "ok": True})
    return True


class Session:
    """Answers the grader's requests for one submission."""

    def __init__(self, sock: socket.socket, sink: _Sink) -> None:
        self.sock = sock
        self.sink = sink
        self.namespace: dict[str, Any] = {"__name__": "__student__", "__builtins__": builtins}
        self.last_error: BaseException | None = None
        self.refs: dict[int, tuple[str, Any]] = {}

    def serve(self) -> None:
        while True:
            try:
                msg, bufs = protocol.recv(self.sock)
            except (EOFError, OSError, protocol.ProtocolError):
                os._exit(0)
            try:
                reply, out = self.handle(msg, bufs)
            except BaseException as exc:  # noqa: BLE001 - anything the student threw past the guard
                reply, out = {"failure": _failure_from(exc, self._label(msg), msg.get("time_limit", 10.0))}, []
            try:
                protocol.send(self.sock, reply, out)
            except BaseException:  # noqa: BLE001 - e.g. a reply too big for our memory limit
                try:
                    from autograder.catalogue import phrase

                    failure = _failure_from(MemoryError(phrase("the result is too large to send")), self._label(msg), 0)
                    protocol.send(self.sock, {"failure": failure})
                except BaseException:  # noqa: BLE001
                    os._exit(71)

    def _label(self, msg: dict[str, Any]) -> str:
        """How the failing call is named in the message: `softmax`, `Model.forward`."""
        from autograder.catalogue import phrase

        if msg.get("op") in ("invoke", "read"):
            try:
                kind, obj = self.refs[int(msg.get("ref", 0))]
            except (KeyError, TypeError, ValueError):
                return phrase("your code")
            if kind == "trusted":
                return str(getattr(obj, "label", phrase("your code")))
            name = str(getattr(obj, "name", phrase("your code")))
            method = str(msg.get("method", "__call__"))
            if kind == "function":
                return name
            return f"{name}.{'forward' if method == '__call__' else method}"
        return str(msg.get("name", "your code"))

    def _student(self, msg: dict[str, Any]):
        from autograder.student import LocalStudent

        return LocalStudent(self.namespace, time_limit=float(msg.get("time_limit", 10.0)),
                            last_error=self.last_error, forbidden=tuple(msg.get("forbidden", ())),
                            static_policy=False)  # judged by the trusted process (policy.PolicyChecked)

    def handle(self, msg: dict[str, Any], bufs: list[memoryview]) -> tuple[dict[str, Any], list[Any]]:
        op = msg.get("op")
        if op == "load":
            return self.load(msg), []
        if op == "function":
            fn = self._student(msg).function(str(msg["name"]), trusted=_resolve(msg.get("trusted", {})))
            return self._ref("function", fn), []
        if op == "build":
            args, kwargs = self._arguments(msg, bufs)
            handle = self._student(msg).build(str(msg["name"]), *args, trusted=_resolve(msg.get("trusted", {})),
                                              **kwargs)
            return self._ref("module", handle), []
        if op == "invoke":
            return self.invoke(msg, bufs)
        if op == "trusted":
            return self.trusted(msg, bufs)
        if op == "read":
            return self.read(msg, bufs)
        return {"failure": {"class": "GraderFailure", "message": f"unknown request {op!r}"}}, []

    def _arguments(self, msg: dict[str, Any], bufs: list[memoryview]) -> tuple[tuple, dict]:
        """A request's arguments; the grader's references become the trusted objects they name."""
        args = protocol.decode(msg.get("args"), bufs, resolve_ref=self._trusted_object)
        kwargs = protocol.decode(msg.get("kwargs"), bufs, resolve_ref=self._trusted_object)
        return tuple(args), dict(kwargs)

    def _trusted_object(self, ref: int) -> Any:
        kind, obj = self.refs[ref]
        if kind != "trusted":
            raise KeyError(ref)
        return obj

    def trusted(self, msg: dict[str, Any], bufs: list[memoryview]) -> tuple[dict[str, Any], list[Any]]:
        """Make an object from the grader's recipe: a factory of a staged public oracle module, and data."""
        factory = _resolve({"factory": msg.get("factory", "")})["factory"]
        args, kwargs = self._arguments(msg, bufs)
        return self._ref("trusted", self._student(msg).trusted_object(factory, *args, **kwargs)), []

    def read(self, msg: dict[str, Any], bufs: list[memoryview]) -> tuple[dict[str, Any], list[Any]]:
        """What the grader reads back from a trusted object (a reader of a public oracle module), as data."""
        handle = self._trusted_object(int(msg["ref"]))
        reader = _resolve({"reader": msg.get("reader", "")})["reader"]
        args, kwargs = self._arguments(msg, bufs)
        enc = protocol.Encoder(strict=False)
        value = enc.encode(handle.read(reader, *args, **kwargs))
        return {"ok": True, "value": value}, enc.buffers

    def _ref(self, kind: str, obj: Any) -> dict[str, Any]:
        ref = len(self.refs) + 1
        self.refs[ref] = (kind, obj)
        return {"ok": True, "ref": ref}

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Run the notebook's kept statements in notebook order, as a kernel would.

        A cell's definitions run together under ``cell_seconds`` (an error ends that cell, as in
        a kernel). Each computed constant (``cell["computed"]``: its first line) runs alone, under
        ``constant_seconds`` and within ``constants_seconds`` for all of them: one that raises or
        runs out of time is reported (``constants``) and the cell goes on without it.
        """
        import ast

        from autograder.student import _Alarm, _one_line, _time_limit

        errors: list[str] = []
        constants: list[dict[str, Any]] = []
        seconds = float(msg.get("cell_seconds", 30.0))
        each = float(msg.get("constant_seconds", protocol.CONSTANT_SECONDS))
        left = float(msg.get("constants_seconds", protocol.CONSTANTS_SECONDS))
        for cell in msg.get("cells", []):
            name, source = str(cell["name"]), str(cell["source"])
            label = str(cell.get("label", name))
            computed = {int(n) for n in cell.get("computed", ())}
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            try:
                body = ast.parse(source, name).body
            except BaseException as exc:  # noqa: BLE001 - a cell that does not parse defines nothing
                body = []
                self.last_error = exc
                errors.append(f"{label}: {_one_line(exc)}")
            chunk: list[ast.stmt] = []
            for node in [*body, None]:
                if node is not None and node.lineno not in computed:
                    chunk.append(node)
                    continue
                if chunk and not self._run(ast.Module(body=chunk, type_ignores=[]), name, seconds, label, errors):
                    break  # as in a kernel, an error ends the cell's definitions
                chunk = []
                if node is None:
                    break
                where = f"{label}, line {node.lineno}"
                if left <= 0:
                    constants.append({"where": where, "skipped": True})
                    continue
                t0 = time.monotonic()
                try:
                    code = compile(ast.Module(body=[node], type_ignores=[]), name, "exec")
                    with _time_limit(min(each, left)):
                        exec(code, self.namespace)  # noqa: S102 - the point of the sandbox
                except _Alarm:
                    constants.append({"where": where, "timeout": round(min(each, left), 3)})
                except BaseException as exc:  # noqa: BLE001 - SystemExit included: grading goes on
                    self.last_error = exc
                    if not isinstance(exc, NotImplementedError):  # an unfilled stub: the checks say so
                        constants.append({"where": where, "error": _cut(_one_line(exc), 200)})
                left -= time.monotonic() - t0
        return {"ok": True, "errors": errors[:20], "constants": constants[:20], "printed": self.sink.written}

    def _run(self, module: Any, name: str, seconds: float, label: str, errors: list[str]) -> bool:
        """Run some of a cell's definitions; False (and the error noted) when they raised."""
        from autograder.student import _Alarm, _one_line, _time_limit

        try:
            code = compile(module, name, "exec")
            with _time_limit(seconds):
                exec(code, self.namespace)  # noqa: S102 - the point of the sandbox
        except _Alarm:
            from autograder.catalogue import phrase

            exc = TimeoutError(phrase("did not finish within {seconds:g} s", seconds=seconds))
            self.last_error = exc
            errors.append(f"{label}: {_one_line(exc)}")
            return False
        except BaseException as exc:  # noqa: BLE001 - SystemExit included: a notebook cell goes on
            self.last_error = exc
            errors.append(f"{label}: {_one_line(exc)}")
            return False
        return True

    def invoke(self, msg: dict[str, Any], bufs: list[memoryview]) -> tuple[dict[str, Any], list[Any]]:
        kind, obj = self.refs[int(msg["ref"])]
        method = str(msg.get("method", "__call__"))
        allowed = interface.INVOKABLE.get(kind, ())  # the declared student interface, nothing else
        if method not in allowed:
            return {"failure": {"class": "GraderFailure", "message": f"{method} cannot be called"}}, []
        args, kwargs = self._arguments(msg, bufs)
        before = {("a", i): protocol.raw_bytes(a) for i, a in enumerate(args)}
        before.update({("k", k): protocol.raw_bytes(v) for k, v in kwargs.items()})
        fn = obj if method == "__call__" else getattr(obj, method)
        result = fn(*args, **kwargs)
        enc = protocol.Encoder(strict=False)
        value = enc.encode(result)
        mutated = []
        for (where, key), raw in before.items():
            if raw is None:
                continue
            current = args[key] if where == "a" else kwargs[key]
            if protocol.raw_bytes(current) != raw:
                mutated.append([[where, key], enc.encode(current)])
        return {"ok": True, "value": value, "mutated": mutated}, enc.buffers




def _resolve(trusted: dict[str, str]) -> dict[str, Any]:
    """Trusted building blocks, by qualified name, from the staged public oracle modules only."""
    out = {}
    for name, qualified in dict(trusted).items():
        module, _, attr = str(qualified).partition(":")
        if module not in protocol.TRUSTED_MODULES:
            raise ValueError(f"{qualified} is not a public oracle")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        out[str(name)] = obj
    return out


_CAP = 2000


def _cut(s: Any, n: int = _CAP) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def _failure_from(exc: BaseException, label: str, seconds: Any) -> dict[str, Any]:
    """A structured record of what went wrong, for the grader to re-raise."""
    from autograder.failures import GraderFailure
    from autograder.catalogue import text
    from autograder.student import _Alarm, _one_line, _student_frames

    if isinstance(exc, GraderFailure):
        ev = exc.evidence
        return {
            "class": type(exc).__name__,
            "error_types": [_cut(t, 100) for t in getattr(exc, "error_types", ())][:20],
            "message": _cut(exc.message),
            "evidence": None if ev is None else {"expected": _cut(ev.expected), "got": _cut(ev.got),
                                                  "details": [_cut(d, 500) for d in list(ev.details)[:10]]},
            "hint": None if exc.hint is None else _cut(exc.hint),
            "misconception": None if exc.misconception is None else _cut(exc.misconception),
        }
    if isinstance(exc, _Alarm):
        return {"class": "StudentTimeout", "message": _cut(text("fail.timeout", name=label, seconds=float(seconds)))}
    return {"class": "StudentCodeError", "message": _cut(text("fail.raised", name=label, error=_one_line(exc))),
            "error_types": [c.__name__ for c in type(exc).__mro__][:20],
            "evidence": {"expected": "", "got": "", "details": [_cut(d, 500) for d in _student_frames(exc)]}}


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="autograder.sandbox.worker")
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--uid", type=int, default=-1)
    parser.add_argument("--work-root", required=True)
    parser.add_argument("--no-warm-up", action="store_true", help="skip priming the forbidden-call spy")
    args = parser.parse_args(argv)
    control = socket.socket(fileno=args.control_fd)
    Zygote(control, args.uid, args.work_root, warm=not args.no_warm_up).serve()


if __name__ == "__main__":
    main()
