"""Both sides of the student interface implement what ``autograder/interface.py`` declares.

A grader is written once and runs against the kernel's objects (``autograder.student``) and against
hardened grading's proxies (``autograder.sandbox.proxy``); the worker invokes on references exactly
the declared methods. A method added on one side only, or with another signature, fails here.
"""

from __future__ import annotations

import inspect

import pytest

from autograder import interface, student
from autograder.sandbox import proxy, worker

SIDES = [
    (interface.Student, [student.LocalStudent, proxy.SandboxStudent]),
    (interface.StudentFunction, [student._Guarded, proxy.RemoteFunction]),
    (interface.StudentModule, [student.ModuleHandle, proxy.RemoteModuleHandle]),
    (interface.TrustedHandle, [student.TrustedObject, proxy.RemoteTrustedObject]),
]


def _parameters(fn) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in list(inspect.signature(fn).parameters.values())[1:]]


@pytest.mark.parametrize(("protocol", "classes"), SIDES, ids=[p.__name__ for p, _ in SIDES])
def test_each_side_implements_the_declared_methods(protocol, classes) -> None:
    wrong = []
    for cls in classes:
        for name in interface.methods(protocol):
            method = getattr(cls, name, None)
            if method is None:
                wrong.append(f"{cls.__qualname__} has no {name}")
            elif _parameters(method) != _parameters(getattr(protocol, name)):
                wrong.append(f"{cls.__qualname__}.{name}{inspect.signature(method)} is not "
                             f"{protocol.__name__}.{name}{inspect.signature(getattr(protocol, name))}")
    assert wrong == [], "\n".join(wrong)


def test_the_check_sees_a_signature_that_drifts() -> None:
    class Drifted:
        def grad(self, *args, grad_outputs, method="backward", **kwargs): ...

    assert _parameters(Drifted.grad) != _parameters(interface.StudentModule.grad)


def test_the_worker_invokes_the_declared_methods_only() -> None:
    """A reference's other attributes (``_module``, ``__init__``) cannot be called through ``invoke``."""
    session = worker.Session.__new__(worker.Session)  # no socket needed: invoke reads only the references
    session.refs = {1: ("module", object()), 2: ("function", print)}
    for ref, method in ((1, "__init__"), (1, "_run"), (2, "state_dict")):
        reply, _ = session.invoke({"ref": ref, "method": method}, [])
        assert reply["failure"]["message"] == f"{method} cannot be called", reply
    assert interface.INVOKABLE["module"] == interface.methods(interface.StudentModule)
