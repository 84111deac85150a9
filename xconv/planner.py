"""Choosing the algorithm of a convolution, and how to chunk it: an inspectable `Plan`.

`plan_for(spec, input_shape, dtype)` models the time of every forward algorithm (direct,
GEMM, FFT) from the shapes alone and picks the fastest; `xconv.plan` is the same from
user-facing shapes and keywords. The plan records why, the modelled time of each
candidate, the flops and workspace of the choice and its chunking (GEMM tiles, FFT
frames). `algorithm="measure"` in `xconv.conv` instead times the plausible candidates
once per (shapes, dtype, parameters, backend) and remembers the winner (`measured`).

Cost model (seconds; `P` output positions per image, `T` kernel taps, `N` batch,
`C`, `F` channels, `g` groups, flops counted two per multiply-add, complex x4):

- GEMM: `N*C*T*P` column elements copied at `COPY_NS` each, plus `flops / rate`, plus
  `GEMM_CALL_NS` per tile. `rate = GEMM_PEAK * m/(m + GEMM_HALF_M) * k/(k + GEMM_HALF_K)`
  for the per-group matrix product of `m = F/g` rows and depth `k = C/g * T`: BLAS runs
  near its peak on big matrices and far below it on thin ones.
- direct: per tap, `N*C*P` patch elements copied, then a matmul of depth `C/g` (same
  rate formula with `k = C/g`) or, for one channel per group, a broadcast multiply of
  `N*F*P` elements at `ELEMENTWISE_NS`, then `N*F*P` accumulated at `ELEMENTWISE_NS`,
  plus `DIRECT_CALL_NS`.
- FFT: `xconv.algorithms.fft.FFTCosts` (transforms per sample and log2 size, complex
  multiply-adds of the channel mixing, copies, per-chunk overhead), after the polyphase
  split and with the overlap-save frame size that minimises it.
- float64 and complex128 run at half the float32/complex64 rates.

Constants, measured on the reference machine (2 cores of a shared x86-64 VM, NumPy 2.4
with OpenBLAS, SciPy 1.17 pocketfft, Python 3.11), best of 7 runs each:

- `GEMM_PEAK = 150e9`: numpy.matmul of two 2048 x 2048 float32 matrices ran at 420
  GFLOP/s on an idle machine and 150 GFLOP/s while the machine was shared; this is the
  rate the conv-shaped products (576-deep, 64 rows) reached in practice.
- `GEMM_HALF_M = 16`, `GEMM_HALF_K = 24`: a fit of the time of `conv_gemm` on eight
  layers (1x1, 3x3, 7x7 stride 2, grouped, depthwise) to the formula above.
- `COPY_NS = 0.5` ns per im2col/patch element: `sliding_window_view` plus copy of
  strided windows (about 8 GB/s of reads and writes).
- `ELEMENTWISE_NS = 0.6` ns per element of a broadcast multiply or add into a fresh array.
- `DIRECT_CALL_NS = 12_000`, `GEMM_CALL_NS = 40_000`: the time of 1x1-pixel problems.
- FFT: `transform = 0.115` ns per real sample per log2(size) (pocketfft r2c+c2r, 1-d,
  sizes 256..65536, workers=2), `axis_pass = 0.8` ns per sample per extra axis (2-d and
  3-d transforms, 32..2048 and 16..128 per side), `long_line = 2.4` ns per sample once a
  1-d line exceeds 512 KiB (1-d sizes 256 Ki and 1 Mi), `mix = 0.35` ns per complex64
  multiply-add, `copy = 0.25` ns per framed element, `call = 60 us` per chunk.

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

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .algorithms import FORWARD
from .algorithms.fft import backend_name, fast_length_for, fft_geometry
from .algorithms.gemm import plan_tiles
from .config import get_workspace_limit
from .spec import ConvSpec

ALGORITHMS = ("auto", "direct", "gemm", "fft", "measure")
FORWARD_ALGORITHMS = ("direct", "gemm", "fft")

GEMM_PEAK = 150e9
GEMM_HALF_M = 16
GEMM_HALF_K = 24
COPY_NS = 0.5
ELEMENTWISE_NS = 0.6
DIRECT_CALL_NS = 12_000.0
GEMM_CALL_NS = 40_000.0

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
    name = dtype_name(dtype)
    shape = tuple(int(n) for n in input_shape)
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
    return Plan(chosen, reason, spec, shape, name, flops, workspace, chunking, seconds)


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
    per_group_in, per_group_out = channels // spec.groups, filters // spec.groups
    if algorithm == "gemm":
        column_bytes = channels * taps * item
        tile = plan_tiles((n, *out), column_bytes, get_workspace_limit())
        tiles = math.prod(-(-s // t) for s, t in zip((n, *out), tile, strict=True))
        rate = _gemm_rate(per_group_out, per_group_in * taps) / slow
        seconds = (
            n * channels * taps * positions * COPY_NS * 1e-9 * slow
            + real_flops / rate
            + tiles * GEMM_CALL_NS * 1e-9
        )
        workspace = column_bytes * math.prod(tile)
        return seconds, flops, workspace, {"tile": tile, "tiles": tiles}
    # direct
    per_tap = n * channels * positions * COPY_NS + n * filters * positions * ELEMENTWISE_NS
    if per_group_in == 1:
        per_tap += n * filters * positions * ELEMENTWISE_NS * (4 if complex_ else 1)
        matmul = 0.0
    else:
        matmul = real_flops / (_gemm_rate(per_group_out, per_group_in) / slow)
    seconds = taps * (per_tap * slow + DIRECT_CALL_NS) * 1e-9 + matmul
    workspace = n * (channels + 2 * filters) * positions * item
    return seconds, flops, workspace, {"taps": taps}


def _gemm_rate(rows: int, depth: int) -> float:
    return GEMM_PEAK * rows / (rows + GEMM_HALF_M) * depth / (depth + GEMM_HALF_K)


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
        dict(inner.chunking, phases=phases),
        {a: s * phases for a, s in inner.estimates.items()},
    )
