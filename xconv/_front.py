"""The front door: one place that checks the arguments of every public operation.

`check_call` turns the arguments of `conv`, `conv_transpose`, `conv_vjp` and
`conv_transpose_vjp` into a `Call`: the namespace and its backend, the `ConvSpec`, the
canonical `(N, C, *S)` views, the result and compute dtypes, and the padding (or
cropping) resolved once for this input. Everything after it (a backend's delegate, the
plan, the algorithms) reads the `Call` and never re-checks or re-resolves.

The checks run in one order for every operation, so that of several mistakes the same
one is reported first: namespace, algorithm, weight and spec, input rank, channels,
bias, dtypes, padding value, padding widths, output gradient.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from dataclasses import dataclass, field
from types import ModuleType

from ._arrays import (
    check_sizes_known,
    checked_kind,
    compute_dtype,
    from_canonical,
    is_array,
    one_namespace,
    result_dtype,
    to_canonical,
)
from .backends import Backend, backend_for
from .config import check_algorithm, get_default_algorithm
from .padding import check_padding_widths
from .spec import ConvSpec

Pair = tuple[int, int]

_WEIGHT_LAYOUT = {False: "(F, C // groups, *kernel)", True: "(C, F // groups, *kernel)"}


@dataclass(frozen=True)
class Call:
    """One checked call of a public operation, in canonical form.

    `x` (and `grad`) are batched channel-first views in their own dtypes; `padding` is
    the resolved `(before, after)` padding of a forward spec or cropping of a transposed
    one; `out_spatial` the output's spatial size; `algorithm` the user's choice with
    "auto" already replaced by the context's default (`xconv.default_algorithm`).
    """

    operation: str
    xp: ModuleType
    backend: Backend
    spec: ConvSpec
    x: object
    weight: object
    bias: object
    grad: object
    batched: bool
    dtype: object
    work: object
    padding: tuple[Pair, ...]
    out_spatial: tuple[int, ...]
    algorithm: str
    user_x: object  # x as the caller gave it (after moving a NumPy array to x's library)
    plan: object = field(default=None, compare=False)  # the Plan, once made for this call

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.x.shape[2:])

    def in_work_dtype(self, array):
        """`array` in the compute dtype (float16 computes in float32)."""
        return None if array is None else self.xp.astype(array, self.work, copy=False)

    def finish(self, y):
        """A canonical `(N, F, *O)` result in the caller's dtype, batching and layout."""
        y = self.xp.astype(y, self.dtype, copy=False)
        return from_canonical(self.xp, y, self.batched, self.spec.channels_last)

    def finish_gradients(self, grad_x, grad_w, grad):
        """`(grad_input, grad_weight, grad_bias)` in the result dtype, the input's layout,
        from canonical gradients and the canonical output gradient `grad`."""
        xp = self.xp
        grad_b = xp.sum(grad, axis=(0, *range(2, grad.ndim)))
        return (
            self.finish(grad_x),
            xp.astype(grad_w, self.dtype, copy=False),
            xp.astype(grad_b, self.dtype, copy=False),
        )

    def with_arrays(self, x, weight, bias, grad_output=None):
        """This call on other arrays of the same shapes and dtypes (a library's traced
        values inside its autograd, a call repeated in a loop), with the same plan."""
        rank, last = self.spec.rank, self.spec.channels_last
        canonical, _ = to_canonical(self.xp, x, rank, last)
        grad = None
        if grad_output is not None:
            grad, _ = to_canonical(self.xp, grad_output, rank, last, "grad_output")
        return dataclasses.replace(self, x=canonical, weight=weight, bias=bias, grad=grad, user_x=x)

    def gradient_call(self, grad_output) -> Call:
        """The checked call of this operation's VJP at `grad_output` (no plan yet)."""
        return check_call(
            f"{self.operation}_vjp",
            self.user_x,
            self.weight,
            grad_output=grad_output,
            algorithm=self.algorithm,
            spec=self.spec,
        )

    def add_bias(self, y):
        """`y + bias` over the channel axis of a canonical result (in the compute dtype)."""
        if self.bias is None:
            return y
        bias = self.xp.astype(self.bias, self.work, copy=False)
        return y + self.xp.reshape(bias, (1, -1) + (1,) * self.spec.rank)


