"""Comparisons that explain themselves.

Each ``expect_*`` helper either returns quietly or raises :class:`GraderFailure` with a
catalogue sentence, the evidence a learner needs (shape, dtype, a small excerpt, the largest
error and where it is) and, when the wrong output matches a known mistake, that mistake named.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .catalogue import phrase, text
from .failures import Evidence, GraderFailure

# A misconception key ("why.softmax_axis") mapped to a function that computes what the code
# would return if it made that mistake; evaluated only after a mismatch. A key may carry a
# "#suffix" so that one misconception can have several candidate outputs.
Diagnoses = Mapping[str, Callable[[], Any]]

# Set by ``record-expected`` (autograder/instructor/record_expected.py): every named mistake is computed even
# where the reference passes, so that its value is recorded for the export's replayed oracles.
FORCE_DIAGNOSES = False


def evaluate_all(diagnoses: Mapping[str, Callable[..., Any]] | None, *args: Any) -> None:
    """While recording: call every diagnosis once (one that cannot be computed is skipped)."""
    if not FORCE_DIAGNOSES:
        return
    for candidate in (diagnoses or {}).values():
        try:
            candidate(*args)
        except Exception:  # noqa: BLE001 - as when matching: it simply does not apply
            pass


def _is_tensor(x: object) -> bool:
    torch = _torch_if_loaded()
    return torch is not None and isinstance(x, torch.Tensor)


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")


def to_numpy(x: Any) -> np.ndarray:
    """A float64/bool numpy copy of an array or tensor, for comparison only."""
    if _is_tensor(x):
        x = x.detach().cpu()
        if x.dtype.is_floating_point and x.dtype not in (_torch_if_loaded().float32, _torch_if_loaded().float64):
            x = x.float()  # numpy has no bfloat16
        x = x.numpy()
    arr = np.asarray(x)
    return arr if arr.dtype == bool else arr.astype(np.float64)


def dtype_name(x: Any) -> str:
    """'float32' for an array, a tensor, a numpy dtype or scalar type, or a torch dtype."""
    if isinstance(x, np.dtype):
        return x.name
    if isinstance(x, type) and issubclass(x, np.generic):
        return np.dtype(x).name
    if hasattr(x, "dtype"):
        return dtype_name(x.dtype)
    if type(x).__name__ == "dtype":  # a torch dtype
        return str(x).replace("torch.", "")
    return type(x).__name__


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in x.shape)


def describe(x: Any) -> str:
    """'shape (2, 5, 5), dtype float32' for arrays and tensors; the type name otherwise."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return phrase("shape {shape}, dtype {dtype}", shape=shape_of(x), dtype=dtype_name(x))
    return phrase("a {type}", type=type(x).__name__)


