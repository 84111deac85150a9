"""Running plans: every operation exactly as its `Plan` says, with no choice left to make.

`run(call, plan)` runs a checked call (`xconv._front.Call`) by xconv's own algorithms,
following the plan tree node by node: a correlation node's algorithm and estimate, a
transposed window's route and its phases, a weight gradient's algorithm and swapped
correlations. The only decisions taken here are the ones the plan states: a node's
`fallback` when its data are not all finite (`xconv.plans.NON_FINITE`).
"""

from __future__ import annotations

import dataclasses
import math

from array_api_compat import device

from .algorithms.fold import fold_padding
from .algorithms.gemm import input_window
from .algorithms.transposed import spread_out, transpose_window, window
from .algorithms.transposed_fft import fft_vjp
from .algorithms.transposed_gemm import transpose_gemm
from .algorithms.transposed_weight import weight_gradient
from .plans import NON_FINITE, Plan


def own_plan(plan: Plan) -> Plan:
    """xconv's own plan: the part a delegated root holds, else the plan itself."""
    return plan.parts[0] if plan.algorithm == "delegated" else plan


def run(call, plan: Plan, prepared=None):
    """Run a checked call of any operation by xconv's own algorithms, as `plan` says."""
    plan = own_plan(plan)
    if call.operation == "conv":
        return convolve(call, plan, prepared)
    return _RUNS[call.operation](call, plan)


# -- value-dependent choices ---------------------------------------------------------------


def finite(backend, *arrays) -> bool | None:
    """Whether the arrays are all finite; None where some values are not at hand (a traced
    or lazy array): the guards then stand aside."""
    largest = [backend.max_abs(a) for a in arrays]
    if any(m is None for m in largest):
        return None
    return all(math.isfinite(m) for m in largest)


def settled(plan: Plan, all_finite: bool | None) -> Plan:
    """`plan` with its non-finite fallbacks taken (data not all finite) or dropped (all
    finite) now, for a path that will trace the values later (a custom VJP); None (the
    values are not at hand) leaves the plan as it is."""
    if all_finite is None:
        return plan
    if plan.fallback is not None and plan.fallback_when == NON_FINITE:
        if not all_finite:
            return settled(plan.fallback, all_finite)
        plan = dataclasses.replace(plan, fallback=None, fallback_when="")
    if not plan.parts:
        return plan
    return dataclasses.replace(plan, parts=tuple(settled(p, all_finite) for p in plan.parts))


def _guarded(node: Plan, *arrays) -> Plan:
    """`node`, or its fallback where its data are not all finite."""
    guarded = node.fallback is not None and node.fallback_when == NON_FINITE
    if guarded and finite(node.backend, *arrays) is False:
        return node.fallback
    return node


# -- forward correlations ------------------------------------------------------------------


def convolve(call, plan: Plan, prepared=None):
    """Run a checked `conv` call: pad once (in the layout the plan's algorithm reads), run
    the plan, add the bias, return the result in the caller's layout. `prepared`: the
    caller's kept weight forms (a plan's or a layer's)."""
    backend, spec = call.backend, call.spec
    estimate = plan.estimate
    layout = estimate.padded_layout if estimate else None
    pads = plan.padding  # the padding the plan (and a route that pads itself) applies
    zeros = spec.padding_mode == "constant" and spec.padding_value == 0
    if estimate and estimate.padded_tail and zeros:  # zeros the run would add in a copy
        pads = [(b, a + t) for (b, a), t in zip(pads, estimate.padded_tail, strict=True)]
    x = call.in_work_dtype(call.x)
    x = backend.pad_for_run(x, pads, spec.padding_mode, spec.padding_value, layout)
    weight = call.in_work_dtype(call.weight)
    y = run_correlation(plan, x, weight, call.out_spatial, prepared)
    return call.finish(call.add_bias(y))


