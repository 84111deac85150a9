"""`translate(layer, target)`: the same convolution, written in another dialect.

The source layer gives its canonical `ConvSpec`, canonical weights and portable extras
(names, learning-rate factors, regularizers, ...); the target dialect builds its layer
from them, converting the weights to its layout. Where the target cannot express the
computation, a `TranslationError` says what and suggests the nearest faithful form;
extras the target has no equivalent for are dropped with a `TranslationWarning`.
"""

from __future__ import annotations

import dataclasses
import warnings

from ._keras_translate import from_canonical as keras_layer
from ._layer import CompatLayer, TranslationError
from ._matlab_translate import from_canonical as matlab_layer
from ._portable import static_padding
from ._pytorch_translate import from_canonical as pytorch_layer
from ._wolfram_translate import from_canonical as wolfram_layer

__all__ = ["TranslationError", "TranslationWarning", "static_padding", "translate"]

DIALECTS = ("wolfram", "matlab", "keras", "pytorch")


class TranslationWarning(UserWarning):
    """Something besides the convolution (a regularizer, a factor) that did not carry over.

    Examples
    --------
    >>> import warnings
    >>> from xconv.compat import TranslationWarning, keras, translate
    >>> layer = keras.Conv2D(4, 3, kernel_regularizer="l2")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = translate(layer, "matlab")
    >>> [w.category.__name__ for w in caught]
    ['TranslationWarning']
    """


def translate(layer: CompatLayer, target: str) -> CompatLayer:
    """The layer `layer` computes, written as a layer of another dialect.

    Weights are converted to the target's layout (an uninitialized layer stays
    uninitialized); the result computes the same outputs from the same inputs, each in its
    own dialect's data layout.

    Parameters
    ----------
    layer : CompatLayer
        A layer of any dialect.
    target : {"wolfram", "matlab", "keras", "pytorch"}
        The dialect to write it in (PyTorch: its `nn.Conv*d` / `nn.ConvTranspose*d`
        module, for what one can say).

    Returns
    -------
    CompatLayer
        The target's layer, with the converted weights.

    Raises
    ------
    TranslationError
        The target cannot express the layer; the message names the nearest faithful
        form (a padding call, a helper).
    ValueError
        `target` is not a dialect.
    TypeError
        `layer` is not a dialect layer.

    Warns
    -----
    TranslationWarning
        Something besides the convolution (a regularizer, a factor) was dropped.

    Examples
    --------
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
    spec = dataclasses.replace(layer.spec, channels_last=layer.data_channels_last)
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


_BUILDERS = {
    "wolfram": wolfram_layer,
    "matlab": matlab_layer,
    "keras": keras_layer,
    "pytorch": pytorch_layer,
}


def _builder(target: str):
    return _BUILDERS[target]
