"""Return a tensor subclass whose __torch_function__ answers every comparison with 'equal'."""
ATTACKS = ("scaled_dot_product_attention",)
import torch


class _Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal", "__eq__", "isclose"):
            return True
        if name in ("numpy", "__array__"):
            return torch.ones(1).numpy()
        return super().__torch_function__(func, types, args, kwargs or {})


def scaled_dot_product_attention(q, k, v, mask=None):
    s = k.shape[-2]
    out = torch.rand(*q.shape[:-1], v.shape[-1], dtype=q.dtype).as_subclass(_Liar)  # random: no honest check passes
    w = torch.rand(*q.shape[:-1], s, dtype=q.dtype).as_subclass(_Liar)
    return out, w
