"""The NumPy backend's algorithm table: its own kernels where they exist, decided at plan time.

- `"gemm"`: the shifted-window BLAS engine (`_gemm`), with its layout and tiles chosen
  when the plan is made; a depthwise layer runs the depthwise kernel (`_direct`) instead
  (its GEMM would have depth `prod(kernel)` and one filter per group); without a BLAS for
  the dtype, the generic im2col GEMM.
- `"direct"`: with numba installed, the compiled plane or row kernel (`_numba`) for every
  layer it is built for (costed by its own constants, so the planner picks it where BLAS
  serves badly: depthwise and small groups, few channels with small kernels); the plane
  kernel takes the input unpadded (`Estimate.padded_layout`) and pads task by task. Else
  the depthwise kernel for one input channel per group, else the generic sums.
- `"fft"`: the generic FFT path on `scipy.fft` (the backend's transforms).
- `"onnxruntime"`: ONNX Runtime's compiled `Conv` (`_onnxruntime`), where it is installed
  and the dtype is float32 (or float16, computed in float32); it pads zeros itself, so
  it takes the input unpadded (`Estimate.padded_layout`). Priced by its own constants.

The planner ranks algorithms by the generic cost formulas (priced with this backend's
constants); the engine's own layout model only chooses among its layouts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ...algorithms import GENERIC, Algorithm, Estimate, Problem
from ...algorithms.base import WindowRoute
from . import _numba, _onnxruntime
from ._arrays import pad
from ._blas import available
from ._direct import conv_direct
from ._gemm import EnginePlan, conv_gemm_layout, plan_engine
from ._threads import workers

_DIRECT, _GEMM = GENERIC["direct"], GENERIC["gemm"]
# the padded input's layout each kernel reads without another copy (see Estimate), or
# none: the numba plane kernel takes the input unpadded and pads it task by task
_FIRST, _LAST, _UNPADDED = "channels_first", "channels_last", "unpadded"


@dataclass(frozen=True)
class _Route:
    """Which kernel runs: "numba", "depthwise", "engine" (with its plan), "generic" or
    "onnxruntime"."""

    kernel: str
    generic: Estimate | None  # the generic algorithm's estimate (its run follows it)
    engine: EnginePlan | None = None
    limit: int = 0
    planes: bool = False  # numba: the plane kernel (else the row kernel)
    # the numba plane kernel and ONNX Runtime pad themselves: the input's size before
    # padding, and the padding a run applies when it is handed that unpadded input
    unpadded: tuple[int, ...] | None = None
    padding: tuple[tuple[int, int], ...] = ()
    prepack: bool = False  # onnxruntime: a prepacked session from the first call

    def padding_of(self, x) -> tuple[tuple[int, int], ...] | None:
        """The padding `x` still needs: None when it arrives padded."""
        if self.unpadded is None or tuple(x.shape[2:]) != self.unpadded:
            return None
        return self.padding if any(p for pair in self.padding for p in pair) else None


def _empty(problem: Problem) -> bool:
    return 0 in (problem.batch, problem.channels, problem.filters, *problem.out_spatial)


def _one_channel_per_group(problem: Problem) -> bool:
    return problem.channels == problem.spec.groups


def _blas_dtype(problem: Problem) -> bool:
    return available(np.float32 if problem.dtype == "float16" else np.dtype(problem.dtype))


def estimate_direct(backend, problem: Problem) -> Estimate:
    generic = _DIRECT.estimate(backend, problem)
    if _numba.supports(problem.dtype) and not _empty(problem):
        spec = problem.spec
        planes = _numba.uses_planes(
            spec,
            problem.batch,
            problem.channels,
            problem.padded_shape[2:],
            problem.out_spatial,
            problem.item_bytes,
        )
        seconds = _numba_seconds(backend.costs, problem, planes)
        if planes and spec.padding_mode == "constant":
            unpadded = tuple(problem.input_shape[2:])
            route = _Route(
                "numba", generic, planes=True, unpadded=unpadded, padding=problem.padding
            )
            chunking = {"engine": "numba planes", "padded": "per task"}
            return Estimate(seconds, generic.flops, 0, chunking, route, _UNPADDED)
        chunking = {"engine": "numba planes" if planes else "numba rows", "block": _numba.BLOCK}
        route = _Route("numba", generic, planes=planes)
        return Estimate(seconds, generic.flops, 0, chunking, route, _FIRST)
    if _one_channel_per_group(problem) and not _empty(problem):
        chunking = {"engine": "depthwise windows", **generic.chunking}
        route = _Route("depthwise", generic)
        seconds = _depthwise_seconds(backend.costs, problem)
        return Estimate(seconds, generic.flops, generic.workspace_bytes, chunking, route, _LAST)
    return dataclasses.replace(generic, detail=_Route("generic", generic))


def estimate_gemm(backend, problem: Problem) -> Estimate:
    generic = _GEMM.estimate(backend, problem)
    spec = problem.spec
    if _one_channel_per_group(problem) and problem.channels > 1 and not _empty(problem):
        positions = math.prod(problem.out_spatial)
        workspace = problem.batch * problem.filters * positions * problem.item_bytes
        route = _Route("depthwise", generic)
        chunking = {"engine": "depthwise windows"}
        seconds = _depthwise_seconds(backend.costs, problem)
        return Estimate(seconds, generic.flops, workspace, chunking, route, _LAST)
    if _empty(problem) or not _blas_dtype(problem):
        chunking = {"engine": "im2col", **generic.chunking}
        return dataclasses.replace(generic, chunking=chunking, detail=_Route("generic", generic))
    engine = plan_engine(
        problem.padded_shape,
        spec.kernel_size,
        spec.stride,
        spec.dilation,
        problem.out_spatial,
        problem.filters,
        spec.groups,
        problem.item_bytes,
        problem.limit,
        backend.costs,
    )
    route = _Route("engine", generic, engine, problem.limit)
    layout = _FIRST if engine.pointwise else _LAST
    seconds = engine.seconds * problem.slowdown * (4.0 if problem.complex else 1.0)
    return Estimate(
        seconds, generic.flops, engine.workspace_bytes, engine.describe(), route, layout
    )


def _depthwise_seconds(costs, problem: Problem) -> float:
    """The depthwise windows kernel on `workers()` threads: multiply-adds at its measured
    rate, the input copied channel-last once, and one einsum call per image and channel
    multiplier."""
    macs = problem.flops // 2 * (4 if problem.complex else 1)
    copied = math.prod(problem.padded_shape)
    ns = (macs * costs.depthwise_mac_ns + copied * costs.copy_ns) * problem.slowdown
    calls = problem.batch * (problem.filters // problem.channels)
    return ns / workers() * 1e-9 + calls * costs.depthwise_call_s


def _numba_seconds(costs, problem: Problem, planes: bool) -> float:
    """The compiled kernel on `workers()` threads: multiply-adds at its measured rate (a
    strided last axis gathers), a start per inner loop, the input and output streamed
    (per byte: float64 moves twice float32's). The plane kernel starts one loop per tap
    and plane (the row kernel one per tap and row block), multiplies the row ends too,
    and runs a group's filters in pairs (cheaper multiply-adds)."""
    spec = problem.spec
    out = problem.out_spatial
    rows = problem.batch * problem.filters * math.prod(out[:-1])
    per_group = problem.channels // spec.groups
    taps = math.prod(spec.kernel_size)
    macs = problem.flops // 2
    if planes:
        tasks = problem.batch * spec.groups
        loops = problem.batch * problem.filters * per_group * taps
        wide = problem.padded_shape[-1] / out[-1]
        macs = macs * wide
    else:
        tasks = rows * -(-out[-1] // _numba.BLOCK)
        loops = tasks * per_group * taps
    per_mac = costs.numba_plane_mac_ns if planes else costs.numba_mac_ns
    if planes:  # filters run in pairs, an odd one out alone
        per_group_filters = problem.filters // spec.groups
        paired = (per_group_filters - per_group_filters % 2) / max(per_group_filters, 1)
        per_mac *= paired * costs.numba_plane_pair + (1 - paired)
    per_mac *= 4.0 if problem.complex else 1.0
    if spec.stride[-1] > 1:
        per_mac *= costs.numba_gather
    elements = math.prod(problem.padded_shape) + rows * out[-1]
    streamed = elements * costs.copy_ns * problem.item_bytes / 4  # float32 = 4 bytes
    ns = macs * per_mac + loops * costs.numba_loop_ns + streamed
    return ns / min(workers(), max(tasks, 1)) * 1e-9 + costs.numba_call_s


def run_direct(backend, x, weight, spec, out_spatial, estimate: Estimate):
    route = estimate.detail
    padding = route.padding_of(x)
    if route.kernel == "numba":
        y = _numba.conv_numba(
            x, weight, spec, out_spatial, route.planes, padding, spec.padding_value
        )
        if y is not None:
            return y
    if padding is not None:  # handed unpadded for the plane kernel, which declined
        x = pad(x, padding, "constant", spec.padding_value)
    if route.kernel == "depthwise":
        y = conv_direct(x, weight, spec, out_spatial)
        if y is not None:
            return y
    return _DIRECT.run(backend, x, weight, spec, out_spatial, route.generic)


def run_gemm(backend, x, weight, spec, out_spatial, estimate: Estimate):
    route = estimate.detail
    y = None
    if route.kernel == "depthwise":
        y = conv_direct(x, weight, spec, out_spatial)
    elif route.kernel == "engine":
        y = conv_gemm_layout(
            x,
            weight,
            spec.kernel_size,
            spec.stride,
            spec.dilation,
            tuple(out_spatial),
            spec.groups,
            route.engine.layout,
            limit=route.limit,
            pointwise=route.engine.pointwise,
        )
    if y is not None:
        return y
    return _GEMM.run(backend, x, weight, spec, out_spatial, route.generic)


_ORT_DTYPES = ("float16", "float32")  # compute dtypes its CPU kernels take (float16: float32)


def _onnxruntime_takes(dtype: str) -> bool:
    return _onnxruntime.available() and dtype in _ORT_DTYPES


def estimate_onnxruntime(backend, problem: Problem) -> Estimate | None:
    """ONNX Runtime's `Conv`, or None where it does not apply (not installed, a dtype its
    CPU kernels do not take, nothing to compute). Over the workspace limit (its column
    buffer) the seconds are infinite: "auto" never picks it, a forced run still may."""
    if not _onnxruntime_takes(problem.dtype) or _empty(problem):
        return None
    spec, costs = problem.spec, backend.costs
    per_group = problem.channels // spec.groups
    taps = math.prod(spec.kernel_size)
    positions = math.prod(problem.out_spatial)
    depth = per_group * taps  # the GEMM's inner dimension
    plain = taps == 1 and all(s == 1 for s in spec.stride)  # a 1x1 layer: no im2col
    columns = 0 if plain else problem.batch * spec.groups * depth * positions
    macs = problem.flops // 2
    outputs = problem.batch * problem.filters * positions
    grouped = 1 < spec.groups < problem.channels  # one GEMM per image and group
    groups = spec.groups if grouped else 1
    seconds = _onnxruntime_seconds(costs, problem.batch, groups, macs, columns, outputs)
    # a 2-D depthwise layer runs ONNX Runtime's blocked kernel, its weight prepacked at
    # once (a session built on every call whose weight changed)
    blocked = spec.rank == 2 and problem.channels == spec.groups == problem.filters > 1
    if blocked:
        moved = math.prod(problem.input_shape) + outputs
        ns = macs * costs.ort_depthwise_mac_ns + moved * costs.ort_depthwise_io_ns
        seconds = ns * 1e-9 / workers() + costs.ort_build_s + costs.ort_call_s
    workspace = 0 if plain else depth * positions * problem.item_bytes
    if workspace > problem.limit:
        seconds = math.inf
    zeros = spec.padding_mode == "constant" and spec.padding_value == 0
    chunking = {
        "engine": "onnxruntime Conv",
        "weight": "prepacked" if blocked else "a graph input",  # a plan's is prepacked
        "columns": "per image" if columns else "none",
    }
    route = _Route(
        "onnxruntime",
        None,  # no generic run behind it
        unpadded=tuple(problem.input_shape[2:]) if zeros else None,
        padding=problem.padding,
        prepack=blocked,
    )
    layout = _UNPADDED if zeros else None
    return Estimate(seconds, problem.flops, workspace, chunking, route, layout)


def run_onnxruntime(backend, x, weight, spec, out_spatial, estimate: Estimate, prepared=None):
    """ONNX Runtime's `Conv` of `x`, handed unpadded (it pads the zeros itself) or padded."""
    route = estimate.detail
    node = _onnxruntime.Node.conv(spec, route.padding_of(x))
    x, weight = x.astype(np.float32, copy=False), weight.astype(np.float32, copy=False)
    keep = prepared if backend.keeps_prepared_weights else None
    return _onnxruntime.run(node, x, weight, keep, prepack=route.prepack)


def _onnxruntime_seconds(costs, batch: int, groups: int, macs, columns, outputs) -> float:
    """ONNX Runtime's `Conv` or `ConvTranspose` on `workers()` threads: its multiply-adds,
    im2col (or col2im) column elements and outputs, one GEMM per image and group."""
    ns = macs * costs.ort_mac_ns + columns * costs.ort_column_ns + outputs * costs.ort_output_ns
    calls = batch * groups if groups > 1 else 0
    threads = workers()
    # on several threads each group's GEMM wakes the pool's sleeping threads
    wakes = calls * costs.ort_wake_s if threads > 1 else 0.0
    return (ns * 1e-9 + calls * costs.ort_group_s) / threads + wakes + costs.ort_call_s


def _window_bounds(spec, out_spatial, start, size):
    """Per axis: the adjoint's full extent clipped to the window, as ONNX `ConvTranspose`
    pads (`(before, after)` cropped from the full output), and the zeros around it."""
    crops, zeros = [], []
    for o, s, e, lo, n in zip(
        out_spatial, spec.stride, spec.dilated_kernel, start, size, strict=True
    ):
        full = (o - 1) * s + e
        first, last = max(lo, 0), min(lo + n, full)
        crops.append((first, full - last))
        zeros.append((first - lo, lo + n - last))
    return crops, zeros


def estimate_onnxruntime_window(backend, spec, y_shape, start, size, dtype: str, limit: int):
    """ONNX Runtime's `ConvTranspose` for a transposed window, or None where it does not
    apply (as `estimate_onnxruntime`, and windows that miss the adjoint's output)."""
    if not _onnxruntime_takes(dtype):
        return None
    out_spatial = tuple(y_shape[2:])
    _, zeros = _window_bounds(spec, out_spatial, start, size)
    missed = any(b + a >= n for (b, a), n in zip(zeros, size, strict=True))
    if 0 in y_shape[:2] or 0 in out_spatial or missed:
        return None
    n, filters, groups = y_shape[0], y_shape[1], spec.groups
    channels = spec.in_channels if spec.in_channels is not None else filters
    taps = math.prod(spec.kernel_size)
    positions = math.prod(out_spatial)
    depth = channels // groups * taps
    macs = n * filters * depth * positions
    columns = n * groups * depth * positions
    outputs = n * channels * math.prod(size)
    costs = backend.costs
    seconds = _onnxruntime_seconds(costs, n, groups, macs, columns, outputs)
    workspace = depth * positions * 4
    if workspace > limit:
        seconds = math.inf
    chunking = {"engine": "onnxruntime ConvTranspose", "weight": "a graph input"}
    return Estimate(seconds * costs.time_scale, 2 * macs, workspace, chunking)


def run_onnxruntime_window(backend, y, weight, spec, start, size):
    """ONNX Runtime's `ConvTranspose` of `y` cropped to the window, zeros around it."""
    crops, zeros = _window_bounds(spec, tuple(y.shape[2:]), start, size)
    pads = tuple(b for b, _ in crops) + tuple(a for _, a in crops)
    node = _onnxruntime.Node(
        "ConvTranspose", spec.kernel_size, spec.stride, spec.dilation, pads, spec.groups
    )
    y, weight = y.astype(np.float32, copy=False), weight.astype(np.float32, copy=False)
    z = _onnxruntime.run(node, y, weight)
    if any(b or a for b, a in zeros):
        z = pad(z, zeros, "constant", 0)
    return z


def onnxruntime_unavailable(problem: Problem) -> Exception:
    if not _onnxruntime.available():
        return ImportError(_onnxruntime.MISSING)
    if problem.dtype not in _ORT_DTYPES:
        return TypeError(
            'algorithm="onnxruntime" computes in float32 (float16 and float32 data), '
            f"not {problem.dtype}"
        )
    return ValueError('algorithm="onnxruntime" has nothing to compute here')


def _on_this_scale(estimate):
    """An estimate function whose seconds are multiplied by the backend's `time_scale`
    (the whole runs' measured over modelled time: see `_costs`)."""

    def scaled(backend, problem: Problem) -> Estimate | None:
        found = estimate(backend, problem)
        if found is None:
            return None
        return dataclasses.replace(found, seconds=found.seconds * backend.costs.time_scale)

    return scaled


_FFT = GENERIC["fft"]
ALGORITHMS = {
    "direct": Algorithm("direct", _on_this_scale(estimate_direct), run_direct),
    "gemm": Algorithm("gemm", _on_this_scale(estimate_gemm), run_gemm),
    "fft": Algorithm("fft", _on_this_scale(_FFT.estimate), _FFT.run, _FFT.prepares),
    "onnxruntime": Algorithm(
        "onnxruntime",
        _on_this_scale(estimate_onnxruntime),
        run_onnxruntime,
        prepares=True,
        unavailable=onnxruntime_unavailable,
        window=WindowRoute(estimate_onnxruntime_window, run_onnxruntime_window),
    ),
}
