"""Performing an operation: its plan, then its backend's delegate or xconv's own run.

Every public operation checks its arguments (`xconv._front.check_call`) and hands the
`Call` to `perform`, which makes the plan once (`xconv.planner`) and offers the call, plan
attached, to the backend's `delegate`. What a delegate needs of xconv arrives with the
call: the plan (did the planner give the operation to the backend's library?) and an
`Own` object, xconv's own implementation of the operation, with its VJP (for a delegate
that wraps xconv's run in its library's autograd) and its per-block runs (for a backend
that splits an operation into blocks). Backends import nothing from the operations.

`plan` makes the same plan from shapes, and `load_plan` reads one back from JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Callable, Sequence
from types import MappingProxyType

from . import _recent_calls
from ._arrays import array_namespace
from ._docstrings import shared
from ._front import check_call
from .backends import Backend, Declined, backend_for, backend_named
from .config import check_algorithm, get_default_algorithm
from .correlation_plans import estimate_of
from .executor import finite, run, run_weight_gradient, run_window, settled
from .padding import check_padding_widths
from .planner import (
    Request,
    dtype_name,
    plan_call,
    plan_request,
    weight_plan,
    window_plan,
)
from .plans import Plan, from_dict
from .spec import ConvSpec

OPERATIONS = ("conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp")


class Own:
    """xconv's own implementation of one operation, as a backend's delegate receives it.

    `own(call)` runs the call by its plan (`call.plan`); `own.settle(call)` takes the
    plan's value-dependent choices now (for a path that traces the values later); and
    `own.vjp(call, grad_output)` runs the operation's VJP by xconv's own plan for it.
    A blocked backend runs `own.correlate_block`, `own.transpose_block` and
    `own.weight_share` on each block (module functions: they travel to other processes).
    """

    def __init__(self, operation: str, prepared=None):
        self.operation = operation
        self.prepared = prepared

    def __repr__(self) -> str:
        return f"<xconv's own {self.operation}>"

    def __call__(self, call):
        return run(call, call.plan, self.prepared)

    def settle(self, call):
        """`(call, all_finite)`: the call with its plan's non-finite fallbacks taken where
        its data are not all finite (None: not known)."""
        all_finite = finite(call.backend, call.x, call.weight)
        return dataclasses.replace(call, plan=settled(call.plan, all_finite)), all_finite

    def vjp(self, call, grad_output, all_finite: bool | None = None):
        """`(grad_input, grad_weight, grad_bias)` of this call at `grad_output`, by xconv's
        own algorithms (`all_finite`: what the forward pass knew of its values)."""
        gradient = call.gradient_call(grad_output)
        plan = settled(plan_call(gradient), all_finite)
        return run(gradient, plan)

    @staticmethod
    def correlate_block(x, weight, bias, spec: ConvSpec, algorithm: str):
        return correlate_block(x, weight, bias, spec, algorithm)

    @staticmethod
    def transpose_block(y, weight, spec: ConvSpec, start, size, algorithm: str):
        return transpose_block(y, weight, spec, start, size, algorithm)

    @staticmethod
    def weight_share(padded, grad, spec: ConvSpec, algorithm: str):
        return weight_share(padded, grad, spec, algorithm)


# the keywords of the ConvSpec among the operations' parameters
SPEC_KEYWORDS = (
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "groups",
    "padding_mode",
    "padding_value",
    "channels_last",
)


def public(operation: str) -> Callable:
    """The body of a public operation, written once: its signature (and docstring) are
    the decorated function's; a call binds the arguments, checks them (`check_call`)
    with the spec keywords, or a ready `spec` (the keywords must then keep their
    defaults), and performs the operation."""

    def wrap(function: Callable) -> Callable:
        bind = _binder(function)
        keywords = [
            name for name in inspect.signature(function).parameters if name in SPEC_KEYWORDS
        ]
        defaults = bind.defaults

        @functools.wraps(function)
        def run(*args, **kwargs):
            given = bind(*args, **kwargs)
            key = _recent_calls.key(operation, given, keywords)
            call = _recent_calls.checked(key, given) if key is not None else None
            if call is not None:  # the same shapes, dtypes, keywords and context as a
                return _delegated_or_own(call)  # recent call: checked and planned
            spec = given["spec"]
            options = {name: given[name] for name in keywords}
            if spec is not None:
                if not isinstance(spec, ConvSpec):
                    raise TypeError(f"spec must be a ConvSpec, got {type(spec).__name__}")
                changed = [name for name in keywords if options[name] != defaults[name]]
                if changed:
                    raise TypeError(f"pass either spec or {', '.join(changed)}, not both")
                options = {}
            call = check_call(
                operation,
                given["x"],
                given["weight"],
                bias=given.get("bias"),
                grad_output=given.get("grad_output"),
                algorithm=given["algorithm"],
                spec=spec,
                **options,
            )
            call = planned(call)
            if key is not None:
                _recent_calls.keep(key, call)
            return _delegated_or_own(call)

        return run

    return wrap


class _binder:
    """Python's binding of a call to `function`'s parameters (positional ones first, then
    keywords, defaults filled in), with Python's errors; a few microseconds where
    `inspect.Signature.bind` takes ten, on every call of every operation."""

    def __init__(self, function: Callable):
        parameters = inspect.signature(function).parameters.values()
        self.name = function.__name__
        self.positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
        self.defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
        self.required = [p.name for p in parameters if p.default is p.empty]
        self.names = {p.name for p in parameters}

    def __call__(self, *args, **kwargs) -> dict:
        if len(args) > len(self.positional):
            raise TypeError(
                f"{self.name}() takes at most {len(self.positional)} positional arguments "
                f"but {len(args)} were given"
            )
        given = dict(zip(self.positional, args, strict=False))
        for key in kwargs:
            if key not in self.names:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
            if key in given:
                raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
        given.update(kwargs)
        missing = [name for name in self.required if name not in given]
        if missing:
            raise TypeError(f"{self.name}() missing required argument(s): {', '.join(missing)}")
        return {**self.defaults, **given}


def perform(call, prepared=None):
    """Plan a checked call, then run it by its backend's delegate or by xconv's own
    algorithms where the delegate declines: decided once, here."""
    return _delegated_or_own(planned(call), prepared)


def planned(call):
    """A checked call with its plan."""
    return dataclasses.replace(call, plan=plan_call(call))


def _delegated_or_own(call, prepared=None):
    result = call.backend.delegate(call.operation, call, Own(call.operation, prepared))
    if isinstance(result, Declined):
        return run(call, call.plan, prepared)
    return result


# -- blocks (a blocked backend's tasks run these on each block's own library) -----------------


def correlate_block(x, weight, bias, spec: ConvSpec, algorithm: str):
    """`xconv.conv(x, weight, bias, spec=spec, algorithm=algorithm)` on one block."""
    return perform(check_call("conv", x, weight, bias=bias, spec=spec, algorithm=algorithm))


def transpose_block(y, weight, spec: ConvSpec, start, size, algorithm: str):
    """Window `[start, start + size)` of the adjoint of correlation `spec` applied to the
    block `y`, planned for its shape on its own backend."""
    backend = backend_for(array_namespace(y, weight))
    plan = window_plan(
        spec, tuple(y.shape), start, size, dtype_name(y.dtype), _resolved(algorithm), backend,
        backend.memory_budget(),
    )  # fmt: skip
    return run_window(plan, y, weight)


def weight_share(padded, grad, spec: ConvSpec, algorithm: str):
    """The weight gradient of the correlation `spec` (no padding) of the block `padded`
    whose output gradient is `grad`: one block's share of a sum."""
    backend = backend_for(array_namespace(padded, grad))
    shape = tuple(padded.shape)
    plan = weight_plan(
        spec, shape, shape, tuple(grad.shape), dtype_name(padded.dtype), _resolved(algorithm),
        backend, backend.memory_budget(),
    )  # fmt: skip
    return run_weight_gradient(plan, padded, grad)


