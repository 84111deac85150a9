"""Choosing an algorithm for a convolution.

A first, simple cost model: the direct path wins when each output reads a single input
channel (depthwise), because its per-tap work is a broadcast multiply rather than a
column copy plus a matmul of depth one; otherwise one large GEMM over `C/g * taps`
makes the best use of BLAS.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import ConvSpec

ALGORITHMS = ("auto", "direct", "gemm", "fft")


@dataclass(frozen=True)
class Choice:
    algorithm: str
    reason: str


def check_algorithm(algorithm: object) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return algorithm  # type: ignore[return-value]


def choose_algorithm(spec: ConvSpec, algorithm: str = "auto") -> Choice:
    """The algorithm to run for `spec` (the user's choice unless it is "auto")."""
    if check_algorithm(algorithm) != "auto":
        return Choice(algorithm, "requested")
    in_per_group = spec.in_channels // spec.groups if spec.in_channels else None
    if in_per_group == 1:
        return Choice("direct", "one input channel per group: per-tap broadcast multiply")
    return Choice("gemm", "im2col columns feed one batched matmul over groups")
