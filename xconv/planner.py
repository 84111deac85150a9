"""Choosing the algorithm of a convolution, and how to chunk it: an inspectable `Plan`.

`plan_for(spec, input_shape, dtype)` models the time of every forward algorithm (direct,
GEMM, FFT) from the shapes alone and picks the fastest; `xconv.plan` is the same from
user-facing shapes and keywords. The plan records why, the modelled time of each
candidate, the flops and workspace of the choice and its chunking (GEMM tiles, FFT
frames). `algorithm="measure"` in `xconv.conv` instead times the plausible candidates
once per (shapes, dtype, parameters, backend) and remembers the winner (`measured`).

Cost model (nanoseconds of one core unless a speedup says otherwise; `P` output
positions per image, `T` kernel taps, `N` batch, `C`, `F` channels, `g` groups; flops
two per multiply-add, x4 for complex; float64 and complex128 at half the rates):

- GEMM: `N*C*T*P` column elements copied at `COPY_NS`, then the matmul at
  `flops / (GEMM_PEAK * BLAS_SPEEDUP) + (columns + outputs) * MATMUL_STREAM_NS` (the
  operands streamed through memory, which more cores do not speed up), plus
  `GEMM_CALL_NS` per tile.
- direct: per tap, `N*C*P` patch elements copied (`COPY_NS`) and `N*F*P` accumulated
  (`ELEMENTWISE_NS`); with one channel per group also a broadcast multiply of `N*F*P`
  (`ELEMENTWISE_NS`), all times `IN_CACHE` when one tap's arrays fit `CACHE_BYTES`;
  otherwise a matmul of depth `C/g` (the formula above); plus `DIRECT_CALL_NS` per tap.
- FFT: `xconv.algorithms.fft.FFTCosts` (transform passes and butterflies per sample,
  cache misses of long lines and big frames, channel mixing by products or by matmul,
  framing copies, per-chunk overhead; transforms sped up by `transform_speedup` on two
  cores), after the polyphase split and with the overlap-save frame that minimises it.

Calibration (reference machine: 2 cores of a shared x86-64 VM; NumPy 2.4 + OpenBLAS,
SciPy 1.17 pocketfft, Python 3.11). The machine was shared with other jobs (load 2-5 on
2 cores), so wall-clock times were unusable; every constant is single-thread CPU time
(`time.process_time`, OpenBLAS and `scipy.fft` on one thread, best of 3-7 runs):

- `GEMM_PEAK = 167e9`: numpy.matmul of two 2048 x 2048 float32 matrices on one thread
  (the issue quotes 420 GFLOP/s on both cores of an idle machine).
- `MATMUL_STREAM_NS = 0.25`: fit of nine conv-shaped products (m x k x p from
  64 x 576 x 12544 to 1 x 9 x 3136) to flops/peak + (k + m) * p * this.
- `COPY_NS = 0.5`, `ELEMENTWISE_NS = 0.6` per element: `sliding_window_view` windows
  copied to C order (0.24 alone), a broadcast multiply into a fresh array (0.46), raised
  to match whole `conv_gemm` / `conv_direct` runs (fresh arrays, page faults).
- `IN_CACHE = 0.25` below `CACHE_BYTES = 2 MiB`: direct 1-d filters of 100k samples.
- `DIRECT_CALL_NS = 10 us` per tap, `GEMM_CALL_NS = 60 us` per tile, FFT `call = 100 us`
  per chunk: the time of problems of a few dozen outputs.
- FFT: `axis_pass = 1.25`, `transform = 0.085` per sample (a fit of pocketfft r2c + c2r
  on 1-d sizes 16..16384, 2-d 8..2048 and 3-d 16..128 per side, raised by 1.4 to match
  whole `conv_fft` runs); `long_line = 1.05` per doubling of a line beyond 128 KiB (1-d
  sizes 64 Ki to 1 Mi); `large_frame = 1.0` beyond 12 MiB (2-d 2048 x 2048);
  `mix_product = 1.3` and `mix_matmul = 0.5` per complex multiply-add (seven spectral
  mixing shapes from 1 x 2 x 2 to 64 x 64 x 64 channels).
- `BLAS_SPEEDUP = 2.0` and `transform_speedup = 1.4` turn one core into two: not
  measurable on the shared machine; 2.0 is the flop ratio of the issue's 420 GFLOP/s to
  a core's peak, 1.4 what pocketfft's `workers=2` gained on batched transforms here.

Checked on 24 problems (the issue's 13 benchmark layers and 11 others), the model named
the fastest single-thread algorithm in 22 to 23 of them from run to run; the misses were
near ties (within 1.3x, for example conv3d: GEMM or FFT).

The model only has to rank algorithms whose times differ by large factors (GEMM for
small kernels and many channels, direct for depthwise layers, FFT for large kernels);
where it is unsure, `algorithm="measure"` decides by timing.

Transposed convolution and weight gradients plug in through `plan_for` with a
transposed spec (costed as the `prod(stride)` stride-1 phase correlations that a
transposed convolution runs) or through `choose_algorithm(spec, algorithm,
input_shape=..., dtype=...)` for each forward correlation they run.

>>> p = plan((1, 1, 2048, 2048), (1, 1, 25, 25), dtype="float32", padding=12)
>>> p.algorithm
'fft'
>>> plan((4, 64, 56, 56), (64, 64, 3, 3), dtype="float32", padding=1).algorithm
'gemm'
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from .algorithms import FORWARD
from .algorithms.fft import backend_name, fast_length_for, fft_geometry
from .algorithms.gemm import plan_tiles
from .config import get_default_algorithm, get_workspace_limit
from .spec import ConvSpec

ALGORITHMS = ("auto", "direct", "gemm", "fft", "measure")
FORWARD_ALGORITHMS = ("direct", "gemm", "fft")

GEMM_PEAK = 167e9
MATMUL_STREAM_NS = 0.25
COPY_NS = 0.5
ELEMENTWISE_NS = 0.6
DIRECT_CALL_NS = 10_000.0
GEMM_CALL_NS = 60_000.0
BLAS_SPEEDUP = 2.0
CACHE_BYTES = 2 * 2**20
IN_CACHE = 0.25

# "measure" times only candidates modelled within this factor of the best one
MEASURE_WITHIN = 20.0

_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")


@dataclass(frozen=True)
class Plan:
    """How `xconv` will run one convolution, and why.

    `algorithm` is what runs; `reason` says why; `estimates` maps each candidate to its
    modelled seconds; `flops` and `workspace_bytes` are those of the chosen algorithm
    (the FFT's conventional flop count, the definition's for direct and GEMM);
    `chunking` describes how the work is split (GEMM tile of `(batch, *outputs)`; FFT
    transform shape, frames and frames per chunk).
    """

    algorithm: str
    reason: str
    spec: ConvSpec | None = None
    input_shape: tuple[int, ...] | None = None
    dtype: str | None = None
    flops: int | None = None
    workspace_bytes: int | None = None
    chunking: Mapping[str, object] = field(default_factory=dict, hash=False)
    estimates: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __repr__(self) -> str:
        fields = [f"algorithm={self.algorithm!r}", f"reason={self.reason!r}"]
        if self.flops is not None:
            fields += [f"flops={self.flops:.3g}", f"workspace_bytes={self.workspace_bytes}"]
        if self.chunking:
            fields.append(f"chunking={dict(self.chunking)!r}")
        return f"Plan({', '.join(fields)})"

    def __str__(self) -> str:
        lines = [f"Plan: {self.algorithm} ({self.reason})"]
        if self.spec is not None and self.input_shape is not None:
            kind = "transposed " if self.spec.transposed else ""
            lines.append(
                f"  {kind}input {self.input_shape} {self.dtype}, kernel "
                f"{self.spec.kernel_size}, stride {self.spec.stride}, dilation "
                f"{self.spec.dilation}, groups {self.spec.groups}"
            )
        if self.flops is not None:
            lines.append(f"  flops {self.flops:.3g}, workspace {_bytes(self.workspace_bytes)}")
        if self.chunking:
            lines.append("  chunking " + ", ".join(f"{k} {v}" for k, v in self.chunking.items()))
        if self.estimates:
            ranked = sorted(self.estimates.items(), key=lambda item: item[1])
            lines.append(
                "  modelled "
                + ", ".join(f"{name} {seconds * 1e3:.3g} ms" for name, seconds in ranked)
            )
        return "\n".join(lines)


def _bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def check_algorithm(algorithm: object) -> str:
    """`algorithm` if it names an algorithm choice, else ValueError."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return algorithm  # type: ignore[return-value]


