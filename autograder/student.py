"""The ``student`` object that graders talk to.

Graders never touch the student's namespace directly: they ask the student object for a
function and call it. :class:`LocalStudent` runs the student's code in this process (a check
cell in the kernel, ``nbgrader autograde``, the project's tests); a sandboxed proxy with the
same interface can run it in another process without changing a grader.

Every call is guarded: the student's prints and warnings are captured (a check cell must not
write to stderr), a time limit stops infinite loops, exceptions become a one-line failure that
points at the student's own line, and calls to built-ins the item forbids are detected.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import linecache
import re
import signal
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .catalogue import phrase, text
from .failures import (
    Evidence,
    ForbiddenCall,
    GraderFailure,
    MissingDefinition,
    NotImplementedYet,
    StudentCodeError,
    StudentTimeout,
)
from .graders import replay as _replay  # marks student code as running: recorded values refuse it

DEFAULT_TIME_LIMIT_S = 10.0

# Every top-level function and class the release notebooks define: the stubs and the helpers they
# provide (``show_attention``). None of them is a student's renamed definition, so none is proposed as
# one. tests/test_feedback.py keeps this equal to what assignments/ defines.
RELEASE_DEFINITIONS = frozenset({
    "Decoder", "DecoderLayer", "Encoder", "EncoderLayer", "FeedForward", "LayerNorm", "MultiHeadAttention",
    "PositionalEncoding", "Transformer", "attend", "batches", "bleu", "causal_mask", "cross_attention",
    "dot_product_attention", "fit", "greedy_decode", "influence", "init_weights", "label_smoothed_loss",
    "make_batch", "merge_heads", "noam_lr", "padding_mask", "pick_device", "project_qkv",
    "qkv_parameter_count", "save_checkpoint", "scaled_dot_product_attention", "self_attention",
    "show_attention", "show_mask", "sinusoidal_positional_encoding", "softmax", "split_heads", "train_step",
    "translate",
    # stage 08 (GPT) and stage 09 (BERT)
    "BERT", "BertEmbeddings", "CausalSelfAttention", "GPT", "GPTBlock", "MLMHead", "MLP", "SentenceClassifier",
    "accuracy", "cls_attention", "encode_batch", "finetune", "gradient_norms", "lm_loss", "mask_tokens",
    "mlm_loss", "new_bert", "ngram_perplexities", "perplexity", "pretrain", "sample", "save_classifier",
    "save_lm", "token_batch", "top5", "train_lm",
})


def stale_definition(name: str, obj: Any, namespace: Mapping[str, Any]) -> bool:
    """Whether the ``name`` about to be graded is not the definition on screen (in a kernel).

    IPython keeps every executed cell's text in ``_ih``, also a cell that failed (a SyntaxError:
    nothing in it ran), and keeps each cell's text in ``linecache`` under the file name its code
    objects carry. The graded object came from the cell whose text its code's file holds; when the
    latest cell that defines ``name`` at top level is another text, that later cell did not bind it.
    Said only when the object's own cell is one of the history's (otherwise nothing is known:
    hardened grading, an imported or carried-forward definition).
    """
    history = namespace.get("_ih")
    if not isinstance(history, list) or not isinstance(name, str):
        return False
    pattern = re.compile(rf"^(?:async[ \t]+)?(?:def|class)[ \t]+{re.escape(name)}\b", re.MULTILINE)
    cells = [_normalised(c) for c in history if isinstance(c, str)]
    defining = [c for c in cells if pattern.search(c)]
    own = _cell_text(obj)
    return bool(defining) and own is not None and own in cells and defining[-1] != own


def _normalised(cell: str) -> str:
    return "\n".join(line.rstrip() for line in cell.strip("\n").splitlines())


def _cell_text(obj: Any) -> str | None:
    """The whole text of the cell (or file) a function's or class's code was compiled from."""
    members = [obj, *(vars(obj).values() if isinstance(obj, type) else ())]
    for candidate in members:
        candidate = getattr(candidate, "__func__", candidate)
        seen = 0
        while hasattr(candidate, "__wrapped__") and seen < 100:
            candidate, seen = candidate.__wrapped__, seen + 1
        code = getattr(candidate, "__code__", None)
        if code is not None:
            lines = linecache.getlines(code.co_filename)
            return _normalised("".join(lines)) if lines else None
    return None


def renamed_candidate(name: str, namespace: Mapping[str, Any]) -> str | None:
    """The student's own definition that looks most like ``name`` renamed, or None.

    The one rule for the kernel and for hardened grading (the worker runs this very function on the
    notebook's definitions): only functions and classes defined in the notebook itself count (not an
    import, not a variable), and never one the release defines, a helper like ``show_attention`` or
    another stub, which would be a wrong lead for a renamed ``self_attention``.
    """
    own = namespace.get("__name__")
    candidates = sorted(
        k for k, v in list(namespace.items())
        if isinstance(k, str) and not k.startswith("_") and k not in RELEASE_DEFINITIONS
        and isinstance(v, (type, types.FunctionType)) and getattr(v, "__module__", None) == own
    )
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return close[0] if close else None

_ENGINE_DIR = __file__.rsplit("/", 1)[0]


class _Alarm(BaseException):
    """Raised inside student code when its time is up (BaseException: a bare except won't eat it)."""


def machine_cuda_devices() -> int:
    """GPUs this process's torch can use (0 without torch or CUDA); the grader's own view."""
    torch = sys.modules.get("torch")
    try:
        return int(torch.cuda.device_count()) if torch is not None and torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken CUDA installation: no GPU
        return 0


class LocalStudent:
    """The student's definitions, living in ``namespace`` (a notebook's globals, or an exec'd dict).

    Implements :class:`autograder.interface.Student` (its handles: ``StudentFunction``,
    ``StudentModule``, ``TrustedHandle``), as the sandbox's proxy does."""

    def __init__(
        self,
        namespace: Mapping[str, Any],
        *,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        last_error: BaseException | None = None,
        forbidden: tuple[str, ...] = (),
        source: str | None = None,
        static_policy: bool = True,
    ) -> None:
        self.namespace = namespace
        # False in the sandbox worker: there the trusted process has judged the source already
        # (policy.PolicyChecked), and a verdict reached where student code runs proves nothing.
        self.static_policy = static_policy
        self.time_limit = time_limit
        self.last_error = last_error  # the last exception a notebook cell raised, if any
        self.forbidden = forbidden
        # The definitions' source for the static policy (autograder/policy.py); None: read from the
        # live namespace at each lookup (a kernel's cells), since a cell may be re-run between checks.
        self.source = source
        # Engine notes about what was graded (a definition that is not the one on screen); shared by
        # the per-item copies, collected by the runner after each grader (``take_notes``).
        self._notes: list[str] = []
        # Time-outs since the runner last asked (``take_timed_out``): a grader that catches the failure
        # (probing a second call inside ``except Exception``) cannot hide that the item's time ran out.
        self._timeouts: list[str] = []

    def for_item(self, forbidden: tuple[str, ...]) -> LocalStudent:
        copy = LocalStudent(
            self.namespace, time_limit=self.time_limit, last_error=self.last_error, forbidden=forbidden,
            source=self.source, static_policy=self.static_policy,
        )
        copy._notes, copy._timeouts = self._notes, self._timeouts
        return copy

    def take_timed_out(self) -> bool:
        """Whether the student's code ran past its time limit since the last call."""
        timed_out = bool(self._timeouts)
        self._timeouts.clear()
        return timed_out

    def take_notes(self) -> list[str]:
        """The notes gathered since the last call (each once), for the item being graded."""
        notes, self._notes[:] = list(dict.fromkeys(self._notes)), []
        return notes

    def _note_if_stale(self, name: str, obj: Any) -> None:
        if stale_definition(name, obj, self.namespace):
            self._notes.append(text("report.stale_definition", name=name))

    def _static_policy(self, name: str, trusted: Mapping[str, Any] | None) -> None:
        """The static policy on the source reachable from ``name``, before any of its code runs."""
        from . import policy

        if not self.static_policy:
            return
        source = self.source if self.source is not None else policy.source_of_namespace(self.namespace)
        policy.enforce(source, name, self.forbidden, frozenset(trusted or ()))

    # -- lookup -------------------------------------------------------------------------------
    def function(self, name: str, *, trusted: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The student's function ``name``, wrapped so that every call is guarded.

        ``trusted`` replaces names in the function's globals during each call: a later stage
        runs the student's new code on top of trusted building blocks, so a bug in an earlier
        stage never costs points twice.
        """
        obj = self.namespace.get(name)
        if obj is None:
            raise self._missing(name)
        if not callable(obj):
            raise MissingDefinition(text("fail.not_callable", name=name, kind=type(obj).__name__))
        self._note_if_stale(name, obj)
        # The static policy first, as hardened grading does (the same sentence, the whole item lost);
        # the runtime refusal catches what source cannot show (a definition inspect cannot read).
        self._static_policy(name, trusted)
        _refuse_the_graders_own(name, obj)
        return _Guarded(name, obj, self, trusted or {})

    def build(self, name: str, *args: Any, trusted: Mapping[str, Any] | None = None, **kwargs: Any) -> ModuleHandle:
        """An instance of the student's class ``name`` (an ``nn.Module``), behind a handle."""
        cls = self.namespace.get(name)
        if cls is None:
            raise self._missing(name)
        if not isinstance(cls, type):
            raise MissingDefinition(text("fail.not_callable", name=name, kind=type(cls).__name__))
        self._note_if_stale(name, cls)
        self._static_policy(name, trusted)
        _refuse_the_graders_own(name, cls)
        module = _guarded(name, self, trusted or {}, cls, cls, *args, **kwargs)
        return ModuleHandle(name, module, self, trusted or {})

    def trusted_object(self, factory: Callable[..., Any], *args: Any, **kwargs: Any) -> TrustedObject:
        """An object for the student's code to work on, made by ``factory`` (a public oracle's) from data.

        The grader describes the object by recipe (a function of a public oracle module and its
        arguments: tensors, plain data, other trusted objects) instead of building it, so that a
        sandboxed worker can make the same object on its side. The handle goes into the student's
        function as an argument, which receives the object itself; afterwards the grader reads it
        back with ``handle.read(reader)``, as data.
        """
        label = getattr(factory, "__name__", "trusted object")
        args, kwargs = _materialised(args), _materialised(kwargs)
        return TrustedObject(label, factory(*args, **kwargs), self)

    def cuda_available(self) -> bool:
        """Whether the student's code can use a GPU (here: this process's torch; in a kernel the
        student shares it, which is why hardened grading asks the trusted side instead)."""
        return machine_cuda_devices() > 0

    def _missing(self, name: str) -> MissingDefinition:
        candidate = renamed_candidate(name, self.namespace)
        if candidate:
            return MissingDefinition(text("fail.missing_renamed", name=name, candidate=candidate))
        if self.last_error is not None:
            return MissingDefinition(
                text("fail.missing_after_error", name=name, error=_one_line(self.last_error))
            )
        return MissingDefinition(text("fail.missing", name=name))


class TrustedObject:
    """An object the grader described by recipe (a model, an optimizer, a file path), made for the student.

    The grader never touches the object itself: it hands the handle to the student's function (the
    function receives the object) and reads it back with :meth:`read`, whose reader (a public oracle
    function: the state dict, the recorded calls, a file's bytes) returns data. A sandboxed proxy
    implements the same two steps with the object living in the worker.
    """

    def __init__(self, label: str, obj: Any, owner: LocalStudent) -> None:
        self.label = label
        self._obj = obj
        self._owner = owner

    def read(self, reader: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``reader(obj, *args, **kwargs)``: guarded, because the student's code has had the object."""
        return _guarded(self.label, self._owner, {}, None, reader, self._obj, *args, **kwargs)


def _materialised(value: Any) -> Any:
    """``value`` with every TrustedObject replaced by its object (inside tuples, lists and dicts too).

    A container holding none is returned as it is, not copied: a student's function that changes a
    list in place must change the grader's list, as it always did.
    """
    if isinstance(value, TrustedObject):
        return value._obj
    if type(value) in (tuple, list):
        items = [_materialised(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else type(value)(items)
    if type(value) is dict:
        items = {k: _materialised(v) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    return value


def _refuse_the_graders_own(name: str, obj: Any) -> None:
    """A name bound to the engine's own object (``from autograder.graders.blocks import ...``), or a
    class built on one, is not the student's work: the item scores zero, as the static policy's
    ``policy.course`` makes it in hardened grading, so one notebook gets one score on both paths."""
    for part in obj.__mro__ if isinstance(obj, type) else (obj,):
        module = getattr(part, "__module__", None) or ""
        if module == "autograder" or module.startswith("autograder."):
            origin = f"{module}.{getattr(part, '__qualname__', name)}"
            raise ForbiddenCall(text("fail.from_autograder", name=name, origin=origin))


class _Guarded:
    """A student's function; every call runs under the guard."""

    def __init__(self, name: str, fn: Callable[..., Any], owner: LocalStudent, trusted: Mapping[str, Any]):
        self.name = name
        self.fn = fn
        self.owner = owner
        self.trusted = trusted

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _guarded(self.name, self.owner, self.trusted, self.fn, self.fn, *args, **kwargs)

    def grad(self, *args: Any, grad_outputs: Sequence[Any], **kwargs: Any) -> tuple[Any, list[Any]]:
        """Call, then backpropagate Σ_i ⟨out_i, grad_outputs_i⟩.

        Returns the outputs (detached) and the gradient of every tensor argument that requires
        grad, in argument order (None where no gradient reached it). Graders use this rather
        than calling ``backward`` on outputs themselves, so that a sandboxed student, whose
        outputs arrive as plain data, answers the same question.
        """
        return _with_grad(lambda *a, **k: self(*a, **k), self.name, self.owner, args, kwargs, grad_outputs)


def _guarded(name: str, owner: LocalStudent, trusted: Mapping[str, Any], globals_of: Any,
             fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` with the student's output captured, a time limit and the forbidden-call spy."""
    spy = _ForbiddenSpy(owner.forbidden, *_trusted_code(trusted.values()), derivatives=name.endswith(".backward"))
    args, kwargs = _materialised(args), _materialised(kwargs)  # the grader's handles: the objects they hold
    out, err = io.StringIO(), io.StringIO()
    try:
        with (
            _replay.student_running(_own_definitions(globals_of, trusted)),
            _patched_globals(globals_of, trusted),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
            spy,  # before the time limit: its one-off setup is the engine's time, not the student's
            _time_limit(owner.time_limit),
        ):
            warnings.simplefilter("ignore")
            result = fn(*args, **kwargs)
    except _Alarm:
        owner._timeouts.append(name)
        raise StudentTimeout(text("fail.timeout", name=name, seconds=owner.time_limit)) from None
    except NotImplementedError:
        raise NotImplementedYet(text("fail.not_implemented", name=name)) from None
    except GraderFailure:
        raise
    except Exception as exc:  # the student's bug, reported as one line pointing at their code
        raise StudentCodeError(
            text("fail.raised", name=name, error=_one_line(exc)),
            evidence=Evidence(details=_student_frames(exc)),
            error_types=tuple(c.__name__ for c in type(exc).__mro__),
        ) from None
    if spy.seen:
        raise ForbiddenCall(text("fail.forbidden", name=name, forbidden=spy.seen[0]))
    if globals_of is not None:  # the student's code (not a grader's reader) returned the course's own code
        for part in result if type(result) in (tuple, list) else (result,):
            if callable(part) and (isinstance(part, type) or hasattr(part, "__code__")):
                _refuse_the_graders_own(name, part)
    return result


def _with_grad(call: Callable[..., Any], name: str, owner: LocalStudent, args: Sequence[Any],
               kwargs: Mapping[str, Any], grad_outputs: Sequence[Any]) -> tuple[Any, list[Any]]:
    import torch

    outputs = call(*args, **kwargs)
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    wanted = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    pairs = [(o, g) for o, g in zip(outs, grad_outputs)
             if g is not None and isinstance(o, torch.Tensor) and o.requires_grad]
    grads: list[Any] = [None] * len(wanted)
    if pairs and wanted:
        loss = sum((o * g).sum() for o, g in pairs)
        grads = list(_guarded(name, owner, {}, None, torch.autograd.grad, loss, wanted, allow_unused=True))
    by_id = {id(a): g for a, g in zip(wanted, grads)}
    detached = tuple(o.detach() if isinstance(o, torch.Tensor) else o for o in outs)
    return (detached if isinstance(outputs, tuple) else detached[0]), [by_id.get(id(a)) for a in args]


class ModuleHandle:
    """A student's ``nn.Module``, seen only through calls that a sandbox proxy can make too.

    Graders build modules with ``student.build(...)`` and use only these methods: tensors go in
    and come out as data; nothing else of the student's object reaches the grader.
    """

    def __init__(self, name: str, module: Any, owner: LocalStudent, trusted: Mapping[str, Any]):
        self.name = name
        self._module = module
        self._owner = owner
        self._trusted = trusted

    def _run(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return _guarded(label, self._owner, self._trusted, type(self._module), fn, *args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The forward pass."""
        return self._run(f"{self.name}.forward", self._module, *args, **kwargs)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Another method of the module (``encode``, ``split_heads``, ...)."""
        fn = getattr(self._module, method, None)
        if not callable(fn):
            raise MissingDefinition(text("fail.missing", name=f"{self.name}.{method}"))
        return self._run(f"{self.name}.{method}", fn, *args, **kwargs)

    def grad(self, *args: Any, grad_outputs: Sequence[Any], method: str = "forward",
             **kwargs: Any) -> tuple[Any, list[Any], dict[str, Any]]:
        """Forward (or ``method``), then backpropagate Σ⟨out_i, grad_outputs_i⟩.

        Returns (outputs, gradients of the tensor arguments, gradients of the parameters by
        name; None where no gradient arrived).
        """
        import torch

        params = dict(self._module.named_parameters())
        for p in params.values():
            p.grad = None
        fn = self._module if method == "forward" else getattr(self._module, method)
        call = lambda *a, **k: self._run(f"{self.name}.{method}", fn, *a, **k)  # noqa: E731
        outputs = call(*args, **kwargs)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outs, grad_outputs)
                 if g is not None and isinstance(o, torch.Tensor) and o.requires_grad]
        wanted = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
        leaves = wanted + list(params.values())
        grads: list[Any] = [None] * len(leaves)
        if pairs and leaves:
            loss = sum((o * g).sum() for o, g in pairs)
            grads = list(self._run(f"{self.name}.backward", torch.autograd.grad, loss, leaves, allow_unused=True))
        arg_grads = {id(a): g for a, g in zip(wanted, grads[: len(wanted)])}
        param_grads = dict(zip(params, grads[len(wanted):]))
        detached = tuple(o.detach() if isinstance(o, torch.Tensor) else o for o in outs)
        return ((detached if isinstance(outputs, tuple) else detached[0]),
                [arg_grads.get(id(a)) for a in args], param_grads)

    def state_dict(self) -> dict[str, Any]:
        return {k: v.detach().clone() for k, v in self._run(f"{self.name}.state_dict", self._module.state_dict).items()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        self._run(f"{self.name}.load_state_dict", self._module.load_state_dict, dict(state), strict=strict)

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in self._module.named_parameters()}

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in self._module.named_buffers()}

    def submodule_types(self) -> dict[str, str]:
        """Every submodule's qualified class name, e.g. {'w_q': 'torch.nn.modules.linear.Linear'}."""
        return {k: f"{type(m).__module__}.{type(m).__qualname__}" for k, m in self._module.named_modules() if k}

    def train(self, mode: bool = True) -> None:
        self._module.train(mode)

    def eval(self) -> None:
        self._module.train(False)

    def to(self, *args: Any, **kwargs: Any) -> None:
        self._run(f"{self.name}.to", self._module.to, *args, **kwargs)


def _globals_of(obj: Any) -> dict[str, Any] | None:
    """The namespace a student's function or class was defined in.

    Decorators are looked through (``@torch.no_grad()`` wraps a function in one of torch's, whose
    globals are torch's): ``functools.wraps`` leaves the student's function in ``__wrapped__``.
    """
    for candidate in [obj, *(vars(obj).values() if isinstance(obj, type) else ())]:
        candidate = getattr(candidate, "__func__", candidate)  # classmethod, staticmethod
        seen = 0
        while hasattr(candidate, "__wrapped__") and seen < 100:
            candidate, seen = candidate.__wrapped__, seen + 1
        if hasattr(candidate, "__globals__"):
            return candidate.__globals__
    return None


def _own_definitions(obj: Any, trusted: Mapping[str, Any]) -> dict[str, Any]:
    """The student's own definitions of the names trusted blocks replace during a call: a block
    that ships as recorded data (the student export) falls back to them on an unrecorded input."""
    glb = _globals_of(obj) if trusted and obj is not None else None
    return {k: glb[k] for k in trusted if k in glb} if glb else {}


@contextlib.contextmanager
def _patched_globals(obj: Any, trusted: Mapping[str, Any]) -> Iterator[None]:
    if not trusted or obj is None:
        yield
        return
    glb = _globals_of(obj)
    if glb is None:
        yield
        return
    missing = object()
    # Never rebind the name being graded, nor the name of a class the graded object is an instance
    # of: ``super(FeedForward, self).__init__()`` looks the class up by that global name while it is
    # built, and a trusted FeedForward there makes ``self`` not an instance of it (issue 11, item 10).
    own = list(obj.__mro__) if isinstance(obj, type) else [obj]
    trusted = {k: v for k, v in trusted.items() if not any(glb.get(k, missing) is o for o in own)}
    saved = {k: glb.get(k, missing) for k in trusted}
    glb.update(trusted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is missing:
                glb.pop(k, None)
            else:
                glb[k] = v


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM-based limit: works in a kernel's main thread on POSIX; elsewhere no limit."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):  # noqa: ARG001
        raise _Alarm()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _trusted_code(trusted: Any) -> tuple[frozenset[Any], frozenset[type]]:
    """The code objects of trusted building blocks (their functions, the methods of their classes and
    of those classes' bases from the same module: never torch's, which student code runs through
    too), and those classes."""
    codes, classes = set(), set()
    for obj in trusted:
        if isinstance(obj, type):
            for klass in obj.__mro__:
                if klass.__module__ != obj.__module__:
                    continue
                classes.add(klass)
                for attr in vars(klass).values():
                    fn = getattr(attr, "__func__", attr)
                    if hasattr(fn, "__code__"):
                        codes.add(fn.__code__)
        elif hasattr(obj, "__code__"):
            codes.add(obj.__code__)
    return frozenset(codes), frozenset(classes)


class _ForbiddenSpy:
    """Notices calls to forbidden torch functions, however they are reached.

    A TorchFunctionMode sees ``F.scaled_dot_product_attention`` and its aliases; a
    TorchDispatchMode sees the aten kernels behind them (``torch.ops.aten...``).
    """

    def __init__(self, forbidden: tuple[str, ...], trusted_code: frozenset[Any] = frozenset(),
                 trusted_classes: frozenset[type] = frozenset(), *, derivatives: bool = False) -> None:
        self.patterns = {q.rsplit(".", 1)[-1]: q for q in forbidden}
        # Backpropagating through a forward pass runs the derivative kernels of its ops
        # (aten.native_layer_norm_backward for a trusted LayerNorm) with no Python frame on the stack;
        # the forward ops were judged when they ran, so in a backward pass those kernels are not calls.
        self.derivatives = derivatives
        self.trusted_code = trusted_code
        self.trusted_classes = trusted_classes
        self.seen: list[str] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _ForbiddenSpy:
        if self.patterns and "torch" in sys.modules:
            # The first torch call under these modes imports torch._dynamo (2 s, far more on a loaded
            # machine): done here, outside the student's time limit, since an alarm in the middle of
            # that import leaves torch half-initialised for every later check of the process.
            import torch._dynamo  # noqa: F401
            from torch.overrides import TorchFunctionMode
            from torch.utils._python_dispatch import TorchDispatchMode

            spy = self

            class FunctionSpy(TorchFunctionMode):
                def __torch_function__(self, func, types, args=(), kwargs=None):
                    spy._note(getattr(func, "__name__", ""))
                    return func(*args, **(kwargs or {}))

            class DispatchSpy(TorchDispatchMode):
                def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                    spy._note(str(getattr(func, "__name__", func)))
                    return func(*args, **(kwargs or {}))

            self._stack.enter_context(FunctionSpy())
            self._stack.enter_context(DispatchSpy())
        return self

    def _note(self, op_name: str) -> None:
        if self.derivatives and "_backward" in op_name:
            return
        for pattern, qualified in self.patterns.items():
            if pattern in op_name and qualified not in self.seen and not self._inside_trusted_code():
                self.seen.append(qualified)

    def _inside_trusted_code(self) -> bool:
        """Whether a trusted building block is on the call stack: it may use what the item forbids.

        A method counts only when it runs on an instance of a trusted class, so that a student's
        class cannot borrow a block's ``forward`` (``blocks.EncoderLayer.forward(self, x)``).
        """
        frame = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if code in self.trusted_code:
                is_method = code.co_argcount > 0 and code.co_varnames[0] == "self"
                if not is_method or type(frame.f_locals.get("self")) in self.trusted_classes:
                    return True
            frame = frame.f_back
        return False

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0]}" if msg else type(exc).__name__


def _student_frames(exc: BaseException, limit: int = 2) -> list[str]:
    """Where in the student's code it broke: their frames only, never the engine's or a library's."""
    frames = []
    for fs in traceback.extract_tb(exc.__traceback__):
        fname = fs.filename or ""
        if fname.startswith(_ENGINE_DIR) or "site-packages" in fname or "/lib/python" in fname:
            continue
        line = (fs.line or linecache.getline(fname, fs.lineno or 0)).strip()
        frames.append(phrase("in `{name}`, line {line}: {code}", name=fs.name, line=fs.lineno, code=line) if line
                      else phrase("in `{name}`, line {line}", name=fs.name, line=fs.lineno))
    return frames[-limit:]
