"""Kernel taps as strided views of the padded input: the building block of direct and GEMM."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence


def kernel_taps(kernel_size: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every kernel offset, in C order (matching a row-major weight reshape)."""
    return itertools.product(*(range(k) for k in kernel_size))


def tap_window(tap, stride, dilation, out_spatial) -> tuple[slice, ...]:
    """Slices of the padded spatial axes that kernel offset `tap` meets, one per output."""
    return tuple(
        slice(t * d, t * d + (o - 1) * s + 1, s)
        for t, s, d, o in zip(tap, stride, dilation, out_spatial, strict=True)
    )


def plane_offsets(sizes, spacings, spatial) -> list[int]:
    """Offsets, in a C-order array of shape `spatial`, of the points of a grid of `sizes`
    along its first axes, `spacings` samples apart, in C order: the kernel's taps
    (`dilation` apart) or the first windows of the output rows (`stride` apart)."""
    steps = [math.prod(spatial[i + 1 :]) for i in range(len(sizes))]
    offsets = [0]
    for size, spacing, step in zip(sizes, spacings, steps, strict=True):
        offsets = [o + j * spacing * step for o in offsets for j in range(size)]
    return offsets