def dtype_name(dtype: object) -> str:
    """`"float32"` etc. for a dtype of any library (or its name).

    >>> import numpy as np
    >>> dtype_name(np.float32), dtype_name("complex128")
    ('float32', 'complex128')
    """
    text = str(getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or dtype)
    for name in sorted(_DTYPES, key=len, reverse=True):
        if text == name or text.endswith("." + name) or text.endswith(f"'{name}'>"):
            return name
    raise TypeError(f"dtype must be a floating or complex dtype, got {dtype!r}")


# ---------------------------------------------------------------------------- public


def plan(
    x_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    dtype: object = "float32",
    stride: int | Sequence[int] = 1,
    padding: object = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: str = "constant",
    padding_value: float | complex = 0.0,
    channels_last: bool = False,
    algorithm: str = "auto",
    backend: str = "numpy",
) -> Plan:
    """The plan `xconv.conv` follows for arrays of these shapes, dtype and keywords.

    `backend` is `"numpy"` (scipy.fft lengths) or `"generic"` (other namespaces).

    >>> p = plan((2, 64, 64, 64), (64, 1, 31, 31), dtype="float32", padding=15, groups=64)
    >>> p.algorithm, p.chunking["fft_shape"]
    ('fft', (96, 96))
    >>> print(p)  # doctest: +ELLIPSIS
    Plan: fft (...)
    ...
    """
    check_algorithm(algorithm)
    spec = ConvSpec.from_weight_shape(
        tuple(weight_shape),
        groups=groups,
        stride=stride,
        padding=padding,
        dilation=dilation,
        padding_mode=padding_mode,
        padding_value=padding_value,
        channels_last=channels_last,
    )
    shape = tuple(x_shape)
    spec.output_shape(shape)  # validates rank, channels and sizes
    if len(shape) == spec.rank + 1:
        shape = (1, *shape)
    if channels_last:
        shape = (shape[0], shape[-1], *shape[1:-1])
    return plan_for(spec, shape, dtype, algorithm, backend=backend)


