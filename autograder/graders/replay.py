"""Expected values as data: the public oracles' results, recorded in the instructor's repository.

The public graders call oracle functions (``oracles.softmax(x)``, ``torch_oracles.sdpa(q, k, v)``)
on inputs they build themselves. In the instructor's repository those functions compute; in a
student export they would be working answers. So ``python -m autograder record-expected`` runs
every stage's public graders on the reference solutions with each oracle module wrapped
(``recording``): every top-level call ``(module, function, fingerprint of the arguments)`` and its
result are stored in ``public/expected/<stage>.npz`` (arrays, no pickle) with ``<stage>.json``
(the structure). The export replaces each converted oracle module by a stub of the same name
(``stub_source``) whose functions look the value up (``oracle``), and whose trusted building
blocks look up the nearest recorded input and otherwise run the student's own definition
(``block``). A replay call made while student code runs is refused (``student_running``).

Fingerprint: the arguments' structure (types, dtypes, shapes, scalars) plus a SHA-256 of every
array's bytes. A lookup that misses the exact key tries the recorded calls of the same function
and structure whose arrays are allclose (another platform's last bit of a random draw).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import inspect
import json
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

EXPECTED = Path(__file__).resolve().parent / "public" / "expected"
FORMAT = 1

# Set by autograder.student around every call into student code (kernel and sandbox worker).
STUDENT_RUNNING: ContextVar[bool] = ContextVar("autograder_student_running", default=False)
# The student's own definitions of the names a call's trusted blocks replace (their fallback).
STUDENT_OWN: ContextVar[dict[str, Any]] = ContextVar("autograder_student_own", default={})
_FALLING_BACK: ContextVar[frozenset[str]] = ContextVar("autograder_block_fallback", default=frozenset())
_DEPTH: ContextVar[int] = ContextVar("autograder_oracle_depth", default=0)


@contextlib.contextmanager
def student_running(own: dict[str, Any] | None = None) -> Iterator[None]:
    """Mark the student's code as running (and what its trusted blocks replaced)."""
    t1 = STUDENT_RUNNING.set(True)
    t2 = STUDENT_OWN.set(dict(own or {})) if own is not None else None
    try:
        yield
    finally:
        if t2 is not None:
            STUDENT_OWN.reset(t2)
        STUDENT_RUNNING.reset(t1)


@contextlib.contextmanager
def grader_side() -> Iterator[None]:
    """The grader's own code (a trusted block's recording, a fallback's bookkeeping)."""
    token = STUDENT_RUNNING.set(False)
    try:
        yield
    finally:
        STUDENT_RUNNING.reset(token)


class Unrecordable(TypeError):
    """An argument or result that has no data form (a module, a generator object)."""


# --- encoding ------------------------------------------------------------------------------------
def _torch() -> Any:
    import torch

    return torch


def _c_order(a: np.ndarray) -> np.ndarray:
    """A C-ordered copy that keeps a 0-d array 0-d (``np.ascontiguousarray`` returns at least 1-d, and
    a scalar loss replayed with shape (1,) fails a shape check that the live () passes)."""
    return np.array(a, order="C", copy=True)


