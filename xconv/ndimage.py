"""SciPy's `scipy.ndimage` convolutions, with ndimage's semantics, on any array-API array.

`correlate`, `convolve`, `correlate1d` and `convolve1d` take ndimage's arguments and
give its results, computed by `xconv.conv` through the planner (the FFT path for large
kernels) and returned in the caller's array type:

- the output has the input's shape; `weights` is centred on each sample (`size // 2`),
  shifted by `origin` (positive: towards the start), as in ndimage;
- modes: `"reflect"` (= `"grid-mirror"`, half-sample symmetric: xconv's `"symmetric"`),
  `"mirror"` (whole-sample: xconv's `"reflect"`), `"nearest"` (`"replicate"`), `"wrap"`
  (= `"grid-wrap"`, `"circular"`) and `"constant"` (= `"grid-constant"`, filled with
  `cval`); the extension repeats as far as a kernel larger than the input needs;
- `output`: None (the input's dtype, as ndimage), a dtype, or a NumPy array written in
  place; integer outputs take the float result as ndimage's C loops store it (toward
  zero, wrapped as x86-64's cast wraps); complex data promote a real output dtype with
  ndimage's warning;
- zero weights are left out of the sums, as ndimage does: a NaN or infinity under a
  zero weight does not reach the output;
- ndimage's exception types and messages (`ArgumentError` is both the `RuntimeError`
  ndimage raises and the `ValueError` dask-image raises); NumPy weights beside Dask,
  torch or JAX data move to the data's library;
- `axes` filters over some axes only (the weights have that many dimensions);
- complex weights are conjugated by `correlate`, as ndimage does, not by `convolve`.

>>> import numpy as np
>>> from xconv import ndimage
>>> ndimage.convolve1d(np.array([2, 8, 0, 4, 1, 9, 9, 0]), np.array([1, 3]))
array([14, 24,  4, 13, 12, 36, 27,  0])
"""

from __future__ import annotations

import cmath
import math
import operator
import warnings
from collections.abc import Iterable

import numpy as np

from ._arrays import is_array
from ._docstrings import entries, filled
from ._scipy_common import (
    at_hand,
    correlate_axes,
    dtype_name,
    extend,
    finite,
    is_extended,
    operands,
    pad_constant,
    to_integer,
)
from .spec import is_int

# ndimage's mode names -> xconv's padding modes
MODES = {
    "reflect": "symmetric",
    "grid-mirror": "symmetric",
    "mirror": "reflect",
    "nearest": "replicate",
    "wrap": "circular",
    "grid-wrap": "circular",
    "constant": "constant",
    "grid-constant": "constant",
}


_FIELDS = entries(
    {
        "input": """input : array
    The data, of any array library (NumPy, CuPy, PyTorch, JAX, Dask, array-api-strict).""",
        "weights": """weights : array
    The kernel, with as many dimensions as `input` (or as `axes`); a NumPy array beside
    another library's `input` is moved to it. Zero weights are left out of the sums, as
    ndimage leaves them, so a NaN under a zero weight stays out.""",
        "weights1d": """weights : array
    The 1-D kernel.""",
        "output": """output : array or dtype, optional
    Where or in which dtype to store the result (default: the input's dtype); integer
    outputs are stored as ndimage's C cast stores them, wrapping and all. An array must
    be a NumPy array of the result's shape.""",
        "mode": """mode : str or sequence of str, default "reflect"
    The extension past the edges, ndimage's names: `"reflect"` (mirror with the edge
    sample), `"mirror"` (without it), `"nearest"`, `"wrap"`, `"constant"` (`cval`) and
    the `"grid-*"` names; one per axis or one for all. Extended as far as a kernel
    larger than the input needs.""",
        "cval": """cval : scalar, default 0.0
    The value of `"constant"` padding.""",
        "origin": """origin : int or sequence of int, default 0
    Shifts the kernel's centre, per axis or for all.""",
        "axes": """axes : int or sequence of int, optional
    The axes to filter (default: all); `weights` has one dimension per axis.""",
        "axis": """axis : int, default -1
    The axis to filter.""",
        "returns": """array
    The result, in `input`'s array library, or `output` when it is an array.""",
        "raises": """ArgumentError
    Where ndimage raises RuntimeError (dask-image ValueError): an empty or ill-shaped
    kernel, an origin outside it.
ValueError, TypeError
    ndimage's errors for ndimage's cases, with its messages.""",
    }
)


