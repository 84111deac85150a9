"""The canonical semantics, written out once more from DESIGN.md's table for the peers.

Peers that lack a padding convention get explicit pads from here; the generator sizes
cotangents and documented output shapes with it. It deliberately does not call xconv, so
that a wrong resolution inside xconv shows up as a disagreement.
"""

from __future__ import annotations

from .cases import Case

Pair = tuple[int, int]


def extents(case: Case) -> tuple[int, ...]:
    """Dilated kernel extents `(k - 1) * d + 1`."""
    return tuple(
        (k - 1) * d + 1 for k, d in zip(case.kernel, case.per_dim("dilation"), strict=True)
    )


def pads(case: Case) -> tuple[Pair, ...]:
    """`(before, after)` padding per dimension (cropping, for transposed cases)."""
    padding = case.params["padding"]
    rank = case.rank
    if isinstance(padding, str):
        return tuple(
            _string_pad(padding, n, e, s, case.transposed)
            for n, e, s in zip(case.spatial, extents(case), case.per_dim("stride"), strict=True)
        )
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    return tuple((p, p) if isinstance(p, int) else (p[0], p[1]) for p in padding)


def _string_pad(mode: str, n: int, extent: int, stride: int, transposed: bool) -> Pair:
    mode = mode.lower()
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (extent - 1, extent - 1)
    if mode == "causal":
        return (extent - 1, 0)
    if transposed:  # "same": output n * stride; a negative total extends at the end
        total = extent - stride
        if total < 0:
            return (0, total)
    else:  # "same" / "same_lower": output ceil(n / stride)
        out = -(-n // stride)
        total = max((out - 1) * stride + extent - n, 0)
    low, high = total // 2, total - total // 2
    return (high, low) if mode == "same_lower" else (low, high)


def output_spatial(case: Case) -> tuple[int, ...]:
    """Output spatial sizes of the case's forward or transposed convolution."""
    out = []
    output_padding = case.per_dim("output_padding")
    for i, (n, e, s, (before, after)) in enumerate(
        zip(case.spatial, extents(case), case.per_dim("stride"), pads(case), strict=True)
    ):
        if case.transposed:
            out.append((n - 1) * s + e + output_padding[i] - before - after)
        else:
            out.append((n + before + after - e) // s + 1)
    return tuple(out)


def output_shape(case: Case) -> tuple[int, ...]:
    """Canonical output shape `(N, F, *S')` (or `(F, *S')` unbatched)."""
    batch = case.input_shape[:1] if case.batched else ()
    return (*batch, case.out_channels, *output_spatial(case))


def uses_constant_zero(case: Case) -> bool:
    """True when the padding is plain zeros (every peer's default)."""
    mode = case.params["padding_mode"]
    return (mode == "constant" and case.params["padding_value"] == 0) or all(
        p == (0, 0) for p in pads(case)
    )
