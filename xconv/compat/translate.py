"""`translate(layer, target)`: the same convolution, written in another dialect.

The source layer gives its canonical `ConvSpec`, canonical weights and portable extras
(names, learning-rate factors, regularizers, ...); the target dialect builds its layer
from them, converting the weights to its layout. Where the target cannot express the
computation, a `TranslationError` says what and suggests the nearest faithful form;
extras the target has no equivalent for are dropped with a `TranslationWarning`.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..spec import ConvSpec
from ._layer import CompatLayer, TranslationError

__all__ = ["TranslationError", "TranslationWarning", "static_padding", "translate"]

DIALECTS = ("wolfram", "matlab", "keras")


class TranslationWarning(UserWarning):
    """Something besides the convolution (a regularizer, a factor) that did not carry over."""


def translate(layer: CompatLayer, target: str) -> CompatLayer:
    """The layer `layer` computes, written as a `target` layer ("wolfram", "matlab", "keras").

    Weights are converted to the target's layout (an uninitialized layer stays
    uninitialized); the result computes the same outputs from the same inputs, each in its
    own dialect's data layout.

    >>> import numpy as np
    >>> from xconv.compat import keras, translate
    >>> k = keras.Conv2D(4, 3, padding="same")
    >>> k.build((None, 8, 8, 2))
    >>> m = translate(k, "matlab")
    >>> type(m).__name__, m.PaddingMode, m.Weights.shape
    ('Convolution2DLayer', 'same', (3, 3, 2, 4))
    """
    if target not in DIALECTS:
        raise ValueError(f"target must be one of {DIALECTS}, got {target!r}")
    if not isinstance(layer, CompatLayer):
        raise TypeError(f"translate expects an xconv.compat layer, got {type(layer).__name__}")
    spec = layer.spec
    weight, bias = _weights_or_none(layer)
    portable = layer.portable()
    builder = _builder(target)
    result, used = builder(spec, weight, bias, portable)
    dropped = sorted(key for key in portable if key not in used)
    if dropped:
        shown = ", ".join(f"{key}={portable[key]!r}" for key in dropped)
        warnings.warn(
            f"translating a {layer.dialect} layer to {target}: {shown} has no {target} "
            "equivalent and was dropped",
            TranslationWarning,
            stacklevel=2,
        )
    return result


def _weights_or_none(layer: CompatLayer):
    try:
        return layer.canonical_weights()
    except (ValueError, AttributeError):
        return None, None


def _builder(target: str):
    if target == "wolfram":
        from .wolfram import from_canonical
    elif target == "matlab":
        from .matlab import from_canonical
    else:
        from .keras import from_canonical
    return from_canonical


def static_padding(spec: ConvSpec) -> Any:
    """Forward padding as `(before, after)` pairs when it does not depend on the input
    size, else the padding string ("same" / "same_lower" at a stride above 1)."""
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