def _resolved(algorithm: str) -> str:
    return get_default_algorithm() if algorithm == "auto" else algorithm


# -- plans from shapes -----------------------------------------------------------------------


@shared
def plan(
    x_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    operation: str = "conv",
    dtype: object = "float32",
    stride: int | Sequence[int] = 1,
    padding: object = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: str = "constant",
    padding_value: float | complex = 0.0,
    channels_last: bool = False,
    algorithm: str = "auto",
    backend: str | Backend = "numpy",
    device: object = None,
) -> Plan:
    """The plan an operation follows for arrays of these shapes, dtype and keywords.

    Parameters
    ----------
    x_shape : tuple of int
        The shape of `x`, as the operation takes it (batched or not, channels first or
        last).
    weight_shape : tuple of int
        `(F, C // groups, *kernel)`; `(C, F // groups, *kernel)` for the transposed
        operations.
    operation : {{"conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp"}}
        Which operation, default `"conv"`.
    dtype : dtype or str, default "float32"
        The dtype of the arrays.
    {stride}
    padding : int, str, tuple of int or tuple of (int, int), default 0
        The padding of `conv` and `conv_vjp`, the cropping of the transposed operations.
    {output_padding}
        (Transposed operations only.)
    {dilation}
    {groups}
    {padding_mode}
    {padding_value}
    {channels_last}
    algorithm : str, default "auto"
        `"auto"` gives the modelled choice, an algorithm (`"direct"`, `"gemm"`, `"fft"`,
        `"onnxruntime"`) forces it, and `"measure"` times the plausible candidates of
        every correlation on arrays of its shapes (the plan records the timings).
    backend : str or Backend, default "numpy"
        Whose costs and algorithms: `"numpy"`, `"cupy"`, `"torch"`, `"jax"`, `"dask"`,
        `"generic"` (any other array-API library), or a `Backend` object (one from
        `xconv.backends.backend_for`, registered ones included).
    device : str or device, optional
        Where the arrays will live, for a library with devices of their own costs
        (`"cuda"`: PyTorch and JAX priced with GPU constants); the CPU when omitted.

    Returns
    -------
    Plan
        The algorithm of every part, why, their modelled times, flops, workspace and
        chunking; call it on arrays of these shapes to run it.

    Raises
    ------
    {raises}

    See Also
    --------
    load_plan : read back a plan saved with `Plan.to_json`.

    Examples
    --------
    >>> p = plan((2, 8, 128, 128), (8, 8, 21, 21), dtype="float32", padding=10)
    >>> p.algorithm, p.chunking["fft_shape"]
    ('fft', (150, 90))
    >>> print(p)  # doctest: +ELLIPSIS
    Plan: fft (...)
    ...
    >>> import numpy as np
    >>> x = np.ones((2, 8, 128, 128), np.float32)
    >>> p(x, np.ones((8, 8, 21, 21), np.float32)).shape
    (2, 8, 128, 128)

    The gradients of a layer, planned as two parts:

    >>> g = plan((8, 16, 32, 32), (16, 16, 3, 3), operation="conv_vjp", padding=1)
    >>> [part.operation for part in g.parts]
    ['input gradient', 'weight gradient']
    """
    check_algorithm(algorithm)
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}, got {operation!r}")
    for name, shape in (("x_shape", x_shape), ("weight_shape", weight_shape)):
        if hasattr(shape, "shape") and hasattr(shape, "dtype"):
            raise TypeError(
                f"{name} is a shape, got an array of shape {tuple(shape.shape)}: pass "
                f"its .shape (plan(x.shape, weight.shape, dtype=x.dtype))"
            )
    transposed = operation.startswith("conv_transpose")
    options = dict(stride=stride, padding=padding, dilation=dilation)
    if transposed:
        options["output_padding"] = output_padding
    else:
        options.update(padding_mode=padding_mode, padding_value=padding_value)
    spec = ConvSpec.from_weight_shape(
        tuple(weight_shape),
        groups=groups,
        transposed=transposed,
        channels_last=channels_last,
        **options,
    )
    shape = tuple(x_shape)
    spec.output_shape(shape)  # validates rank, channels and sizes
    if len(shape) == spec.rank + 1:
        shape = (1, *shape)
    if channels_last:
        shape = (shape[0], shape[-1], *shape[1:-1])
    spatial = shape[2:]
    resolved = spec.resolve_padding(spatial)
    if not transposed:
        check_padding_widths(spatial, resolved, padding_mode)
    if not isinstance(backend, Backend):
        backend = backend_named(backend)
    if device is not None:
        backend = backend.for_device(device)
    work = dtype_name(dtype)
    request = Request(
        operation,
        spec,
        shape,
        "float32" if work == "float16" else work,  # float16 computes in float32
        get_default_algorithm() if algorithm == "auto" else algorithm,
        backend,
        tuple(resolved),
        tuple(spec.output_spatial(spatial, resolved)),
        backend.memory_budget(),
    )
    # a copy of the remembered plan: the caller's own prepared weights
    found = dataclasses.replace(plan_request(request), runner=run_plan)
    if "weight" in found.chunking and operation == "conv" and backend.keeps_prepared_weights:
        # an engine's session is built with the weight prepacked on the plan's first call
        chunking = MappingProxyType({**found.chunking, "weight": "prepacked"})
        found = dataclasses.replace(found, chunking=chunking)
    return found