def plan_for(
    spec: ConvSpec,
    input_shape: Sequence[int],
    dtype: object = "float32",
    algorithm: str = "auto",
    *,
    backend: str = "numpy",
) -> Plan:
    """The plan for `spec` on a batched channel-first `(N, C, *S)` input before padding.

    A transposed spec (`spec.transposed`) is costed as its `prod(stride)` stride-1 phase
    correlations over the input.

    >>> spec = ConvSpec.from_weight_shape((1, 1, 1025))
    >>> plan_for(spec, (1, 1, 1_000_000), "float32").algorithm
    'fft'
    """
    check_algorithm(algorithm)
    shape = tuple(int(n) for n in input_shape)
    return _plan(spec, shape, dtype_name(dtype), algorithm, backend, get_workspace_limit())


@functools.lru_cache(maxsize=1024)
def _plan(spec: ConvSpec, shape, name: str, algorithm: str, backend: str, limit: int) -> Plan:
    """`plan_for`, remembered: a plan depends only on its arguments and the limit."""
    if spec.transposed:
        return _transposed_plan(spec, shape, name, algorithm, backend)
    if math.prod(shape[:2]) == 0 or spec.out_channels == 0:
        chosen = algorithm if algorithm in FORWARD_ALGORITHMS else "fft"
        return Plan(chosen, "empty batch or channels: nothing to compute", spec, shape, name, 0, 0)
    estimates = {a: _estimate(a, spec, shape, name, backend) for a in FORWARD_ALGORITHMS}
    seconds = {a: e[0] for a, e in estimates.items()}
    if algorithm in FORWARD_ALGORITHMS:
        chosen, reason = algorithm, "requested"
    else:
        chosen = min(seconds, key=seconds.get)
        reason = _reason(chosen, spec, seconds)
    _, flops, workspace, chunking = estimates[chosen]
    return Plan(
        chosen,
        reason,
        spec,
        shape,
        name,
        flops,
        workspace,
        MappingProxyType(chunking),
        MappingProxyType(seconds),
    )


