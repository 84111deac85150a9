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
  place; integer outputs take the float result truncated toward zero, as ndimage's C
  loops do;
- `axes` filters over some axes only (the weights have that many dimensions);
- complex weights are conjugated by `correlate`, as ndimage does, not by `convolve`.

>>> import numpy as np
>>> from xconv import ndimage
>>> ndimage.convolve1d(np.array([2, 8, 0, 4, 1, 9, 9, 0]), np.array([1, 3]))
array([14, 24,  4, 13, 12, 36, 27,  0])
"""

from __future__ import annotations

import operator

import numpy as np
from array_api_compat import is_array_api_obj

from ._scipy_common import as_array, correlate_axes, extend, namespace_of, normalize_axes

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


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional correlation (`scipy.ndimage.correlate`).

    >>> import numpy as np
    >>> from xconv import ndimage
    >>> ndimage.correlate(np.arange(9.0).reshape(3, 3), np.ones((2, 2)), mode="nearest")
    array([[ 0.,  2.,  6.],
           [ 6.,  8., 12.],
           [18., 20., 24.]])
    """
    return _filter(input, weights, output, mode, cval, origin, axes, flip=False)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional convolution (`scipy.ndimage.convolve`): the correlation with the
    weights reversed, the centre of an even kernel moving with them.

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


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional correlation along `axis` (`scipy.ndimage.correlate1d`)."""
    return _filter1d(input, weights, axis, output, mode, cval, origin, flip=False)


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional convolution along `axis` (`scipy.ndimage.convolve1d`)."""
    return _filter1d(input, weights, axis, output, mode, cval, origin, flip=True)


# -- the work ---------------------------------------------------------------------------------


def _filter1d(input, weights, axis, output, mode, cval, origin, *, flip):
    xp = namespace_of(input, weights)
    w = as_array(xp, weights, "weights")
    if w.ndim != 1:
        raise ValueError(f"weights must be 1-D, got {w.ndim}-D")
    return _filter(input, w, output, mode, cval, origin, (axis,), flip=flip)


def _filter(input, weights, output, mode, cval, origin, axes, *, flip):
    xp = namespace_of(input, weights)
    x, w = as_array(xp, input, "input"), as_array(xp, weights, "weights")
    axes = normalize_axes(axes, x.ndim)
    if w.ndim != len(axes):
        raise RuntimeError(  # ndimage's own error class for this mistake
            f"weights must have {len(axes)} dimensions (one per filtered axis of input), "
            f"got {w.ndim}"
        )
    if any(n == 0 for n in w.shape):
        raise ValueError("weights must not be empty")
    padding_mode = _mode(mode)
    origins = _origins(origin, len(axes))
    # as in ndimage: the weights' dimensions follow the axes in increasing order, each
    # origin the axis it was given with
    order = sorted(range(len(axes)), key=lambda i: axes[i])
    axes, origins = tuple(axes[i] for i in order), tuple(origins[i] for i in order)
    sizes = tuple(w.shape)
    if flip:  # convolution: reversed weights, and an even kernel's centre moves with them
        w = xp.flip(w, axis=tuple(range(w.ndim)))
        origins = tuple(-o - (1 - n % 2) for o, n in zip(origins, sizes, strict=True))
    elif xp.isdtype(w.dtype, "complex floating"):  # ndimage correlates with conj(weights)
        w = xp.conj(w)
    for o, n in zip(origins, sizes, strict=True):
        if not -(n // 2) <= o <= (n - 1) // 2:
            raise ValueError(f"origin {o} is invalid for weights of size {n}")
    out_dtype = _output_dtype(xp, output, x.dtype)
    work = _work_dtype(xp, x, w, out_dtype)
    x, w = xp.astype(x, work), xp.astype(w, work)
    pads = [(n // 2 + o, n - 1 - n // 2 - o) for n, o in zip(sizes, origins, strict=True)]
    x, pads = extend(xp, x, axes, pads, padding_mode)
    shape = tuple(w.shape[axes.index(i)] if i in axes else 1 for i in range(x.ndim))
    kernel = xp.reshape(w, shape)
    y = correlate_axes(xp, x, kernel, axes, pads, mode=padding_mode, value=cval)
    return _store(xp, y, output, out_dtype)


def _mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {tuple(MODES)}, got {mode!r}")
    return MODES[mode]


def _origins(origin, count: int) -> tuple[int, ...]:
    values = [origin] * count if np.ndim(origin) == 0 else list(origin)
    if len(values) != count:
        raise ValueError(f"origin must be an int or {count} ints, got {origin!r}")
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"origin must be ints, got {origin!r}") from None


def _output_dtype(xp, output, input_dtype):
    if output is None:
        return input_dtype
    if _is_array(output):
        return output.dtype
    try:
        return np.dtype(output) if xp.__name__.endswith("numpy") else output
    except TypeError:
        raise TypeError(f"output must be None, a dtype or an array, got {output!r}") from None


def _is_array(output) -> bool:
    """An output array (a scalar type such as `np.float32` looks like one)."""
    return not isinstance(output, type) and is_array_api_obj(output)


def _work_dtype(xp, x, w, out_dtype):
    """float64 for integer data (exact sums below 2**53), complex when any side is."""
    dtypes = [d for d in (x.dtype, w.dtype) if not xp.isdtype(d, "integral")] or [xp.float64]
    work = xp.result_type(*dtypes, xp.float32)
    if any(xp.isdtype(d, "integral") for d in (x.dtype, w.dtype, out_dtype)):
        work = xp.result_type(work, xp.float64)
    return work


def _store(xp, y, output, out_dtype):
    if xp.isdtype(out_dtype, "integral"):
        y = xp.trunc(y) if not xp.isdtype(y.dtype, "complex floating") else xp.real(y)
    elif not xp.isdtype(out_dtype, "complex floating") and xp.isdtype(y.dtype, "complex floating"):
        raise RuntimeError("a complex result cannot be written to a real output")
    y = xp.astype(y, out_dtype)
    if _is_array(output):
        if tuple(output.shape) != tuple(y.shape):
            raise RuntimeError(
                f"output has shape {tuple(output.shape)}, the result {tuple(y.shape)}"
            )
        output[...] = y
        return output
    return y
