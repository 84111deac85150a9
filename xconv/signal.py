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
- `method="auto"` asks xconv's planner, `"direct"` runs a direct sum (xconv's direct or
  GEMM path), `"fft"` the FFT path;
- integer inputs give integer results, exact on the direct method (sums in float64,
  below 2**53) and rounded from the FFT, as SciPy's `method="fft"` does;
- `fftconvolve` and `oaconvolve` convolve over `axes` only, the other axes broadcasting.

>>> import numpy as np
>>> from xconv import signal
>>> signal.convolve(np.array([1, 2, 3]), np.array([0, 1, 0.5]))
array([0. , 1. , 2.5, 4. , 1.5])
>>> signal.correlate(np.array([1, 2, 3]), np.array([0, 1, 0.5]), mode="same")
array([2. , 3.5, 3. ])
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from ._scipy_common import as_array, correlate_axes, extend, namespace_of, normalize_axes
from .planner import plan_for
from .spec import ConvSpec

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")
BOUNDARIES = {"fill": "constant", "pad": "constant", "wrap": "circular", "circular": "circular",
              "symm": "symmetric", "symmetric": "symmetric"}  # fmt: skip


def convolve(in1, in2, mode: str = "full", method: str = "auto"):
    """N-d convolution of `in1` and `in2` (`scipy.signal.convolve`).

    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.convolve(np.array([[1, 2], [3, 4]]), np.array([[1, 1]]), mode="valid")
    array([[3],
           [7]])
    """
    return _run(in1, in2, mode, _check_method(method), conjugate=False)


def correlate(in1, in2, mode: str = "full", method: str = "auto"):
    """N-d cross-correlation of `in1` and `in2` (`scipy.signal.correlate`):
    `z[k] = sum_l in1[l] * conj(in2[l - k + N - 1])` over the full overlap.

    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.correlate(np.array([1j, 2, 3]), np.array([1j]))
    array([1.+0.j, 0.-2.j, 0.-3.j])
    """
    return _run(in1, in2, mode, _check_method(method), conjugate=True)


def fftconvolve(in1, in2, mode: str = "full", axes=None):
    """N-d convolution by FFT over `axes` (default all), the other axes broadcasting
    (`scipy.signal.fftconvolve`).

    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.fftconvolve(np.ones((2, 4)), np.array([[1.0, -1.0]]), axes=1).round(12) + 0.0
    array([[ 1.,  0.,  0.,  0., -1.],
           [ 1.,  0.,  0.,  0., -1.]])
    """
    return _run(in1, in2, mode, "fft", conjugate=False, axes=axes, fft_function=True)


def oaconvolve(in1, in2, mode: str = "full", axes=None):
    """`fftconvolve` by overlap-add in SciPy; here the same FFT path, which splits long
    inputs into overlap-save frames itself (`scipy.signal.oaconvolve`)."""
    return _run(in1, in2, mode, "fft", conjugate=False, axes=axes, fft_function=True)


def convolve2d(in1, in2, mode: str = "full", boundary: str = "fill", fillvalue=0):
    """2-D convolution with SciPy's boundaries: `"fill"` (`fillvalue`), `"wrap"`,
    `"symm"` (`scipy.signal.convolve2d`).

    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.convolve2d(np.eye(3), np.ones((2, 2)), mode="same", boundary="wrap")
    array([[2., 1., 1.],
           [1., 2., 1.],
           [1., 1., 2.]])
    """
    return _run2d(in1, in2, mode, boundary, fillvalue, flip=True)


def correlate2d(in1, in2, mode: str = "full", boundary: str = "fill", fillvalue=0):
    """2-D cross-correlation with SciPy's boundaries (`scipy.signal.correlate2d`)."""
    return _run2d(in1, in2, mode, boundary, fillvalue, flip=False)


def choose_conv_method(in1, in2, mode: str = "full", measure: bool = False):
    """`"fft"` or `"direct"`: what `convolve` and `correlate` run for these arrays
    (`scipy.signal.choose_conv_method`), from xconv's planner; with `measure=True`,
    `(method, {"fft": seconds, "direct": seconds})` from timing both.

    >>> import numpy as np
    >>> from xconv import signal
    >>> signal.choose_conv_method(np.ones(10**5), np.ones(999))
    'fft'
    """
    xp = namespace_of(in1, in2)
    x, k = as_array(xp, in1, "in1"), as_array(xp, in2, "in2")
    _check_mode(mode)
    _check_ndim(x, k)
    if measure:
        times = {}
        for method in ("fft", "direct"):
            start = time.perf_counter()
            convolve(x, k, mode=mode, method=method)
            times[method] = time.perf_counter() - start
        return min(times, key=times.get), times
    return _auto_method(xp, x, k)


