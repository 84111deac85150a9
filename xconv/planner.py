"""Choosing the algorithm of a convolution, and how to chunk it: an inspectable `Plan`.

`plan_for(spec, input_shape, dtype)` models the time of every forward algorithm (direct,
GEMM, FFT) from the shapes alone and picks the fastest; `xconv.plan` is the same from
user-facing shapes and keywords. The plan records why, the modelled time of each
candidate, the flops and workspace of the choice and its chunking (GEMM tiles, FFT
frames). `algorithm="measure"` in `xconv.conv` instead times the plausible candidates
once per (shapes, dtype, parameters, backend) and remembers the winner (`measured`).

Where the cost comes from: each algorithm counts the work of a problem from its shapes
and prices it with the backend's constants (`Backend.costs`, an
`xconv.algorithms.costs.CostModel`, one home per backend); the planner takes the
cheapest. The model only has to rank algorithms whose times differ by large factors
(GEMM for small kernels and many channels, direct for depthwise layers, FFT for large
kernels); where it is unsure, `algorithm="measure"` decides by timing, synchronising the
backend's device around each run.

A plan is what runs: it holds the chosen algorithm's own estimate (its FFT geometry, its
GEMM layout and tiles), `Plan.__call__` runs it without planning again, and
`xconv.conv` runs exactly the plan that `xconv.plan` shows for the same arguments.

Transposed convolutions are costed (`plan_for` with a transposed spec) as their
`prod(stride)` stride-1 phase correlations.

>>> p = plan((1, 1, 2048, 2048), (1, 1, 25, 25), dtype="float32", padding=12)
>>> p.algorithm
'fft'
>>> plan((4, 64, 56, 56), (64, 64, 3, 3), dtype="float32", padding=1).algorithm
'gemm'
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ._docstrings import shared
from ._front import Call, check_call
from .algorithms import Estimate, Problem
from .algorithms.gemm import input_window
from .algorithms.prepared import PreparedWeights
from .backends import Backend, backend_named
from .config import ALGORITHMS, FORWARD_ALGORITHMS, check_algorithm, get_default_algorithm
from .padding import check_padding_widths
from .spec import ConvSpec

__all__ = ["ALGORITHMS", "FORWARD_ALGORITHMS", "Plan", "check_algorithm", "plan", "plan_for"]

# "measure" times only candidates modelled within this factor of the best one
MEASURE_WITHIN = 20.0

_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")
Pair = tuple[int, int]


@dataclass(frozen=True)
class Plan:
    """How `xconv` will run one convolution, and why; call it to run it.

    Made by `xconv.plan` (from shapes) or by the planner inside a call; not meant to be
    constructed by hand. `plan(x, weight, bias=None)` runs the convolution it was made
    for on arrays of the planned shapes and dtype, without planning again; a plan from
    `xconv.plan` keeps the weight in its algorithm's form (the FFT path's spectrum)
    between calls and makes it again when the weight changes (`prepared`, see
    `xconv.algorithms.prepared`).

    Parameters
    ----------
    algorithm : {"direct", "gemm", "fft"}
        What runs on `backend`.
    reason : str
        Why: the chosen algorithm's case and its modelled margin over the runner-up, or
        "requested".
    spec : ConvSpec
        The convolution.
    input_shape : tuple of int
        The canonical `(N, C, *S)` input shape before padding.
    dtype : str
        The compute dtype's name.
    flops : int
        The chosen algorithm's flops (the FFT's conventional count, the definition's for
        direct and GEMM).
    workspace_bytes : int
        Its scratch memory.
    chunking : mapping
        How the work is split: GEMM tiles or the NumPy engine's layout; FFT transform
        shape, frames and frames per chunk.
    estimates : mapping of str to float
        Each candidate's modelled seconds.
    backend : str
        The name of the backend it runs on.
    padding : tuple of (int, int)
        The resolved `(before, after)` padding per spatial axis.
    output_shape : tuple of int
        The canonical `(N, F, *O)` result shape.
    estimate : Estimate
        The chosen algorithm's own estimate, which its run follows.

    See Also
    --------
    plan : make one from shapes.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> p = xconv.plan((1, 4, 64, 64), (8, 4, 3, 3), dtype="float64", padding=1)
    >>> p.output_shape, p.padding
    ((1, 8, 64, 64), ((1, 1), (1, 1)))
    >>> p(np.ones((1, 4, 64, 64)), np.ones((8, 4, 3, 3)))[0, 0, 0, :3]
    array([16., 24., 24.])
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
    backend: str = "numpy"
    padding: tuple[Pair, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    estimate: Estimate | None = field(default=None, compare=False, repr=False)
    prepared: PreparedWeights = field(
        default_factory=PreparedWeights, init=False, compare=False, repr=False
    )

    def __repr__(self) -> str:
        fields = [f"algorithm={self.algorithm!r}", f"reason={self.reason!r}"]
        if self.flops is not None:
            fields += [f"flops={self.flops:.3g}", f"workspace_bytes={self.workspace_bytes}"]
        if self.chunking:
            fields.append(f"chunking={dict(self.chunking)!r}")
        fields.append(f"backend={self.backend!r}")
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
        if self.padding is not None:
            lines.append(
                f"  backend {self.backend}, padding {self.padding}, output {self.output_shape}"
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

    def __call__(self, x, weight, bias=None):
        """Run the planned convolution on `x` and `weight` of the planned shapes and dtype."""
        if self.spec is None or self.spec.transposed or self.estimate is None:
            raise TypeError(
                "only a forward plan made from shapes (xconv.plan) can be called; "
                f"this one has algorithm={self.algorithm!r} without a runnable estimate"
            )
        call = check_call("conv", x, weight, bias=bias, spec=self.spec, algorithm=self.algorithm)
        found = (call.backend.name, tuple(call.x.shape), dtype_name(call.work))
        planned = (self.backend, self.input_shape, self.dtype)
        if found != planned:
            raise ValueError(
                f"this plan is for backend, canonical input shape and dtype {planned}, "
                f"got {found}: make a plan for these arrays"
            )
        return convolve(call, self, self.prepared)

    def execute(self, backend: Backend, x, weight, out_spatial=None, prepared=None):
        """The planned correlation of an already padded canonical `x` (compute dtype), as
        it was planned (`xconv.planner.execute` adds the FFT path's guards); `prepared`
        keeps the weight's form for algorithms that make one."""
        out = tuple(out_spatial) if out_spatial is not None else self.output_shape[2:]
        algorithm = backend.algorithms[self.algorithm]
        if prepared is not None and algorithm.prepares:
            return algorithm.run(backend, x, weight, self.spec, out, self.estimate, prepared)
        return algorithm.run(backend, x, weight, self.spec, out, self.estimate)


def _bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


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


@shared
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

    Parameters
    ----------
    x_shape : tuple of int
        The shape of `x`, as `xconv.conv` takes it (batched or not, channels first or
        last).
    weight_shape : tuple of int
        `(F, C // groups, *kernel)`.
    dtype : dtype or str, default "float32"
        The dtype of the arrays.
    {stride}
    {padding}
    {dilation}
    {groups}
    {padding_mode}
    {padding_value}
    {channels_last}
    algorithm : {{"auto", "direct", "gemm", "fft", "measure"}}, default "auto"
        `"auto"` and `"measure"` give the modelled choice; an algorithm forces it.
    backend : {{"numpy", "cupy", "generic"}}, default "numpy"
        Which backend's costs and algorithms: NumPy's (scipy.fft lengths, the BLAS
        engine), CuPy's, or the generic array-API backend's (other namespaces).

    Returns
    -------
    Plan
        The algorithm, why, the modelled time of every candidate, the flops, workspace
        and chunking; call it on arrays of these shapes to run it.

    Raises
    ------
    {raises}

    Examples
    --------
    >>> p = plan((2, 64, 64, 64), (64, 1, 31, 31), dtype="float32", padding=15, groups=64)
    >>> p.algorithm, p.chunking["fft_shape"]
    ('fft', (96, 96))
    >>> print(p)  # doctest: +ELLIPSIS
    Plan: fft (...)
    ...
    >>> import numpy as np
    >>> x = np.ones((2, 64, 64, 64), np.float32)
    >>> p(x, np.ones((64, 1, 31, 31), np.float32)).shape
    (2, 64, 64, 64)
    """
    check_algorithm(algorithm)
    for name, shape in (("x_shape", x_shape), ("weight_shape", weight_shape)):
        if hasattr(shape, "shape") and hasattr(shape, "dtype"):
            raise TypeError(
                f"{name} is a shape, got an array of shape {tuple(shape.shape)}: pass "
                f"its .shape (plan(x.shape, weight.shape, dtype=x.dtype))"
            )
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
    check_padding_widths(shape[2:], spec.resolve_padding(shape[2:]), padding_mode)
    if algorithm == "auto":
        algorithm = get_default_algorithm()
    # a copy of the remembered plan: the caller's own prepared weights
    return dataclasses.replace(plan_for(spec, shape, dtype, _modelled(algorithm), backend=backend))


def plan_for(
    spec: ConvSpec,
    input_shape: Sequence[int],
    dtype: object = "float32",
    algorithm: str = "auto",
    *,
    backend: str | Backend = "numpy",
) -> Plan:
    """The plan for `spec` on a batched channel-first `(N, C, *S)` input before padding.

    A transposed spec (`spec.transposed`) is costed as its `prod(stride)` stride-1 phase
    correlations over the input.

    >>> spec = ConvSpec.from_weight_shape((1, 1, 1025))
    >>> plan_for(spec, (1, 1, 1_000_000), "float32").algorithm
    'fft'
    """
    check_algorithm(algorithm)
    if isinstance(backend, str):
        backend = backend_named(backend)
    shape = tuple(int(n) for n in input_shape)
    return _plan(spec, shape, dtype_name(dtype), _modelled(algorithm), backend, _budget(backend))


def _budget(backend: Backend) -> int:
    return backend.memory_budget()


@functools.lru_cache(maxsize=1024)
def _plan(spec: ConvSpec, shape, name: str, algorithm: str, backend: Backend, limit: int) -> Plan:
    """`plan_for`, remembered: a plan depends only on its arguments and the budget."""
    if spec.transposed:
        return _transposed_plan(spec, shape, name, algorithm, backend)
    problem = Problem(spec, shape, name, limit)
    padding, out = problem.padding, (shape[0], problem.filters, *problem.out_spatial)
    if math.prod(shape[:2]) == 0 or spec.out_channels == 0:
        chosen = algorithm if algorithm in FORWARD_ALGORITHMS else "fft"
        estimate = Estimate(0.0, 0, 0)  # the FFT path returns empty results directly
        if chosen != "fft":
            estimate = backend.algorithms[chosen].estimate(backend, problem)
        return Plan(
            chosen,
            "empty batch or channels: nothing to compute",
            spec,
            shape,
            name,
            0,
            0,
            backend=backend.name,
            padding=padding,
            output_shape=out,
            estimate=estimate,
        )
    estimates = {a: backend.algorithms[a].estimate(backend, problem) for a in FORWARD_ALGORITHMS}
    seconds = {a: e.seconds for a, e in estimates.items()}
    if algorithm in FORWARD_ALGORITHMS:
        chosen, reason = algorithm, "requested"
    else:
        chosen = min(seconds, key=seconds.get)
        reason = _reason(chosen, spec, seconds)
    estimate = estimates[chosen]
    return Plan(
        chosen,
        reason,
        spec,
        shape,
        name,
        estimate.flops,
        estimate.workspace_bytes,
        MappingProxyType(dict(estimate.chunking)),
        MappingProxyType(seconds),
        backend=backend.name,
        padding=padding,
        output_shape=out,
        estimate=estimate,
    )


def _modelled(algorithm: str) -> str:
    return "auto" if algorithm == "measure" else algorithm


# ---------------------------------------------------------------------------- running


def convolve(call: Call, plan_: Plan | None = None, prepared: PreparedWeights | None = None):
    """Run a checked `conv` call: pad once, run the plan (made here unless given), add
    the bias, and return the result in the caller's layout. `prepared`: the caller's kept
    weight forms (a plan's or a layer's)."""
    backend, spec = call.backend, call.spec
    algorithm = get_default_algorithm() if call.algorithm == "auto" else call.algorithm
    chooses = plan_ is None and algorithm == "auto"  # xconv picks: never FFT on non-finite data
    if plan_ is None and algorithm != "measure":
        dtype = dtype_name(call.work)
        plan_ = plan_for(spec, tuple(call.x.shape), dtype, algorithm, backend=backend)
    # planned first, so that the padding lands in the layout the algorithm reads
    estimate = plan_.estimate if plan_ is not None else None
    layout = estimate.padded_layout if estimate else None
    pads = call.padding
    zeros = spec.padding_mode == "constant" and spec.padding_value == 0
    if estimate and estimate.padded_tail and zeros:  # zeros the run would add in a copy
        pads = [(b, a + t) for (b, a), t in zip(pads, estimate.padded_tail, strict=True)]
    x = call.in_work_dtype(call.x)
    x = backend.pad_for_run(x, pads, spec.padding_mode, spec.padding_value, layout)
    weight = call.in_work_dtype(call.weight)
    if plan_ is not None:
        y = execute(plan_, backend, x, weight, call.out_spatial, chooses, prepared)
    else:
        y = run(backend, x, weight, spec, call.out_spatial, algorithm, tuple(call.x.shape))
    return call.finish(call.add_bias(y))


def run(
    backend: Backend,
    x,
    weight,
    spec: ConvSpec,
    out_spatial,
    algorithm: str,
    input_shape,
    pads=None,
):
    """Run the forward correlation of a padded `(N, C, *S)` `x` as `algorithm` says.

    `input_shape` is the shape before padding (what the plan is made for). "auto" follows
    `plan_for`; "measure" times the candidates on the first call for these shapes, dtype,
    parameters and namespace and reuses the winner afterwards. `pads`: zero padding `x`
    still needs (`(before, after)` per spatial axis; `input_shape` is then the padded shape),
    added in the layout the chosen plan reads.
    """
    if algorithm == "auto":
        algorithm = get_default_algorithm()
    dtype = dtype_name(x.dtype)
    chooses = algorithm in ("auto", "measure")  # xconv picks: never FFT on non-finite data

    def forward(name: str):
        chosen = plan_for(spec, input_shape, dtype, name, backend=backend)
        source = x
        if pads is not None and any(p for pair in pads for p in pair):
            layout = chosen.estimate.padded_layout
            layout = None if layout == "unpadded" else layout  # the plan's spec pads nothing
            source = backend.pad_for_run(x, pads, "constant", 0, layout)
        return execute(chosen, backend, source, weight, out_spatial, chooses)

    if algorithm == "measure":
        key = (tuple(input_shape), tuple(weight.shape), dtype, spec, backend.xp.__name__)
        known = measured(key)
        if known is not None:
            return forward(known)
        candidates = plan_for(spec, input_shape, dtype, backend=backend)
        return measure(key, candidates, forward, backend.synchronize)[1]
    return forward(algorithm)


def execute(
    plan_: Plan,
    backend: Backend,
    x,
    weight,
    out_spatial,
    chooses: bool = False,
    prepared: PreparedWeights | None = None,
):
    """Run `plan_` on a padded `x`, with the two guards of the FFT path.

    - A transform mixes every sample of a frame into every output of it, so one NaN or
      infinity would spoil outputs that a direct sum keeps finite. When xconv chose the
      FFT (`chooses`) and the data are not all finite, the cheapest other algorithm runs.
    - float32 transforms overflow long before the result does: inputs larger than the
      square root of the dtype's maximum are scaled by a power of two (exactly) first.

    Both cost one reduction over `x` (and the small weight), on the FFT path only.
    """
    if plan_.algorithm != "fft":
        return plan_.execute(backend, x, weight, out_spatial, prepared)
    largest = backend.max_abs(x), backend.max_abs(weight)
    if chooses and not _finite(largest):
        fallback = _cheapest_besides_fft(plan_.estimates)
        other = plan_for(plan_.spec, plan_.input_shape, plan_.dtype, fallback, backend=backend)
        return other.execute(backend, _read_part(x, plan_.spec, out_spatial), weight, out_spatial)
    (x, x_scale), (weight, w_scale) = (
        _scaled_down(backend, a, m) for a, m in zip((x, weight), largest, strict=True)
    )
    y = plan_.execute(backend, x, weight, out_spatial, prepared)
    for scale in (x_scale, w_scale):
        if scale != 1.0:
            y = y * scale
    return y


def finite_choice(
    backend: Backend, spec: ConvSpec, shape, dtype, chosen: str, algorithm: str, *arrays
) -> str:
    """`chosen`, unless xconv chose the FFT (`algorithm` "auto" or "measure") for data that
    are not all finite: then the modelled cheapest other algorithm (see `execute`)."""
    if chosen != "fft" or algorithm not in ("auto", "measure"):
        return chosen
    if _finite([backend.max_abs(a) for a in arrays]):
        return chosen
    return _cheapest_besides_fft(plan_for(spec, shape, dtype, backend=backend).estimates)


def _read_part(x, spec: ConvSpec, out_spatial):
    """The part of a padded `x` that a forward correlation reads (not the FFT path's
    frames' tail, `Estimate.padded_tail`)."""
    if 0 in out_spatial:
        return x
    window = input_window(spec, [slice(0, o) for o in out_spatial])
    if all(w.stop >= n for w, n in zip(window, x.shape[2:], strict=True)):
        return x
    return x[(slice(None), slice(None), *window)]


def _finite(largest) -> bool:
    """Whether magnitudes from `Backend.max_abs` are all finite (None: not known)."""
    return all(m is None or math.isfinite(m) for m in largest)


def _cheapest_besides_fft(estimates: Mapping[str, float]) -> str:
    others = {a: s for a, s in estimates.items() if a != "fft"}
    return min(others, key=others.get) if others else "direct"


def _scaled_down(backend: Backend, a, largest: float | None):
    """`(a / 2**e, 2**e)` for an array whose largest magnitude could overflow a transform,
    else `(a, 1.0)`. Scaling by a power of two changes no rounding."""
    if largest is None or not math.isfinite(largest):
        return a, 1.0
    if largest <= math.sqrt(float(backend.xp.finfo(a.dtype).max)):
        return a, 1.0
    scale = 2.0 ** math.floor(math.log2(largest))
    return a * (1.0 / scale), scale


def run_forward(backend: Backend, algorithm: str) -> Callable:
    """`correlate(x, w, spec, out_spatial, pads=None)`: a forward correlation of an
    unpadded-spec `x` by `algorithm`, planned for its own shapes (for the transposed and
    gradient paths). `pads`: zero padding `x` still needs on its trailing axes, added in
    the layout the chosen plan reads (the NumPy GEMM engine's channel-last buffer: no
    fresh padded array and no second copy)."""

    def correlate(x, w, spec: ConvSpec, out_spatial, pads=None):
        shape = tuple(x.shape)
        if pads is not None:
            shape = (*shape[:2], *(m + b + a for m, (b, a) in zip(shape[2:], pads, strict=True)))
        return run(backend, x, w, spec, tuple(out_spatial), algorithm, shape, pads)

    return correlate


# ---------------------------------------------------------------------------- measure

_MEASURED: dict[tuple, str] = {}


def measured(key: tuple) -> str | None:
    """The algorithm `measure` chose for `key` in this process, or None."""
    return _MEASURED.get(key)


def clear_measurements() -> None:
    """Forget every algorithm `measure` chose."""
    _MEASURED.clear()


def measure(
    key: tuple,
    plan_: Plan,
    run: Callable[[str], object],
    synchronize: Callable[[], None] = lambda: None,
) -> tuple[str, object]:
    """Time `run(algorithm)` for the plausible candidates; remember and return the winner.

    Candidates are the algorithms modelled within `MEASURE_WITHIN` of the best, each run
    once between two `synchronize()` calls (a device must finish before the clock stops);
    returns the winner and its result (so the winning run is not repeated).
    """
    best = min(plan_.estimates.values())
    candidates = [a for a, s in plan_.estimates.items() if s <= best * MEASURE_WITHIN]
    results = {}
    timings = {}
    for algorithm in candidates:
        synchronize()
        start = time.perf_counter()
        results[algorithm] = run(algorithm)
        synchronize()
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


def _transposed_plan(spec: ConvSpec, shape, dtype: str, algorithm: str, backend) -> Plan:
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
        backend=backend.name,
        padding=spec.resolve_padding(shape[2:]),
        output_shape=(shape[0], spec.out_channels, *spec.output_spatial(shape[2:])),
    )
