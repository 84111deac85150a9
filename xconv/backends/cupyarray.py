"""The CuPy backend: convolution on NVIDIA GPUs without cuDNN.

CuPy 14 dropped its cuDNN bindings; this backend needs none. Everything stays on the
device and runs on the current stream:

- FFT: `cupyx.scipy.fft` (cuFFT, with CuPy's plan cache; float32 stays complex64), at
  cuFFT's fast lengths (`next_fast_len`: 2-3-5-7-smooth).
- GEMM: strided-view im2col (one copy kernel) and `matmul` (cuBLAS, batched over groups).
- direct: for one input channel per group (depthwise layers) a CUDA kernel that reads the
  taps of each output from the padded input (no im2col); else the generic sums.
- padding: `cupy.pad` in the layer's mode (one kernel per call); scratch from CuPy's
  memory pool; the workspace budget bounded by the device's free memory.

No host copies but scalars: `max_abs` (the FFT path's guard) reads one number back.
`synchronize()` waits for the current stream, so `algorithm="measure"` times the GPU.

The array module and FFT module are parameters (`native`, `fft`): CuPy and
`cupyx.scipy.fft` by default. The tests without a GPU run this same code on NumPy and
`scipy.fft` (CuPy mirrors their APIs); only the CUDA kernel and the device queries need
the GPU.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from types import ModuleType

from ..algorithms import GENERIC, Algorithm, Estimate
from ..algorithms._taps import plane_offsets
from ..algorithms.costs import GPU_REFERENCE_COSTS
from ..config import get_workspace_limit
from ..padding import NUMPY_PAD_MODES
from . import _strided
from .generic import Backend

GPU_COSTS = GPU_REFERENCE_COSTS  # the data-sheet rates every NVIDIA GPU backend starts from

# share of the device's free memory one call may take as scratch
_FREE_MEMORY_SHARE = 0.5


class CuPyBackend(Backend):
    """CuPy arrays on an NVIDIA GPU (or, for tests, `native=numpy, fft=scipy.fft`)."""

    name = "cupy"
    costs = GPU_COSTS
    keeps_prepared_weights = True

    def __init__(self, xp: ModuleType, native: ModuleType | None = None, fft=None):
        super().__init__(xp)
        if native is None:
            import cupy as native
        if fft is None:
            import cupyx.scipy.fft as fft
        self.cp, self.fft = native, fft
        self.on_gpu = native.__name__ == "cupy"
        self.algorithms = _algorithms(self.on_gpu)

    # -- device -------------------------------------------------------------------------

    def synchronize(self) -> None:
        if self.on_gpu:
            self.cp.cuda.get_current_stream().synchronize()

    def memory_budget(self) -> int:
        limit = get_workspace_limit()
        if not self.on_gpu:
            return limit
        free, _ = self.cp.cuda.runtime.memGetInfo()
        pooled = self.cp.get_default_memory_pool().free_bytes()  # reusable without a cudaMalloc
        return min(limit, int(free * _FREE_MEMORY_SHARE) + pooled)

    # -- primitives ---------------------------------------------------------------------

    def _pad(self, x, pads, mode: str, value):
        widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
        if mode == "constant":
            return self.cp.pad(x, widths, mode="constant", constant_values=value)
        return self.cp.pad(x, widths, mode=NUMPY_PAD_MODES[mode])

    def im2col(self, x, spec, out_spatial):
        return _strided.im2col(
            self.cp, x, spec.kernel_size, spec.stride, spec.dilation, out_spatial, spec.groups
        )

    def assemble(self, shape, dtype, tiles):
        tiles = list(tiles)
        if len(tiles) == 1:
            return tiles[0][1]
        out = self.cp.empty(tuple(shape), dtype=tiles[0][1].dtype)
        for region, block in tiles:
            out[region] = block
        return out

    def _max_abs(self, a) -> float:
        if math.prod(a.shape) == 0:
            return 0.0
        return float(self.cp.abs(a).max())  # one scalar back; NaN propagates, as in NumPy

    def rfftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.fft.rfftn(x, s=tuple(shape), axes=tuple(axes))

    def irfftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.fft.irfftn(x, s=tuple(shape), axes=tuple(axes))

    def fftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.fft.fftn(x, s=tuple(shape), axes=tuple(axes))

    def ifftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.fft.ifftn(x, s=tuple(shape), axes=tuple(axes), overwrite_x=True)

    def fast_length(self, complex_: bool):
        return _fast_length(self.fft, complex_)

    def overlap_frames(self, x, counts, hop, frame):
        return _strided.overlap_frames(self.cp, x, counts, hop, frame)

    def contiguous(self, x):
        return self.cp.ascontiguousarray(x)


@functools.cache
def _fast_length(fft: ModuleType, complex_: bool):
    """The FFT module's fast lengths, one object per module and kind (it keys plan caches)."""
    return functools.partial(fft.next_fast_len, real=not complex_)


