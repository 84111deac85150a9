"""SciPy's `scipy.signal` convolutions, with SciPy's semantics, on any array-API array.

`convolve`, `correlate`, `fftconvolve`, `oaconvolve`, `convolve2d`, `correlate2d` and
`choose_conv_method` take SciPy's arguments and give SciPy's results, computed by
`xconv.conv` (so on NumPy, CuPy, Dask, PyTorch, JAX and strict arrays alike, through
xconv's planner and paths) and returned in the caller's array type:

- modes `"full"` (every overlap), `"same"` (the size of `in1`, centred on the full
  result as SciPy centres it: for an even kernel the extra sample is taken at the start)
  and `"valid"` (complete overlaps; when `in2` is the larger in every dimension the
  operands are swapped, as SciPy does, and `correlate` then reverses and conjugates);
- `correlate` conjugates `in2` (complex correlation); `convolve` flips it;
- `method="auto"` asks xconv's planner (never the FFT for data holding NaN or infinity,
  which it would spread: xconv's one deliberate difference), `"direct"` runs a direct
  sum (xconv's direct or GEMM path), `"fft"` the FFT path (warning, as SciPy's, on
  non-finite input);
- integer and bool inputs give integer results: exact on the direct method for any
  values (float64 sums, or exact limb sums past 2**53, wrapped modulo 2**64 as SciPy's
  C sums), rounded from the FFT as SciPy's `method="fft"` does;
- `fftconvolve` and `oaconvolve` convolve over `axes` only, the other axes broadcasting;
- SciPy's dtypes, messages and exception types; NumPy operands beside another library's
  arrays move to that library. Long double computes in float64 precision.

>>> import numpy as np
>>> from xconv import signal
>>> signal.convolve(np.array([1, 2, 3]), np.array([0, 1, 0.5]))
array([0. , 1. , 2.5, 4. , 1.5])
>>> signal.correlate(np.array([1, 2, 3]), np.array([0, 1, 0.5]), mode="same")
array([2. , 3.5, 3. ])
"""

from __future__ import annotations

import cmath
import math
import time
import warnings
from collections.abc import Sequence

import numpy as np

from ._docstrings import entries, filled
from ._integer_sums import correlate_in_limbs, exact_in_float64
from ._scipy_common import (
    at_hand,
    correlate_axes,
    dtype_name,
    extend,
    finite,
    is_extended,
    operands,
    pad_constant,
    result_dtype,
    to_integer,
)
from .backends import backend_for
from .planner import plan_for
from .spec import ConvSpec, is_int

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")
BOUNDARIES = {"fill": "constant", "pad": "constant", "wrap": "circular", "circular": "circular",
              "symm": "symmetric", "symmetric": "symmetric"}  # fmt: skip
# SciPy's messages, which SciPy's users (and SciPy's tests) match
MODE_ERROR = "Acceptable mode flags are 'valid', 'same', or 'full'."
FFT_MODE_ERROR = "acceptable mode flags are 'valid', 'same', or 'full'"
METHOD_ERROR = "Acceptable method flags are 'auto', 'direct', or 'fft'."
VALID_ERROR = "For 'valid' mode, one must be at least as large as the other in every dimension"
BOUNDARY_ERROR = (
    "Acceptable boundary flags are 'fill', 'circular' (or 'wrap'), and 'symmetric' (or 'symm')."
)
NONFINITE_WARNING = (
    "Use of fft convolution on input with NAN or inf results in NAN or inf output. "
    "Consider using method='direct' instead."
)


