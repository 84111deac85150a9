"""Peers as small adapters: each prepares one callable per workload, or None if it cannot.

A prepared callable runs the whole operation and returns only when its result exists
(JAX: `block_until_ready`); `fetch` turns that result into NumPy arrays for the sanity
check against xconv. Array conversion happens in `prepare`, outside the timed calls.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .workloads import Workload


@dataclass
class Prepared:
    run: Callable[[], object]
    fetch: Callable[[object], tuple[np.ndarray, ...]]
    note: str = ""


@dataclass
class Case:
    """A workload's NumPy arrays: input, weight and, for backward rows, the output gradient."""

    workload: Workload
    x: np.ndarray
    weight: np.ndarray
    grad: np.ndarray | None

    @classmethod
    def make(cls, workload: Workload, seed: int = 0) -> Case:
        rng = np.random.default_rng(seed)

        def normal(shape):
            return rng.standard_normal(shape, dtype=np.float32)

        with_grad = workload.op in ("backward", "torch", "jax")
        grad = normal(workload.out_shape) if with_grad else None
        return cls(workload, normal(workload.x_shape), normal(workload.weight_shape), grad)

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.x, self.weight) if self.grad is None else (self.grad, self.x, self.weight)


def _as_tuple(result) -> tuple[np.ndarray, ...]:
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


class Peer:
    name = ""
    family = ""  # targets name a family ("scipy" covers both SciPy functions)
    module = ""

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def version(self) -> str:
        return getattr(importlib.import_module(self.module), "__version__", "?")

    def prepare(self, case: Case) -> Prepared | None:
        raise NotImplementedError


class XconvPeer(Peer):
    name = family = module = "xconv"
    _functions: ClassVar[dict[str, str]] = {
        "forward": "conv",
        "transpose": "conv_transpose",
        "backward": "conv_vjp",
        "torch": "conv",
        "jax": "conv",
    }

    def prepare(self, case):
        import xconv

        w = case.workload
        function = getattr(xconv, self._functions[w.op], None)
        if function is None:
            return None  # not written yet
        options = dict(w.options, algorithm="auto")
        if w.op in ("torch", "jax"):
            return _framework_training(w.op, case, xconv.conv, w.options)
        if w.op == "backward":
            options.pop("algorithm")  # conv_vjp plans internally
            g, x, weight = case.grad, case.x, case.weight

            def run():
                return function(g, x, weight, **options)[:2]

        elif w.prepared:
            x, weight = case.x, case.weight
            plan = xconv.plan(x.shape, weight.shape, dtype=x.dtype, **w.options)
            plan(x, weight)  # prepares the weight once, as a layer's first call does

            def run():
                return plan(x, weight)

        else:
            x, weight = case.x, case.weight

            def run():
                return function(x, weight, **options)

        note = ""
        if w.op in ("forward", "transpose", "backward") and hasattr(xconv, "plan"):
            try:
                note = _engines(xconv, self._functions[w.op], case)
            except Exception as error:  # the planner is work in progress; never fatal here
                note = f"plan failed: {error}"
        return Prepared(run, lambda r: tuple(np.asarray(a) for a in _as_tuple(r)), note)


def _engines(xconv, operation: str, case: Case) -> str:
    """What runs a workload: the plan's algorithm, or for an operation of several parts
    the algorithms of its leaves ("onnxruntime + gemm")."""
    w = case.workload
    plan = xconv.plan(
        case.x.shape, case.weight.shape, dtype=case.x.dtype, operation=operation, **w.options
    )
    if operation == "conv":
        return plan.algorithm
    leaves = [node.algorithm for node in plan.walk() if not node.parts]
    return " + ".join(dict.fromkeys(leaves)) or plan.algorithm


class TorchPeer(Peer):
    name = family = module = "torch"

    def version(self):
        import torch

        return f"{torch.__version__} ({torch.get_num_threads()} threads)"

    def prepare(self, case):
        import torch
        import torch.nn.functional as F

        w = case.workload
        if w.rank > 3:
            return None
        options = w.options
        if w.op == "jax":
            return None
        if w.op == "torch":
            return _framework_training("torch", case, getattr(F, f"conv{w.rank}d"), options)
        x, weight = torch.from_numpy(case.x), torch.from_numpy(case.weight)
        if w.op == "transpose":
            function = getattr(F, f"conv_transpose{w.rank}d")

            def run():
                with torch.no_grad():
                    return function(x, weight, **options)

        elif w.op == "forward":
            function = getattr(F, f"conv{w.rank}d")

            def run():
                with torch.no_grad():
                    return function(x, weight, **options)

        else:
            function = getattr(F, f"conv{w.rank}d")
            x.requires_grad_(True)
            weight.requires_grad_(True)
            y = function(x, weight, **options)  # the graph is built once, outside the timing
            g = torch.from_numpy(case.grad)

            def run():
                return torch.autograd.grad(y, (x, weight), g, retain_graph=True)

        return Prepared(run, lambda r: tuple(t.detach().numpy() for t in _as_tuple(r)))


