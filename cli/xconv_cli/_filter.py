"""`xconv filter`: one array convolved with one kernel, as `scipy.ndimage.convolve`.

The data need no channel axis and the kernel no layout: any rank, the kernel's axes
matched to the data's (`axes`), ndimage's modes, `cval` and `origin`, `correlate` for
a correlation. The result has the input's dtype, as ndimage's has, unless `dtype` says
otherwise; what an integer output cannot hold is refused (ndimage would wrap it), and
dropped fractions are counted in a note.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from xconv import ndimage

from . import _render, _stream
from ._errors import FileError
from ._files import is_image, read_array, write_array

MODES = ("reflect", "mirror", "nearest", "wrap", "constant",
         "grid-mirror", "grid-wrap", "grid-constant")  # fmt: skip


def read_kernel(kernel: np.ndarray, source: str) -> np.ndarray:
    """A kernel file's values: real numbers, at least one of them."""
    if kernel.dtype.kind not in "biuf":
        raise FileError(f"{source}: the kernel's values are {kernel.dtype}; it must be real")
    if kernel.ndim == 0:
        raise FileError(f"{source}: the kernel is one number; give it an axis per filtered "
                        "axis of the data (a 1-D kernel of one tap is [w])")  # fmt: skip
    if kernel.size == 0:
        raise FileError(f"{source}: the kernel is empty; it needs at least one value")
    return kernel


def filter_axes(data_ndim: int, kernel_ndim: int, axes: str | None, color: bool) -> tuple:
    """The data axes the kernel's axes filter: `axes` as written (`0,1`), every axis when
    the ranks agree, the leading ones of a color image (H, W, C); else ask."""
    if axes is not None:
        try:
            chosen = tuple(int(a) for a in axes.replace(" ", "").split(","))
        except ValueError:
            raise FileError(f"--axes {axes!r}: write axes as 0,1") from None
        if len(chosen) != kernel_ndim:
            raise FileError(f"--axes names {len(chosen)} axes; the kernel has {kernel_ndim}")
        return chosen
    if kernel_ndim == data_ndim:
        return tuple(range(data_ndim))
    if color and kernel_ndim == data_ndim - 1:
        return tuple(range(kernel_ndim))
    raise FileError(
        f"the kernel is {kernel_ndim}-d and the data {data_ndim}-d: say which axes it filters "
        f"with --axes (for example --axes {','.join(map(str, range(kernel_ndim)))})"
    )


def origin_values(origin: str, count: int):
    """`--origin 1` or `--origin 0,-1`."""
    try:
        values = [int(o) for o in origin.replace(" ", "").split(",")]
    except ValueError:
        raise FileError(f"--origin {origin!r}: write an integer, or one per axis: 0,-1") from None
    return values[0] if len(values) == 1 else values


def output_dtype(name: str | None, data_dtype) -> np.dtype:
    """`--dtype`, or the data's own dtype (ndimage's default)."""
    if name is None:
        return np.dtype(data_dtype)
    try:
        dtype = np.dtype(name)
    except TypeError:
        raise FileError(f"--dtype {name}: not a dtype (float32, float64, uint16, ...)") from None
    if dtype.kind not in "biufc":
        raise FileError(f"--dtype {name}: the output holds numbers (float32, uint16, ...)")
    return dtype


def work_dtype(dtype: np.dtype) -> np.dtype:
    """Integers and bool filter in float64 (exact below 2**53), floats in their own type."""
    return np.dtype(np.float64) if dtype.kind in "biu" else dtype


def apply(data, kernel, *, mode, cval, origin, axes, correlate: bool):
    """The filtered data in the work dtype (NumPy or Dask, as `data` is)."""
    function = ndimage.correlate if correlate else ndimage.convolve
    work = work_dtype(np.dtype(data.dtype))
    return function(
        data, kernel.astype(work, copy=False), output=work, mode=mode, cval=cval,
        origin=origin, axes=axes,
    )  # fmt: skip


def to_output(values: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, str | None]:
    """`values` as `dtype`: floats cast; integers truncated toward zero as ndimage does,
    values outside the type's range refused, dropped fractions counted."""
    if dtype.kind in "fc":
        return values.astype(dtype, copy=False), None
    if dtype.kind == "b":
        return values != 0, None
    finite = np.isfinite(values)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    info = np.iinfo(dtype)
    if not finite.all() or low < info.min or high >= info.max + 1:
        shown = "not finite" if not finite.all() else f"span [{low:.6g}, {high:.6g}]"
        raise FileError(
            f"the results {shown}, which {dtype} cannot hold (ndimage would wrap them): "
            "use --dtype float32, or a wider integer"
        )
    truncated = np.trunc(values)
    dropped = int(np.count_nonzero(truncated != values))
    note = None
    if dropped:
        note = (f"{dropped:,} of {values.size:,} results had fractions, dropped toward zero "
                f"as ndimage does for {dtype} (--dtype float32 keeps them)")  # fmt: skip
    return truncated.astype(dtype), note


def checked_blocks(y, dtype: np.dtype):
    """A lazy result as `dtype`, each block checked as `to_output` checks it."""

    def convert(block):
        return to_output(block, dtype)[0]

    return y.map_blocks(convert, dtype=dtype)


def filter_file(
    source: str, kernel: str, output: str, *, mode: str, cval: float, origin: str,
    axes: str | None, correlate: bool, dtype: str | None, streamed: bool, block_mib: float,
    flat: bool | None, console,
) -> dict:  # fmt: skip
    """Filter the file `source` with the kernel file `kernel` into `output` (in memory, or
    block by block when `streamed`); the run's summary."""
    weights = read_kernel(read_array(kernel), kernel)
    if streamed and not _stream.can_stream(source):
        raise FileError(f"{source}: streaming reads .npy or .zarr; drop --stream to read it")
    data = _stream.open_lazy(source, block_mib) if streamed else read_array(source)
    color = not streamed and is_image(Path(source)) and data.ndim == 3
    chosen = filter_axes(data.ndim, weights.ndim, axes, color)
    out_dtype = output_dtype(dtype, data.dtype)
    options = dict(mode=mode, cval=cval, origin=origin_values(origin, len(chosen)),
                   axes=chosen, correlate=correlate)  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if streamed:  # a lazy result, computed block by block as it is written
            y = checked_blocks(apply(data, weights, **options), out_dtype)
            if _stream.flat_memory(data.nbytes, flat):
                y = _stream.private_inputs(y)
            with _render.task_progress(console) as progress:
                _stream.write_lazy(output, y, progress)
            note = None
        else:
            with _render.working(console, f"filtering {source}"):
                y, note = to_output(apply(data, weights, **options), out_dtype)
                write_array(output, y)
    return {
        "input": source, "output": output, "input_shape": list(data.shape),
        "output_shape": list(y.shape), "dtype": str(out_dtype),
        "seconds": time.perf_counter() - start,
        "algorithm": f"{mode}, {y.npartitions} blocks" if streamed else mode, "note": note,
    }  # fmt: skip
