"""Checks on the student's modules (stages 04-06) that explain themselves.

Graders see a student's module only through its handle (``student.build``): its parameter and
buffer shapes, submodule types, state dict, calls and gradients. These helpers turn what comes
back into failures with catalogue sentences, like ``autograder.expect`` does for arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

import torch

from autograder.catalogue import phrase, text
from autograder.expect import evaluate_all, fail
from autograder.failures import Evidence, ForbiddenCall, StudentCodeError

TORCH = {"kind": "torch"}

# PyTorch modules whose use would skip the item's work; using one scores zero, like a forbidden call.
BUILTIN_MODULES = {
    "torch.nn.modules.activation.MultiheadAttention": "torch.nn.MultiheadAttention",
    "torch.nn.modules.normalization.LayerNorm": "torch.nn.LayerNorm",
}


def expect_number(got: Any, expected: int, what: str, *, hint: str | None = None,
                  diagnoses: Mapping[str, Callable[[], int]] | None = None) -> None:
    """``got`` must be a real number equal to the integer ``expected``."""
    evaluate_all(diagnoses)  # record-expected: every named mistake's value is recorded
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if not isinstance(got, Real) or isinstance(got, bool):
        raise fail("fail.wrong_type", what=what, expected=phrase("number"), got=type(got).__name__, hint=hint)
    if got != expected:
        why = next((k.split("#")[0] for k, f in (diagnoses or {}).items() if f() == got), None)
        raise fail("fail.values", what=what, hint=hint, why=why, diagnosed=bool(diagnoses),
                   evidence=Evidence(expected=f"{expected:,}", got=f"{got:,}" if float(got).is_integer() else str(got)))


def no_builtin(handle: Any, banned: Mapping[str, str] = BUILTIN_MODULES, *, allowed: tuple[str, ...] = ()) -> None:
    """A submodule of a banned PyTorch class makes the item score zero."""
    for name, qualified in handle.submodule_types().items():
        if qualified in banned and banned[qualified] not in allowed:
            raise ForbiddenCall(text("fail.forbidden", name=handle.name, forbidden=banned[qualified]))


def expect_parameters(handle: Any, expected: Mapping[str, tuple[int, ...]], *, hint: str | None = None,
                      diagnoses: Mapping[str, Callable[[dict[str, tuple[int, ...]]], bool]] | None = None) -> None:
    """The module's parameters are exactly ``expected`` (names and shapes), as the contract says."""
    got = handle.parameter_shapes()
    if got == dict(expected):
        return
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    wrong = [k for k in expected if k in got and tuple(got[k]) != tuple(expected[k])]
    details = []
    if missing:
        details.append(text("detail.missing_parameters", names=_names(missing)))
    if extra:
        details.append(text("detail.unexpected_parameters", names=_names(extra)))
    for k in wrong[:3]:
        details.append(text("detail.parameter_shape", name=k, got=tuple(got[k]), expected=tuple(expected[k])))
    why = next((k.split("#")[0] for k, test in (diagnoses or {}).items() if _safe(test, got)), None)
    raise fail("fail.parameters", name=handle.name, hint=hint, why=why, diagnosed=bool(diagnoses),
               evidence=Evidence(details=details))