def excerpt(arr: np.ndarray, index: tuple[int, ...] | None = None, width: int = 4, digits: int = 4) -> str:
    """A few values around ``index`` along the last axis, e.g. '[0.25, 0.5, 0.25]' at [0, 1, :].

    ``digits`` significant digits per value (see ``digits_to_show``)."""
    if arr.ndim == 0:
        return _fmt(arr.item(), digits)
    if index is None:
        index = (0,) * arr.ndim
    lead = index[:-1]
    row = arr[lead] if lead else arr
    start = max(0, min(index[-1] - width // 2, row.shape[-1] - width))
    values = ", ".join(_fmt(v, digits) for v in row[start : start + width])
    more = " …" if row.shape[-1] > start + width else ""
    where = ", ".join(str(i) for i in lead)
    where = f"[{where}, {start}:{start + width}]" if where else f"[{start}:{start + width}]"
    return f"{where} = [{values}{more}]"


def _fmt(v: Any, digits: int = 4) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    return f"{v:.{digits}g}"


def digits_to_show(expected: np.ndarray, max_error: float) -> int:
    """Significant digits that make an error of ``max_error`` visible next to ``expected``'s values.

    Four digits hide an eps of 1e-3 instead of 1e-5 ("expected 0.9508 got 0.9508") and a loss of
    1709.2 against 1709.4; two digits past the first that differs show it, up to float64's 17.
    """
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = float(finite.max()) if finite.size else 0.0
    if not np.isfinite(max_error) or max_error <= 0 or scale <= 0:
        return 4
    return int(min(17, max(4, math.ceil(math.log10(scale / max_error)) + 2)))


def fail(key: str, *, hint: str | None = None, why: str | None = None, evidence: Evidence | None = None,
         diagnosed: bool = False, **params: Any) -> GraderFailure:
    """Build a failure from catalogue keys (``hint.*``/``why.*``).

    The evidence rule (issue 11, item 9): a hint is a guess at the cause, so it is shown only where
    nothing contradicts it. ``why`` is the diagnosis that matched the output: a ``why.*`` names the
    misconception (which says what to fix, so the generic hint would compete), a ``hint.*`` is a hint
    tied to that evidence. ``diagnosed``: the check computed what its known mistakes would output and
    none is this output, so the check's generic ``hint`` is ruled out (and ``hinted`` adds none).
    """
    if why and why.startswith("hint."):
        hint, why = why, None
    elif why or diagnosed:
        hint = None
    failure = GraderFailure(
        text(key, **params),
        evidence=evidence,
        hint=text(hint) if hint else None,
        misconception=text(why) if why else None,
    )
    failure.ruled_out = diagnosed and not why and failure.hint is None
    return failure


def expect_tuple(result: Any, n: int, name: str, what: str) -> tuple:
    if not isinstance(result, tuple) or len(result) != n:
        got = phrase("a tuple of {n}", n=len(result)) if isinstance(result, tuple) else describe(result)
        raise fail("fail.not_tuple", name=name, n=n, what=what, got=got)
    return result


def expect_kind(got: Any, what: str, kind: str) -> None:
    """``kind`` is 'numpy' or 'torch'."""
    ok = isinstance(got, np.ndarray) if kind == "numpy" else _is_tensor(got)
    if not ok:
        expected = phrase("numpy array") if kind == "numpy" else phrase("torch tensor")
        raise fail("fail.wrong_type", what=what, expected=expected, got=type(got).__name__)


def _matching_mistake(got: np.ndarray, diagnoses: Diagnoses | None, rtol: float, atol: float) -> str | None:
    for why, candidate in (diagnoses or {}).items():
        try:
            cand = to_numpy(candidate())
        except Exception:  # a diagnosis that cannot be computed for this input simply does not match
            continue
        if cand.shape == got.shape and np.allclose(got, cand, rtol=rtol, atol=atol, equal_nan=True):
            return why.split("#")[0]
    return None


def expect_array(
    got: Any,
    expected: Any,
    what: str,
    *,
    kind: str = "numpy",
    dtype: Any = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    hint: str | None = None,
    diagnoses: Diagnoses | None = None,
    shape_hint: str | None = None,
) -> None:
    """``got`` must be an array of ``kind`` with ``expected``'s shape (and ``dtype``) and values.

    ``what`` names the value for the learner, e.g. "the attention weights w".
    """
    evaluate_all(diagnoses)
    expect_kind(got, what, kind)
    exp = to_numpy(expected)
    if shape_of(got) != exp.shape:
        why = _matching_shape_mistake(got, diagnoses)
        raise fail(
            "fail.shape",
            what=what,
            hint=shape_hint or hint,
            why=why,
            diagnosed=bool(diagnoses) and not shape_hint,  # a shape hint speaks to the shape itself
            evidence=Evidence(expected=phrase("shape {shape}", shape=exp.shape), got=phrase("shape {shape}", shape=shape_of(got))),
        )
    if dtype is not None and dtype_name(got) != dtype_name(dtype):
        raise fail(
            "fail.dtype",
            what=what,
            got=dtype_name(got),
            expected=dtype_name(dtype),
            hint="hint.dtype",
        )
    g = to_numpy(got)
    if exp.dtype == bool:
        if g.dtype != bool:
            raise fail("fail.wrong_type", what=what, expected=phrase("boolean array (True/False)"),
                       got=phrase("array of dtype {dtype}", dtype=dtype_name(got)), hint=hint)
        wrong = g != exp
        if wrong.any():
            _raise_values(g, exp, what, wrong, hint, diagnoses, 0.0, 0.0)
        return
    if np.isfinite(exp).all() and not np.isfinite(g).all():
        bad = int((~np.isfinite(g)).sum())
        why = _matching_mistake(g, diagnoses, rtol, atol)
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
        raise fail(
            "fail.not_finite",
            what=what,
            bad=text("expect.non_finite_one" if bad == 1 else "expect.non_finite_many", n=bad),
            hint=hint,
            why=why,
            diagnosed=bool(diagnoses),
            evidence=Evidence(expected=text("expect.finite_values"), got=excerpt(g, first)),
        )
    if not np.allclose(g, exp, rtol=rtol, atol=atol, equal_nan=True):
        _raise_values(g, exp, what, None, hint, diagnoses, rtol, atol)


def _raise_values(g, exp, what, wrong, hint, diagnoses, rtol, atol) -> None:
    if wrong is None:
        err = np.abs(np.nan_to_num(g, nan=np.inf) - exp)
        err = np.where(np.isnan(exp) & np.isnan(g), 0.0, err)
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape)) if err.size else ()
        details = [phrase("max |error| = {err} at index {idx}", err=_fmt(err[idx]), idx=idx)] if idx else []
        digits = digits_to_show(exp, float(err[idx]) if err.size else 0.0)
        if not idx and err.size:  # a scalar: say by how much it is off, too
            details = [phrase("|error| = {err}", err=_fmt(err[idx]))]
    else:
        idx = tuple(int(i) for i in np.argwhere(wrong)[0])
        details = [phrase("{n} of {total} entries differ; the first at index {idx}", n=int(wrong.sum()), total=wrong.size, idx=idx)]
        digits = 4
    why = _matching_mistake(g, diagnoses, max(rtol, 1e-5), max(atol, 1e-6))
    raise fail(
        "fail.values",
        what=what,
        hint=hint,
        why=why,
        diagnosed=bool(diagnoses),
        evidence=Evidence(expected=excerpt(exp, idx or None, digits=digits), got=excerpt(g, idx or None, digits=digits),
                          details=details),
    )


