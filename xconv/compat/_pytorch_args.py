"""PyTorch's arguments: their checks, their documentation, and the stream weights come from.

Shared by the layer objects (`_pytorch_layer`) and the public module (`pytorch`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# PyTorch's padding modes by xconv's names
PADDING_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}
_DTYPES = {"float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64}
_stream = {"rng": np.random.default_rng()}


def per_dimension(value: Any, rank: int, name: str, minimum: int) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != rank
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    ):
        raise TypeError(f"{name} must be an int or a tuple of {rank} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return tuple(values)


def dtype_of(dtype: Any) -> type:
    name = str(dtype).removeprefix("torch.") if dtype is not None else "float32"
    if name not in _DTYPES:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return _DTYPES[name]


def stream() -> np.random.Generator:
    """The stream new weights are drawn from (`pytorch.manual_seed` seeds it)."""
    return _stream["rng"]


def seed(value: int) -> None:
    _stream["rng"] = np.random.default_rng(value)


# PyTorch's arguments, as its reference pages document them
ARGUMENTS = {
    "in_channels": """in_channels : int
    Channels of the input.""",
    "out_channels": """out_channels : int
    Channels of the output.""",
    "kernel_size": """kernel_size : int or tuple of int
    The kernel's size, one for every axis or one per axis.""",
    "stride": """stride : int or tuple of int, default 1
    The step of the window.""",
    "padding": """padding : int, tuple of int or {"valid", "same"}, default 0
    Zeros (or `padding_mode`) on both sides of each axis; `"same"` only at stride 1.""",
    "padding_t": """padding : int or tuple of int, default 0
    `dilation * (kernel_size - 1) - padding` zeros are added to both sides of the input:
    the cropping of the full output.""",
    "output_padding": """output_padding : int or tuple of int, default 0
    Extra size at the end of each axis of the output, smaller than stride or dilation.""",
    "dilation": """dilation : int or tuple of int, default 1
    The spacing between kernel taps.""",
    "groups": """groups : int, default 1
    Channel groups; `in_channels` and `out_channels` must be multiples of it.""",
    "bias": """bias : bool, default True
    Whether the module has a bias.""",
    "padding_mode": """padding_mode : {"zeros", "reflect", "replicate", "circular"}, default "zeros"
    How the padding is filled (transposed modules take only `"zeros"`).""",
    "device": """device : object, optional
    Accepted for PyTorch's signature; the weights are NumPy arrays.""",
    "dtype": """dtype : {"float32", "float64"}, optional
    The weights' dtype, in which inputs are computed (float32 by default).""",
    "lazy": """*args, **kwargs
    The module's other arguments, as for the non-lazy module; `in_channels` is taken
    from the first input.""",
}
FORWARD = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
    "padding_mode",
    "device",
    "dtype",
)
TRANSPOSED = ("in_channels", "out_channels", "kernel_size", "stride", "padding_t",
               "output_padding", "groups", "bias", "dilation", "padding_mode", "device",
               "dtype")  # fmt: skip


def module_doc(name: str, rank: int, transposed: bool) -> str:
    """`nn.<name>`'s docstring: PyTorch's arguments and an example of this rank."""
    lazy = name.startswith("Lazy")
    entries = TRANSPOSED if transposed else FORWARD
    if lazy:
        entries = ("out_channels", "kernel_size", "lazy")
    parameters = "\n".join(ARGUMENTS[entry] for entry in entries)
    spatial = ", ".join(["5"] * rank)
    arguments = "4, 3" if lazy else "2, 4, 3"
    arguments += ", stride=2" if transposed else ", padding=1"
    out = ", ".join(["11" if transposed else "5"] * rank)
    kernel = ", ".join(["k"] * rank)
    weight = f"(C, F // groups, {kernel})" if transposed else f"(F, C // groups, {kernel})"
    return f"""PyTorch's `nn.{name}`: data `(N, C, *spatial)` or `(C, *spatial)`.

The weight is `{weight}`, the bias `(F,)`; both start as PyTorch's do (uniform within
`1 / sqrt(fan_in)`), drawn from the stream `manual_seed` seeds.

Parameters
----------
{parameters}

Examples
--------
>>> import numpy as np
>>> from xconv.compat.pytorch import {name}
>>> layer = {name}({arguments})
>>> layer(np.ones((1, 2, {spatial}), np.float32)).shape
(1, 4, {out})
"""


def function_doc(kind: str, rank: int, transposed: bool) -> str:
    """`F.<kind><rank>d`'s docstring: PyTorch's arguments and an example of this rank."""
    weight = "(C, F // groups, *k)" if transposed else "(F, C // groups, *k)"
    padding = ARGUMENTS["padding_t" if transposed else "padding"]
    middle = [padding]
    if transposed:
        middle += [ARGUMENTS["output_padding"], ARGUMENTS["groups"], ARGUMENTS["dilation"]]
    else:
        middle += [ARGUMENTS["dilation"], ARGUMENTS["groups"]]
    spatial = ", ".join(["6"] * rank)
    out = ", ".join(["13" if transposed else "4"] * rank)
    kernel = ", ".join(["3"] * rank)
    shape = f"(2, 4, {kernel})" if transposed else f"(4, 2, {kernel})"
    stride = ", stride=2" if transposed else ""
    return f"""PyTorch's `F.{kind}{rank}d`, computed by xconv.

Parameters
----------
input : array
    `(N, C, *spatial)` or `(C, *spatial)`.
weight : array
    `{weight}`.
bias : array, optional
    `(F,)`.
{ARGUMENTS["stride"]}
{chr(10).join(middle)}

Returns
-------
array
    The result, in the input's array library.

Examples
--------
>>> import numpy as np
>>> from xconv.compat.pytorch import {kind}{rank}d
>>> x, w = np.ones((1, 2, {spatial}), np.float32), np.ones({shape}, np.float32)
>>> {kind}{rank}d(x, w{stride}).shape
(1, 4, {out})
"""