class ArgumentError(RuntimeError, ValueError):
    """A bad argument, where ndimage and dask-image disagree on the exception.

    ndimage raises RuntimeError for these, Python's convention (and dask-image)
    ValueError; this is both, so either `except` catches it.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import ndimage
    >>> try:
    ...     ndimage.correlate1d(np.ones(5), np.ones((2, 2)))
    ... except RuntimeError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    ArgumentError True
    """


@filled(_FIELDS)
def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional correlation, as `scipy.ndimage.correlate`.

    Parameters
    ----------
    {input}
    {weights}
    {output}
    {mode}
    {cval}
    {origin}
    {axes}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import ndimage
    >>> ndimage.correlate(np.arange(9.0).reshape(3, 3), np.ones((2, 2)), mode="nearest")
    array([[ 0.,  2.,  6.],
           [ 6.,  8., 12.],
           [18., 20., 24.]])
    """
    return _filter(input, weights, output, mode, cval, origin, axes, flip=False)


@filled(_FIELDS)
def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional convolution, as `scipy.ndimage.convolve`.

    The correlation with the weights reversed, the centre of an even kernel moving with
    them.

    Parameters
    ----------
    {input}
    {weights}
    {output}
    {mode}
    {cval}
    {origin}
    {axes}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import ndimage
    >>> a = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [0, 0, 0, 7], [9, 3, 0, 0]])
    >>> ndimage.convolve(a, np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]]), mode="constant")
    array([[11, 10,  7,  4],
           [10,  3, 11, 11],
           [15, 12, 14,  7],
           [12,  3,  7,  0]])
    """
    return _filter(input, weights, output, mode, cval, origin, axes, flip=True)


@filled(_FIELDS)
def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional correlation along `axis`, as `scipy.ndimage.correlate1d`.

    Parameters
    ----------
    {input}
    {weights1d}
    {axis}
    {output}
    {mode}
    {cval}
    origin : int, default 0
        Shifts the kernel's centre.

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import ndimage
    >>> ndimage.correlate1d(np.array([2, 8, 0, 4, 1, 9, 9, 0]), np.array([1, 3]))
    array([ 8, 26,  8, 12,  7, 28, 36,  9])
    """
    return _filter1d(input, weights, axis, output, mode, cval, origin, flip=False)


@filled(_FIELDS)
def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional convolution along `axis`, as `scipy.ndimage.convolve1d`.

    Parameters
    ----------
    {input}
    {weights1d}
    {axis}
    {output}
    {mode}
    {cval}
    origin : int, default 0
        Shifts the kernel's centre.

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import ndimage
    >>> ndimage.convolve1d(np.array([2, 8, 0, 4, 1, 9, 9, 0]), np.array([1, 3]))
    array([14, 24,  4, 13, 12, 36, 27,  0])
    """
    return _filter1d(input, weights, axis, output, mode, cval, origin, flip=True)


# -- the work ---------------------------------------------------------------------------------


def _filter1d(input, weights, axis, output, mode, cval, origin, *, flip):
    _, x, w = operands(input=input, weights=weights)
    if w.ndim != 1 or w.shape[0] == 0:
        raise ArgumentError(f"no filter weights given: weights must be 1-D, got {w.ndim}-D")
    if not is_int(origin):
        raise TypeError(f"origin must be an int, got {origin!r}")
    return _filter(x, w, output, mode, cval, origin, (axis,), flip=flip)