def encode(value: Any, arrays: list[np.ndarray]) -> Any:
    """A JSON form of ``value``; arrays go to ``arrays`` and are named by their index."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise Unrecordable("object array")
        arrays.append(_c_order(value))
        return {"$": "np", "i": len(arrays) - 1}
    if isinstance(value, np.generic):
        arrays.append(np.asarray(value))
        return {"$": "npscalar", "i": len(arrays) - 1}
    if isinstance(value, (tuple, list)):
        return {"$": type(value).__name__, "v": [encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unrecordable("dict with non-string keys")
        keys = sorted(value)
        return {"$": "dict", "k": keys, "v": [encode(value[k], arrays) for k in keys]}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"$": "npdtype", "v": np.dtype(value).str}
    torch = _torch()
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.layout != torch.strided or t.dtype == torch.bfloat16 or t.is_complex():
            raise Unrecordable(f"tensor of {t.dtype}")
        arrays.append(_c_order(t.cpu().numpy()))
        form = {"$": "pt", "i": len(arrays) - 1, "grad": bool(value.requires_grad)}
        order = _memory_order(t)
        if order is not None:  # a transposed view: code that calls .view() on it must fail as at home
            form["order"] = order
        return form
    if isinstance(value, torch.dtype):
        return {"$": "ptdtype", "v": str(value)}
    if isinstance(value, torch.Size):
        return {"$": "tuple", "v": list(value)}
    raise Unrecordable(type(value).__name__)


def _memory_order(t: Any) -> list[int] | None:
    """The axes from outermost to innermost in memory, for a dense non-contiguous tensor; else None."""
    if t.is_contiguous() or t.dim() < 2:
        return None
    order = sorted(range(t.dim()), key=lambda d: (-t.stride(d), d))
    return order if t.permute(order).is_contiguous() else None


def decode(form: Any, arrays: Any) -> Any:
    if not isinstance(form, dict):
        return form
    kind = form["$"]
    if kind == "np":
        return np.array(arrays[form["i"]])
    if kind == "npscalar":
        return np.asarray(arrays[form["i"]])[()]
    if kind in ("tuple", "list"):
        items = [decode(v, arrays) for v in form["v"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: decode(v, arrays) for k, v in zip(form["k"], form["v"])}
    if kind == "npdtype":
        return np.dtype(form["v"])
    torch = _torch()
    if kind == "pt":
        t = torch.from_numpy(np.array(arrays[form["i"]]))
        order = form.get("order")
        if order:  # the same values, laid out in memory as the recorded tensor was
            t = t.permute(order).contiguous().permute([order.index(d) for d in range(len(order))])
        return t
    if kind == "ptdtype":
        return getattr(torch, form["v"].removeprefix("torch."))
    raise ValueError(f"unknown encoded kind {kind!r}")


def _shape_form(form: Any, arrays: list[np.ndarray]) -> Any:
    """The structure of an encoded value with each array replaced by its dtype and shape."""
    if isinstance(form, dict):
        if form["$"] in ("np", "npscalar", "pt"):
            a = arrays[form["i"]]
            return [form["$"], a.dtype.str, list(a.shape), form.get("grad", False)]
        return {k: _shape_form(v, arrays) if k == "v" else v for k, v in form.items()}
    if isinstance(form, list):
        return [_shape_form(v, arrays) for v in form]
    return form


def fingerprint(args: tuple, kwargs: dict) -> tuple[str, str, list[np.ndarray]]:
    """(key, structure, arrays) of a call's arguments."""
    arrays: list[np.ndarray] = []
    form = encode([list(args), dict(kwargs)], arrays)
    structure = json.dumps(_shape_form(form, arrays), sort_keys=True, allow_nan=True)
    h = hashlib.sha256(structure.encode())
    for a in arrays:
        h.update(a.tobytes())
    return h.hexdigest(), structure, arrays


# --- the store -----------------------------------------------------------------------------------
class Store:
    """Recorded calls: (module, function, key) -> entry; entries keep their own arrays."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(self, module: str, function: str, args: tuple, kwargs: dict, result: Any) -> dict[str, Any]:
        key, structure, arrays = fingerprint(args, kwargs)
        if (module, function, key) not in self.calls:
            out: list[np.ndarray] = []
            self.calls[(module, function, key)] = {
                "module": module, "function": function, "key": key, "structure": structure,
                "args": arrays, "result": encode(result, out), "result_arrays": out, "grads": {},
            }
        return self.calls[(module, function, key)]

    # files: <stage>.json (structure, sorted) + <stage>.npz (arrays, named a0, a1, ...)
    def save(self, folder: Path, stage_id: str, meta: dict[str, Any] | None = None) -> None:
        arrays: list[np.ndarray] = []

        def put(items: list[np.ndarray]) -> list[int]:
            arrays.extend(items)
            return list(range(len(arrays) - len(items), len(arrays)))

        index = []
        for k in sorted(self.calls):
            e = self.calls[k]
            grads = [{"key": gk, "structure": g["structure"], "args": put(g["args"]), "result": g["result"],
                      "result_arrays": put(g["result_arrays"])} for gk, g in sorted(e["grads"].items())]
            index.append({"module": e["module"], "function": e["function"], "key": e["key"],
                          "structure": e["structure"], "args": put(e["args"]), "result": e["result"],
                          "result_arrays": put(e["result_arrays"]), "grads": grads})
        folder.mkdir(parents=True, exist_ok=True)
        doc = {"format": FORMAT, "stage": stage_id, **(meta or {}), "calls": index}
        (folder / f"{stage_id}.json").write_text(json.dumps(doc, indent=1, sort_keys=True, allow_nan=True) + "\n")
        np.savez_compressed(folder / f"{stage_id}.npz", **{f"a{i}": a for i, a in enumerate(arrays)})

    @classmethod
    def load(cls, folder: Path) -> Store:
        return cls.load_files(*sorted(folder.glob("*.json")))

    @classmethod
    def load_files(cls, *paths: Path) -> Store:
        store = cls()
        for path in paths:
            doc = json.loads(path.read_text())
            if doc.get("format") != FORMAT:
                continue
            with np.load(path.with_suffix(".npz"), allow_pickle=False) as z:
                arrays = [z[f"a{i}"] for i in range(len(z.files))]
            for e in doc["calls"]:
                store.calls[(e["module"], e["function"], e["key"])] = {
                    **e, "args": [arrays[i] for i in e["args"]],
                    "result_arrays": [arrays[i] for i in e["result_arrays"]],
                    "grads": {g["key"]: {**g, "args": [arrays[i] for i in g["args"]],
                                         "result_arrays": [arrays[i] for i in g["result_arrays"]]}
                              for g in e["grads"]},
                }
        return store

    def find(self, module: str, function: str, args: tuple, kwargs: dict, *, loose: bool) -> dict[str, Any] | None:
        """The entry for these arguments: exact, else the closest allclose one of the same structure."""
        key, structure, arrays = fingerprint(args, kwargs)
        hit = self.calls.get((module, function, key))
        if hit is not None:
            return hit
        return _nearest([e for (m, f, _), e in self.calls.items() if m == module and f == function
                         and e["structure"] == structure], arrays, loose)


def _tolerance(a: np.ndarray, loose: bool) -> tuple[float, float]:
    """Platform drift only (tight), or a student's own arithmetic on the same input (loose)."""
    low = a.dtype in (np.float16, np.float32)
    if not loose:
        return (1e-5, 1e-6) if low else (1e-10, 1e-12)
    return (1e-4, 1e-5) if low else (1e-7, 1e-9)


