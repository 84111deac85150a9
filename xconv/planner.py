"""Making plans: one `Plan` tree per operation, from the shapes alone (or, for "measure",
from timings on arrays of those shapes).

Every correlation an operation runs is a node: the forward convolution itself; each stride
phase of a transposed window; the input-gradient correlation of a transposed convolution;
each chunk shape of a weight gradient's swapped correlation. A node's algorithm is
chosen by the backend's cost model (`Backend.costs`, priced by each algorithm's
`estimate`: the route that backend runs), forced by the caller, or measured. The routes
of the composite parts are chosen here too (one transposed GEMM or the phases; one set
of FFT spectra for both gradients or the two apart), including the ones a workspace
limit rules out, so the executor has nothing left to decide but the fallbacks a node
states for values that are not all finite.

Where the cost comes from: each algorithm counts the work of a problem from its shapes
and prices it with the backend's constants (one home per backend, with its source); the
planner takes the cheapest. The model only has to rank algorithms whose times differ by
large factors (GEMM for small kernels and many channels, direct for depthwise layers,
FFT for large kernels, ONNX Runtime's compiled kernels where installed); where it is
unsure, `algorithm="measure"` decides by timing each plausible candidate on arrays of the
node's shapes, synchronising the backend's device around each run, and the plan records
the timings.

>>> spec = ConvSpec.from_weight_shape((1, 1, 25, 25), padding=12)
>>> plan_for(spec, (1, 1, 2048, 2048), "float32").algorithm
'fft'
>>> resnet = ConvSpec.from_weight_shape((64, 64, 3, 3), padding=1)
>>> plan_for(resnet, (4, 64, 56, 56)).algorithm in ("gemm", "onnxruntime")
True
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from array_api_compat import device

from . import _recent_calls
from .algorithms.transposed import adjoint_spec, is_spread, phase_problems, spread_geometry
from .algorithms.transposed_fft import spectra_bytes
from .algorithms.transposed_gemm import column_bytes
from .algorithms.transposed_weight import swapped_problems
from .backends import Backend
from .config import (
    ALGORITHMS,
    ENGINES,
    FORWARD_ALGORITHMS,
    ROUTES,
    check_algorithm,
)
from .correlation_plans import (
    ITEM_BYTES,
    cheapest,
    cheapest_besides_fft,
    clear_correlations,
    clear_measurements,
    correlation,
    dtype_name,
    measured,
    ms,
    plan_for,
)
from .plans import NON_FINITE, Plan
from .spec import ConvSpec

Pair = tuple[int, int]

__all__ = [
    "ALGORITHMS",
    "Request",
    "check_algorithm",
    "clear_measurements",
    "clear_plans",
    "dtype_name",
    "measured",
    "plan_call",
    "plan_for",
    "plan_request",
    "weight_plan",
    "window_plan",
]


@dataclass(frozen=True)
class Request:
    """One operation to plan: a checked call without its arrays.

    `input_shape` is the canonical `(N, C, *S)` input, `dtype` the compute dtype's name,
    `algorithm` the caller's choice ("auto" already replaced by the context's default),
    `padding` the resolved padding (or cropping), `out_spatial` the output's spatial size
    and `limit` the workspace in bytes.
    """

    operation: str
    spec: ConvSpec
    input_shape: tuple[int, ...]
    dtype: str
    algorithm: str
    backend: Backend
    padding: tuple[Pair, ...]
    out_spatial: tuple[int, ...]
    limit: int

    @classmethod
    def of(cls, call) -> Request:
        """The request of a checked call (`xconv._front.Call`), priced for the device its
        arrays are on."""
        backend = call.backend.for_device(_device_of(call.x))
        return cls(
            call.operation,
            call.spec,
            tuple(call.x.shape),
            dtype_name(call.work),
            call.algorithm,
            backend,
            tuple(call.padding),
            tuple(call.out_spatial),
            backend.memory_budget(),
        )

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.input_shape[0], self.spec.out_channels, *self.out_spatial)


def _device_of(x):
    """The device of an array, or None where its library cannot say (a tracer)."""
    try:
        return device(x)
    except Exception:
        return None


# ---------------------------------------------------------------------------- operations


def plan_call(call) -> Plan:
    """The plan of a checked call: what `xconv.conv` and the other operations run."""
    return plan_request(Request.of(call))


def plan_request(request: Request) -> Plan:
    """The plan tree of a request; the backend's delegation, where it takes the operation,
    at the root (with xconv's own plan as its part)."""
    if request.algorithm == "measure":
        return _plan_request(request)  # its correlations remember their timings
    return _remembered(request, request.backend.threads())


@functools.lru_cache(maxsize=1024)
def _remembered(request: Request, threads) -> Plan:
    del threads  # part of the key: the routes' prices depend on the threads they may use
    return _plan_request(request)


def _plan_request(r: Request) -> Plan:
    if r.operation.endswith("_vjp") and r.input_shape[0] == 0:
        own = _root(r, "zeros", "an empty batch: every gradient is zero", ())
    else:
        own = _OWN[r.operation](r)
    delegation = r.backend.delegation(r.operation, r, dict(_modelled(r)))
    if delegation is None:
        return own
    return Plan(
        r.operation,
        "delegated",
        f"{delegation.route}: {delegation.reason}",
        r.spec,
        r.input_shape,
        r.dtype,
        own.flops,
        own.workspace_bytes,
        MappingProxyType({"route": delegation.route}),
        backend=r.backend,
        padding=r.padding,
        output_shape=r.output_shape,
        seconds=delegation.seconds,
        parts=(own,),
    )


def _modelled(r: Request) -> Mapping[str, float]:
    """The modelled seconds of each algorithm for the whole operation's correlation (a
    transposed convolution as its stride phases): what a delegate weighs its library's
    kernel against."""
    if r.spec.transposed:
        return _transposed_estimates(r.spec, r.input_shape, r.dtype, r.backend, r.limit)
    return correlation(r.spec, r.input_shape, r.dtype, "auto", r.backend, r.limit).estimates


def _conv(r: Request) -> Plan:
    node = correlation(r.spec, r.input_shape, r.dtype, r.algorithm, r.backend, r.limit)
    return dataclasses.replace(node, operation="conv")


def _conv_transpose(r: Request) -> Plan:
    start = tuple(before for before, _ in r.padding)
    inner = window_plan(
        adjoint_spec(r.spec), r.input_shape, start, r.out_spatial, r.dtype, r.algorithm,
        r.backend, r.limit,
    )  # fmt: skip
    return _root(r, inner.algorithm, inner.reason, (inner,))


def _conv_vjp(r: Request) -> Plan:
    spec, pads, spatial = r.spec, r.padding, r.input_shape[2:]
    padded = (*r.input_shape[:2], *(n + b + a for n, (b, a) in zip(spatial, pads, strict=True)))
    grad_shape = r.output_shape
    if spec.padding_mode == "constant":  # the padded samples are constants: only x's window
        start, size = tuple(b for b, _ in pads), tuple(spatial)
    else:
        start, size = (0,) * spec.rank, tuple(padded[2:])
    args = (r.dtype, r.algorithm, r.backend, r.limit)
    input_part = _role(window_plan(spec, grad_shape, start, size, *args), "input gradient")
    weight_part = weight_plan(spec, r.input_shape, padded, grad_shape, *args)
    parts = _root(
        r,
        "parts",
        "the input gradient as a transposed convolution, the weight gradient as a "
        "correlation of the padded input with the output gradient",
        (input_part, weight_part),
    )
    if not _shares_spectra(r, weight_part, padded):
        return parts
    layer = correlation(spec, r.input_shape, r.dtype, "fft", r.backend, r.limit)
    seconds = 2 * layer.estimates["fft"]
    chooses = r.algorithm in ("auto", "measure")
    return dataclasses.replace(
        parts,
        algorithm="shared spectra",
        reason="stride 1 and one transform per signal: both gradients from one set of "
        f"spectra, modelled {ms(seconds)} (two forward FFT correlations)",
        seconds=seconds,
        flops=2 * layer.flops,
        parts=(),
        fallback=parts if chooses else None,
        fallback_when=NON_FINITE if chooses else "",
    )


def _shares_spectra(r: Request, weight_part: Plan, padded) -> bool:
    """Whether one set of spectra serves both gradients: the weight gradient by the FFT,
    at stride 1, where the forward pass would also transform the whole signal at once (a
    long one runs faster in overlap-save frames) and the spectra fit the workspace."""
    if weight_part.algorithm != "fft" or any(s != 1 for s in r.spec.stride):
        return False
    layer = correlation(r.spec, r.input_shape, r.dtype, "fft", r.backend, r.limit)
    if not all(frames == 1 for frames in layer.chunking.get("frames", (1,))):
        return False
    item = ITEM_BYTES[r.dtype]
    return spectra_bytes(r.backend, padded, r.spec, r.dtype.startswith("complex"), item) <= r.limit


def _conv_transpose_vjp(r: Request) -> Plan:
    spec = r.spec
    forward = adjoint_spec(spec)
    read = [
        (n - 1) * s + e
        for n, s, e in zip(r.input_shape[2:], spec.stride, spec.dilated_kernel, strict=True)
    ]
    source = (r.input_shape[0], spec.out_channels, *read)
    args = (r.dtype, r.algorithm, r.backend, r.limit)
    input_part = _role(correlation(forward, source, *args), "input gradient")
    weight_part = weight_plan(forward, source, source, r.input_shape, *args)
    return _root(
        r,
        "parts",
        "the input gradient as a forward correlation of the output gradient, the weight "
        "gradient as a correlation of the output gradient with the input",
        (input_part, weight_part),
    )


_OWN = {
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "conv_vjp": _conv_vjp,
    "conv_transpose_vjp": _conv_transpose_vjp,
}


def _root(r: Request, algorithm: str, reason: str, parts: tuple[Plan, ...]) -> Plan:
    return Plan(
        r.operation,
        algorithm,
        reason,
        r.spec,
        r.input_shape,
        r.dtype,
        _total(parts, "flops"),
        max((p.workspace_bytes or 0 for p in parts), default=0),
        backend=r.backend,
        padding=r.padding,
        output_shape=r.output_shape,
        seconds=_total(parts, "seconds"),
        parts=parts,
        limit=r.limit,
    )


def _role(node: Plan, role: str) -> Plan:
    return dataclasses.replace(node, operation=role)


# ---------------------------------------------------------------------------- transposed


def window_plan(
    spec: ConvSpec, y_shape, start, size, dtype: str, algorithm: str, backend: Backend, limit: int
) -> Plan:
    """The node of a transposed window: `[start, start + size)` of the adjoint of the
    forward correlation `spec` applied to `y` of `y_shape`."""
    y_shape, start, size = tuple(y_shape), tuple(start), tuple(size)
    engine = _engine_window(spec, y_shape, start, size, dtype, algorithm, backend, limit)
    if engine is not None and algorithm in ENGINES:
        return engine  # forced
    node = _own_window(spec, y_shape, start, size, dtype, algorithm, backend, limit)
    if engine is not None and engine.seconds < node.seconds:
        return dataclasses.replace(
            engine,
            reason=f"{engine.reason}; {node.algorithm} modelled {ms(node.seconds)}",
            estimates=MappingProxyType({**engine.estimates, node.algorithm: node.seconds}),
        )
    return node


def _engine_window(spec, y_shape, start, size, dtype, algorithm, backend, limit) -> Plan | None:
    """The node of the window by an engine's own transposed convolution: the forced one,
    or under "auto" the cheapest that applies; None where none does (or another route is
    forced). A forced engine that cannot run the window leaves it to the phases, whose
    correlations say why."""
    names = [algorithm] if algorithm in ENGINES else [] if algorithm in ROUTES else ENGINES
    found = {}
    for name in names:
        route = getattr(backend.algorithms.get(name), "window", None)
        estimate = route and route.estimate(backend, spec, y_shape, start, size, dtype, limit)
        if estimate is not None:
            found[name] = estimate
    if not found:
        return None
    name = min(found, key=lambda a: found[a].seconds)
    estimate = found[name]
    return Plan(
        "transposed window",
        name,
        f"{estimate.chunking.get('engine', name)}: the window in one call, modelled "
        f"{ms(estimate.seconds)}",
        spec,
        y_shape,
        dtype,
        estimate.flops,
        estimate.workspace_bytes,
        MappingProxyType(dict(estimate.chunking)),
        MappingProxyType({a: e.seconds for a, e in found.items()}),
        backend=backend,
        output_shape=(y_shape[0], spec.in_channels, *size),
        estimate=estimate,
        seconds=estimate.seconds,
        region=(start, size),
        limit=limit,
    )


def _own_window(spec, y_shape, start, size, dtype, algorithm, backend, limit) -> Plan:
    """The node of the window by xconv's own routes: spread copies, the transposed GEMM
    or the stride phases."""
    if is_spread(spec):
        tight, start_t, size_t = spread_geometry(spec, y_shape[2:], start, size)
        inner = _own_window(tight, y_shape, start_t, size_t, dtype, algorithm, backend, limit)
        return dataclasses.replace(
            inner,
            operation="transposed window",
            algorithm="spread",
            reason=f"stride {spec.stride} wider than the kernel: its copies are computed "
            "side by side, then spread out with zeros",
            spec=spec,
            region=(start, size),
            parts=(inner,),
            estimates={},
            estimate=None,
            fallback=None,
            fallback_when="",
        )
    phases = _phases(spec, y_shape, start, size, dtype, algorithm, backend, limit)
    modelled = _transposed_estimates(spec, y_shape, dtype, backend, limit)
    route = algorithm if algorithm in ROUTES else cheapest(modelled)
    if route != "gemm" or all(s == 1 for s in spec.stride):
        return phases
    columns = column_bytes(spec, y_shape, start, size, ITEM_BYTES[dtype])
    if columns > limit:
        return dataclasses.replace(
            phases,
            reason=f"{phases.reason}; the transposed GEMM's columns ({columns / 2**20:.1f} "
            f"MiB per image) exceed the workspace",
        )
    return dataclasses.replace(
        phases,
        algorithm="transposed gemm",
        reason="every tap's contribution in one matmul, then col2im"
        + ("" if algorithm == route else f"; modelled {ms(modelled['gemm'])}"),
        seconds=modelled.get("gemm", 0.0),
        flops=phases.flops,
        estimates=MappingProxyType(modelled),
        parts=(),
        chunking=MappingProxyType({"phases": math.prod(spec.stride)}),
    )


def _phases(spec, y_shape, start, size, dtype, algorithm, backend, limit) -> Plan:
    counts: dict = {}
    for problem in phase_problems(spec, y_shape, start, size):
        counts[problem] = counts.get(problem, 0) + 1
    parts = tuple(
        dataclasses.replace(
            correlation(phase_spec, shape, dtype, algorithm, backend, limit),
            operation="phase",
            repeat=count,
        )
        for (phase_spec, shape), count in counts.items()
    )
    phases = sum(counts.values())
    kinds = sorted({p.algorithm for p in parts})
    return Plan(
        "transposed window",
        "phases",
        f"{phases} stride phase(s), each a stride-1 forward correlation ({', '.join(kinds)})"
        if parts
        else "no tap reaches the window: zeros",
        spec,
        y_shape,
        dtype,
        _total(parts, "flops"),
        max((p.workspace_bytes or 0 for p in parts), default=0),
        backend=backend,
        output_shape=(y_shape[0], spec.in_channels, *size),
        seconds=_total(parts, "seconds"),
        parts=parts,
        region=(start, size),
        limit=limit,
    )


def _total(parts, name: str):
    """The sum of the parts' `name` (flops, seconds), each as often as it runs."""
    return sum((getattr(p, name) or 0) * p.repeat for p in parts)


def _transposed_estimates(spec: ConvSpec, y_shape, dtype: str, backend, limit) -> dict:
    """Each algorithm's modelled seconds for the transposed problem, costed as its
    `prod(stride)` stride-1 phase correlations over the input."""
    dilated = spec.dilated_kernel
    phase = ConvSpec(
        tuple(-(-e // s) for e, s in zip(dilated, spec.stride, strict=True)),
        padding="full",
        groups=spec.groups,
        in_channels=y_shape[1],
        out_channels=spec.out_channels if spec.transposed else spec.in_channels,
    )
    inner = correlation(phase, tuple(y_shape), dtype, "auto", backend, limit)
    phases = math.prod(spec.stride)
    return {a: s * phases for a, s in inner.estimates.items()}


# ---------------------------------------------------------------------------- weights


def weight_plan(
    spec: ConvSpec, layer_shape, padded_shape, grad_shape, dtype, algorithm, backend, limit
) -> Plan:
    """The node of the weight gradient of correlation `spec` (the layer's, on an input of
    `layer_shape` before padding, `padded_shape` after) whose output gradient has
    `grad_shape`: the layer's own algorithm (it costs what the forward correlation
    costs); by the FFT, its swapped correlations are the parts."""
    layer = correlation(
        spec, tuple(layer_shape), dtype, _modelled_choice(algorithm), backend, limit
    )
    chosen = algorithm if algorithm in ROUTES else layer.algorithm
    if chosen in ENGINES and algorithm not in ROUTES:
        # an engine's weight gradient is a correlation with the output gradient as its
        # kernel, not the layer's product: xconv's own algorithms' products serve it
        chosen = cheapest({a: layer.estimates[a] for a in FORWARD_ALGORITHMS})
    node = _weight_node(spec, layer, chosen, padded_shape, grad_shape, dtype, backend, limit)
    if chosen == "fft" and algorithm not in ROUTES:
        other = cheapest_besides_fft(layer.estimates)
        fallback = _weight_node(spec, layer, other, padded_shape, grad_shape, dtype, backend, limit)
        node = dataclasses.replace(node, fallback=fallback, fallback_when=NON_FINITE)
    return node


def _weight_node(spec, layer: Plan, chosen, padded_shape, grad_shape, dtype, backend, limit):
    parts = ()
    if chosen not in ("direct", "gemm"):
        counts: dict = {}
        for problem in swapped_problems(tuple(padded_shape), tuple(grad_shape), spec, limit):
            counts[problem] = counts.get(problem, 0) + 1
        parts = tuple(
            dataclasses.replace(
                correlation(s, shape, dtype, chosen, backend, limit),
                operation="swapped correlation",
                repeat=count,
            )
            for (s, shape), count in counts.items()
        )
    why = {
        "direct": "a contraction over batch and positions per kernel tap",
        "gemm": "per-tap products of the output gradient and the input (on the input's "
        "grid at stride 1, im2col columns in tiles otherwise)",
        "fft": "the swapped correlation (the output gradient as the kernel) by the FFT",
        "onnxruntime": "the swapped correlation (the output gradient as the kernel) by ONNX "
        "Runtime's Conv",
    }[chosen]
    seconds = layer.estimates.get(chosen, layer.seconds)
    return Plan(
        "weight gradient",
        chosen,
        f"{why}; the layer's algorithm, modelled {ms(seconds)}",
        spec,
        tuple(padded_shape),
        dtype,
        layer.flops,
        layer.workspace_bytes,
        estimates=layer.estimates,
        backend=backend,
        output_shape=(spec.out_channels, spec.in_channels // spec.groups, *spec.kernel_size),
        seconds=seconds,
        parts=parts,
        limit=limit,
    )


def _modelled_choice(algorithm: str) -> str:
    """The weight gradient follows the layer's modelled choice under "measure" too."""
    return "auto" if algorithm == "measure" else algorithm


def clear_plans() -> None:
    """Forget every remembered plan (after changing a backend's costs or algorithms)."""
    _remembered.cache_clear()
    clear_correlations()
    _recent_calls.forget()  # the checked calls keep their plans