def choose_algorithm(
    spec: ConvSpec,
    algorithm: str = "auto",
    *,
    input_shape: Sequence[int] | None = None,
    dtype: object = "float32",
    backend: str = "numpy",
) -> Plan:
    """The plan (`.algorithm`, `.reason`) for `spec`: the user's choice unless "auto".

    With `input_shape` (batched channel-first, before padding) this is `plan_for`.
    Without it only the spec is known and a rule of thumb decides: FFT for large kernels,
    direct for one channel per group, GEMM otherwise. "measure" needs arrays; without
    them it falls back to the model.
    """
    check_algorithm(algorithm)
    if input_shape is not None:
        return plan_for(spec, input_shape, dtype, _modelled(algorithm), backend=backend)
    if algorithm in FORWARD_ALGORITHMS:
        return Plan(algorithm, "requested", spec)
    taps = math.prod(spec.kernel_size) / math.prod(spec.stride)
    if taps >= 64:
        return Plan("fft", f"{taps:.0f} taps per output (no shapes known): FFT", spec)
    if spec.in_channels is not None and spec.in_channels == spec.groups:
        return Plan("direct", "one input channel per group (no shapes known)", spec)
    return Plan("gemm", "im2col columns feed one batched matmul (no shapes known)", spec)


def _modelled(algorithm: str) -> str:
    return "auto" if algorithm == "measure" else algorithm


# ---------------------------------------------------------------------------- running


def run(xp, x, weight, spec: ConvSpec, out_spatial: tuple[int, ...], algorithm: str, input_shape):
    """Run the forward correlation of a padded `(N, C, *S)` `x` as `algorithm` says.

    `input_shape` is the shape before padding (what the plan is made for). "auto" follows
    `plan_for`; "measure" times the candidates on the first call for these shapes, dtype,
    parameters and namespace and reuses the winner afterwards.
    """
    backend = backend_name(xp)
    if algorithm == "auto":
        algorithm = get_default_algorithm()

    def forward(name: str):
        return FORWARD[name](xp, x, weight, spec, out_spatial)

    if algorithm == "measure":
        key = (tuple(x.shape), tuple(weight.shape), dtype_name(x.dtype), spec, xp.__name__)
        known = measured(key)
        if known is not None:
            return forward(known)
        candidates = plan_for(spec, input_shape, x.dtype, backend=backend)
        return measure(key, candidates, forward)[1]
    return forward(plan_for(spec, input_shape, x.dtype, algorithm, backend=backend).algorithm)


# ---------------------------------------------------------------------------- measure

_MEASURED: dict[tuple, str] = {}


def measured(key: tuple) -> str | None:
    """The algorithm `measure` chose for `key` in this process, or None."""
    return _MEASURED.get(key)


def clear_measurements() -> None:
    """Forget every algorithm `measure` chose."""
    _MEASURED.clear()


def measure(key: tuple, plan_: Plan, run: Callable[[str], object]) -> tuple[str, object]:
    """Time `run(algorithm)` for the plausible candidates; remember and return the winner.

    Candidates are the algorithms modelled within `MEASURE_WITHIN` of the best, each run
    once; returns the winner and its result (so the winning run is not repeated).
    """
    best = min(plan_.estimates.values())
    candidates = [a for a, s in plan_.estimates.items() if s <= best * MEASURE_WITHIN]
    results = {}
    timings = {}
    for algorithm in candidates:
        start = time.perf_counter()
        results[algorithm] = run(algorithm)
        timings[algorithm] = time.perf_counter() - start
    winner = min(timings, key=timings.get)
    _MEASURED[key] = winner
    return winner, results[winner]


# ---------------------------------------------------------------------------- the model


def _reason(chosen: str, spec: ConvSpec, seconds: Mapping[str, float]) -> str:
    ranked = sorted(seconds, key=seconds.get)
    runner_up = ranked[1]
    ratio = seconds[runner_up] / max(seconds[chosen], 1e-12)
    why = {
        "fft": f"{math.prod(spec.kernel_size)} taps: transforms cost less than the sums",
        "gemm": "im2col columns feed one batched matmul near the BLAS peak",
        "direct": "few channels per group: per-tap products without a column buffer",
    }[chosen]
    return f"{why}; modelled {ratio:.1f}x faster than {runner_up}"


