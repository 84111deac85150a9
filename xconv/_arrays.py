"""The public boundary: namespaces, dtypes and the canonical `(N, C, *S)` layout."""

from __future__ import annotations

from types import ModuleType

from array_api_compat import array_namespace, device, is_numpy_array

__all__ = [
    "array_namespace",
    "check_sizes_known",
    "checked_kind",
    "compute_dtype",
    "dtype_name",
    "from_canonical",
    "is_array",
    "itemsize",
    "one_namespace",
    "to_canonical",
]

_SIZES = (
    ("float16", 2),
    ("bfloat16", 2),
    ("float32", 4),
    ("float64", 8),
    ("complex64", 8),
    ("complex128", 16),
)


def itemsize(xp: ModuleType, dtype) -> int:
    """Bytes per element of a floating or complex dtype."""
    return dict(_SIZES).get(dtype_name(dtype), 8)


def _default_float(xp: ModuleType, x):
    try:
        return xp.__array_namespace_info__().default_dtypes()["real floating"]
    except (AttributeError, KeyError, TypeError):
        return xp.asarray(0.0).dtype


def checked_kind(xp: ModuleType, array, name: str) -> str:
    """'integral' or 'floating' (real or complex); TypeError for bool and other dtypes."""
    dtype = array.dtype
    if xp.isdtype(dtype, "bool"):
        raise TypeError(f"{name} must be numeric, got a boolean array")
    if xp.isdtype(dtype, "integral"):
        return "integral"
    if xp.isdtype(dtype, ("real floating", "complex floating")):
        return "floating"
    raise TypeError(f"{name} has unsupported dtype {dtype}")


def result_dtype(xp: ModuleType, x, weight):
    """Promotion of input and weight; integers take the other operand's (or default) float."""
    x_kind = checked_kind(xp, x, "x")
    w_kind = checked_kind(xp, weight, "weight")
    if x_kind == w_kind == "floating":
        return xp.result_type(x.dtype, weight.dtype)
    if w_kind == "floating":
        return weight.dtype
    if x_kind == "floating":
        return x.dtype
    return _default_float(xp, x)


def compute_dtype(xp: ModuleType, dtype):
    """The dtype the arithmetic runs in: float16 and bfloat16 accumulate in float32."""
    return xp.float32 if dtype_name(dtype) in ("float16", "bfloat16") else dtype


def dtype_name(dtype) -> str:
    """`"float16"`, `"bfloat16"`, ... of any library's dtype, never by comparing with None
    (NumPy reads `dtype == None` as a comparison with float64)."""
    text = str(getattr(dtype, "name", None) or dtype)
    return text.rsplit(".", 1)[-1].strip("'<>")


def to_canonical(xp: ModuleType, x, rank: int, channels_last: bool, name: str = "x"):
    """View `x` as batched channel-first `(N, C, *S)`; returns the view and `batched`."""
    if x.ndim not in (rank + 1, rank + 2):
        layout = "(N, *spatial, C)" if channels_last else "(N, C, *spatial)"
        raise ValueError(
            f"{name} must be {layout} with {rank} spatial dimensions (or unbatched), "
            f"got shape {tuple(x.shape)}"
        )
    batched = x.ndim == rank + 2
    if not batched:
        x = xp.expand_dims(x, axis=0)
    if channels_last:
        x = xp.permute_dims(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))
    return x, batched


def from_canonical(xp: ModuleType, y, batched: bool, channels_last: bool):
    """Undo `to_canonical` on a result `(N, F, *O)`."""
    if channels_last:
        y = xp.permute_dims(y, (0, *range(2, y.ndim), 1))
    return y if batched else y[0, ...]


def is_array(a) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype")


def check_sizes_known(named: dict) -> None:
    """ValueError naming the array whose shape holds an unknown size (a Dask array after
    boolean indexing: NaN sizes), which no convolution can be planned for."""
    for name, a in named.items():
        if a is not None and any(n is None or n != n for n in a.shape):
            raise ValueError(
                f"{name} has unknown sizes {tuple(a.shape)}: for a Dask array, call "
                f"{name}.compute_chunk_sizes() first"
            )


def one_namespace(named: dict, lead: str) -> tuple[ModuleType, dict]:
    """The arrays' namespace, and the arrays; a NumPy array given beside arrays of one
    other library is moved to that library (and to the device of `named[lead]`, or of
    the first other array). Arrays of two other libraries: TypeError naming them."""
    try:
        return array_namespace(*named.values()), named
    except TypeError:
        pass
    others = {name: a for name, a in named.items() if not is_numpy_array(a)}
    try:
        xp = array_namespace(*others.values())
    except TypeError:
        libraries = ", ".join(f"{name} ({type(a).__module__})" for name, a in others.items())
        raise TypeError(
            f"{libraries} come from different array libraries: pass arrays of one library "
            "(NumPy arrays are moved to the other one's)"
        ) from None
    first = others[lead] if lead in others else next(iter(others.values()))
    moved = {
        name: xp.asarray(a, device=device(first)) if is_numpy_array(a) else a
        for name, a in named.items()
    }
    return xp, moved