def load_plan(text: str) -> Plan:
    """A plan written by `Plan.to_json`, ready to run.

    Its choices and timings are read back as they were; each correlation's own details
    (the GEMM layout, the FFT geometry) are made again from its shapes on this machine.

    Parameters
    ----------
    text : str
        The JSON text.

    Returns
    -------
    Plan
        The plan, callable as the one that was written.

    Raises
    ------
    ValueError
        Text that is not a plan's JSON.

    Examples
    --------
    >>> import xconv
    >>> tuned = xconv.plan((1, 16, 64, 64), (16, 16, 3, 3), padding=1, algorithm="measure")
    >>> text = tuned.to_json()
    >>> again = xconv.load_plan(text)
    >>> again.algorithm == tuned.algorithm, again.measured == tuned.measured
    (True, True)
    """
    try:
        data = json.loads(text)
        backend = backend_named(data["backend"])
        node = from_dict(data, backend, estimate_of)
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"not a plan written by Plan.to_json: {error}") from None
    return dataclasses.replace(node, runner=run_plan)


def run_plan(plan: Plan, *arrays, **keywords):
    """Run `plan` (from `xconv.plan`) on arrays of its shapes, dtype and backend."""
    names = (
        ("x", "weight", "bias")
        if plan.operation in OPERATIONS[:2]
        else ("grad_output", "x", "weight")
    )
    given = dict(zip(names, arrays, strict=False))
    unknown = set(keywords) - set(names)
    if unknown or len(arrays) > len(names):
        raise TypeError(f"a {plan.operation} plan takes {', '.join(names)}")
    given.update(keywords)
    if any(name not in given for name in names[:2] + (("weight",) if len(names) == 3 else ())):
        raise TypeError(f"a {plan.operation} plan takes {', '.join(names)}")
    call = check_call(
        plan.operation,
        given["x"],
        given["weight"],
        bias=given.get("bias"),
        grad_output=given.get("grad_output"),
        spec=plan.spec,
    )
    found = (call.backend.name, tuple(call.x.shape), dtype_name(call.work))
    planned = (plan.backend_name, plan.input_shape, plan.dtype)
    if found != planned:
        raise ValueError(
            f"this plan is for backend, canonical input shape and dtype {planned}, "
            f"got {found}: make a plan for these arrays"
        )
    call = dataclasses.replace(call, plan=plan)
    prepared = plan.prepared if plan.operation == "conv" else None
    return _delegated_or_own(call, prepared)