def _names(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (phrase(" and {n} more", n=len(names) - limit) if len(names) > limit else "")


def _safe(test: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(test(value))
    except Exception:
        return False


def expect_submodules(handle: Any, names: Mapping[str, str]) -> None:
    """Submodules the contract names exist (``{"dropout": "Dropout"}``: name -> class name)."""
    types = handle.submodule_types()
    for name, cls in names.items():
        if name not in types:
            raise fail("fail.missing_submodule", name=handle.name, sub=name, cls=cls)
        if types[name].rsplit(".", 1)[-1] != cls:
            raise fail("fail.submodule_type", name=handle.name, sub=name, cls=cls, got=types[name].rsplit(".", 1)[-1])


def expect_raises(call: Callable[[], Any], error: str, what: str, *, why: str | None = None,
                  hint: str | None = None) -> None:
    """``call()`` must raise ``error`` (a class name, e.g. "ValueError") from the student's code."""
    try:
        call()
    except StudentCodeError as err:
        if error in err.error_types:
            return
        got = err.error_types[0] if err.error_types else phrase("another error")
        raise fail("fail.wrong_error", what=what, expected=error, got=got, hint=hint, why=why,
                   evidence=Evidence(details=[err.message])) from None
    raise fail("fail.no_error", what=what, expected=error, hint=hint, why=why)


def load(handle: Any, state: Mapping[str, torch.Tensor], *, dtype: torch.dtype = torch.float64) -> None:
    """Move the module to ``dtype``, load ``state`` (names as in the contract), switch to eval mode."""
    handle.to(dtype)
    handle.load_state_dict({k: v.to(dtype) for k, v in state.items()})
    handle.eval()


def changed(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-9) -> bool:
    return a.shape != b.shape or not torch.allclose(a.double(), b.double(), rtol=0.0, atol=atol)


# --- dropout -------------------------------------------------------------------------------------
def expect_dropout(build: Callable[[float], Any], call: Callable[[Any], torch.Tensor], expected: torch.Tensor,
                   name: str) -> None:
    """Dropout as the course wants it: off in eval mode, on in training mode, at the rate passed in.

    ``build(p)``: the student's module with the grader's weights, in eval mode; ``call(m)``: its
    output; ``expected``: the dropout-free oracle.
    """
    from autograder.expect import expect_array

    m = build(0.5)
    got = call(m)

    def active_in_eval():  # the module built without dropout is right: then dropout ran in eval mode
        return None if changed(call(build(0.0)), expected, atol=1e-6) else got

    expect_array(got, expected, phrase("the output in eval mode with dropout=0.5"), **TORCH, hint="hint.dropout_module",
                 diagnoses={"why.dropout_in_eval": active_in_eval})
    m.train()
    torch.manual_seed(0)
    if not changed(call(m), expected):
        raise fail("fail.dropout_unused", name=name, hint="hint.dropout_module")
    m = build(0.0)
    m.train()
    if changed(call(m), expected, atol=1e-6):
        raise fail("fail.dropout_ignored", name=name, hint="hint.dropout_module")


def in_training(m: Any, call: Callable[[Any], torch.Tensor]) -> torch.Tensor:
    """``call(m)`` with ``m`` in training mode (the seed set here only makes a kernel run repeatable: the
    checks built on it hold for any dropout mask, as they must where the student's process draws it)."""
    m.train()
    torch.manual_seed(0)
    return call(m)


def dropout_shows(m: Any, call: Callable[[Any], torch.Tensor]) -> bool:
    """Whether training mode changes ``call(m)``, for a module whose weights leave one place for dropout."""
    m.eval()
    quiet = call(m)
    return changed(in_training(m, call), quiet)


def expect_dropout_inside(m: Any, call: Callable[[Any], torch.Tensor], bias: torch.Tensor, name: str,
                          where: str) -> None:
    """``m`` has dropout 0.5 and its last projection's weight zeroed, so in training mode its output is
    exactly that projection's bias whatever dropout does before it; dropout after it shows."""
    got = in_training(m, call)
    if changed(got, bias.expand_as(got)):
        raise fail("fail.dropout_on_output", name=name, where=where, hint="hint.dropout_module")


def expect_residual_dropout(m: Any, call: Callable[[Any], torch.Tensor], name: str) -> None:
    """``m`` has dropout 0.5 and every sub-layer's last weight zeroed (its output a constant), so only
    the dropout on the residual branches, x + Dropout(Sublayer(x)), can make training mode differ."""
    if not dropout_shows(m, call):
        raise fail("fail.dropout_residual", name=name, hint="hint.residual_dropout")


def expect_dropout_before_norm(m: Any, call: Callable[[Any], torch.Tensor], name: str) -> None:
    """``m`` has dropout 0.5 and every sub-layer's last projection zeroed, weight and bias, so each
    sub-layer outputs exactly 0 and a post-LN layer, norm(x + Dropout(Sublayer(x))), computes the same
    in training mode as in eval mode. A dropout after add & norm, dropout(norm(x + sublayer(x))), or on
    the residual stream itself shows: training mode differs (issue 11, item 10)."""
    if dropout_shows(m, call):
        raise fail("fail.dropout_after_norm", name=name, why="why.dropout_after_norm")


def only_weights(handle: Any, expected: Mapping[str, tuple[int, ...]]) -> bool:
    """The module has exactly ``expected``'s ``*.weight`` parameters and none of its biases
    (projections built with bias=False): its arithmetic can still be tested with zero biases."""
    weights = {k: tuple(v) for k, v in expected.items() if k.endswith(".weight")}
    return len(weights) < len(expected) and handle.parameter_shapes() == weights


def zero_biases(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every ``*.bias`` set to zero: the oracle of a module that has no biases."""
    return {k: torch.zeros_like(v) if k.endswith(".bias") else v for k, v in state.items()}