_FIELDS = entries(
    {
        "in1": """in1 : array
    The first input, of any array library (NumPy, CuPy, PyTorch, JAX, Dask,
    array-api-strict); integer, bool, float and complex dtypes as SciPy takes them.""",
        "in2": """in2 : array
    The second input, with as many dimensions as `in1` (a NumPy array beside another
    library's `in1` is moved to it).""",
        "mode": """mode : {"full", "valid", "same"}, default "full"
    The full discrete convolution; only the outputs that need no zero padding (one input
    must be at least as large as the other in every dimension); or the size of `in1`,
    centred on the full output.""",
        "method": """method : {"auto", "direct", "fft"}, default "auto"
    xconv's planner chooses (never the FFT for data holding NaN or infinity), or the
    sum of products, or the FFT path (a warning for integers, as SciPy's).""",
        "axes": """axes : int or sequence of int, optional
    The axes to convolve over (default: all); over the other axes the inputs broadcast
    (one of them has size 1 or both the same size).""",
        "boundary": """boundary : {"fill", "wrap", "symm"}, default "fill"
    The extension past the edges: `fillvalue`, the far side, or a mirror with the edge
    sample.""",
        "fillvalue": """fillvalue : scalar, default 0
    The value of `"fill"` padding.""",
        "returns": """array
    The result in `in1`'s array library, with SciPy's dtype (integer inputs give
    integers on the direct method, exact modulo 2**64 as SciPy's C sums).""",
    }
)


@filled(_FIELDS)
def convolve(in1, in2, mode: str = "full", method: str = "auto"):
    """N-d convolution of `in1` and `in2`, as `scipy.signal.convolve`.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    {method}

    Returns
    -------
    {returns}

    Raises
    ------
    ValueError
        SciPy's errors for SciPy's cases (dimensions, an empty `valid` overlap, a mode
        or method not known), with SciPy's messages.

    See Also
    --------
    xconv.conv : the deep-learning correlation, with channels, strides and groups.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.convolve(np.array([[1, 2], [3, 4]]), np.array([[1, 1]]), mode="valid")
    array([[3],
           [7]])
    """
    return _run(in1, in2, mode, method, conjugate=False)


@filled(_FIELDS)
def correlate(in1, in2, mode: str = "full", method: str = "auto"):
    """N-d cross-correlation of `in1` and `in2`, as `scipy.signal.correlate`.

    `z[k] = sum_l in1[l] * conj(in2[l - k + N - 1])` over the full overlap; for
    `mode="valid"` the inputs are swapped when `in2` is the larger, as SciPy does.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    {method}

    Returns
    -------
    {returns}

    Raises
    ------
    ValueError
        SciPy's errors for SciPy's cases, with SciPy's messages.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.correlate(np.array([1j, 2, 3]), np.array([1j]))
    array([1.+0.j, 0.-2.j, 0.-3.j])
    """
    return _run(in1, in2, mode, method, conjugate=True)


@filled(_FIELDS)
def fftconvolve(in1, in2, mode: str = "full", axes=None):
    """N-d convolution by FFT over `axes`, as `scipy.signal.fftconvolve`.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    {axes}

    Returns
    -------
    array
        Integer and bool inputs give float64, float16 gives float32, as SciPy's FFTs do;
        with no axis left to transform, the product of the inputs.

    Raises
    ------
    ValueError
        SciPy's errors for SciPy's cases (axes, shapes), with SciPy's messages.

    See Also
    --------
    oaconvolve : the same convolution, for SciPy's overlap-add users.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.fftconvolve(np.ones((2, 4)), np.array([[1.0, -1.0]]), axes=1).round(12) + 0.0
    array([[ 1.,  0.,  0.,  0., -1.],
           [ 1.,  0.,  0.,  0., -1.]])
    """
    return _run_fft(in1, in2, mode, axes)


@filled(_FIELDS)
def oaconvolve(in1, in2, mode: str = "full", axes=None):
    """Convolution by FFT over `axes`, as `scipy.signal.oaconvolve`.

    SciPy splits long inputs into overlap-add blocks; xconv's FFT path splits them into
    overlap-save frames itself, so this is `fftconvolve` with the same results.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    {axes}

    Returns
    -------
    array
        As `fftconvolve` returns it.

    Raises
    ------
    ValueError
        SciPy's errors for SciPy's cases, with SciPy's messages.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.oaconvolve(np.ones(6), np.ones(3), mode="same").round(12)
    array([2., 3., 3., 3., 3., 2.])
    """
    return _run_fft(in1, in2, mode, axes)


