"""SciPy: `ndimage.correlate` and `signal.correlate` / `signal.convolve`, one channel.

SciPy filters one array with one kernel, so this peer takes the one-channel cases
(C = F = 1), one batch item at a time. Translation:

- stride 1 with an output as large as the input: `ndimage.correlate` with its own
  boundary modes (`constant` with `cval`, `mirror` = reflect, `reflect` = symmetric,
  `nearest` = replicate, `wrap` = circular) and the `origin` that puts the kernel where
  the case's `(before, after)` padding does;
- otherwise `numpy.pad` with the same modes, `signal.correlate(..., "valid")` and a
  strided slice;
- transposed: zeros inserted between samples, `signal.convolve(..., "full")`, cropped.

Kernels are dilated by inserting zeros. SciPy conjugates the kernel of a complex
correlation; the case's is not conjugated, so the peer passes its conjugate.
"""

from __future__ import annotations

import numpy as np

from .. import semantics
from ..cases import Arrays, Case
from ._common import activate, dilate_kernel, require

NAME = "scipy"
_NDIMAGE_MODES = {"constant": "constant", "reflect": "mirror", "symmetric": "reflect"}
_NDIMAGE_MODES.update(replicate="nearest", circular="wrap")
_NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "symmetric": "symmetric"}
_NUMPY_MODES.update(replicate="edge", circular="wrap")


def version() -> str:
    import scipy

    return scipy.__version__


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    require(case.one_channel, "SciPy filters one channel with one kernel")
    require(not case.gradient, "SciPy has no gradients")
    require(case.dtype != "float16", "scipy.ndimage and scipy.signal do not take float16")
    kernel = dilate_kernel(arrays.weight[0, 0], case.per_dim("dilation"))
    if np.iscomplexobj(kernel):
        kernel = kernel.conj()  # SciPy correlates with conj(kernel)
    x = arrays.x if case.batched else arrays.x[None]
    filtered = _transposed if case.transposed else _forward
    y = np.stack([filtered(case, item[0], kernel)[None] for item in x])
    if arrays.bias is not None:
        y = y + arrays.bias[0]
    y = y.astype(np.result_type(arrays.x, arrays.weight))
    return {"output": activate(case, y if case.batched else y[0])}


def _forward(case: Case, x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from scipy import ndimage, signal

    pads = semantics.pads(case)
    mode, value = case.params["padding_mode"], case.params["padding_value"]
    stride = case.per_dim("stride")
    same_size = all(b + a == e - 1 for (b, a), e in zip(pads, kernel.shape, strict=True))
    if set(stride) == {1} and same_size and np.isrealobj(value):
        # ndimage centres the kernel at e // 2; origin moves it to the `before` padding
        origin = [b - e // 2 for (b, _), e in zip(pads, kernel.shape, strict=True)]
        return ndimage.correlate(x, kernel, mode=_NDIMAGE_MODES[mode], cval=value, origin=origin)
    if mode == "constant":
        padded = np.pad(x, pads, mode="constant", constant_values=value)
    else:
        padded = np.pad(x, pads, mode=_NUMPY_MODES[mode])
    y = signal.correlate(padded, kernel, mode="valid")
    return y[tuple(slice(None, None, s) for s in stride)]


def _transposed(case: Case, x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from scipy import signal

    stride = case.per_dim("stride")
    upsampled = np.zeros(
        tuple((n - 1) * s + 1 for n, s in zip(x.shape, stride, strict=True)),
        dtype=np.result_type(x, kernel),
    )
    upsampled[tuple(slice(None, None, s) for s in stride)] = x
    # the transposed correlation scatters x through the kernel: a full convolution
    full = signal.convolve(upsampled, kernel.conj() if np.iscomplexobj(kernel) else kernel)
    widths = [(0, p) for p in case.per_dim("output_padding")]
    full = np.pad(full, widths)
    index = []
    for axis, (before, after) in enumerate(semantics.pads(case)):
        if after < 0:  # "same" with a kernel shorter than the stride: zeros at the end
            full = np.pad(full, [(0, -after) if i == axis else (0, 0) for i in range(x.ndim)])
            after = 0
        index.append(slice(before, full.shape[axis] - after))
    return full[tuple(index)]
