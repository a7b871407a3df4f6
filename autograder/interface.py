"""The student interface: everything a grader may do with a student's code, declared once.

Graders receive a ``student`` and talk to the student's definitions only through these methods. Two
classes implement each protocol, one per place the student's code runs:

- in the kernel (and in the worker, on the far side of the sandbox): ``student.LocalStudent``,
  its function wrapper ``student._Guarded``, ``student.ModuleHandle``, ``student.TrustedObject``;
- in hardened grading's trusted process: ``sandbox.proxy.SandboxStudent``, ``RemoteFunction``,
  ``RemoteModuleHandle``, ``RemoteTrustedObject``, which forward each call to the worker.

The worker lets the grader invoke, on a reference it handed out, exactly the methods declared here
(:data:`INVOKABLE`); ``tests/test_student_interface.py`` checks that both sides implement every
method with the signature declared here, so a grader written against one works against the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol


class StudentFunction(Protocol):
    """A student's function: every call is guarded (time limit, captured output, policy)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call it; the result comes back as data."""

    def grad(self, *args: Any, grad_outputs: Sequence[Any], **kwargs: Any) -> tuple[Any, list[Any]]:
        """Call, then backpropagate Σ_i ⟨out_i, grad_outputs_i⟩: (outputs, gradient of each tensor argument)."""


class StudentModule(Protocol):
    """An instance of a student's ``nn.Module`` class, seen only through these calls."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The forward pass."""

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Another method of the module (``encode``, ``split_heads``, ...)."""

    def grad(self, *args: Any, grad_outputs: Sequence[Any], method: str = "forward",
             **kwargs: Any) -> tuple[Any, list[Any], dict[str, Any]]:
        """(outputs, gradients of the tensor arguments, gradients of the parameters by name)."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None: ...

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]: ...

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]: ...

    def submodule_types(self) -> dict[str, str]:
        """Every submodule's qualified class name, e.g. {'w_q': 'torch.nn.modules.linear.Linear'}."""

    def train(self, mode: bool = True) -> None: ...

    def eval(self) -> None: ...

    def to(self, *args: Any, **kwargs: Any) -> None: ...


class TrustedHandle(Protocol):
    """An object the grader described by recipe and handed to the student's code (a model, an optimizer)."""

    def read(self, reader: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``reader(obj, *args, **kwargs)`` where the object lives; the result comes back as data."""


class Student(Protocol):
    """What a grader receives as ``student``."""

    def for_item(self, forbidden: tuple[str, ...]) -> Student:
        """The same student, graded for an item that forbids ``forbidden`` built-ins."""

    def take_timed_out(self) -> bool:
        """Whether the student's code ran past its time limit since the last call."""

    def function(self, name: str, *, trusted: Mapping[str, Any] | None = None) -> StudentFunction:
        """The student's function ``name``; ``trusted`` replaces names in its globals (earlier stages)."""

    def build(self, name: str, *args: Any, trusted: Mapping[str, Any] | None = None, **kwargs: Any) -> StudentModule:
        """An instance of the student's class ``name``, behind a handle."""

    def trusted_object(self, factory: Callable[..., Any], *args: Any, **kwargs: Any) -> TrustedHandle:
        """An object for the student's code to work on, made by a public oracle's ``factory`` from data."""

    def cuda_available(self) -> bool:
        """Whether the student's code can use a GPU (decided on the trusted side)."""


def methods(protocol: type) -> tuple[str, ...]:
    """The methods a protocol declares, in declaration order (``__call__`` included)."""
    return tuple(name for name, value in vars(protocol).items()
                 if callable(value) and (not name.startswith("_") or name == "__call__"))


# What the worker lets the grader invoke on each kind of reference it handed out: the methods above.
INVOKABLE = {"function": methods(StudentFunction), "module": methods(StudentModule)}