@filled(_FIELDS)
def convolve2d(in1, in2, mode: str = "full", boundary: str = "fill", fillvalue=0):
    """2-D convolution with SciPy's boundaries, as `scipy.signal.convolve2d`.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    {boundary}
    {fillvalue}

    Returns
    -------
    {returns}

    Raises
    ------
    ValueError
        SciPy's errors for SciPy's cases (not 2-D, a boundary not known, a `fillvalue`
        that is not a scalar), with SciPy's messages.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.convolve2d(np.eye(3), np.ones((2, 2)), mode="same", boundary="wrap")
    array([[2., 1., 1.],
           [1., 2., 1.],
           [1., 1., 2.]])
    """
    return _run2d(in1, in2, mode, boundary, fillvalue, flip=True)


@filled(_FIELDS)
def correlate2d(in1, in2, mode: str = "full", boundary: str = "fill", fillvalue=0):
    """2-D cross-correlation with SciPy's boundaries, as `scipy.signal.correlate2d`.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    {boundary}
    {fillvalue}

    Returns
    -------
    {returns}

    Raises
    ------
    ValueError
        SciPy's errors for SciPy's cases, with SciPy's messages.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.correlate2d(np.arange(9.0).reshape(3, 3), np.array([[1.0, -1.0]]), "valid")
    array([[-1., -1.],
           [-1., -1.],
           [-1., -1.]])
    """
    return _run2d(in1, in2, mode, boundary, fillvalue, flip=False)


@filled(_FIELDS)
def choose_conv_method(in1, in2, mode: str = "full", measure: bool = False):
    """What `convolve` and `correlate` run for these arrays, as SciPy's function says it.

    The choice comes from xconv's planner with the arrays' backend. Unlike SciPy's, it
    is `"direct"` for data holding NaN or infinity, whose FFT would spread them over
    every output.

    Parameters
    ----------
    {in1}
    {in2}
    {mode}
    measure : bool, default False
        Time both methods instead of modelling them.

    Returns
    -------
    str or tuple of (str, dict)
        `"fft"` or `"direct"`; with `measure=True`, `(method, {{"fft": seconds,
        "direct": seconds}})`.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.choose_conv_method(np.ones(10**5), np.ones(999))
    'fft'
    """
    xp, x, k = operands(in1=in1, in2=in2)
    if measure:
        times = {}
        for method in ("fft", "direct"):
            start = time.perf_counter()
            convolve(x, k, mode=mode, method=method)
            times[method] = time.perf_counter() - start
        return min(times, key=times.get), times
    return _auto_method(xp, x, k)


# -- the work ---------------------------------------------------------------------------------


def _run(in1, in2, mode: str, method: str, *, conjugate: bool):
    """`convolve`, or `correlate` (`conjugate`), with SciPy's checks in SciPy's order and
    its operand swap for `valid`."""
    xp, x, k = operands(in1=in1, in2=in2)
    if x.ndim == k.ndim == 0:  # two scalars
        return x * (xp.conj(k) if conjugate and _is_complex(xp, k) else k)
    if x.ndim != k.ndim:
        raise ValueError(
            "in1 and in2 should have the same dimensionality"
            if conjugate
            else "volume and kernel should have the same dimensionality"
        )
    if mode not in MODES:
        raise ValueError(MODE_ERROR)
    if method not in METHODS:
        raise ValueError(METHOD_ERROR)
    dtype = result_dtype(xp, x, k)
    axes = tuple(range(x.ndim))
    if _empty(x) or _empty(k):
        return xp.zeros(_empty_shape(x, k, mode), dtype=dtype)
    swapped = mode == "valid" and _swap_needed(x, k, axes)
    if swapped:
        x, k = k, x
    if conjugate:  # correlate: the convolution with in2 reversed (every axis), conjugated
        k = xp.flip(k, axis=axes)
        k = xp.conj(k) if _is_complex(xp, k) else k
    chosen = _auto_method(xp, x, k) if method == "auto" else method
    if method == "fft" and finite(xp, x, k) is False:  # SciPy's warning, on the inputs
        warnings.warn(NONFINITE_WARNING, RuntimeWarning, stacklevel=3)
    if chosen == "fft":  # an FFT convolves only where both operands are longer than 1
        axes = _without_unit_axes(x, k, axes)
    y = _convolve(xp, x, k, mode, chosen, axes, dtype)
    if swapped and conjugate:  # SciPy's correlate of swapped operands, turned back
        y = xp.flip(y, axis=tuple(range(y.ndim)))
        y = xp.conj(y) if _is_complex(xp, y) else y
    return y