def _matching_shape_mistake(got: Any, diagnoses: Diagnoses | None) -> str | None:
    for why, candidate in (diagnoses or {}).items():
        try:
            if shape_of(to_numpy(candidate())) == shape_of(got):
                return why.split("#")[0]
        except Exception:
            continue
    return None


def expect_finite(got: Any, what: str, *, hint: str | None = None, why: str | None = None) -> None:
    g = to_numpy(got)
    if not np.isfinite(g).all():
        bad = int((~np.isfinite(g)).sum())
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
        raise fail(
            "fail.not_finite",
            what=what,
            bad=text("expect.non_finite_one" if bad == 1 else "expect.non_finite_many", n=bad),
            hint=hint,
            why=why,
            evidence=Evidence(expected=text("expect.finite_values"), got=excerpt(g, first)),
        )




@contextlib.contextmanager
def hinted(hint: str) -> Iterator[None]:
    """Attach ``hint`` (a catalogue key) to any failure raised inside, unless it has one."""
    try:
        yield
    except GraderFailure as failure:
        # A named misconception says what to fix; a check whose known mistakes were ruled out takes no guess.
        if not failure.hint and not failure.misconception and not failure.ruled_out:
            failure.hint = text(hint)
        raise


def expect_shape(
    got: Any, shape: tuple[int, ...], what: str, *, kind: str = "numpy", hint: str | None = None,
    diagnoses: Diagnoses | None = None,
) -> None:
    evaluate_all(diagnoses)
    expect_kind(got, what, kind)
    if shape_of(got) != tuple(shape):
        raise fail(
            "fail.shape", what=what, hint=hint, why=_matching_shape_mistake(got, diagnoses), diagnosed=bool(diagnoses),
            evidence=Evidence(expected=phrase("shape {shape}", shape=tuple(shape)), got=phrase("shape {shape}", shape=shape_of(got))),
        )