def _estimate(algorithm: str, spec: ConvSpec, shape, dtype: str, backend: str):
    """`(seconds, flops, workspace_bytes, chunking)` of `algorithm` on this problem."""
    n, channels = shape[0], shape[1]
    out = spec.output_spatial(shape[2:])
    filters = spec.out_channels if spec.out_channels is not None else channels
    complex_ = dtype.startswith("complex")
    item = {"float16": 4, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16}[dtype]
    slow = 2.0 if dtype in ("float64", "complex128") else 1.0  # half the rate
    taps = math.prod(spec.kernel_size)
    positions = math.prod(out)
    flops = 2 * n * filters * positions * (channels // spec.groups) * taps
    real_flops = flops * (4 if complex_ else 1)
    if algorithm == "fft":
        geometry = fft_geometry(
            spec,
            n,
            channels,
            filters,
            out,
            item_bytes=item,
            complex_=complex_,
            limit=get_workspace_limit(),
            fast_length=fast_length_for(backend, complex_),
        )
        chunking = {
            "fft_shape": geometry.fft_shape,
            "frames": geometry.blocks,
            "frame_outputs": geometry.block,
            "chunk": geometry.chunk,
            "phases": tuple(len(p) for p in geometry.phases),
        }
        return geometry.seconds * slow, geometry.flops, geometry.workspace_bytes, chunking
    per_group_in = channels // spec.groups
    if algorithm == "gemm":
        column_bytes = channels * taps * item
        tile = plan_tiles((n, *out), column_bytes, get_workspace_limit())
        tiles = math.prod(-(-s // max(t, 1)) for s, t in zip((n, *out), tile, strict=True))
        columns = n * channels * taps * positions
        nanoseconds = (
            columns * COPY_NS * slow
            + _matmul_ns(real_flops, columns + n * filters * positions, slow)
            + tiles * GEMM_CALL_NS
        )
        workspace = column_bytes * math.prod(tile)
        return nanoseconds * 1e-9, flops, workspace, {"tile": tile, "tiles": tiles}
    # direct: per tap a strided patch copy, a product, and an accumulation
    patch, result = n * channels * positions, n * filters * positions
    per_tap = patch * COPY_NS + result * ELEMENTWISE_NS
    if per_group_in == 1:
        per_tap += result * ELEMENTWISE_NS * (4 if complex_ else 1)
        if (patch + 2 * result) * item <= CACHE_BYTES:  # one tap's arrays stay in cache
            per_tap *= IN_CACHE
        products = 0.0
    else:
        products = _matmul_ns(real_flops, taps * (patch + result), slow)
    nanoseconds = taps * (per_tap * slow + DIRECT_CALL_NS) + products
    workspace = n * (channels + 2 * filters) * positions * item
    return nanoseconds * 1e-9, flops, workspace, {"taps": taps}


def _matmul_ns(flops: float, streamed: int, slow: float) -> float:
    """BLAS time: the flops at the peak on every core plus the operands streamed through
    memory (which more cores do not speed up)."""
    return (flops / GEMM_PEAK * 1e9 / BLAS_SPEEDUP + streamed * MATMUL_STREAM_NS) * slow


def _transposed_plan(spec: ConvSpec, shape, dtype: str, algorithm: str, backend: str) -> Plan:
    """A transposed spec, costed as its `prod(stride)` stride-1 phase correlations."""
    phase = ConvSpec(
        tuple(-(-e // s) for e, s in zip(spec.dilated_kernel, spec.stride, strict=True)),
        padding="full",
        groups=spec.groups,
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
    )
    inner = plan_for(phase, shape, dtype, algorithm, backend=backend)
    phases = math.prod(spec.stride)
    return Plan(
        inner.algorithm,
        f"{inner.reason} (x{phases} stride phases of a transposed convolution)",
        spec,
        shape,
        dtype,
        None if inner.flops is None else inner.flops * phases,
        inner.workspace_bytes,
        MappingProxyType(dict(inner.chunking, phases=phases)),
        MappingProxyType({a: s * phases for a, s in inner.estimates.items()}),
    )