def _run_fft(in1, in2, mode: str, axes):
    """`fftconvolve` and `oaconvolve`: SciPy's checks, then the FFT over `axes`."""
    xp, x, k = operands(in1=in1, in2=in2)
    if x.ndim == k.ndim == 0:
        return x * k
    if x.ndim != k.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if _empty(x) or _empty(k):
        return xp.asarray([])  # SciPy's answer for every empty operand
    given = axes is not None
    axes = _fft_axes(axes, x.ndim)
    if given and not axes:
        raise ValueError("when provided, axes cannot be empty")
    axes = _without_unit_axes(x, k, axes)  # unit axes broadcast, as in SciPy
    for a in range(x.ndim):
        if a not in axes and x.shape[a] != k.shape[a] and 1 not in (x.shape[a], k.shape[a]):
            raise ValueError(
                f"incompatible shapes for in1 and in2: {tuple(x.shape)} and {tuple(k.shape)}"
            )
    swapped = mode == "valid" and _swap_needed(x, k, axes)
    if swapped:
        x, k = k, x
    if mode not in MODES:
        raise ValueError(FFT_MODE_ERROR)
    dtype = _fft_dtype(xp, x, k) if axes else result_dtype(xp, x, k)  # else SciPy multiplies
    return _convolve(xp, x, k, mode, "fft", axes, dtype)


def _fft_dtype(xp, x, k):
    """SciPy's FFT result: each operand transformed in its FFT type (float64 for integers
    and bool, float32 for float16, its own otherwise), the results promoted."""

    def transformed(a):
        if xp.isdtype(a.dtype, ("integral", "bool")):
            return xp.asarray(0.0, dtype=xp.float64)
        return xp.asarray(0.0, dtype=xp.float32 if dtype_name(a.dtype) == "float16" else a.dtype)

    return result_dtype(xp, transformed(x), transformed(k))


def _fft_axes(axes, ndim: int) -> tuple[int, ...]:
    """SciPy's FFT axes: an int or ints, in range, distinct; sorted."""
    if axes is None:
        return tuple(range(ndim))
    values = [axes] if is_int(axes) else list(axes) if _iterable(axes) else None
    if values is None or not all(is_int(a) for a in values):
        raise ValueError("axes must be a scalar or iterable of integers")
    values = [int(a) for a in values]
    if any(not -ndim <= a < ndim for a in values):
        raise ValueError("axes exceeds dimensionality of input")
    values = [a % ndim for a in values]
    if len(set(values)) != len(values):
        raise ValueError("all axes must be unique")
    return tuple(sorted(values))


def _iterable(value) -> bool:
    return isinstance(value, Sequence) or hasattr(value, "__iter__")


def _without_unit_axes(x, k, axes) -> tuple[int, ...]:
    """SciPy's FFT convolution treats an axis where either operand has one sample as a
    broadcast axis, not a convolved one."""
    return tuple(a for a in axes if x.shape[a] != 1 and k.shape[a] != 1)