def run_correlation(node: Plan, x, weight, out_spatial=None, prepared=None):
    """The planned correlation of a padded canonical `x` (compute dtype), with the FFT
    path's two guards:

    - A transform mixes every sample of a frame into every output of it, so one NaN or
      infinity would spoil outputs that a direct sum keeps finite: where xconv chose the
      FFT and the data are not all finite, the plan's fallback runs.
    - float32 transforms overflow long before the result does: inputs larger than the
      square root of the dtype's maximum are scaled by a power of two (exactly) first.

    Both cost one reduction over `x` (and the small weight), on the FFT path only.
    """
    out = tuple(out_spatial) if out_spatial is not None else tuple(node.output_shape[2:])
    if node.algorithm != "fft":
        return _execute(node, x, weight, out, prepared)
    backend = node.backend
    largest = backend.max_abs(x), backend.max_abs(weight)
    values_known = all(m is not None for m in largest)
    if node.fallback is not None and values_known and not all(map(math.isfinite, largest)):
        return _execute(node.fallback, _read_part(x, node.spec, out), weight, out)
    (x, x_scale), (weight, w_scale) = (
        _scaled_down(backend, a, m) for a, m in zip((x, weight), largest, strict=True)
    )
    y = _execute(node, x, weight, out, prepared)
    for scale in (x_scale, w_scale):
        if scale != 1.0:
            y = y * scale
    return y


def _execute(node: Plan, x, weight, out_spatial, prepared=None):
    algorithm = node.backend.algorithms[node.algorithm]
    if prepared is not None and algorithm.prepares:
        return algorithm.run(
            node.backend, x, weight, node.spec, out_spatial, node.estimate, prepared
        )
    return algorithm.run(node.backend, x, weight, node.spec, out_spatial, node.estimate)


def _read_part(x, spec, out_spatial):
    """The part of a padded `x` that a forward correlation reads (not the FFT path's
    frames' tail, `Estimate.padded_tail`)."""
    if 0 in out_spatial:
        return x
    part = input_window(spec, [slice(0, o) for o in out_spatial])
    if all(w.stop >= n for w, n in zip(part, x.shape[2:], strict=True)):
        return x
    return x[(slice(None), slice(None), *part)]


def _scaled_down(backend, a, largest: float | None):
    """`(a / 2**e, 2**e)` for an array whose largest magnitude could overflow a transform,
    else `(a, 1.0)`. Scaling by a power of two changes no rounding."""
    if largest is None or not math.isfinite(largest):
        return a, 1.0
    if largest <= math.sqrt(float(backend.xp.finfo(a.dtype).max)):
        return a, 1.0
    scale = 2.0 ** math.floor(math.log2(largest))
    return a * (1.0 / scale), scale


def _parts_runner(node: Plan):
    """`correlate(x, w, spec, out_spatial, pads=None)` running the planned part of `node`
    for that spec and shape (the algorithms call it once per phase or chunk)."""
    table = {(p.spec, p.input_shape): p for p in node.parts}

    def correlate(x, w, spec, out_spatial, pads=None):
        shape = tuple(x.shape)
        if pads is not None:
            shape = (*shape[:2], *(m + b + a for m, (b, a) in zip(shape[2:], pads, strict=True)))
        part = table.get((spec, shape))
        if part is None:
            raise RuntimeError(f"the plan has no part for the correlation {spec} of {shape}")
        if pads is not None and any(p for pair in pads for p in pair):
            layout = part.estimate.padded_layout
            if layout == "unpadded":  # the run pads the zeros itself, in its own pass
                estimate = part.estimate.handed_unpadded(x.shape[2:], pads)
                part = dataclasses.replace(part, estimate=estimate)
            else:
                x = part.backend.pad_for_run(x, pads, "constant", 0, layout)
        return run_correlation(part, x, w, tuple(out_spatial))

    return correlate


def _limit(node: Plan) -> int:
    """The workspace the node was planned for (its routes and chunks fit it)."""
    return node.limit if node.limit is not None else node.backend.memory_budget()


# -- transposed windows --------------------------------------------------------------------


def run_window(node: Plan, y, weight):
    """The planned window `node.region` of the adjoint of correlation `node.spec` applied
    to `y` `(N, F, *O)` with the forward weight `(F, C/g, *k)`."""
    backend, spec = node.backend, node.spec
    start, size = node.region
    engine = getattr(backend.algorithms.get(node.algorithm), "window", None)
    if engine is not None:
        return engine.run(backend, y, weight, spec, start, size)
    if node.algorithm == "spread":
        z = run_window(node.parts[0], y, weight)
        return spread_out(backend, z, spec, tuple(y.shape[2:]), start, size)
    if node.algorithm == "transposed gemm":
        out = transpose_gemm(backend, y, weight, spec, start, size, _limit(node))
        if out is not None:  # planned where the columns fit the workspace
            return out
        raise RuntimeError("the planned transposed GEMM's columns outgrew the workspace")
    return transpose_window(backend, y, weight, spec, start, size, _parts_runner(node))


