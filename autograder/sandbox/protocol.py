"""The wire format between the trusted grader and the sandboxed worker.

A message is a frame: a fixed header (magic, length of the JSON part, length of the binary
part), a JSON object, then the raw bytes of every array or tensor it carries. Values are
encoded as a tagged JSON tree; arrays and tensors as ``{"$": "nd" | "pt", dtype, shape, b}``
where ``b`` indexes the frame's buffers. Nothing is pickled, nothing is imported on decoding:
the grader reads what the worker sends as numbers with a dtype from a short allow-list, and
everything it does not recognise becomes an inert :class:`StudentObject` that only knows the
name of its type.

This module is shared by both sides and is copied into the worker's staged library, so it
imports only the standard library at module level (numpy and torch lazily).
"""

from __future__ import annotations

import json
import math
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

MAGIC = b"AGS1"
HEADER = struct.Struct("!4sII")  # magic, JSON length, total length of the buffers

# The public modules whose functions and classes graders may hand to student code as trusted
# building blocks (``trusted=``) or name as recipes and readers (``student.trusted_object``). Both
# sides hold this one list: the proxy refuses anything else, the worker resolves nothing else (from
# its staged copy; a student export stages only the modules its stages use).
TRUSTED_MODULES = ("autograder.graders.oracles", "autograder.graders.torch_oracles", "autograder.graders.blocks",
                   "autograder.graders.training_oracles")

# Computed module-level constants (``D_K = D_MODEL // H``) run at load time, one by one: each may
# take CONSTANT_SECONDS, all of them together CONSTANTS_SECONDS (then the rest are not run).
CONSTANT_SECONDS = 5.0
CONSTANTS_SECONDS = 15.0

MAX_DEPTH = 64  # nesting of lists/tuples/dicts in one value
MAX_NODES = 200_000  # JSON nodes in one value
MAX_DIMS = 32


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed frame or value."""


class EncodeError(TypeError):
    """A value the protocol cannot carry (on the grader's side: a grader bug)."""


class StudentObject:
    """What the grader sees of an object it cannot (and will not) rebuild: its type's name."""

    type_name = "object"

    def __repr__(self) -> str:
        return f"<{self.type_name} from the student's code>"


class Reference:
    """A grader-side handle to an object living in the worker (a trusted object made from a recipe).

    Only the grader's encoder writes one (``{"$": "ref", "id": n}``), and only a decoder given
    ``resolve_ref`` (the worker's) reads one: a worker's answer can never name an object.
    """

    def wire_id(self) -> int:
        raise NotImplementedError


_OPAQUE_CLASSES: dict[str, type] = {}


def opaque(type_name: str) -> StudentObject:
    """An inert stand-in whose class is named like the student's type (so messages read 'got a Foo')."""
    name = "".join(c for c in str(type_name)[:80] if c.isalnum() or c == "_") or "object"
    if name[0].isdigit():
        name = "_" + name
    cls = _OPAQUE_CLASSES.get(name)
    if cls is None:
        cls = _OPAQUE_CLASSES[name] = type(name, (StudentObject,), {"type_name": name, "__module__": "student"})
    return cls()


# --- framing -----------------------------------------------------------------------------------
def send(sock: socket.socket, msg: dict[str, Any], buffers: list[Any] = ()) -> None:
    views = [memoryview(b).cast("B") for b in buffers]
    body = dict(msg)
    body["buffers"] = [v.nbytes for v in views]
    data = json.dumps(body, separators=(",", ":"), allow_nan=True).encode("utf-8")
    total = sum(v.nbytes for v in views)
    sock.sendall(HEADER.pack(MAGIC, len(data), total) + data)
    for v in views:
        if v.nbytes:
            sock.sendall(v)


def _recv_into(sock: socket.socket, view: memoryview) -> None:
    got = 0
    while got < len(view):
        n = sock.recv_into(view[got:])
        if n == 0:
            raise EOFError("the peer closed the connection")
        got += n


def recv(sock: socket.socket, *, max_json: int = 16 << 20, max_buffers: int = 512 << 20) -> tuple[dict[str, Any], list[memoryview]]:
    """One frame: (message, buffers). Raises EOFError at a clean end, ProtocolError on garbage."""
    head = bytearray(HEADER.size)
    _recv_into(sock, memoryview(head))
    magic, n_json, n_buf = HEADER.unpack(bytes(head))
    if magic != MAGIC:
        raise ProtocolError("bad frame header")
    if n_json > max_json or n_buf > max_buffers:
        raise ProtocolError(f"frame too large ({n_json + n_buf} bytes)")
    data = bytearray(n_json)
    _recv_into(sock, memoryview(data))
    blob = bytearray(n_buf)
    _recv_into(sock, memoryview(blob))
    try:
        msg = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"unreadable message ({type(exc).__name__})") from None
    if not isinstance(msg, dict):
        raise ProtocolError("a message must be a JSON object")
    lengths = msg.pop("buffers", [])
    if (not isinstance(lengths, list) or not all(type(n) is int and n >= 0 for n in lengths)
            or sum(lengths) != n_buf):
        raise ProtocolError("buffer table does not match the frame")
    views, at, whole = [], 0, memoryview(blob)
    for n in lengths:
        views.append(whole[at:at + n])
        at += n
    return msg, views


