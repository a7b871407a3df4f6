"""The ``student`` object of hardened grading: LocalStudent's interface, answered by a worker.

Graders cannot tell it from :class:`autograder.student.LocalStudent`: ``function(name,
trusted=)`` returns something to call (and ``.grad``), ``build(Class, ...)`` a module handle
with the same methods. Every call becomes a request to the submission's sandboxed worker;
arguments go as data, results come back as data (``protocol``) and are rebuilt here as plain
numpy arrays and torch tensors, so whatever the student's objects would have done when
compared (an ``__eq__`` that is always true, a tensor subclass with ``__torch_function__``)
never reaches the grader. Failures come back as records and are raised here as the same
:class:`~autograder.failures.GraderFailure` subclasses a local run raises.

Trusted building blocks travel by name: a grader's ``trusted={"softmax": o.trusted_softmax}``
becomes ``{"softmax": "autograder.graders.oracles:trusted_softmax"}``, which the worker imports
from its staged copy of the public oracle modules. Anything else is refused as a grader bug.

Objects the student's code works on (stage 07's model, optimizer, file path) travel as recipes:
``trusted_object(o.trusted_model, config, state)`` sends the factory's name and its arguments as
data; the worker makes the object from its staged oracles and keeps it; the grader holds a
:class:`RemoteTrustedObject` (a ``protocol.Reference``), passes it to the student's function
(the worker substitutes the object) and reads it back with a reader named the same way.

When the worker dies, hangs past its deadline or sends garbage, the check that was running
fails with the reason, and the next request starts a fresh worker (the notebook's definitions
are loaded again), so one bad function costs only the checks that call it.
"""

from __future__ import annotations

import importlib
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .. import failures
from ..catalogue import phrase, text
from ..failures import Evidence, GraderFailure, StudentCodeError, StudentTimeout
from ..student import DEFAULT_TIME_LIMIT_S
from . import protocol
from .cage import Child, Limits, SlotUnusable, Zygote, ZygoteDied

_FAILURES = {cls.__name__: cls for cls in (
    failures.GraderFailure, failures.StudentCodeError, failures.MissingDefinition,
    failures.NotImplementedYet, failures.StudentTimeout, failures.ForbiddenCall)}


def trusted_names(trusted: Mapping[str, Any] | None) -> dict[str, str]:
    """``{"softmax": trusted_softmax}`` -> ``{"softmax": "autograder.graders.oracles:trusted_softmax"}``."""
    out = {}
    for name, fn in (trusted or {}).items():
        module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
        if module not in protocol.TRUSTED_MODULES or "<" in qualname:
            raise TypeError(f"trusted block {name!r} must be a module-level function or class of "
                            f"{', '.join(protocol.TRUSTED_MODULES)}")
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if obj is not fn:
            raise TypeError(f"trusted block {name!r} ({module}.{qualname}) cannot be found by name")
        out[str(name)] = f"{module}:{qualname}"
    return out


class WorkerGone(Exception):
    """The worker of this submission stopped; ``failure`` is what the running check reports."""

    def __init__(self, failure: GraderFailure, reason: str = "") -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.reason = reason or failure.message  # why the worker stopped, in a few words


_SIGNALS = {getattr(signal, n): n for n in dir(signal) if n.startswith("SIG") and not n.startswith("SIG_")}


