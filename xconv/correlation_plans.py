"""The plans of single forward correlations: modelled, forced, or measured.

`correlation(spec, shape, dtype, algorithm, backend, limit)` is one node of a plan tree:
every algorithm's estimate on the backend (`Backend.algorithms[name].estimate`, priced
with `Backend.costs`), the cheapest (or the forced one), why, and, where xconv chose the
FFT, the fallback it states for data that are not all finite. `"measure"` times the
plausible candidates on arrays of the node's shapes instead and records the timings;
its nodes are remembered per process (`clear_measurements` forgets them).

>>> spec = ConvSpec.from_weight_shape((1, 1, 25, 25), padding=12)
>>> plan_for(spec, (1, 1, 2048, 2048), "float32").algorithm
'fft'
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .algorithms import Estimate, Problem
from .backends import Backend, backend_named
from .config import FORWARD_ALGORITHMS, ROUTES, check_algorithm
from .executor import run_correlation
from .plans import NON_FINITE, Plan
from .spec import ConvSpec

MEASURE_WITHIN = 20.0

_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")
ITEM_BYTES = {"float16": 4, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16}
Pair = tuple[int, int]


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


def plan_for(
    spec: ConvSpec,
    input_shape: Sequence[int],
    dtype: object = "float32",
    algorithm: str = "auto",
    *,
    backend: str | Backend = "numpy",
) -> Plan:
    """The plan of the forward correlation `spec` on a batched channel-first `(N, C, *S)`
    input before padding ("measure": the modelled choice).

    >>> spec = ConvSpec.from_weight_shape((1, 1, 1025))
    >>> plan_for(spec, (1, 1, 1_000_000), "float32").algorithm
    'fft'
    """
    check_algorithm(algorithm)
    if isinstance(backend, str):
        backend = backend_named(backend)
    shape = tuple(int(n) for n in input_shape)
    modelled = "auto" if algorithm == "measure" else algorithm
    return correlation(spec, shape, dtype_name(dtype), modelled, backend, backend.memory_budget())


def correlation(
    spec: ConvSpec, shape, dtype: str, algorithm: str, backend: Backend, limit: int
) -> Plan:
    """The node of one forward correlation: chosen by the model ("auto"), forced, or
    timed ("measure")."""
    if algorithm == "measure":
        return _measured(spec, shape, dtype, backend, limit)
    if algorithm not in backend.algorithms and backend.plans_blocks:
        algorithm = "auto"  # an engine its blocks run (Dask's, planned on NumPy blocks)
    return _correlation(spec, shape, dtype, algorithm, backend, limit)


def _correlation(spec: ConvSpec, shape, dtype: str, algorithm: str, backend, limit: int) -> Plan:
    """The modelled or forced node, remembered per thread limit too (the routes' prices
    depend on the threads they may use)."""
    return _remembered(spec, shape, dtype, algorithm, backend, limit, backend.threads())


@functools.lru_cache(maxsize=2048)
def _remembered(spec: ConvSpec, shape, dtype: str, algorithm: str, backend, limit: int, threads):
    del threads  # part of the key only
    problem = Problem(spec, shape, dtype, limit)
    padding, out = problem.padding, (shape[0], problem.filters, *problem.out_spatial)
    if math.prod(shape[:2]) == 0 or spec.out_channels == 0:
        chosen = algorithm if algorithm in FORWARD_ALGORITHMS else "fft"
        return _node(
            spec, shape, dtype, chosen, "empty batch or channels: nothing to compute",
            _estimate(backend, problem, chosen), {}, backend, padding, out,
        )  # fmt: skip
    estimates = _estimates(backend, problem)
    seconds = {a: e.seconds for a, e in estimates.items()}
    if algorithm in ROUTES:
        if algorithm not in estimates:
            raise _unavailable(algorithm, backend, problem)
        chosen = algorithm
        reason = f"requested: {_route(estimates[chosen], chosen)}, modelled {ms(seconds[chosen])}"
    else:
        chosen = min(seconds, key=seconds.get)
        reason = _reason(chosen, estimates[chosen], spec, seconds)
    node = _node(
        spec, shape, dtype, chosen, reason, estimates[chosen], seconds, backend, padding, out
    )
    if chosen == "fft" and algorithm not in ROUTES:  # xconv chose the FFT
        other = cheapest_besides_fft(seconds)
        fallback = _correlation(spec, shape, dtype, other, backend, limit)
        node = dataclasses.replace(node, fallback=fallback, fallback_when=NON_FINITE)
    return node


def _estimates(backend: Backend, problem: Problem) -> dict[str, Estimate]:
    """Every route's estimate on `problem`: xconv's own algorithms, and the backend's
    engines where they apply (an engine's estimate is None where it does not)."""
    found = {a: backend.algorithms[a].estimate(backend, problem) for a in FORWARD_ALGORITHMS}
    for name in ROUTES[len(FORWARD_ALGORITHMS) :]:
        engine = backend.algorithms.get(name)
        estimate = engine.estimate(backend, problem) if engine is not None else None
        if estimate is not None:
            found[name] = estimate
    return found


def _unavailable(algorithm: str, backend: Backend, problem: Problem) -> Exception:
    """Why a forced engine cannot run `problem` on `backend`."""
    engine = backend.algorithms.get(algorithm)
    if engine is None:
        return ValueError(
            f"algorithm={algorithm!r} runs on NumPy arrays only, not on {backend.name} arrays"
        )
    if engine.unavailable is not None:
        return engine.unavailable(problem)
    return ValueError(f"algorithm={algorithm!r} cannot run this {problem.dtype} convolution")


def _node(spec, shape, dtype, chosen, reason, estimate: Estimate, seconds, backend, padding, out):
    return Plan(
        "correlation",
        chosen,
        reason,
        spec,
        shape,
        dtype,
        estimate.flops,
        estimate.workspace_bytes,
        MappingProxyType(dict(estimate.chunking)),
        MappingProxyType(dict(seconds)),
        backend=backend,
        padding=padding,
        output_shape=out,
        estimate=estimate,
        seconds=estimate.seconds,
    )


def _estimate(backend: Backend, problem: Problem, algorithm: str) -> Estimate:
    if algorithm == "fft" and (math.prod(problem.input_shape[:2]) == 0 or problem.filters == 0):
        return Estimate(0.0, 0, 0)  # the FFT path returns empty results directly
    return backend.algorithms[algorithm].estimate(backend, problem)


def estimate_of(node: Plan) -> Estimate | None:
    """The `Estimate` a correlation node runs by, made again from its shapes (for plans
    read back from JSON); None for nodes with parts and for transposed windows (an
    engine's window runs from its region alone)."""
    if node.algorithm not in ROUTES or node.spec is None or node.region is not None:
        return None
    limit = node.backend.memory_budget()
    return _estimate(
        node.backend, Problem(node.spec, node.input_shape, node.dtype, limit), node.algorithm
    )


def cheapest(seconds: Mapping[str, float]) -> str:
    """The modelled fastest algorithm ("fft" for an empty problem: nothing to compute)."""
    return min(seconds, key=seconds.get) if seconds else "fft"


def cheapest_besides_fft(seconds: Mapping[str, float]) -> str:
    others = {a: s for a, s in seconds.items() if a != "fft"}
    return min(others, key=others.get) if others else "direct"


def _route(estimate: Estimate, algorithm: str) -> str:
    """The route that runs, as the estimate names it (the engine, the kernel)."""
    return str(estimate.chunking.get("engine", algorithm))


def _reason(chosen: str, estimate: Estimate, spec: ConvSpec, seconds: Mapping[str, float]) -> str:
    ranked = sorted(seconds, key=seconds.get)
    runner_up = ranked[1]
    ratio = seconds[runner_up] / max(seconds[chosen], 1e-12)
    why = {
        "fft": f"{math.prod(spec.kernel_size)} taps: transforms cost less than the sums",
        "gemm": f"{_route(estimate, 'im2col')}: BLAS products near their peak",
        "direct": f"{_route(estimate, 'per-tap sums')}: few channels per group",
        "onnxruntime": f"{_route(estimate, 'onnxruntime')}: compiled im2col and GEMM kernels",
    }[chosen]
    return f"{why}; modelled {ms(seconds[chosen])}, {ratio:.1f}x faster than {runner_up}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


# ---------------------------------------------------------------------------- measure

_MEASURED: dict[tuple, Plan] = {}


def measured(key: tuple) -> Plan | None:
    """The plan `measure` made for `key` `(spec, shape, dtype, backend, limit, thread
    limit)` in this process, or None."""
    return _MEASURED.get(key)


def clear_measurements() -> None:
    """Forget every plan `measure` made."""
    _MEASURED.clear()


def _measured(spec: ConvSpec, shape, dtype: str, backend: Backend, limit: int) -> Plan:
    """The correlation node whose algorithm won a timing on arrays of its shapes: each
    candidate modelled within `MEASURE_WITHIN` of the best runs once between two
    `backend.synchronize()` calls; remembered per process."""
    key = (spec, shape, dtype, backend, limit, backend.threads())
    known = _MEASURED.get(key)
    if known is not None:
        return known
    modelled = _correlation(spec, shape, dtype, "auto", backend, limit)
    if not modelled.estimates or backend.xp is None or not backend.measurable:
        return modelled
    best = min(modelled.estimates.values())
    candidates = [a for a, s in modelled.estimates.items() if s <= best * MEASURE_WITHIN]
    problem = Problem(spec, shape, dtype, limit)
    x = _filled(backend, problem.padded_shape, dtype)
    weight = _filled(backend, (problem.filters, shape[1] // spec.groups, *spec.kernel_size), dtype)
    timings = {}
    for algorithm in candidates:
        node = _correlation(spec, shape, dtype, algorithm, backend, limit)
        backend.synchronize()
        start = time.perf_counter()
        run_correlation(node, x, weight)
        backend.synchronize()
        timings[algorithm] = time.perf_counter() - start
    winner = min(timings, key=timings.get)
    node = _correlation(spec, shape, dtype, winner, backend, limit)
    ranked = ", ".join(f"{a} {ms(s)}" for a, s in sorted(timings.items(), key=lambda i: i[1]))
    node = dataclasses.replace(
        node,
        reason=f"measured: {ranked}",
        estimates=modelled.estimates,
        measured=MappingProxyType(timings),
    )
    if winner == "fft":  # xconv chose the FFT: data that are not all finite run the other
        node = dataclasses.replace(node, fallback=modelled.fallback or _correlation(
            spec, shape, dtype, cheapest_besides_fft(modelled.estimates), backend, limit
        ), fallback_when=NON_FINITE)  # fmt: skip
    _MEASURED[key] = node
    return node


def _filled(backend: Backend, shape, dtype: str):
    """An array of `shape` on the backend's library to time a run on (values do not
    change the time of any algorithm here, as long as they are finite)."""
    xp = backend.xp
    return xp.full(tuple(shape), 0.5, dtype=getattr(xp, dtype))


def clear_correlations() -> None:
    """Forget every remembered node (after changing a backend's costs or algorithms)."""
    _remembered.cache_clear()
    clear_measurements()