# --- values ------------------------------------------------------------------------------------
def _np():
    import numpy

    return numpy


def _torch_if_loaded():
    return sys.modules.get("torch")


_NP_KINDS = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "float32", "float64", "complex64", "complex128")
_PT_KINDS = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
             "float64", "complex64", "complex128")


class Encoder:
    """Encode a value tree; arrays and tensors go to ``self.buffers``.

    ``strict=True`` (the grader) refuses objects it does not know; ``strict=False`` (the
    worker) turns them into ``{"$": "obj", "type": name}``.
    """

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.buffers: list[Any] = []
        self._nodes = 0

    def _buffer(self, data: Any) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def encode(self, value: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if depth > MAX_DEPTH or self._nodes > MAX_NODES:
            return self._other(value, "too deeply nested or too large")
        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) is int:
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if isinstance(value, Reference):
            if not self.strict:  # the worker names no objects to the grader
                return self._other(value, "a reference")
            return {"$": "ref", "id": int(value.wire_id())}
        np = sys.modules.get("numpy")
        torch = _torch_if_loaded()
        if torch is not None and isinstance(value, torch.Tensor):
            return self._tensor(value)
        if np is not None and isinstance(value, np.ndarray):
            return self._ndarray(value)
        if np is not None and isinstance(value, np.generic):
            return self._npscalar(value)
        if isinstance(value, int):  # an int subclass (IntEnum, ...): its value only
            return int(value)
        if isinstance(value, float):
            return self.encode(float(value), depth)
        if isinstance(value, complex):
            return {"$": "complex", "re": self.encode(float(value.real)), "im": self.encode(float(value.imag))}
        if torch is not None and isinstance(value, torch.Size):
            return {"$": "size", "v": [int(n) for n in value]}
        if isinstance(value, tuple):
            return {"$": "tuple", "v": [self.encode(v, depth + 1) for v in tuple.__iter__(value)]}
        if isinstance(value, list):
            return {"$": "list", "v": [self.encode(v, depth + 1) for v in list.__iter__(value)]}
        if isinstance(value, dict):
            return {"$": "dict", "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                           for k, v in dict.items(value)]}
        if isinstance(value, (set, frozenset)):
            return {"$": "set", "v": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, (bytes, bytearray)):
            return {"$": "bytes", "b": self._buffer(bytes(value))}
        if isinstance(value, slice):
            return {"$": "slice", "v": [self.encode(value.start, depth + 1), self.encode(value.stop, depth + 1),
                                        self.encode(value.step, depth + 1)]}
        if value is Ellipsis:
            return {"$": "ellipsis"}
        if torch is not None and isinstance(value, torch.dtype):
            return {"$": "pt_dtype", "v": str(value).replace("torch.", "")}
        if torch is not None and isinstance(value, torch.device):
            return {"$": "device", "v": str(value)}
        if np is not None and isinstance(value, np.dtype):
            return {"$": "np_dtype", "v": value.name}
        if isinstance(value, StudentObject):
            return {"$": "obj", "type": value.type_name}
        return self._other(value, "unsupported type")

    def _other(self, value: Any, why: str) -> Any:
        if self.strict:
            raise EncodeError(f"cannot send a {type(value).__name__} to the sandbox ({why})")
        return {"$": "obj", "type": type(value).__name__}

    def _ndarray(self, arr: Any) -> Any:
        np = _np()
        if type(arr) is not np.ndarray:
            arr = np.asarray(arr).view(np.ndarray)
        if arr.dtype.name not in _NP_KINDS or arr.ndim > MAX_DIMS:
            return self._other(arr, f"array of dtype {arr.dtype}")
        perm = _dim_order(arr.strides, arr.shape)
        native = arr.astype(arr.dtype.newbyteorder("="), copy=False)
        data = np.ascontiguousarray(np.transpose(native, perm))
        node = {"$": "nd", "dtype": arr.dtype.name, "shape": list(arr.shape), "b": self._buffer(data.tobytes())}
        if perm != list(range(arr.ndim)):
            node["perm"] = perm
        return node

    def _npscalar(self, value: Any) -> Any:
        np = _np()
        if value.dtype.name not in _NP_KINDS:
            return self._other(value, f"scalar of dtype {value.dtype}")
        return {"$": "np", "dtype": value.dtype.name, "b": self._buffer(np.asarray(value).tobytes())}

    def _tensor(self, t: Any) -> Any:
        torch = _torch_if_loaded()
        requires_grad = bool(t.requires_grad)
        try:
            with torch._C.DisableTorchFunctionSubclass():
                base = t.as_subclass(torch.Tensor) if type(t) is not torch.Tensor else t
                base = base.detach()
                on_cuda = base.device.type == "cuda"  # travels as a mark: the receiver puts it back there
                if base.layout != torch.strided:
                    base = base.to_dense()
                base = base.cpu().resolve_conj().resolve_neg()
                dtype = str(base.dtype).replace("torch.", "")
                if dtype not in _PT_KINDS or base.dim() > MAX_DIMS:
                    return self._other(t, f"tensor of dtype {dtype}")
                shape = [int(n) for n in base.shape]
                perm = _dim_order(base.stride(), shape)
                dense = base.permute(perm).contiguous()
                raw = dense.reshape(-1).view(torch.uint8).numpy().tobytes() if dense.numel() else b""
        except Exception:
            if self.strict:
                raise
            return {"$": "obj", "type": type(t).__name__}
        node = {"$": "pt", "dtype": dtype, "shape": shape, "rg": requires_grad, "b": self._buffer(raw)}
        if perm != list(range(len(shape))):
            node["perm"] = perm
        if on_cuda:
            node["dev"] = "cuda"
        return node


def _dim_order(strides: Any, shape: Any) -> list[int]:
    """Dimensions from the slowest to the fastest in memory: a transposed view travels as one.

    The receiver lays the data out densely in this order and permutes back, so a tensor that was
    a transpose of a contiguous one is again a (non-contiguous) transpose: code that calls
    ``.view`` after a ``.transpose`` behaves exactly as it would on the sender's tensor.
    """
    return sorted(range(len(shape)), key=lambda d: (-abs(int(strides[d])) if shape[d] > 1 else 0, d)) \
        if any(int(n) > 1 for n in shape) else list(range(len(shape)))


def _check_perm(node: dict, ndim: int) -> list[int] | None:
    perm = node.get("perm")
    if perm is None:
        return None
    if not isinstance(perm, list) or sorted(perm) != list(range(ndim)) or not all(type(p) is int for p in perm):
        raise ProtocolError("bad dimension order")
    return perm


def _inverse(perm: list[int]) -> list[int]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def encode(value: Any, *, strict: bool) -> tuple[Any, list[Any]]:
    enc = Encoder(strict=strict)
    return enc.encode(value), enc.buffers


class Decoder:
    """Rebuild values from a tagged tree: plain data, numpy arrays, torch tensors, stand-ins."""

    def __init__(self, buffers: list[memoryview], *, make_opaque: Callable[[str], Any] = opaque,
                 resolve_ref: Callable[[int], Any] | None = None) -> None:
        self.buffers = buffers
        self.make_opaque = make_opaque
        self.resolve_ref = resolve_ref  # the worker's: a grader's reference to one of its objects
        self._nodes = 0

    def _buf(self, index: Any) -> memoryview:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ProtocolError("bad buffer index")
        return self.buffers[index]

    def decode(self, node: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if depth > MAX_DEPTH + 2 or self._nodes > MAX_NODES * 2:
            raise ProtocolError("value too deeply nested or too large")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise ProtocolError("untagged container")
        tag = node.get("$")
        if tag == "tuple":
            return tuple(self.decode(v, depth + 1) for v in self._list(node, "v"))
        if tag == "list":
            return [self.decode(v, depth + 1) for v in self._list(node, "v")]
        if tag == "dict":
            out = {}
            for pair in self._list(node, "items"):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ProtocolError("bad dict item")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError:  # an unhashable key
                    raise ProtocolError("unhashable dict key") from None
            return out
        if tag == "set":
            try:
                return set(self.decode(v, depth + 1) for v in self._list(node, "v"))
            except TypeError:
                raise ProtocolError("unhashable set member") from None
        if tag == "float":
            v = node.get("v")
            if v not in ("nan", "inf", "-inf"):
                raise ProtocolError("bad float")
            return float(v)
        if tag == "complex":
            re, im = self.decode(node.get("re"), depth + 1), self.decode(node.get("im"), depth + 1)
            if not all(isinstance(x, (int, float)) for x in (re, im)):
                raise ProtocolError("bad complex")
            return complex(re, im)
        if tag == "nd":
            return self._ndarray(node)
        if tag == "np":
            np = _np()
            dtype = self._np_dtype(node.get("dtype"))
            raw = self._buf(node.get("b"))
            if len(raw) != dtype.itemsize:
                raise ProtocolError("bad scalar size")
            arr = np.frombuffer(raw, dtype=dtype)
            return (arr != 0)[0] if dtype == bool else arr[0]
        if tag == "pt":
            return self._tensor(node)
        if tag == "size":
            torch = _torch()
            return torch.Size([self._int(n) for n in self._list(node, "v")])
        if tag == "bytes":
            return bytes(self._buf(node.get("b")))
        if tag == "slice":
            parts = [self.decode(v, depth + 1) for v in self._list(node, "v")]
            if len(parts) != 3 or not all(p is None or type(p) is int for p in parts):
                raise ProtocolError("bad slice")
            return slice(*parts)
        if tag == "ellipsis":
            return Ellipsis
        if tag == "pt_dtype":
            name = node.get("v")
            if name not in _PT_KINDS:
                raise ProtocolError("bad torch dtype")
            return getattr(_torch(), name)
        if tag == "np_dtype":
            return self._np_dtype(node.get("v"))
        if tag == "device":
            v = node.get("v")
            if not isinstance(v, str) or len(v) > 32:
                raise ProtocolError("bad device")
            return _torch().device(v)
        if tag == "obj":
            return self.make_opaque(str(node.get("type", "object")))
        if tag == "ref":
            return self._ref(node)
        raise ProtocolError(f"unknown tag {str(tag)[:20]!r}")

    def _ref(self, node: dict) -> Any:
        ref = node.get("id")
        if self.resolve_ref is None or type(ref) is not int:
            raise ProtocolError("unexpected reference")
        try:
            return self.resolve_ref(ref)
        except (KeyError, TypeError, ValueError):
            raise ProtocolError("reference to an unknown object") from None

    @staticmethod
    def _list(node: dict, key: str) -> list:
        v = node.get(key)
        if not isinstance(v, list):
            raise ProtocolError("bad container")
        return v

    @staticmethod
    def _int(n: Any) -> int:
        if type(n) is not int or n < 0:
            raise ProtocolError("bad dimension")
        return n

    def _shape(self, node: dict) -> tuple[int, ...]:
        shape = tuple(self._int(n) for n in self._list(node, "shape"))
        if len(shape) > MAX_DIMS:
            raise ProtocolError("too many dimensions")
        return shape

    @staticmethod
    def _np_dtype(name: Any):
        if name not in _NP_KINDS:
            raise ProtocolError("dtype not allowed")
        return _np().dtype(name)

    def _ndarray(self, node: dict) -> Any:
        np = _np()
        dtype = self._np_dtype(node.get("dtype"))
        shape = self._shape(node)
        raw = self._buf(node.get("b"))
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise ProtocolError("array size does not match its shape")
        perm = _check_perm(node, len(shape))
        if dtype == bool:  # canonical booleans only: a byte 2 is True, nothing stranger
            flat = np.frombuffer(raw, dtype=np.uint8) != 0
        else:
            flat = np.frombuffer(raw, dtype=dtype).copy()
        if perm is None:
            return flat.reshape(shape)
        return flat.reshape([shape[d] for d in perm]).transpose(_inverse(perm))

    def _tensor(self, node: dict) -> Any:
        torch = _torch()
        name = node.get("dtype")
        if name not in _PT_KINDS:
            raise ProtocolError("dtype not allowed")
        dtype = getattr(torch, name)
        shape = self._shape(node)
        raw = self._buf(node.get("b"))
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise ProtocolError("tensor size does not match its shape")
        perm = _check_perm(node, len(shape))
        dense = shape if perm is None else tuple(shape[d] for d in perm)
        if not len(raw):
            t = torch.empty(dense, dtype=dtype)
        elif dtype == torch.bool:
            t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).ne(0).reshape(dense)
        else:
            t = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(dense)
        if perm is not None:
            t = t.permute(_inverse(perm))
        t = _placed(t, node.get("dev"))
        if node.get("rg") is True and (t.is_floating_point() or t.is_complex()):
            t.requires_grad_(True)
        return t


def _torch():
    import torch

    return torch


def _placed(t: Any, dev: Any) -> Any:
    """A tensor sent from a GPU goes back to one where this side has CUDA; elsewhere it stays on the CPU."""
    if dev is None:
        return t
    if dev != "cuda":
        raise ProtocolError("bad device")
    torch = _torch()
    return t.cuda() if torch.cuda.is_available() else t


def decode(node: Any, buffers: list[memoryview], **kwargs: Any) -> Any:
    return Decoder(buffers, **kwargs).decode(node)


def raw_bytes(value: Any) -> bytes | None:
    """The bytes of an array or tensor (to notice in-place changes); None for anything else."""
    np = sys.modules.get("numpy")
    torch = _torch_if_loaded()
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            with torch._C.DisableTorchFunctionSubclass():
                base = value.as_subclass(torch.Tensor).detach().cpu().contiguous()
                return base.reshape(-1).view(torch.uint8).numpy().tobytes() if base.numel() else b""
        if np is not None and isinstance(value, np.ndarray):
            return np.ascontiguousarray(value).tobytes()
    except Exception:
        return None
    return None