def _convolve(xp, x, k, mode, method, axes, dtype):
    k = xp.flip(k, axis=axes) if axes else k
    pads = [_pads(mode, k.shape[a]) for a in axes]
    same = tuple(x.shape) if mode == "same" else None
    return _correlate(xp, x, k, pads, method, axes, dtype, same=same)


def _correlate(xp, x, k, pads, method, axes, dtype, *, boundary="constant", fill=0, same=None):
    """The correlation over `axes` padded by `pads` (the other axes broadcast, and keep
    the size `same` where given), returned as `dtype`."""
    if method != "fft" and axes and xp.isdtype(dtype, ("integral", "bool")):
        y = _integer_correlation(xp, x, k, pads, axes, boundary, fill)
        if y is not None:  # float64 sums would round: exact integer limbs
            if same is not None:
                y = y[tuple(_centre(n, m) for n, m in zip(y.shape, same, strict=True))]
            return xp.astype(y, dtype) if dtype_name(dtype) != "bool" else y != 0
    work = _work_dtype(xp, dtype, mixed=_mixes_integers(xp, x, k))
    x, k = xp.astype(x, work, copy=False), xp.astype(k, work, copy=False)
    if boundary == "constant" and not cmath.isfinite(complex(fill)):
        x, pads, fill = pad_constant(xp, x, axes, pads, fill), [(0, 0)] * len(axes), 0
        method = "direct"  # an FFT would spread the fill's NaN or infinity everywhere
    algorithm = "fft" if method == "fft" else _direct_algorithm(xp, x, k, axes, pads)
    if axes:
        y = correlate_axes(xp, x, k, axes, pads, mode=boundary, value=fill, algorithm=algorithm)
    else:  # nothing left to convolve: every axis broadcasts
        y = x * k
    if same is not None:  # the broadcast axes too keep in1's size, centred
        y = y[tuple(_centre(n, m) for n, m in zip(y.shape, same, strict=True))]
    if xp.isdtype(dtype, ("integral", "bool")):
        return to_integer(xp, y, dtype, rounding="round")
    return xp.astype(y, dtype, copy=False)


def _integer_correlation(xp, x, k, pads, axes, boundary, fill):
    """The int64 correlation, exact modulo 2**64 as SciPy's C sums, where float64 sums
    could round (values not at hand count as the dtype's largest); None where they
    cannot, and the float64 path is exact."""
    if not (isinstance(fill, (int, np.integer)) or float(fill).is_integer()):
        return None
    largest = [_largest_integer(xp, a) for a in (x, k)]
    largest = [2**63 if m is None else min(m, 2**63) for m in largest]  # not at hand: any
    largest[0] = max(largest[0], abs(int(fill)))
    terms = math.prod(k.shape[a] for a in axes)
    if exact_in_float64(*largest, terms):
        return None
    x, k = (xp.astype(a, xp.int64) for a in (x, k))  # uint64 wraps, modulo 2**64 alike
    algorithm = _direct_algorithm(xp, x, k, axes, pads)  # one plan for every limb pair

    def correlate(x_limb, k_limb, fill_limb):
        return correlate_axes(xp, x_limb, k_limb, axes, pads, mode=boundary, value=fill_limb,
                              algorithm=algorithm)  # fmt: skip

    return correlate_in_limbs(xp, x, k, int(fill), terms, tuple(largest), correlate)


def _mixes_integers(xp, x, k) -> bool:
    return any(xp.isdtype(a.dtype, ("integral", "bool")) for a in (x, k))


def _work_dtype(xp, dtype, mixed: bool = False):
    """What the sums run in: float64 for integers and bool (exact below 2**53), and for
    integers with floats (`mixed`: the integers keep their precision, the result rounds
    once), float32 for float16 (as SciPy's FFTs), float64 precision for long double."""
    name = dtype_name(dtype)
    if xp.isdtype(dtype, ("integral", "bool")):
        return xp.float64
    if mixed:
        return xp.complex128 if xp.isdtype(dtype, "complex floating") else xp.float64
    if name == "float16":
        return xp.float32
    if is_extended(dtype):
        return xp.complex128 if "complex" in name or name == "clongdouble" else xp.float64
    return dtype