def _framework_training(framework: str, case: Case, convolution, options: dict) -> Prepared:
    """Forward plus backward of `convolution` on the framework's own arrays: torch
    autograd, or `jax.vjp` under `jax.jit`; returns the input and weight gradients."""
    if framework == "torch":
        import torch

        x = torch.from_numpy(case.x).requires_grad_(True)
        weight = torch.from_numpy(case.weight).requires_grad_(True)
        g = torch.from_numpy(case.grad)

        def run():
            y = convolution(x, weight, **options)
            return torch.autograd.grad(y, (x, weight), g)

        return Prepared(run, lambda r: tuple(t.detach().numpy() for t in r))
    import jax
    import jax.numpy as jnp

    def forward(x, weight):
        return convolution(x, weight, **options)

    compiled = jax.jit(lambda x, weight, g: jax.vjp(forward, x, weight)[1](g))
    args = tuple(jnp.asarray(a) for a in (case.x, case.weight, case.grad))

    def run():
        return jax.block_until_ready(compiled(*args))

    return Prepared(run, lambda r: tuple(np.asarray(a) for a in r))


def _one_channel_forward(w: Workload) -> bool:
    """SciPy convolves single arrays: one image, one channel in and out, unit steps."""
    return (
        w.op == "forward"
        and w.batch == w.in_channels == w.out_channels == w.groups == 1
        and set(w.per_dim("stride", 1)) == {1}
        and set(w.per_dim("dilation", 1)) == {1}
    )


class _ScipyPeer(Peer):
    family = "scipy"
    module = "scipy"
    function_name = ""

    def prepare(self, case):
        from scipy import signal

        w = case.workload
        if not _one_channel_forward(w):
            return None
        function = getattr(signal, self.function_name)
        flipped = np.ascontiguousarray(case.weight[0, 0][(slice(None, None, -1),) * w.rank])
        pads = [(p, p) for p in w.per_dim("padding", 0)]
        x = case.x[0, 0]

        def run():  # xconv correlates and pads: convolve with the flipped kernel, pad first
            padded = np.pad(x, pads) if any(p for p, _ in pads) else x
            return function(padded, flipped, mode="valid")

        return Prepared(run, lambda r: (r[None, None],))


class ScipyFFTPeer(_ScipyPeer):
    name = "scipy.fftconvolve"
    function_name = "fftconvolve"


class ScipyOAPeer(_ScipyPeer):
    name = "scipy.oaconvolve"
    function_name = "oaconvolve"


class JaxPeer(Peer):
    name = family = module = "jax"

    def available(self):
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # never probe for accelerators here
        return super().available()

    def prepare(self, case):
        import jax
        import jax.numpy as jnp
        from jax import lax

        w = case.workload
        stride, padding, dilation = (w.options[k] for k in ("stride", "padding", "dilation"))
        spatial = "DHW"[-w.rank :] if w.rank <= 3 else None
        if spatial is None:
            return None
        numbers = (f"NC{spatial}", f"OI{spatial}", f"NC{spatial}")

        def forward(x, weight):
            return lax.conv_general_dilated(
                x,
                weight,
                window_strides=stride,
                padding=[(p, p) for p in padding],
                rhs_dilation=dilation,
                dimension_numbers=numbers,
                feature_group_count=w.groups,
            )

        x, weight = jnp.asarray(case.x), jnp.asarray(case.weight)
        if w.op == "torch":
            return None
        if w.op == "forward":
            compiled = jax.jit(forward)
            args = (x, weight)
        elif w.op in ("backward", "jax"):
            compiled = jax.jit(lambda x, weight, g: jax.vjp(forward, x, weight)[1](g))
            args = (x, weight, jnp.asarray(case.grad))
        else:
            compiled = jax.jit(_jax_transpose(w, numbers))
            args = (x, weight)

        def run():
            return jax.block_until_ready(compiled(*args))

        return Prepared(run, lambda r: tuple(np.asarray(a) for a in _as_tuple(r)))


def _jax_transpose(w: Workload, numbers):
    """PyTorch's conv_transpose as a forward convolution of the input dilated by the stride."""
    import jax.numpy as jnp
    from jax import lax

    stride, padding, dilation = (w.options[k] for k in ("stride", "padding", "dilation"))
    g = w.groups

    def transpose(x, weight):
        c, f_per_group = weight.shape[:2]
        # (C, F/g, *k) -> (F, C/g, *k), spatially flipped
        kernel = weight.reshape(g, c // g, f_per_group, *w.kernel)
        kernel = jnp.swapaxes(kernel, 1, 2).reshape(g * f_per_group, c // g, *w.kernel)
        kernel = jnp.flip(kernel, axis=tuple(range(2, 2 + w.rank)))
        pads = [((k - 1) * d - p,) * 2 for k, d, p in zip(w.kernel, dilation, padding, strict=True)]
        return lax.conv_general_dilated(
            x,
            kernel,
            window_strides=(1,) * w.rank,
            padding=pads,
            lhs_dilation=stride,
            rhs_dilation=dilation,
            dimension_numbers=numbers,
            feature_group_count=g,
        )

    return transpose


PEERS: tuple[Peer, ...] = (XconvPeer(), TorchPeer(), ScipyFFTPeer(), ScipyOAPeer(), JaxPeer())


def installed_peers() -> tuple[Peer, ...]:
    return tuple(p for p in PEERS if p.available())