# -- weight gradients ----------------------------------------------------------------------


def run_weight_gradient(node: Plan, x, grad):
    """The planned weight gradient of correlation `node.spec` of padded `x` whose output
    gradient is `grad`."""
    node = _guarded(node, grad, x)
    backend = node.backend
    return weight_gradient(
        backend,
        x,
        grad,
        node.spec,
        node.algorithm,
        _limit(node),
        _parts_runner(node),
    )


# -- the operations ------------------------------------------------------------------------


def _conv_transpose(call, plan: Plan):
    y = run_window(plan.parts[0], call.in_work_dtype(call.x), call.in_work_dtype(call.weight))
    return call.finish(call.add_bias(y))


def _conv_vjp(call, plan: Plan):
    if call.x.shape[0] == 0:  # an empty batch: every gradient is zero
        return zero_gradients(call)
    backend, spec, pads, spatial = call.backend, call.spec, call.padding, call.spatial
    mode = spec.padding_mode
    grad, w = call.in_work_dtype(call.grad), call.in_work_dtype(call.weight)
    # the padded input stays inside this call: a reused buffer where the backend has one
    x = call.in_work_dtype(call.x)
    padded = backend.pad_for_run(
        x, pads, mode, spec.padding_value, "channels_first", buffer="gradient input"
    )
    both = None
    if plan.algorithm == "shared spectra":
        plan = _guarded(plan, padded, grad, w)
    if plan.algorithm == "shared spectra":
        both = fft_vjp(backend, padded, grad, w, spec, _limit(plan))
        if both is None:
            raise RuntimeError("the planned spectra outgrew the workspace")
    if both is not None:
        grad_x, grad_w = both
        if mode == "constant":
            grad_x = grad_x[
                (..., *(slice(b, b + n) for n, (b, _) in zip(spatial, pads, strict=True)))
            ]
    else:
        input_part, weight_part = plan.parts
        grad_x = run_window(input_part, grad, w)
        grad_w = run_weight_gradient(weight_part, padded, grad)
    if mode != "constant":
        grad_x = fold_padding(backend, grad_x, spatial, pads, mode)
    return call.finish_gradients(grad_x, grad_w, grad)


def _conv_transpose_vjp(call, plan: Plan):
    if call.x.shape[0] == 0:  # an empty batch: every gradient is zero
        return zero_gradients(call)
    backend = call.backend
    grad, w = call.in_work_dtype(call.grad), call.in_work_dtype(call.weight)
    source = window(backend, grad, transposed_gradient_bounds(call))
    input_part, weight_part = plan.parts
    grad_x = run_correlation(input_part, source, w, call.spatial)
    grad_w = run_weight_gradient(weight_part, source, call.in_work_dtype(call.x))
    return call.finish_gradients(grad_x, grad_w, grad)


def transposed_gradient_bounds(call) -> list[tuple[int, int]]:
    """The window of a transposed convolution's output gradient that its forward
    correlation reads: the full (uncropped) output, over the samples of each input."""
    spec = call.spec
    read = [
        (n - 1) * s + e
        for n, s, e in zip(call.spatial, spec.stride, spec.dilated_kernel, strict=True)
    ]
    return [(-before, r - before) for (before, _), r in zip(call.padding, read, strict=True)]


def zero_gradients(call):
    """The gradients of an empty batch: zeros of the input's, weight's and bias' shapes."""
    xp, dtype, dev = call.xp, call.dtype, device(call.x)
    return (
        call.finish(xp.zeros(call.x.shape, dtype=dtype, device=dev)),
        xp.zeros(call.weight.shape, dtype=dtype, device=dev),
        xp.zeros((call.spec.out_channels,), dtype=dtype, device=dev),
    )


_RUNS = {
    "conv_transpose": _conv_transpose,
    "conv_vjp": _conv_vjp,
    "conv_transpose_vjp": _conv_transpose_vjp,
}