def _nearest(entries: list[dict[str, Any]], arrays: list[np.ndarray], loose: bool) -> dict[str, Any] | None:
    best, best_err = None, np.inf
    for e in entries:
        err = 0.0
        for a, b in zip(arrays, e["args"]):
            if a.dtype.kind in "biu?" or b.dtype.kind in "biu?":
                if not np.array_equal(a, b):
                    break
                continue
            rtol, atol = _tolerance(a, loose)
            if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                break
            with np.errstate(invalid="ignore"):
                d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            err = max(err, float(np.nanmax(d)) if d.size else 0.0)
        else:
            if err < best_err:
                best, best_err = e, err
    return best


def result_of(entry: dict[str, Any]) -> Any:
    return decode(entry["result"], entry["result_arrays"])


_STORE: Store | None = None


def store() -> Store:
    global _STORE
    if _STORE is None:
        _STORE = Store.load(EXPECTED)
    return _STORE


# --- recording -----------------------------------------------------------------------------------
class _Recording:
    def __init__(self) -> None:
        self.store = Store()
        self.unrecordable: list[str] = []


_RECORDING: _Recording | None = None


def canonical(sig: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults filled in: ``softmax(x)`` and
    ``softmax(x, axis=-1)`` are one call."""
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _record_call(module: str, name: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    rec = _RECORDING
    if rec is None or _DEPTH.get() > 0:
        return fn(*args, **kwargs)
    try:
        named = canonical(inspect.signature(fn), args, kwargs)
        fingerprint((), named)
    except (Unrecordable, TypeError) as exc:
        rec.unrecordable.append(f"{module}.{name}: argument {exc}")
        return fn(*args, **kwargs)
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        result = fn(*args, **kwargs)
    finally:
        _DEPTH.reset(token)
    try:
        entry = rec.store.add(module, name, (), named, result)
    except Unrecordable as exc:
        rec.unrecordable.append(f"{module}.{name}: result {exc}")
        return result
    return _tape(entry, (), named, result)


def _grad_leaves(args: tuple, kwargs: dict) -> list[Any]:
    torch = _torch()
    leaves: list[Any] = []

    def walk(v: Any) -> None:
        if isinstance(v, torch.Tensor) and v.requires_grad:
            leaves.append(v)
        elif isinstance(v, (tuple, list)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(list(args))
    walk(dict(kwargs))
    return leaves


def _tape(entry: dict[str, Any], args: tuple, kwargs: dict, result: Any) -> Any:
    """While recording, a tensor result that carries a graph records the gradients it gives:
    each backward's (grad_output fingerprint) -> the inputs' gradients."""
    torch = _torch()
    leaves = _grad_leaves(args, kwargs)
    if not leaves or not isinstance(result, torch.Tensor) or not result.requires_grad:
        return result

    def record(grad: Any) -> None:
        grads = torch.autograd.grad(result, leaves, grad, retain_graph=True, allow_unused=True)
        gkey, gstructure, garrays = fingerprint((grad,), {})
        out: list[np.ndarray] = []
        entry["grads"].setdefault(gkey, {"key": gkey, "structure": gstructure, "args": garrays,
                                         "result": encode(list(grads), out), "result_arrays": out})

    # A pass-through whose backward sees the grad_output first; the real graph gives the gradients.
    class _Probe(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            record(g)
            return g

    return _Probe.apply(result)


@contextlib.contextmanager
def recording(modules: list[Any]) -> Iterator[_Recording]:
    """Wrap every public function of ``modules`` (and their TRUSTED_BLOCKS entries) so that calls
    are stored; inner calls of an oracle are not."""
    global _RECORDING
    rec = _Recording()
    saved: list[tuple[Any, str, Any]] = []
    for mod in modules:
        for name in public_functions(mod):
            fn = getattr(mod, name)
            saved.append((mod, name, fn))
            setattr(mod, name, _recorder(mod.__name__, name, fn))
        # Every module-level mapping that hands out a replayed function (TRUSTED_BLOCKS, blocks.STAGE_04)
        # hands out the recorder: student code reaches blocks through these, not through the module.
        replayed = set(public_functions(mod))
        for table in [v for v in vars(mod).values() if isinstance(v, dict)]:
            hits = {k: v for k, v in table.items() if inspect.isfunction(v)
                    and getattr(v, "__module__", None) == mod.__name__ and v.__name__ in replayed}
            if hits:
                saved.append((table, "", dict(table)))
                for k, v in hits.items():
                    table[k] = getattr(mod, v.__name__)
    _RECORDING = rec
    try:
        yield rec
    finally:
        _RECORDING = None
        for owner, name, fn in reversed(saved):
            if name:
                setattr(owner, name, fn)
            else:
                owner.clear()
                owner.update(fn)


def _recorder(module: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        return _record_call(module, name, fn, args, kwargs)

    recorded.__name__ = recorded.__qualname__ = name
    recorded.__module__ = module
    recorded.__wrapped_oracle__ = fn  # type: ignore[attr-defined]
    return recorded


def public_functions(mod: Any) -> list[str]:
    """The module's own top-level functions that the export replays: not its input builders
    (``INPUTS``), nor what it declares still ships as code (``AS_CODE``, name -> why)."""
    inputs = set(getattr(mod, "INPUTS", ())) | set(getattr(mod, "AS_CODE", ()))
    return [n for n, f in vars(mod).items() if inspect.isfunction(f) and not n.startswith("_")
            and getattr(f, "__module__", None) == mod.__name__ and n not in inputs]


# --- replay (what the export's stubs call) ------------------------------------------------------
def _missing(module: str, function: str) -> Exception:
    from autograder.catalogue import text
    from autograder.failures import GraderFailure

    return GraderFailure(text("fail.expected_missing", function=f"{module.rsplit('.', 1)[-1]}.{function}"))


def _refused(function: str) -> Exception:
    from autograder.catalogue import text

    return RuntimeError(text("fail.expected_refused", function=function))


def _unknown_input(function: str) -> Exception:
    from autograder.catalogue import text

    return RuntimeError(text("fail.block_unknown_input", function=function))


def _replayed(entry: dict[str, Any], args: tuple, kwargs: dict) -> Any:
    """The recorded result; where the inputs carry a graph, its tensors carry one too (as the live
    result's did: a block's output feeds the next block, whose recorded input required grad), with
    the recorded gradients for backward."""
    value = result_of(entry)
    leaves = _grad_leaves(args, kwargs)
    if not leaves:
        return value
    torch = _torch()
    single = isinstance(value, torch.Tensor)
    outs = [value] if single else list(value) if isinstance(value, (tuple, list)) else []
    if not outs or not all(isinstance(v, torch.Tensor) and v.is_floating_point() for v in outs):
        return value
    grads = entry["grads"]

    class _Replay(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *inputs: Any) -> Any:
            return value.clone() if single else tuple(v.clone() for v in outs)

        @staticmethod
        def backward(ctx: Any, *gs: Any) -> Any:
            if not single or not grads:  # only a one-tensor result records its gradients
                raise _missing(entry["module"], entry["function"] + " (gradient)")
            g = gs[0]
            gkey, structure, garrays = fingerprint((g,), {})
            hit = grads.get(gkey) or _nearest([x for x in grads.values() if x["structure"] == structure],
                                              garrays, False)
            if hit is None:
                raise _missing(entry["module"], entry["function"] + " (gradient)")
            return tuple(decode(hit["result"], hit["result_arrays"]))

    out = _Replay.apply(*leaves)
    return out if single else type(value)(out)


def oracle(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator of the export's stub: the value the instructor's oracle ``fn`` (same name and
    signature, no body) gave for these very inputs."""
    module, function, sig = fn.__module__, fn.__name__, inspect.signature(fn)

    @functools.wraps(fn)
    def replayed(*args: Any, **kwargs: Any) -> Any:
        if STUDENT_RUNNING.get():
            raise _refused(function)
        named = canonical(sig, args, kwargs)
        entry = store().find(module, function, (), named, loose=False)
        if entry is None:
            raise _missing(module, function)
        return _replayed(entry, (), named)

    del replayed.__wrapped__  # nothing behind it to unwrap
    return replayed


def block(stands_for: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of the export's stub: a trusted building block, called by the student's code, gives
    the recorded output of the closest recorded input, or else runs the student's own ``stands_for``
    (never a block again)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        module, function, sig = fn.__module__, fn.__name__, inspect.signature(fn)

        @functools.wraps(fn)
        def trusted(*args: Any, **kwargs: Any) -> Any:
            with grader_side():
                try:
                    named = canonical(sig, args, kwargs)
                    entry = store().find(module, function, (), named, loose=True)
                except (Unrecordable, TypeError):
                    named, entry = {}, None
            if entry is not None:
                return _replayed(entry, (), named)
            own = STUDENT_OWN.get().get(stands_for)
            if own is None or stands_for in _FALLING_BACK.get() or getattr(own, "__replay_block__", False):
                raise _unknown_input(stands_for)
            token = _FALLING_BACK.set(_FALLING_BACK.get() | {stands_for})
            try:
                return own(*args, **kwargs)
            finally:
                _FALLING_BACK.reset(token)

        del trusted.__wrapped__
        trusted.__replay_block__ = True  # type: ignore[attr-defined]
        return trusted

    return wrap


# --- the export's stub modules ----------------------------------------------------------------
STUB_IMPORT = "from autograder.graders import replay as _replay"  # the first line a stub module runs


def stub_source(mod: Any) -> str:
    """The source of ``mod`` with every replayed function (and trusted block) a lookup.

    Imports, constants, the input builders named in ``INPUTS`` and what ``AS_CODE`` names (classes
    among it) stay as they are; a ``TRUSTED_BLOCKS`` mapping keeps its names, now bound to blocks.
    """
    source = inspect.getsource(mod)
    tree = ast.parse(source)
    replayed = set(public_functions(mod))
    blocks = {v.__name__: k for k, v in (getattr(mod, "TRUSTED_BLOCKS", None) or {}).items()
              if getattr(v, "__name__", None) in replayed}
    lines = source.splitlines()
    out: list[str] = []
    body = tree.body
    doc = ast.get_docstring(tree)
    start = 0
    if doc is not None:
        out.append('"""' + f"{mod.__name__}, as the student export ships it: recorded values, no formula.\n\n"
                   "Generated by ``python -m autograder export-student-repo`` from the instructor's module; the\n"
                   "values come from ``python -m autograder record-expected`` (autograder/graders/public/expected/).\n"
                   '"""')
        start = 1
    imported = False
    for node in body[start:]:
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not future and not imported:
            out.append(STUB_IMPORT)
            imported = True
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        seg = "\n".join(lines[first - 1:node.end_lineno])
        if isinstance(node, ast.FunctionDef) and node.name in replayed:
            if node.decorator_list:
                raise Unrecordable(f"{mod.__name__}.{node.name}: decorated functions are not replayed yet")
            # the signature line(s) as written, then a body that says what the stub is
            header = "\n".join(lines[node.lineno - 1:node.body[0].lineno - 1])
            if not header.rstrip().endswith(":"):
                raise Unrecordable(f"{mod.__name__}.{node.name}: write the body below the signature")
            deco = f"@_replay.block({blocks[node.name]!r})" if node.name in blocks else "@_replay.oracle"
            seg = f'{deco}\n{header}\n    """Recorded values of the public checks (no formula ships)."""'
        elif (isinstance(node, ast.ClassDef) and node.name not in getattr(mod, "AS_CODE", ())
              and not node.name.startswith("_")):  # a private class serves the code that stays
            raise Unrecordable(f"{mod.__name__}.{node.name}: classes are not replayed yet (list it in AS_CODE)")
        out.append(seg)
    return "\n\n".join(out) + "\n"
