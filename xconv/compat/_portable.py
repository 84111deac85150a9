"""A canonical spec in the terms the dialects share: static padding, net cropping, ...

Used by every dialect's writer (`_*_translate`) when it spells a `ConvSpec` in its own
parameters.
"""

from __future__ import annotations

from typing import Any

from ..spec import ConvSpec
from ._layer import TranslationError


def static_padding(spec: ConvSpec) -> Any:
    """A forward spec's padding in a form that does not need the input's size, if it has one.

    Parameters
    ----------
    spec : ConvSpec
        A forward spec.

    Returns
    -------
    tuple of (int, int) or str
        `(before, after)` pairs when the padding does not depend on the input size,
        else the padding string (`"same"` / `"same_lower"` at a stride above 1).

    Raises
    ------
    ValueError
        A transposed spec.

    Examples
    --------
    >>> from xconv import ConvSpec
    >>> from xconv.compat.translate import static_padding
    >>> static_padding(ConvSpec((4, 3), padding="same")), static_padding(
    ...     ConvSpec((3,), padding="same", stride=2))
    (((1, 2), (1, 1)), 'same')
    """
    if spec.transposed:
        raise ValueError("static_padding is for forward convolutions; see net_cropping")
    if spec.padding in ("same", "same_lower") and any(s > 1 for s in spec.stride):
        return spec.padding
    return tuple(spec.resolve_padding((None,) * spec.rank))


def net_cropping(spec: ConvSpec) -> tuple[tuple[int, int], ...]:
    """Transposed cropping per dimension as `(start, end)` with any output padding netted
    against the end: a negative end extends the output with zeros (plus bias)."""
    if not spec.transposed:
        raise ValueError("net_cropping is for transposed convolutions")
    crops = spec.resolve_padding((None,) * spec.rank)
    return tuple(
        (start, end - extra) for (start, end), extra in zip(crops, spec.output_padding, strict=True)
    )


def same_forward_pairs(spec: ConvSpec) -> tuple[tuple[int, int], ...]:
    """The pairs a stride-1 "same" resolves to (the odd one at the end)."""
    out = []
    for extent in spec.dilated_kernel:
        total = extent - 1
        out.append((total // 2, total - total // 2))
    return tuple(out)


def require_linear(portable: dict[str, Any], target: str, suggestion: str) -> None:
    activation = portable.get("activation")
    if activation not in (None, "linear"):
        raise TranslationError(
            f"{target} convolution layers have no activation ({activation!r}); {suggestion}"
        )