def _centre(size: int, wanted: int) -> slice:
    start = (size - wanted) // 2
    return slice(start, start + wanted)


def _pads(mode: str, taps: int) -> tuple[int, int]:
    """Padding of one axis for SciPy's `mode`: `same` is the full result's centre, which
    starts `(taps - 1) // 2` samples in."""
    if mode == "full":
        return taps - 1, taps - 1
    if mode == "same":
        return taps // 2, (taps - 1) // 2
    return 0, 0


def _empty_shape(x, k, mode: str) -> tuple[int, ...]:
    if mode == "same":
        return tuple(x.shape)
    pairs = zip(x.shape, k.shape, strict=True)
    if mode == "full":
        return tuple(n + m - 1 if n and m else 0 for n, m in pairs)
    # valid: every complete overlap, also of an empty operand (its sum is 0), as SciPy
    return tuple(abs(n - m) + 1 for n, m in pairs)


def _run2d(in1, in2, mode: str, boundary: str, fillvalue, *, flip: bool):
    xp, x, k = operands(in1=in1, in2=in2)
    if x.ndim != 2 or k.ndim != 2:
        name = "convolve2d" if flip else "correlate2d"
        raise ValueError(f"{name} inputs must both be 2-D arrays")
    if mode not in MODES:
        raise ValueError(MODE_ERROR)
    if boundary not in BOUNDARIES:
        raise ValueError(BOUNDARY_ERROR)
    dtype = result_dtype(xp, x, k)
    fill = _fill_value(fillvalue, dtype, boundary)
    if _empty(x) or _empty(k):
        return xp.zeros(_empty_shape(x, k, mode), dtype=dtype)
    swapped = mode == "valid" and _swap_needed(x, k, (0, 1))
    if swapped:  # SciPy's 2-D functions swap for convolution and correlation alike
        x, k = k, x
    method = _direct_or_fft(xp, x, k)
    if flip:
        k = xp.flip(k, axis=(0, 1))
    elif _is_complex(xp, k):  # correlate2d conjugates in2
        k = xp.conj(k)
    pads = [_pads(mode, k.shape[a])[:: 1 if flip else -1] for a in (0, 1)]
    padding_mode = BOUNDARIES[boundary]
    x, pads = extend(xp, x, (0, 1), pads, padding_mode)
    y = _correlate(xp, x, k, pads, method, (0, 1), dtype, boundary=padding_mode, fill=fill)
    if swapped and not flip:  # the correlation of the swapped operands, turned back
        y = xp.flip(y, axis=(0, 1))
    return y


def _fill_value(fillvalue, dtype, boundary: str):
    """SciPy's `fillvalue`: a number or a one-element array (bool reads as 0 or 1), cast
    to the result's dtype as SciPy casts it: an integer result truncates it toward zero
    and refuses NaN, infinities and values out of range; a real result refuses complex
    values (SciPy drops a NumPy complex scalar's imaginary part; xconv refuses it too).
    Other boundaries never read it."""
    plain = isinstance(fillvalue, (int, float, complex))  # also ints past int64
    value = np.asarray(fillvalue if not plain else 0)
    if value.dtype == object or value.dtype.kind not in "biufc":
        raise TypeError(f"fillvalue must be a number, got {fillvalue!r}")
    if value.size != 1:
        raise ValueError("`fillvalue` must be scalar or an array with one element.")
    if BOUNDARIES[boundary] != "constant":
        return 0
    value = fillvalue if plain else value.reshape(()).item()
    name = dtype_name(dtype)
    refused = ValueError(
        f"could not cast `fillvalue` directly to the output type {name} (got {fillvalue!r})"
    )
    if isinstance(value, complex) and not name.startswith("complex"):
        raise refused
    if name == "bool" or not (name.startswith(("int", "uint"))):
        return int(value) if isinstance(value, bool) else value
    if not math.isfinite(value):
        raise refused
    value = int(value)  # C's cast: toward zero
    info = np.iinfo(name)
    if not info.min <= value <= info.max:
        raise refused
    return value