def check_call(
    operation: str,
    x,
    weight,
    *,
    bias=None,
    grad_output=None,
    algorithm: object = "auto",
    spec: ConvSpec | None = None,
    **options,
) -> Call:
    """Check the arguments of `operation` (`"conv"`, `"conv_transpose"`, `"conv_vjp"` or
    `"conv_transpose_vjp"`) and return them as a `Call`.

    `options` are the keywords of the `ConvSpec` (stride, padding, ...); a ready `spec`
    may be passed instead.
    """
    transposed = operation in ("conv_transpose", "conv_transpose_vjp")
    gradient = operation.endswith("_vjp")
    named = {"grad_output": grad_output} if gradient else {}
    named.update(x=x, weight=weight, bias=bias)
    for name, array in named.items():
        if not ((array is None and name == "bias") or is_array(array)):
            raise TypeError(f"{name} must be an array, got {type(array).__name__}")
    check_sizes_known(named)
    xp, moved = one_namespace({k: a for k, a in named.items() if a is not None}, lead="x")
    named = {**named, **moved}
    x, weight, bias = named["x"], named["weight"], named["bias"]
    grad_output = named.get("grad_output")
    check_algorithm(algorithm)
    if algorithm == "auto":
        algorithm = get_default_algorithm()
    spec = _spec(weight, transposed, spec, options)
    user_x = x
    x, batched = to_canonical(xp, x, spec.rank, spec.channels_last)
    _check_channels(x.shape[1], weight.shape, spec)
    _check_bias(xp, bias, spec.out_channels)
    dtype = result_dtype(xp, x, weight)
    if bias is not None and _complex(xp, bias.dtype) and not _complex(xp, dtype):
        raise TypeError(f"bias is complex ({bias.dtype}) but the result dtype {dtype} is real")
    if not transposed:
        _check_padding_value(xp, spec.padding_value, dtype, spec.padding_mode)
    spatial = tuple(x.shape[2:])
    padding = spec.resolve_padding(spatial)
    if not transposed:
        check_padding_widths(spatial, padding, spec.padding_mode)
    out_spatial = spec.output_spatial(spatial, padding)
    _check_output_size(x.shape[0] * spec.out_channels, out_spatial, spec)
    grad = None
    if gradient:
        expected = _user_shape((x.shape[0], spec.out_channels, *out_spatial), batched, spec)
        grad = _checked_grad_output(xp, grad_output, expected, spec, dtype)
    return Call(
        operation,
        xp,
        backend_for(xp),
        spec,
        x,
        weight,
        bias,
        grad,
        batched,
        dtype,
        compute_dtype(xp, dtype),
        padding,
        out_spatial,
        algorithm,
        user_x,
    )


def _spec(weight, transposed: bool, spec: ConvSpec | None, options: dict) -> ConvSpec:
    shape = getattr(weight, "shape", None)
    if shape is None or len(shape) < 3:
        raise ValueError(
            f"weight must be an array of shape {_WEIGHT_LAYOUT[transposed]} with at least "
            f"one spatial dimension, got shape {shape}"
        )
    if spec is None:
        key = options_key(options)
        if key is None:  # a list or another unhashable or unusual value: checked afresh
            return ConvSpec.from_weight_shape(tuple(shape), transposed=transposed, **options)
        return _spec_of(tuple(shape), transposed, key)
    if spec.transposed != transposed:
        kind = "a transposed" if spec.transposed else "a forward"
        raise TypeError(f"spec is {kind} ConvSpec, which this operation does not run")
    return spec.with_weight_shape(tuple(shape))


# the same keywords and weight shape give the same spec: a layer called in a loop checks
# them once (a spec is immutable; values of other types than these are checked afresh)
_KEYED = (int, float, str, bool, type(None))