class SubmissionWorker:
    """The sandboxed worker of one submission (respawned after a crash, within limits)."""

    def __init__(self, zygote: Zygote, files: list[tuple[str, bytes]], cells: list[dict[str, str]],
                 limits: Limits | None = None, env: Mapping[str, str] | None = None) -> None:
        self.zygote = zygote
        self.files = files
        self.cells = cells
        self.limits = limits or zygote.limits
        self.env = dict(env or {})
        self.child: Child | None = None
        self.generation = 0  # workers started so far; a reference names the one it lives in
        self.started = time.monotonic()
        self.fatal: GraderFailure | None = None  # set when loading itself kills the worker
        self.load_errors: list[str] = []
        self.events: list[str] = []  # what went wrong with workers, for the report's notes
        self.spent: dict[str, float] = {}  # seconds used by each function (or class), by name
        self.infra: str = ""  # why a worker could not start because of the machine (not the student)
        self.timeouts = 0  # StudentTimeouts raised to the graders since the runner last asked

    # -- life cycle ---------------------------------------------------------------------------
    def _start(self) -> None:
        if self.fatal is not None:
            raise WorkerGone(self.fatal)
        if self.generation > self.limits.max_respawns:
            raise WorkerGone(StudentCodeError(text("sandbox.respawns", n=self.limits.max_respawns)))
        self._check_budget("your notebook")
        for attempt in range(2):
            try:
                self.zygote.ensure()
                self.child = self.zygote.spawn(self.files, self.env)
                break
            except ZygoteDied:
                if attempt:
                    raise
            except SlotUnusable as exc:  # the slot was replaced; a second failure is the machine's
                if attempt:
                    self.infra = str(exc)
                    self.fatal = GraderFailure(self.infra)
                    raise WorkerGone(self.fatal) from None
        self.generation += 1
        budget = max(1.0, self.limits.cell_seconds * max(1, len(self.cells)) + protocol.CONSTANTS_SECONDS + 10)
        try:
            reply, _ = self._exchange({"op": "load", "cells": self.cells, "cell_seconds": self.limits.cell_seconds,
                                       "constant_seconds": protocol.CONSTANT_SECONDS,
                                       "constants_seconds": protocol.CONSTANTS_SECONDS},
                                      [], min(budget, self._left()), label=phrase("your notebook"), note=False)
        except WorkerGone as gone:
            self.fatal = StudentCodeError(text("sandbox.died_loading", reason=gone.reason))
            raise WorkerGone(self.fatal) from None
        if self.generation == 1:
            self.load_errors = [str(e)[:300] for e in reply.get("errors", [])][:20]
            self.events += constant_notes(reply.get("constants"), self.cells)

    def _left(self) -> float:
        return self.limits.submission_seconds - (time.monotonic() - self.started)

    def _check_budget(self, label: str) -> None:
        if self._left() <= 0:
            raise WorkerGone(StudentTimeout(text("sandbox.budget", seconds=self.limits.submission_seconds, name=label)))

    def _stop(self, *, killed_for: str | None = None) -> dict[str, Any]:
        child, self.child = self.child, None
        if child is None:
            return {"how": "unknown"}
        status = self.zygote.end(child)
        if killed_for:
            self.events.append(killed_for)
        return status

    def close(self) -> None:
        if self.child is not None:
            self._stop()

    # -- requests -----------------------------------------------------------------------------
    def _exchange(self, msg: dict[str, Any], buffers: list[Any], timeout: float, *, label: str,
                  seconds: float | None = None, note: bool = True) -> tuple[dict[str, Any], list[memoryview]]:
        """Send one request and wait for its answer; a dead, slow or garbled worker raises WorkerGone."""
        sock = self.child.sock
        try:
            sock.settimeout(max(0.05, timeout))
            protocol.send(sock, msg, buffers)
            reply, bufs = protocol.recv(sock, max_buffers=self.limits.reply_mb << 20)
            return reply, bufs
        except socket.timeout:
            self._stop(killed_for=text("sandbox.event.timeout", name=label, seconds=round(timeout, 1)) if note else None)
            if self._left() <= 0:
                raise WorkerGone(StudentTimeout(text("sandbox.budget", seconds=self.limits.submission_seconds,
                                                     name=label))) from None
            raise WorkerGone(StudentTimeout(text("fail.timeout", name=label,
                                                 seconds=seconds if seconds is not None else round(timeout, 1))),
                             text("sandbox.event.timeout", name=label, seconds=round(timeout, 1))) from None
        except protocol.ProtocolError as exc:
            garbled = self.garbled(label)
            if "too large" in str(exc):
                raise WorkerGone(StudentCodeError(text("sandbox.too_large", name=label, mb=self.limits.reply_mb))) from None
            raise WorkerGone(garbled, text("sandbox.reason.protocol")) from None
        except (EOFError, OSError):
            status = self._stop()
            reason = self._explain(status)
            if note:
                self.events.append(text("sandbox.event.died", name=label, reason=reason))
            raise WorkerGone(StudentCodeError(text("sandbox.died", name=label, reason=reason)), reason) from None

    def _count_timeout(self, failure: BaseException) -> None:
        # Counted here, on the trusted side: a grader that catches the time-out (a probe inside
        # ``except Exception``) cannot hide from the runner that the item's time ran out.
        if isinstance(failure, StudentTimeout):
            self.timeouts += 1

    def take_timeouts(self) -> int:
        """Time-outs since the last call (the runner asks after each grader, see runner._took_timeout)."""
        n, self.timeouts = self.timeouts, 0
        return n

    def garbled(self, label: str) -> StudentCodeError:
        """The worker sent something that is not an answer: stop it; the failure to report."""
        self._stop(killed_for=text("sandbox.event.garbled", name=label))
        return StudentCodeError(text("sandbox.died", name=label, reason=text("sandbox.reason.protocol")))

    def _explain(self, status: Mapping[str, Any]) -> str:
        if status.get("how") == "exit":
            return text("sandbox.reason.exit", code=status.get("code"))
        if status.get("how") == "signal":
            sig = int(status.get("signal", 0))
            if sig == getattr(signal, "SIGXCPU", -1):
                return text("sandbox.reason.cpu", seconds=self.limits.cpu_seconds)
            if sig == getattr(signal, "SIGXFSZ", -1):
                return text("sandbox.reason.fsize", mb=self.limits.file_mb)
            if sig in (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
                return text("sandbox.reason.killed", signal=_SIGNALS.get(sig, sig), mb=self.limits.memory_mb)
            return text("sandbox.reason.signal", signal=_SIGNALS.get(sig, sig))
        return text("sandbox.reason.unknown")

    def request(self, msg: dict[str, Any], buffers: list[Any] = (), *, timeout: float, label: str,
                seconds: float | None = None) -> tuple[dict[str, Any], list[memoryview]]:
        """A request to a live worker (started or restarted as needed); failures are raised here.

        Time is charged to the function (or class) the request is about: one that loops or
        crawls uses up its own allowance (``Limits.function_seconds``) and then fails at once,
        so it cannot starve the checks of the other items.
        """
        owner = label.split(".")[0]
        used = self.spent.get(owner, 0.0)
        t0 = time.monotonic()
        try:
            if used >= self.limits.function_seconds:
                raise WorkerGone(StudentTimeout(text("sandbox.function_budget", name=owner,
                                                     seconds=self.limits.function_seconds)))
            self._check_budget(label)
            if self.child is None:
                self._start()
            left = min(self._left(), self.limits.function_seconds - used)
            reply, bufs = self._exchange(msg, buffers, min(timeout, max(0.05, left)), label=label, seconds=seconds)
        except WorkerGone as gone:
            self._count_timeout(gone.failure)
            raise gone.failure from None
        finally:
            self.spent[owner] = used + (time.monotonic() - t0)
        if "failure" in reply:
            failure = _failure(reply["failure"])
            self._count_timeout(failure)
            raise failure
        if reply.get("ok") is not True:
            raise self.garbled(label)
        return reply, bufs


def constant_notes(records: Any, cells: Sequence[Mapping[str, Any]]) -> list[str]:
    """One sentence per computed constant that the worker could not run (``Session.load``), naming
    the line and showing it as the grader sent it (never as the worker describes it)."""
    if not isinstance(records, list):
        return []
    sources = {str(c.get("label", "")): str(c.get("source", "")) for c in cells}
    notes: list[str] = []
    for record in records[:20]:
        if not isinstance(record, dict):
            continue
        where = _s(record.get("where"), 80)
        label, _, line = where.rpartition(", line ")
        try:
            code = sources.get(label, "").splitlines()[int(line) - 1].strip()
        except (ValueError, IndexError):
            continue  # not a line the grader sent: garbage, ignored
        code = code if len(code) <= 60 else code[:59] + "…"
        if record.get("skipped"):
            notes.append(text("sandbox.constant.skipped", where=where, code=code, seconds=protocol.CONSTANTS_SECONDS))
            break  # the ones after it were not run either: one sentence says so
        if record.get("timeout") is not None:
            notes.append(text("sandbox.constant.timeout", where=where, code=code, seconds=protocol.CONSTANT_SECONDS))
        else:
            notes.append(text("sandbox.constant.raised", where=where, code=code, error=_s(record.get("error"), 120)))
    return notes


def _s(value: Any, n: int = 2000) -> str:
    value = "" if value is None else str(value)
    return value[:n]


def _failure(record: Any) -> GraderFailure:
    """Rebuild the worker's failure as the same GraderFailure subclass (strings only, capped)."""
    if not isinstance(record, dict):
        return StudentCodeError(text("sandbox.died", name="your code", reason=text("sandbox.reason.protocol")))
    cls = _FAILURES.get(str(record.get("class")), StudentCodeError)
    ev = record.get("evidence")
    evidence = None
    if isinstance(ev, dict):
        details = ev.get("details") if isinstance(ev.get("details"), list) else []
        evidence = Evidence(expected=_s(ev.get("expected")), got=_s(ev.get("got")),
                            details=[_s(d, 500) for d in details[:10]])
    hint = record.get("hint")
    why = record.get("misconception")
    extra: dict[str, Any] = {}
    if issubclass(cls, StudentCodeError) and isinstance(record.get("error_types"), list):
        extra["error_types"] = tuple(_s(t, 100) for t in record["error_types"][:20])
    return cls(_s(record.get("message")) or text("sandbox.reason.unknown"), evidence=evidence,
               hint=_s(hint) if hint else None, misconception=_s(why) if why else None, **extra)


# --- the student object -----------------------------------------------------------------------
class SandboxStudent:
    """What graders talk to in hardened grading: :class:`autograder.interface.Student`, as LocalStudent."""

    def __init__(self, worker: SubmissionWorker, *, time_limit: float = DEFAULT_TIME_LIMIT_S,
                 forbidden: tuple[str, ...] = ()) -> None:
        self.worker = worker
        self.time_limit = time_limit
        self.forbidden = tuple(forbidden)

    def for_item(self, forbidden: tuple[str, ...]) -> SandboxStudent:
        return SandboxStudent(self.worker, time_limit=self.time_limit, forbidden=forbidden)

    def take_timed_out(self) -> bool:
        """Whether the student's code ran past a time limit since the last call (as LocalStudent's)."""
        return self.worker.take_timeouts() > 0

    def _deadline(self, calls: int = 1) -> float:
        return calls * self.time_limit + self.worker.limits.grace_seconds

    def _lookup(self, name: str, trusted: dict[str, str]) -> tuple[int, int]:
        reply, _ = self.worker.request(
            {"op": "function", "name": name, "trusted": trusted, "forbidden": list(self.forbidden),
             "time_limit": self.time_limit}, timeout=self._deadline(), label=name, seconds=self.time_limit)
        return self.worker.generation, int(reply["ref"])

    def function(self, name: str, *, trusted: Mapping[str, Any] | None = None) -> RemoteFunction:
        names = trusted_names(trusted)
        return RemoteFunction(self, name, names, self._lookup(name, names))

    def trusted_object(self, factory: Any, *args: Any, **kwargs: Any) -> RemoteTrustedObject:
        """An object made in the worker from a recipe (see ``LocalStudent.trusted_object``)."""
        qualified = trusted_names({"factory": factory})["factory"]
        label = qualified.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        return RemoteTrustedObject(self, label, self._make("trusted", label, args, kwargs, factory=qualified))

    def cuda_available(self) -> bool:
        """Whether the student's code can use a GPU, decided on the trusted side only: the GPUs the
        zygote counted before any student code ran (a sandbox may have none), and this process's
        own view. Nothing the worker says later counts (student code may patch its torch)."""
        if self.worker.zygote.cuda_devices <= 0:
            return False
        from ..student import machine_cuda_devices

        return machine_cuda_devices() > 0

    def build(self, name: str, *args: Any, trusted: Mapping[str, Any] | None = None, **kwargs: Any) -> RemoteModuleHandle:
        return RemoteModuleHandle(self, name, self._make("build", name, args, kwargs, trusted=trusted_names(trusted)))

    def _make(self, op: str, name: str, args: Sequence[Any], kwargs: Mapping[str, Any],
              **extra: Any) -> tuple[int, int]:
        """Ask the worker to make an object (``build``: the student's class; ``trusted``: a recipe)."""
        enc = protocol.Encoder(strict=True)
        a, k = enc.encode(tuple(args)), enc.encode(dict(kwargs))
        reply, _ = self.worker.request(
            {"op": op, "name": name, "args": a, "kwargs": k, **extra,
             "forbidden": list(self.forbidden), "time_limit": self.time_limit},
            enc.buffers, timeout=self._deadline(), label=name, seconds=self.time_limit)
        return self.worker.generation, int(reply["ref"])

    # -- one call -------------------------------------------------------------------------------
    def _invoke(self, ref: tuple[int, int], method: str, args: Sequence[Any], kwargs: Mapping[str, Any], *,
                label: str, calls: int = 2) -> Any:
        enc = protocol.Encoder(strict=True)
        a, k = enc.encode(tuple(args)), enc.encode(dict(kwargs))
        reply, bufs = self.worker.request(
            {"op": "invoke", "ref": ref[1], "method": method, "args": a, "kwargs": k},
            enc.buffers, timeout=self._deadline(calls), label=label, seconds=self.time_limit)
        try:
            value = protocol.decode(reply.get("value"), bufs)
            for where, new in reply.get("mutated", []):
                _write_back(args, kwargs, where, protocol.decode(new, bufs))
        except protocol.ProtocolError:
            raise self.worker.garbled(label) from None
        return value


def _write_back(args: Sequence[Any], kwargs: Mapping[str, Any], where: Any, new: Any) -> None:
    """The student changed an input in place: change the grader's copy the same way (as locally)."""
    import numpy as np

    if not (isinstance(where, list) and len(where) == 2):
        return
    kind, key = where
    try:
        target = args[key] if kind == "a" else kwargs[key]
    except (IndexError, KeyError, TypeError):
        return
    if isinstance(target, np.ndarray) and isinstance(new, np.ndarray):
        if target.shape == new.shape and target.flags.writeable:
            np.copyto(target, new.astype(target.dtype, copy=False), casting="unsafe")
        return
    torch = __import__("sys").modules.get("torch")
    if torch is not None and isinstance(target, torch.Tensor) and isinstance(new, torch.Tensor):
        if target.shape == new.shape:
            with torch.no_grad():
                target.copy_(new.to(target.dtype))


class RemoteFunction:
    """A student's function in the worker; every call is guarded there, compared here."""

    def __init__(self, owner: SandboxStudent, name: str, trusted: dict[str, str], ref: tuple[int, int]) -> None:
        self.name = name
        self._owner = owner
        self._trusted = trusted
        self._ref = ref

    def _current(self) -> tuple[int, int]:
        if self._ref[0] != self._owner.worker.generation or self._owner.worker.child is None:
            # The worker was replaced after a crash: look the function up again in the new one.
            self._ref = self._owner._lookup(self.name, self._trusted)
        return self._ref

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner._invoke(self._current(), "__call__", args, kwargs, label=self.name, calls=1)

    def grad(self, *args: Any, grad_outputs: Sequence[Any], **kwargs: Any) -> tuple[Any, list[Any]]:
        """Call, then backpropagate Σ_i ⟨out_i, grad_outputs_i⟩ (see LocalStudent's ``grad``)."""
        return self._owner._invoke(self._current(), "grad", args, {**kwargs, "grad_outputs": list(grad_outputs)},
                                   label=self.name)


class RemoteTrustedObject(protocol.Reference):
    """A trusted object living in the worker (see ``autograder.student.TrustedObject``).

    As an argument of a student's function it travels as a reference, which only the worker
    resolves; :meth:`read` runs a reader of a public oracle module on it there and returns data.
    """

    def __init__(self, owner: SandboxStudent, label: str, ref: tuple[int, int]) -> None:
        self.label = label
        self._owner = owner
        self._ref = ref

    def wire_id(self) -> int:
        """Its number in the worker; a worker started since then no longer has it."""
        if self._ref[0] != self._owner.worker.generation or self._owner.worker.child is None:
            raise StudentCodeError(text("sandbox.object_lost", name=self.label))
        return self._ref[1]

    def read(self, reader: Any, *args: Any, **kwargs: Any) -> Any:
        qualified = trusted_names({"reader": reader})["reader"]
        enc = protocol.Encoder(strict=True)
        ref = self.wire_id()
        a, k = enc.encode(tuple(args)), enc.encode(dict(kwargs))
        owner = self._owner
        reply, bufs = owner.worker.request(
            {"op": "read", "ref": ref, "reader": qualified, "args": a, "kwargs": k},
            enc.buffers, timeout=owner._deadline(), label=self.label, seconds=owner.time_limit)
        try:
            return protocol.decode(reply.get("value"), bufs)
        except protocol.ProtocolError:
            raise owner.worker.garbled(self.label) from None


class RemoteModuleHandle:
    """A student's ``nn.Module`` living in the worker (see ``autograder.student.ModuleHandle``)."""

    def __init__(self, owner: SandboxStudent, name: str, ref: tuple[int, int]) -> None:
        self.name = name
        self._owner = owner
        self._ref = ref

    def _run(self, method: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
             label: str | None = None) -> Any:
        label = label or f"{self.name}.{method}"
        if self._ref[0] != self._owner.worker.generation or self._owner.worker.child is None:
            raise StudentCodeError(text("sandbox.worker_lost", name=label))
        return self._owner._invoke(self._ref, method, args, kwargs or {}, label=label)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("__call__", args, kwargs, label=f"{self.name}.forward")

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._run("call", (method, *args), kwargs, label=f"{self.name}.{method}")

    def grad(self, *args: Any, grad_outputs: Sequence[Any], method: str = "forward",
             **kwargs: Any) -> tuple[Any, list[Any], dict[str, Any]]:
        return self._run("grad", args, {**kwargs, "grad_outputs": list(grad_outputs), "method": method},
                         label=f"{self.name}.{method}")

    def state_dict(self) -> dict[str, Any]:
        return self._run("state_dict")

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        self._run("load_state_dict", (dict(state),), {"strict": strict})

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return self._run("parameter_shapes")

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        return self._run("buffer_shapes")

    def submodule_types(self) -> dict[str, str]:
        return self._run("submodule_types")

    def train(self, mode: bool = True) -> None:
        self._run("train", (mode,))

    def eval(self) -> None:
        self._run("eval")

    def to(self, *args: Any, **kwargs: Any) -> None:
        self._run("to", args, kwargs)


__all__ = ["SandboxStudent", "SubmissionWorker", "RemoteFunction", "RemoteModuleHandle", "RemoteTrustedObject",
           "trusted_names"]