# -- choosing ---------------------------------------------------------------------------------


def _auto_method(xp, x, k) -> str:
    """ "fft" where xconv's planner picks it for this correlation and the result is exact
    enough; "direct" otherwise: integers whose sums an FFT could round (SciPy's rule, and
    any integers whose values are not at hand, under `jax.jit`), bool, long double, and
    data holding NaN or infinity (xconv's rule: their FFT spreads them everywhere)."""
    dtype = result_dtype(xp, x, k)
    if xp.isdtype(dtype, "bool") or is_extended(dtype) or _empty(x) or _empty(k):
        return "direct"
    if xp.isdtype(dtype, "integral"):
        if not _fft_exact(xp, x, k):
            return "direct"
    elif finite(xp, x, k) is False:
        return "direct"
    return _direct_or_fft(xp, x, k)


def _direct_or_fft(xp, x, k) -> str:
    if x.ndim == 0 or _empty(x) or _empty(k):
        return "direct"
    spec = ConvSpec(tuple(k.shape), padding=tuple((n - 1, n - 1) for n in k.shape))
    plan = plan_for(spec, (1, 1, *x.shape), _plan_dtype(xp, x, k), "auto", backend=backend_for(xp))
    return "fft" if plan.algorithm == "fft" else "direct"


def _direct_algorithm(xp, x, k, axes, pads) -> str:
    """The direct method: xconv's direct or GEMM sum, whichever the planner prefers."""
    spec = ConvSpec(tuple(k.shape[a] for a in axes), padding=tuple(pads))
    plan = plan_for(spec, (1, 1, *(x.shape[a] for a in axes)), "float64", "auto")
    estimates = {a: s for a, s in plan.estimates.items() if a != "fft"}
    return min(estimates, key=estimates.get) if estimates else "direct"


def _fft_exact(xp, x, k) -> bool:
    """SciPy's rule: an FFT may compute an integer convolution when the largest possible
    result fits float64's mantissa (False where the values are not at hand)."""
    largest = [_largest_integer(xp, a) for a in (x, k)]
    if any(m is None for m in largest):
        return False
    bound = largest[0] * largest[1] * min(_size(x), _size(k))
    return bound <= 2 ** (np.finfo(np.float64).nmant - 1)


def _largest_integer(xp, a) -> int | None:
    """The largest magnitude in an integer or bool array, exactly (Python ints: the most
    negative int64 has no int64 negation); None where the values are not at hand."""
    if _empty(a):
        return 0
    if xp.isdtype(a.dtype, "bool"):
        a = xp.astype(a, xp.int8)
    if not at_hand(xp, a):  # traced or lazy
        return None
    return max(abs(int(xp.max(a))), abs(int(xp.min(a))))


def _plan_dtype(xp, x, k) -> str:
    return dtype_name(_work_dtype(xp, result_dtype(xp, x, k)))


# -- checks -----------------------------------------------------------------------------------


def _swap_needed(x, k, axes: Sequence[int]) -> bool:
    """Whether `valid` mode swaps the operands (SciPy's rule); ValueError when neither is
    at least as large as the other in every dimension."""
    first = all(x.shape[a] >= k.shape[a] for a in axes)
    second = all(k.shape[a] >= x.shape[a] for a in axes)
    if not (first or second):
        raise ValueError(VALID_ERROR)
    return not first


def _is_complex(xp, a) -> bool:
    return xp.isdtype(a.dtype, "complex floating")


def _empty(a) -> bool:
    return _size(a) == 0


def _size(a) -> int:
    return math.prod(a.shape)
