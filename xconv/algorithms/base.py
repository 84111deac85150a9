"""The contract between the planner and the algorithms: problem, estimate, algorithm."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..spec import ConvSpec

_ITEM_BYTES = {"float16": 4, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16}


@dataclass(frozen=True)
class Problem:
    """One forward correlation to plan: spec, canonical input shape before padding, dtype
    name (`"float32"`, ...) and the workspace limit in bytes."""

    spec: ConvSpec
    input_shape: tuple[int, ...]
    dtype: str
    limit: int

    @cached_property
    def out_spatial(self) -> tuple[int, ...]:
        return self.spec.output_spatial(self.input_shape[2:], self.padding)

    @cached_property
    def padding(self) -> tuple[tuple[int, int], ...]:
        return self.spec.resolve_padding(self.input_shape[2:])

    @property
    def padded_shape(self) -> tuple[int, ...]:
        """The canonical input shape after padding (what a run receives)."""
        spatial = self.input_shape[2:]
        padded = (n + b + a for n, (b, a) in zip(spatial, self.padding, strict=True))
        return (*self.input_shape[:2], *padded)

    @property
    def batch(self) -> int:
        return self.input_shape[0]

    @property
    def channels(self) -> int:
        return self.input_shape[1]

    @property
    def filters(self) -> int:
        out = self.spec.out_channels
        return out if out is not None else self.channels

    @property
    def complex(self) -> bool:
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

    `chunking` is what a user reads (tiles, frames); `detail` is what the run follows
    (an FFT geometry, a GEMM layout), so a plan runs exactly as it was costed.

    `padded_layout` (`"channels_first"` or `"channels_last"`) is the memory layout in
    which the run wants its padded input, so that padding and any layout change are one
    copy; it is set only by runs that keep no reference to that input after they return,
    which lets a backend pad into a buffer it reuses between calls. `"unpadded"`: the run
    pads constant padding itself where it is handed the input before padding (it must
    still accept a padded one, as every run does).

    `padded_tail` (per spatial dimension) is how many samples past the padded input's end
    the run reads and then discards (the FFT path's last overlap-save frames): where the
    padding is zeros the caller may pad that much further, which saves the run a copy
    that would extend the input. A run must accept the input with or without them.
    """

    seconds: float
    flops: int
    workspace_bytes: int
    chunking: Mapping[str, object] = field(default_factory=dict)
    detail: object = None
    padded_layout: str | None = None
    padded_tail: tuple[int, ...] = ()


Estimator = Callable[..., Estimate]
Runner = Callable[..., object]


@dataclass(frozen=True)
class Algorithm:
    """A named forward algorithm: `estimate(backend, problem)` and
    `run(backend, x, weight, spec, out_spatial, estimate)`; with `prepares`, the run also
    takes `prepared=` (a `PreparedWeights` or None) and keeps the weight's form there."""

    name: str
    estimate: Estimator
    run: Runner
    prepares: bool = False