# -- the work ---------------------------------------------------------------------------------


def _run(in1, in2, mode: str, method: str, *, conjugate: bool, axes=None, fft_function=False):
    """`convolve`, or `correlate` (`conjugate`), with SciPy's operand swap for `valid`;
    `axes` and `fft_function` for `fftconvolve` and `oaconvolve`."""
    xp = namespace_of(in1, in2)
    x, k = as_array(xp, in1, "in1"), as_array(xp, in2, "in2")
    _check_mode(mode)
    _check_ndim(x, k)
    if x.ndim == 0:  # two scalars
        return x * (xp.conj(k) if conjugate and _is_complex(xp, k) else k)
    axes = tuple(sorted(normalize_axes(axes, x.ndim)))
    if _empty(x) or _empty(k):
        return xp.zeros((0,) * x.ndim, dtype=_result_dtype(xp, x, k))
    if fft_function:  # SciPy's FFT functions: unit axes broadcast before anything
        axes = _without_unit_axes(x, k, axes)
    swapped = mode == "valid" and _swap_needed(x, k, axes)
    if swapped:
        x, k = k, x
    if conjugate:  # correlate: the convolution with in2 reversed (every axis), conjugated
        k = xp.flip(k, axis=tuple(range(k.ndim)))
        k = xp.conj(k) if _is_complex(xp, k) else k
    if method == "auto":
        method = _auto_method(xp, x, k)
    if method == "fft":  # an FFT convolves only where both operands are longer than 1
        axes = _without_unit_axes(x, k, axes)
    y = _convolve(xp, x, k, mode, method, axes)
    if swapped and conjugate:  # SciPy's correlate of swapped operands, turned back
        y = xp.flip(y, axis=tuple(range(y.ndim)))
        y = xp.conj(y) if _is_complex(xp, y) else y
    return y


def _without_unit_axes(x, k, axes) -> tuple[int, ...]:
    """SciPy's FFT convolution treats an axis where either operand has one sample as a
    broadcast axis, not a convolved one."""
    return tuple(a for a in axes if x.shape[a] != 1 and k.shape[a] != 1)


def _convolve(xp, x, k, mode, method, axes):
    k = xp.flip(k, axis=axes) if axes else k
    pads = [_pads(mode, k.shape[a]) for a in axes]
    same = tuple(x.shape) if mode == "same" else None
    return _correlate(xp, x, k, pads, method, axes, same=same)


def _correlate(xp, x, k, pads, method, axes, *, boundary="constant", fill=0, same=None):
    """The correlation over `axes` padded by `pads` (the other axes broadcast, and keep
    the size `same` where given), in SciPy's result dtype."""
    dtype = _result_dtype(xp, x, k)
    integer = xp.isdtype(dtype, "integral")
    # both operands in the result dtype (SciPy promotes int32 with float32 to float64);
    # integers sum exactly in float64 (below 2**53)
    work = xp.float64 if integer else dtype
    x, k = xp.astype(x, work, copy=False), xp.astype(k, work, copy=False)
    algorithm = {"fft": "fft", "direct": "auto"}[method]
    if method == "direct":
        algorithm = _direct_algorithm(x, k, axes, pads)
    if axes:
        y = correlate_axes(xp, x, k, axes, pads, mode=boundary, value=fill, algorithm=algorithm)
    else:  # nothing left to convolve: every axis broadcasts
        y = x * k
    if same is not None:  # the broadcast axes too keep in1's size, centred
        y = y[tuple(_centre(n, m) for n, m in zip(y.shape, same, strict=True))]
    if integer:
        y = xp.round(y) if method == "fft" else y
        return xp.astype(y, dtype)
    return xp.astype(y, dtype, copy=False)


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


