"""The contract between the planner and the algorithms: problem, estimate, algorithm."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from ..spec import ConvSpec

_ITEM_BYTES = {"float16": 4, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16}


@dataclass(frozen=True)
class Problem:
    """One forward correlation to plan, as an algorithm's `estimate` receives it.

    Parameters
    ----------
    spec : ConvSpec
        The convolution.
    input_shape : tuple of int
        The canonical `(N, C, *S)` input shape before padding.
    dtype : str
        The compute dtype's name (`"float32"`, ...).
    limit : int
        The workspace limit in bytes.

    Examples
    --------
    >>> from xconv import ConvSpec
    >>> from xconv.algorithms import Problem
    >>> problem = Problem(ConvSpec((3, 3), padding=1), (2, 4, 8, 8), "float32", 2**20)
    >>> problem.padded_shape, problem.out_spatial, problem.flops
    ((2, 4, 10, 10), (8, 8), 36864)
    """

    spec: ConvSpec
    input_shape: tuple[int, ...]
    dtype: str
    limit: int

    @cached_property
    def out_spatial(self) -> tuple[int, ...]:
        """The output's spatial shape."""
        return self.spec.output_spatial(self.input_shape[2:], self.padding)

    @cached_property
    def padding(self) -> tuple[tuple[int, int], ...]:
        """The resolved `(before, after)` padding per spatial axis."""
        return self.spec.resolve_padding(self.input_shape[2:])

    @property
    def padded_shape(self) -> tuple[int, ...]:
        """The canonical input shape after padding (what a run receives)."""
        spatial = self.input_shape[2:]
        padded = (n + b + a for n, (b, a) in zip(spatial, self.padding, strict=True))
        return (*self.input_shape[:2], *padded)

    @property
    def batch(self) -> int:
        """N."""
        return self.input_shape[0]

    @property
    def channels(self) -> int:
        """C, the input channels."""
        return self.input_shape[1]

    @property
    def filters(self) -> int:
        """F, the output channels."""
        out = self.spec.out_channels
        return out if out is not None else self.channels

    @property
    def complex(self) -> bool:
        """Whether the compute dtype is complex."""
        return self.dtype.startswith("complex")

    @property
    def item_bytes(self) -> int:
        """Bytes of one element of the compute dtype (float16 computes in float32)."""
        return _ITEM_BYTES[self.dtype]

    @property
    def slowdown(self) -> float:
        """float64 and complex128 run at half the rates."""
        return 2.0 if self.dtype in ("float64", "complex128") else 1.0

    @property
    def flops(self) -> int:
        """The definition's flop count: two per multiply-add (complex ones count as one)."""
        per_group = self.channels // self.spec.groups
        positions = math.prod(self.out_spatial)
        taps = math.prod(self.spec.kernel_size)
        return 2 * self.batch * self.filters * positions * per_group * taps


@dataclass(frozen=True)
class Estimate:
    """An algorithm's modelled cost on one problem, and how it would split the work.

    Parameters
    ----------
    seconds : float
        The modelled time.
    flops : int
        The flops it counts.
    workspace_bytes : int
        Its scratch memory.
    chunking : mapping, optional
        What a user reads: tiles, frames.
    detail : object, optional
        What the run follows (an FFT geometry, a GEMM layout), so that a plan runs
        exactly as it was costed.
    padded_layout : {"channels_first", "channels_last", "unpadded"}, optional
        The memory layout in which the run wants its padded input, so that padding and
        any layout change are one copy; set only by runs that keep no reference to that
        input after they return, which lets a backend pad into a buffer it reuses
        between calls. `"unpadded"`: the run pads zeros itself where it is handed the
        input before padding (it must still accept a padded one, as every run does);
        its `detail` then records the spatial shape before padding (`unpadded`) and the
        padding (`padding`), which `handed_unpadded` retargets.
    padded_tail : tuple of int, optional
        Per spatial axis, how many samples past the padded input's end the run reads
        and then discards (the FFT path's last overlap-save frames): where the padding
        is zeros the caller may pad that much further, which saves the run a copy that
        would extend the input. A run must accept the input with or without them.

    Examples
    --------
    >>> import xconv
    >>> p = xconv.plan((1, 1, 2**20), (1, 1, 1025), dtype="float32", algorithm="fft")
    >>> p.estimate.seconds > 0, p.estimate.flops == p.flops, "fft_shape" in p.estimate.chunking
    (True, True, True)
    """

    seconds: float
    flops: int
    workspace_bytes: int
    chunking: Mapping[str, object] = field(default_factory=dict)
    detail: object = None
    padded_layout: str | None = None
    padded_tail: tuple[int, ...] = ()

    def handed_unpadded(self, spatial, padding) -> Estimate:
        """This `"unpadded"` estimate, for a run handed an input of spatial shape
        `spatial` that still needs zero `padding` (a transposed phase's window of the
        output gradient): the run pads it as it pads a layer's own input."""
        detail = replace(
            self.detail, unpadded=tuple(spatial), padding=tuple(tuple(p) for p in padding)
        )
        return replace(self, detail=detail)


Estimator = Callable[..., Estimate]
Runner = Callable[..., object]


@dataclass(frozen=True)
class WindowRoute:
    """An engine's transposed convolution in one call: the window `[start, start + size)`
    of the adjoint of forward correlation `spec` applied to `y` `(N, F, *O)` with the
    forward weight `(F, C/g, *k)`, as the planner's transposed windows need it.

    Parameters
    ----------
    estimate : callable
        `estimate(backend, spec, y_shape, start, size, dtype, limit) -> Estimate | None`
        (None where the engine cannot run it).
    run : callable
        `run(backend, y, weight, spec, start, size)`: the `(N, C, *size)` window.
    """

    estimate: Callable[..., Estimate | None]
    run: Runner


@dataclass(frozen=True)
class Algorithm:
    """A named forward algorithm: how to price it and how to run it.

    Parameters
    ----------
    name : str
        `"direct"`, `"gemm"`, `"fft"`, or an engine's (`"onnxruntime"`).
    estimate : callable
        `estimate(backend, problem) -> Estimate`.
    run : callable
        `run(backend, x, weight, spec, out_spatial, estimate)`: the correlation of a
        padded canonical `x`, as the estimate says.
    prepares : bool, default False
        Whether the run also takes `prepared=` (a `PreparedWeights` or None) and keeps
        the weight's form there (the FFT path's spectrum).
    unavailable : callable, optional
        For an engine whose `estimate` returns None where it cannot run a problem:
        `unavailable(problem) -> Exception`, the error a caller who forced it gets.
    window : WindowRoute, optional
        The engine's own transposed convolution, where it has one.

    Examples
    --------
    >>> from xconv.algorithms import GENERIC
    >>> sorted(GENERIC), GENERIC["fft"].prepares
    (['direct', 'fft', 'gemm'], True)
    """

    name: str
    estimate: Estimator
    run: Runner
    prepares: bool = False
    unavailable: Callable[[Problem], Exception] | None = None
    window: WindowRoute | None = None