# -- the depthwise kernel -------------------------------------------------------------------

_DEPTHWISE_SOURCE = r"""
extern "C" __global__ void depthwise(
    const {T}* x, const {T}* w, {T}* y,
    const long long* tap_offsets, const long long* out_sizes, const long long* out_steps,
    int rank, int taps, int multiplier, int filters, long long plane, long long positions,
    long long total)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        long long position = i % positions;
        long long image_filter = i / positions;
        int f = (int)(image_filter % filters);
        long long image = image_filter / filters;
        long long channels = filters / multiplier;
        long long base = (image * channels + f / multiplier) * plane;
        long long rest = position;
        for (int axis = rank - 1; axis >= 0; --axis) {
            base += (rest % out_sizes[axis]) * out_steps[axis];
            rest /= out_sizes[axis];
        }
        {T} sum = 0;
        const {T}* weights = w + (long long)f * taps;
        for (int t = 0; t < taps; ++t) {
            sum += x[base + tap_offsets[t]] * weights[t];
        }
        y[i] = sum;
    }
}
"""

_CUDA_TYPES = {"float32": "float", "float64": "double"}


@functools.cache
def _depthwise_kernel(dtype_name: str):
    import cupy

    source = _DEPTHWISE_SOURCE.replace("{T}", _CUDA_TYPES[dtype_name])
    return cupy.RawKernel(source, "depthwise")


def conv_depthwise(backend: CuPyBackend, x, weight, spec, out_spatial):
    """One input channel per group on the GPU: each output reads its taps from the padded
    `x` (`(N, C, *S)`, C order); None where the kernel does not apply (dtype)."""
    cp = backend.cp
    dtype = str(x.dtype)
    if dtype not in _CUDA_TYPES or str(weight.dtype) != dtype:
        return None
    x = cp.ascontiguousarray(x)
    n, channels, *spatial = x.shape
    filters = weight.shape[0]
    offsets = plane_offsets(spec.kernel_size, spec.dilation, spatial)
    steps = [math.prod(spatial[i + 1 :]) for i in range(spec.rank)]
    positions = math.prod(out_spatial)
    y = cp.empty((n, filters, *out_spatial), dtype=x.dtype)
    total = y.size
    if total == 0:
        return y
    arguments = (
        x,
        cp.ascontiguousarray(cp.reshape(weight, (filters, -1))),
        y,
        cp.asarray(offsets, dtype=cp.int64),
        cp.asarray(out_spatial, dtype=cp.int64),
        cp.asarray([s * t for s, t in zip(spec.stride, steps, strict=True)], dtype=cp.int64),
        cp.int32(spec.rank),
        cp.int32(len(offsets)),
        cp.int32(filters // channels),
        cp.int32(filters),
        cp.int64(math.prod(spatial)),
        cp.int64(positions),
        cp.int64(total),
    )
    threads = 256
    blocks = min(-(-total // threads), 65_535 * 16)
    _depthwise_kernel(dtype)((blocks,), (threads,), arguments)
    return y


# -- the algorithm table ---------------------------------------------------------------------

_DIRECT = GENERIC["direct"]


def _estimate_direct(backend, problem) -> Estimate:
    generic = _DIRECT.estimate(backend, problem)
    if problem.channels != problem.spec.groups:
        return generic
    # one kernel: every output reads its taps once (memory-bound, the input from cache)
    outputs = problem.batch * problem.filters * math.prod(problem.out_spatial)
    taps = math.prod(problem.spec.kernel_size)
    costs = backend.costs
    seconds = outputs * (taps * costs.elementwise_ns / 4 + costs.copy_ns) * 1e-9
    seconds += costs.gemm_call_ns * 1e-9
    return Estimate(seconds, generic.flops, 0, {"engine": "depthwise CUDA kernel"}, generic)


def _run_direct(backend, x, weight, spec, out_spatial, estimate: Estimate):
    if isinstance(estimate.detail, Estimate):  # the depthwise kernel, else its fallback
        y = conv_depthwise(backend, x, weight, spec, out_spatial)
        if y is not None:
            return y
        estimate = estimate.detail
    return _DIRECT.run(backend, x, weight, spec, out_spatial, estimate)


def _algorithms(on_gpu: bool) -> dict[str, Algorithm]:
    if not on_gpu:
        return dict(GENERIC)
    return {**GENERIC, "direct": Algorithm("direct", _estimate_direct, _run_direct)}


__all__ = ["GPU_COSTS", "CuPyBackend", "conv_depthwise"]