def _filter(input, weights, output, mode, cval, origin, axes, *, flip):
    xp, x, w = operands(input=input, weights=weights)
    complex_data = any(xp.isdtype(a.dtype, "complex floating") for a in (x, w))
    if isinstance(cval, (complex, np.complexfloating)) and not xp.isdtype(
        x.dtype, "complex floating"
    ):  # ndimage's two answers: its complex path's ValueError, its C loop's TypeError
        if complex_data:
            raise ValueError("Cannot provide a complex-valued cval when the input is real.")
        raise TypeError("cval must be real number, not complex, for real input and weights")
    out_dtype = _output_dtype(xp, output, x.dtype, complex_data)
    axes = _axes(axes, x.ndim)
    if sum(n > 0 for n in w.shape) != len(axes):
        raise ArgumentError(f"weights.ndim ({w.ndim}) must match len(axes) ({len(axes)})")
    padding_mode = _mode(mode)
    origins = _origins(origin, len(axes))
    # as in ndimage: the weights' dimensions follow the axes in increasing order, each
    # origin the axis it was given with
    order = sorted(range(len(axes)), key=lambda i: axes[i])
    axes, origins = tuple(axes[i] for i in order), tuple(origins[i] for i in order)
    sizes, given = tuple(w.shape), origins
    if flip:  # convolution: reversed weights, and an even kernel's centre moves with them
        w = xp.flip(w, axis=tuple(range(w.ndim)))
        origins = tuple(-o - (1 - n % 2) for o, n in zip(origins, sizes, strict=True))
    elif xp.isdtype(w.dtype, "complex floating"):  # ndimage correlates with conj(weights)
        w = xp.conj(w)
    for o, n, g in zip(origins, sizes, given, strict=True):
        if not -(n // 2) <= o <= (n - 1) // 2:  # checked as ndimage does, after any flip
            raise ValueError(
                f"Invalid origin; origin must satisfy -(weights.shape[k] // 2) <= origin[k] "
                f"<= (weights.shape[k]-1) // 2, got {g} for weights of size {n}"
            )
    work = _work_dtype(xp, x, w, out_dtype)
    if any(n == 0 for n in x.shape):  # nothing to filter
        return _store(xp, xp.astype(x, work), output, out_dtype)
    x, w = xp.astype(x, work), xp.astype(w, work)
    pads = [(n // 2 + o, n - 1 - n // 2 - o) for n, o in zip(sizes, origins, strict=True)]
    if padding_mode == "constant" and not cmath.isfinite(complex(cval)):
        x, pads, cval = pad_constant(xp, x, axes, pads, cval), [(0, 0)] * len(axes), 0
    x, pads = extend(xp, x, axes, pads, padding_mode)
    shape = tuple(w.shape[axes.index(i)] if i in axes else 1 for i in range(x.ndim))
    kernel = xp.reshape(w, shape)
    if _skips_zeros(xp, x, w):
        y = _zero_weights_skipped(xp, x, kernel, axes, pads, padding_mode, cval)
    else:
        y = correlate_axes(xp, x, kernel, axes, pads, mode=padding_mode, value=cval)
    return _store(xp, y, output, out_dtype)


def _skips_zeros(xp, x, w) -> bool:
    """Whether ndimage's rule differs here from the plain sum: ndimage leaves zero weights
    out of the sum, so a NaN or infinity under a zero weight does not reach the output
    (0 * NaN would). Real data not known to be finite, with weights holding zeros."""
    if xp.isdtype(x.dtype, "complex floating") or xp.isdtype(w.dtype, "complex floating"):
        return False
    if finite(xp, x) is True:
        return False
    return not at_hand(xp, w) or bool(xp.any(w == 0))  # traced: they may hold zeros


def _zero_weights_skipped(xp, x, kernel, axes, pads, mode, cval):
    """The correlation as ndimage sums it, zero weights left out: the finite values'
    sum, then NaN, +inf or -inf where non-finite samples meet non-zero weights."""

    def correlate(values, weights):
        return correlate_axes(xp, values, weights, axes, pads, mode=mode, value=cval)

    def hits(condition, weights):  # how many such samples each window meets
        indicator = xp.astype(condition, x.dtype)
        return correlate_axes(xp, indicator, xp.astype(weights, x.dtype), axes, pads,
                              mode=mode, value=0)  # fmt: skip

    y = correlate(xp.where(xp.isfinite(x), x, xp.zeros_like(x)), kernel)
    high, low = x == math.inf, x == -math.inf
    up = hits(high, kernel > 0) + hits(low, kernel < 0)
    down = hits(high, kernel < 0) + hits(low, kernel > 0)
    undefined = (hits(xp.isnan(x), kernel != 0) > 0.5) | ((up > 0.5) & (down > 0.5))
    y = xp.where(up > 0.5, xp.asarray(math.inf, dtype=y.dtype), y)
    y = xp.where(down > 0.5, xp.asarray(-math.inf, dtype=y.dtype), y)
    return xp.where(undefined, xp.asarray(math.nan, dtype=y.dtype), y)


def _axes(axes, ndim: int) -> tuple[int, ...]:
    """ndimage's axes: an int or ints (TypeError otherwise), in range, distinct."""
    if axes is None:
        return tuple(range(ndim))
    values = list(axes) if isinstance(axes, Iterable) else [axes]
    values = [operator.index(a) for a in values]
    for a in values:
        if not -ndim <= a < ndim:
            raise ValueError(f"specified axis: {a} is out of range")
    values = [a % ndim for a in values]
    if len(set(values)) != len(values):
        raise ValueError("axes must be unique")
    return tuple(values)


def _mode(mode) -> str:
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise ArgumentError("A sequence of modes is not supported")
    if mode not in MODES:
        raise ArgumentError(f"boundary mode not supported: mode must be one of {tuple(MODES)}, "
                            f"got {mode!r}")  # fmt: skip
    return MODES[mode]


def _origins(origin, count: int) -> tuple[int, ...]:
    values = [origin] * count if np.ndim(origin) == 0 else list(origin)
    if len(values) != count:
        raise ArgumentError(
            f"sequence argument must have length equal to input rank: origin needs {count} "
            f"values, got {origin!r}"
        )
    if not all(is_int(v) for v in values):
        raise TypeError(f"origin must be ints, got {origin!r}")
    return tuple(int(v) for v in values)


def _output_dtype(xp, output, input_dtype, complex_data: bool):
    """ndimage's output dtype: the input's (complex when the data are), a dtype given
    (promoted to complex, with ndimage's warning, for complex data), or an array's."""
    if is_array(output) and not isinstance(output, type):
        if complex_data and not xp.isdtype(output.dtype, "complex floating"):
            raise ArgumentError("output must have complex dtype")
        return output.dtype
    if output is None:
        dtype = input_dtype
        if complex_data and not xp.isdtype(dtype, "complex floating"):
            name = np.promote_types(np.dtype(dtype_name(dtype)), np.complex64).name
            dtype = getattr(xp, name)
        return dtype
    try:
        name = np.dtype(getattr(output, "name", None) or dtype_name(output)).name
    except TypeError:
        raise TypeError(f"output must be None, a dtype or an array, got {output!r}") from None
    if complex_data and not name.startswith("complex"):
        warnings.warn("promoting specified output dtype to complex", UserWarning, stacklevel=4)
        name = np.promote_types(name, np.complex64).name
    return getattr(xp, name) if not is_extended(name) else np.dtype(name)


def _work_dtype(xp, x, w, out_dtype):
    """float64 for integer and bool data (exact sums below 2**53) and for long double
    (its precision is not kept), complex when any side is."""

    def real_kind(d):
        return xp.isdtype(d, ("integral", "bool")) or is_extended(d)

    dtypes = [d for d in (x.dtype, w.dtype) if not real_kind(d)] or [xp.float64]
    work = xp.result_type(*dtypes, xp.float32)
    if any(real_kind(d) for d in (x.dtype, w.dtype, out_dtype)):
        work = xp.result_type(work, xp.float64)
    if any(xp.isdtype(d, "complex floating") or "complex" in dtype_name(d)
           for d in (x.dtype, w.dtype)):  # fmt: skip
        work = xp.result_type(work, xp.complex64)
    return work


def _store(xp, y, output, out_dtype):
    if xp.isdtype(y.dtype, "complex floating") and not _is_complex_dtype(out_dtype):
        y = xp.real(y)
    if _is_integer_dtype(xp, out_dtype):
        y = to_integer(xp, y, out_dtype, rounding="trunc")
    else:
        y = xp.astype(y, out_dtype) if not is_extended(out_dtype) else np.asarray(y, out_dtype)
    if is_array(output) and not isinstance(output, type):
        if tuple(output.shape) != tuple(y.shape):
            raise ArgumentError(
                f"output shape not correct: output has shape {tuple(output.shape)}, "
                f"the result {tuple(y.shape)}"
            )
        output[...] = y
        return output
    return y


def _is_complex_dtype(dtype) -> bool:
    return "complex" in dtype_name(dtype)


def _is_integer_dtype(xp, dtype) -> bool:
    return not is_extended(dtype) and xp.isdtype(dtype, ("integral", "bool"))