def options_key(options: dict) -> tuple | None:
    """`options` as a hashable key that tells 1, 1.0 and True apart, or None."""

    def key(value):
        if type(value) in _KEYED:
            return (type(value), value)
        if type(value) is tuple:
            inner = tuple(key(v) for v in value)
            return None if None in inner else inner
        return None

    items = tuple((name, key(value)) for name, value in options.items())
    return None if any(k is None for _, k in items) else items


@functools.lru_cache(maxsize=256)
def _spec_of(shape: tuple, transposed: bool, key: tuple) -> ConvSpec:
    options = {name: _value(k) for name, k in key}
    return ConvSpec.from_weight_shape(shape, transposed=transposed, **options)


def _value(key):
    """The value an `options_key` entry was made from."""
    if len(key) == 2 and type(key[0]) is type:
        return key[1]
    return tuple(_value(k) for k in key)


def _check_channels(channels: int, weight_shape, spec: ConvSpec) -> None:
    if channels != spec.in_channels:
        per_group = weight_shape[0 if spec.transposed else 1]
        per_group = per_group // spec.groups if spec.transposed else per_group
        raise ValueError(
            f"x has {channels} channels but weight of shape {tuple(weight_shape)} "
            f"{_WEIGHT_LAYOUT[spec.transposed]} with groups={spec.groups} expects "
            f"{spec.in_channels} ({per_group} per group x {spec.groups} groups)"
        )


def _check_bias(xp: ModuleType, bias, filters: int) -> None:
    if bias is None:
        return
    checked_kind(xp, bias, "bias")
    if tuple(bias.shape) != (filters,):
        raise ValueError(
            f"bias must have shape ({filters},), one value per output channel, "
            f"got shape {tuple(bias.shape)}"
        )


def _is_complex_number(value) -> bool:
    return isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)


def _check_padding_value(xp: ModuleType, value, dtype, mode: str) -> None:
    if mode == "constant" and _is_complex_number(value) and not _complex(xp, dtype):
        raise TypeError(f"padding_value {value!r} is complex but the result dtype {dtype} is real")


def _complex(xp: ModuleType, dtype) -> bool:
    return xp.isdtype(dtype, "complex floating")


# no array library indexes more elements than this (2**48: 256 Ti elements)
MAX_ELEMENTS = 2**48


def _check_output_size(leading: int, out_spatial: tuple[int, ...], spec: ConvSpec) -> None:
    count = leading * math.prod(out_spatial)
    if count > MAX_ELEMENTS:
        kind = "transposed convolution" if spec.transposed else "convolution"
        raise ValueError(
            f"the {kind} would have {count:.3g} output elements (spatial size "
            f"{out_spatial}, stride {spec.stride}): more than any array can hold"
        )


def _user_shape(shape: tuple, batched: bool, spec: ConvSpec) -> tuple:
    """A canonical `(N, C, *S)` shape in the caller's layout and batching."""
    if spec.channels_last:
        shape = (shape[0], *shape[2:], shape[1])
    return shape if batched else shape[1:]


def _checked_grad_output(xp: ModuleType, grad_output, expected: tuple, spec: ConvSpec, dtype):
    """`grad_output` checked against the forward output shape, as a canonical view."""
    if not hasattr(grad_output, "shape"):
        raise TypeError(f"grad_output must be an array, got {type(grad_output).__name__}")
    if tuple(grad_output.shape) != tuple(expected):
        raise ValueError(
            f"grad_output has shape {tuple(grad_output.shape)} but the output of the "
            f"{'transposed ' if spec.transposed else ''}convolution has shape {tuple(expected)}"
        )
    if (
        checked_kind(xp, grad_output, "grad_output") == "floating"
        and _complex(xp, grad_output.dtype)
        and not _complex(xp, dtype)
    ):
        raise TypeError(
            f"grad_output is complex ({grad_output.dtype}) but the result dtype {dtype} is real"
        )
    grad, _ = to_canonical(xp, grad_output, spec.rank, spec.channels_last, "grad_output")
    return grad