def _run2d(in1, in2, mode: str, boundary: str, fillvalue, *, flip: bool):
    xp = namespace_of(in1, in2)
    x, k = as_array(xp, in1, "in1"), as_array(xp, in2, "in2")
    _check_mode(mode)
    if x.ndim != 2 or k.ndim != 2:
        raise ValueError(f"in1 and in2 must be 2-D, got {x.ndim}-D and {k.ndim}-D arrays")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {tuple(BOUNDARIES)}, got {boundary!r}")
    fill = _fill_value(fillvalue)
    if _empty(x) or _empty(k):
        return xp.zeros((0, 0), dtype=_result_dtype(xp, x, k))
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
    y = _correlate(xp, x, k, pads, method, (0, 1), boundary=padding_mode, fill=fill)
    if swapped and not flip:  # the correlation of the swapped operands, turned back
        y = xp.flip(y, axis=(0, 1))
    return y


def _fill_value(fillvalue):
    if not isinstance(fillvalue, (int, float, complex, np.number)):
        raise TypeError(f"fillvalue must be a number, got {fillvalue!r}")
    return fillvalue


# -- choosing ---------------------------------------------------------------------------------


def _auto_method(xp, x, k) -> str:
    """ "fft" where xconv's planner picks it for this correlation and the result is exact
    enough; "direct" otherwise (integers whose sums an FFT could round: SciPy's rule)."""
    if xp.isdtype(_result_dtype(xp, x, k), "integral") and not _fft_exact(xp, x, k):
        return "direct"
    return _direct_or_fft(xp, x, k)


def _direct_or_fft(xp, x, k) -> str:
    if x.ndim == 0 or _empty(x) or _empty(k):
        return "direct"
    spec = ConvSpec(tuple(k.shape), padding=tuple((n - 1, n - 1) for n in k.shape))
    plan = plan_for(spec, (1, 1, *x.shape), _plan_dtype(xp, x, k), "auto")
    return "fft" if plan.algorithm == "fft" else "direct"


def _direct_algorithm(x, k, axes, pads) -> str:
    """The direct method: xconv's direct or GEMM sum, whichever the planner prefers."""
    spec = ConvSpec(tuple(k.shape[a] for a in axes), padding=tuple(pads))
    plan = plan_for(spec, (1, 1, *(x.shape[a] for a in axes)), "float64", "auto")
    estimates = {a: s for a, s in plan.estimates.items() if a != "fft"}
    return min(estimates, key=estimates.get) if estimates else "direct"


def _fft_exact(xp, x, k) -> bool:
    """SciPy's rule: an FFT may compute an integer convolution when the largest possible
    result fits float64's mantissa."""
    largest = int(xp.max(xp.abs(x))) * int(xp.max(xp.abs(k)))
    largest *= min(_size(x), _size(k))
    return largest <= 2 ** (np.finfo(np.float64).nmant - 1)


def _plan_dtype(xp, x, k) -> str:
    dtype = _result_dtype(xp, x, k)
    return "float64" if xp.isdtype(dtype, "integral") else str(np.dtype(_numpy_name(dtype)))


def _numpy_name(dtype) -> str:
    return str(getattr(dtype, "name", None) or dtype).rsplit(".", 1)[-1]


# -- checks -----------------------------------------------------------------------------------


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _check_ndim(x, k) -> None:
    if x.ndim != k.ndim:
        raise ValueError(
            f"in1 and in2 should have the same dimensionality, got {x.ndim}-D and {k.ndim}-D"
        )


def _swap_needed(x, k, axes: Sequence[int]) -> bool:
    """Whether `valid` mode swaps the operands (SciPy's rule); ValueError when neither is
    at least as large as the other in every dimension."""
    first = all(x.shape[a] >= k.shape[a] for a in axes)
    second = all(k.shape[a] >= x.shape[a] for a in axes)
    if not (first or second):
        raise ValueError(
            "for 'valid' mode, one of in1 and in2 must be at least as large as the other "
            f"in every dimension, got shapes {tuple(x.shape)} and {tuple(k.shape)}"
        )
    return not first


def _result_dtype(xp, x, k):
    return xp.result_type(x.dtype, k.dtype)


def _is_complex(xp, a) -> bool:
    return xp.isdtype(a.dtype, "complex floating")


def _empty(a) -> bool:
    return _size(a) == 0


def _size(a) -> int:
    return math.prod(a.shape)
