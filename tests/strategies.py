"""Hypothesis strategies for valid convolution problems.

Everything is generated small (spatial sizes <= 9, channels <= 6) so that the loop oracle
in ``reference.py`` stays fast.  A problem is valid by construction: pads respect the
padding mode's limits and the dilated kernel always fits the padded input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from reference import PADDING_MODES, effective_extent, string_padding_pair

FLOAT_DTYPES = ("float16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
ALL_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES
PADDING_KINDS = ("int", "per_dim", "pairs", "valid", "same", "same_lower", "full", "causal")

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
EXAMPLE_SCALE = int(os.environ.get("XCONV_EXAMPLE_SCALE", "10" if _PROFILE == "explore" else "1"))


def examples(n: int) -> int:
    """``n`` examples under the default profile, more under ``explore``."""
    return n * EXAMPLE_SCALE


def result_dtype(x_dtype: str, w_dtype: str) -> str:
    """Promotion of two floating dtypes (the array API / NumPy table, float16 included)."""
    bits = {"float16": 16, "float32": 32, "float64": 64, "complex64": 32, "complex128": 64}
    is_complex = x_dtype.startswith("complex") or w_dtype.startswith("complex")
    b = max(bits[x_dtype], bits[w_dtype])
    if is_complex:
        return "complex64" if b <= 32 else "complex128"
    return f"float{b}"


def mode_limit(mode: str, n: int) -> int:
    """Largest pad per side that ``mode`` allows on an axis of size ``n``."""
    if mode == "reflect":
        return n - 1
    if mode in ("symmetric", "circular"):
        return n
    return 10**9


def random_array(rng: np.random.Generator, shape, dtype: str, integer_valued: bool):
    """Values in [-1, 1] (or small integers), complex with both parts non-zero."""

    def real():
        if integer_valued:
            return rng.integers(-3, 4, size=shape).astype(np.float64)
        return rng.uniform(-1.0, 1.0, size=shape)

    a = real() + 1j * real() if dtype.startswith("complex") else real()
    return np.asarray(a).astype(dtype)


@dataclass
class ConvProblem:
    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    x_dtype: str = "float64"
    w_dtype: str = "float64"

    @property
    def out_dtype(self) -> str:
        return result_dtype(self.x_dtype, self.w_dtype)

    def __repr__(self) -> str:
        b = None if self.bias is None else self.bias.shape
        return (
            f"ConvProblem(x={self.x.shape}:{self.x_dtype}, weight={self.weight.shape}:"
            f"{self.w_dtype}, bias={b}, kwargs={self.kwargs!r})"
        )


@st.composite
def conv_problems(
    draw,
    dtypes: tuple[str, ...] = ALL_DTYPES,
    ranks: tuple[int, ...] = (1, 2, 3),
    allow_mixed_dtypes: bool = True,
    padding_modes: tuple[str, ...] = PADDING_MODES,
    padding_kinds: tuple[str, ...] = PADDING_KINDS,
    channels_last: bool | None = None,
    batched: bool | None = None,
    max_size: int | None = None,
):
    """A valid ``xconv.conv`` problem: arrays (NumPy) plus keyword arguments.

    ``max_size`` overrides the largest spatial input size (9, or 5 for 3-D).
    """
    rank = draw(st.sampled_from(ranks))
    small = rank >= 3  # keep 3-D problems small enough for the loop oracle
    max_k, max_d, max_n = (2, 2, 5) if small else (3, 3, 9)
    if max_size is not None:
        max_n = max_size

    # channels and groups: C = groups * cpg, F = groups * fpg
    layout = draw(st.sampled_from(["plain", "grouped", "depthwise"]))
    if layout == "plain":
        groups = 1
        cpg = draw(st.integers(1, 4))
        fpg = draw(st.integers(1, 4))
    elif layout == "grouped":
        groups = draw(st.integers(2, 3))
        cpg = draw(st.integers(1, 6 // groups))
        fpg = draw(st.integers(1, 6 // groups))
    else:  # depthwise, with a depth multiplier
        groups = draw(st.integers(1, 4))
        cpg = 1
        fpg = draw(st.integers(1, 6 // groups))
    c_in, f_out = groups * cpg, groups * fpg

    kernel = tuple(draw(st.integers(1, max_k)) for _ in range(rank))
    dilation = tuple(draw(st.sampled_from([1, 1, 2, max_d])) for _ in range(rank))
    stride = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(rank))
    mode = draw(st.sampled_from(padding_modes))
    kind = draw(st.sampled_from(padding_kinds))

    # explicit pads are drawn first, then sizes that make them valid
    max_pad = 3 if not small else 2
    if kind == "int":
        p = draw(st.integers(0, max_pad))
        pairs = [(p, p)] * rank
        padding: Any = p
    elif kind == "per_dim":
        ps = [draw(st.integers(0, max_pad)) for _ in range(rank)]
        pairs = [(p, p) for p in ps]
        padding = tuple(ps)
    elif kind == "pairs":
        pairs = [
            (draw(st.integers(0, max_pad)), draw(st.integers(0, max_pad))) for _ in range(rank)
        ]
        padding = tuple(pairs)
    else:
        pairs = None
        padding = kind

    sizes = []
    for i in range(rank):
        ext = effective_extent(kernel[i], dilation[i])
        valid_sizes = []
        for n in range(1, max_n + 1):
            if pairs is not None:
                b, a = pairs[i]
            else:
                b, a = string_padding_pair(kind, n, kernel[i], stride[i], dilation[i])
            if max(b, a) <= mode_limit(mode, n) and n + b + a >= ext:
                valid_sizes.append(n)
        assert valid_sizes, (kind, mode, kernel, dilation, stride)  # true by construction
        sizes.append(draw(st.sampled_from(valid_sizes)))

    # present per-dim values sometimes as a single int, sometimes as a tuple
    def maybe_scalar(values):
        if len(set(values)) == 1 and draw(st.booleans()):
            return values[0]
        return values

    is_batched = draw(st.booleans()) if batched is None else batched
    n_batch = draw(st.integers(1, 2))
    cl = draw(st.booleans()) if channels_last is None else channels_last

    x_dtype = draw(st.sampled_from(dtypes))
    if allow_mixed_dtypes and draw(st.integers(0, 4)) == 0:
        w_dtype = draw(st.sampled_from(dtypes))
    else:
        w_dtype = x_dtype
    out_dtype = result_dtype(x_dtype, w_dtype)
    use_bias = draw(st.booleans())
    padding_value = draw(st.sampled_from([0.0, 0.0, 1.5, -2.0, 0.25]))
    integer_valued = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    cf_shape = (n_batch, c_in, *sizes)
    x = random_array(rng, cf_shape, x_dtype, integer_valued)
    if cl:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    if not is_batched:
        x = x[0]
    weight = random_array(rng, (f_out, cpg, *kernel), w_dtype, integer_valued)
    bias = random_array(rng, (f_out,), out_dtype, integer_valued) if use_bias else None

    kwargs: dict[str, Any] = {
        "stride": maybe_scalar(stride),
        "padding": padding,
        "dilation": maybe_scalar(dilation),
        "groups": groups,
        "padding_mode": mode,
        "padding_value": padding_value,
        "channels_last": cl,
    }
    return ConvProblem(x, weight, bias, kwargs, x_dtype, w_dtype)
