"""A layer written as text in each dialect, and as PyTorch code (`xconv translate`).

The translation itself (and its refusals, with the nearest faithful form) is
`xconv.compat.translate`; each dialect's writer spells the translated layer.

>>> from xconv.compat import keras
>>> from xconv.compat.text import layer_text, translations
>>> layer = keras.Conv2D(4, 3, strides=2)
>>> layer_text(layer)
'keras.layers.Conv2D(4, (3, 3), strides=(2, 2))'
>>> [row["target"] for row in translations(layer, "all")]
['wolfram', 'matlab', 'pytorch']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from ._keras_translate import keras_text
from ._layer import CompatLayer, TranslationError
from ._matlab_translate import matlab_text
from ._pytorch_text import pytorch_text
from ._wolfram_translate import wolfram_text
from .translate import DIALECTS, translate

__all__ = ["keras_text", "layer_text", "matlab_text", "pytorch_text", "translations"]

_WRITERS = {"wolfram": wolfram_text, "matlab": matlab_text, "keras": keras_text}


def layer_text(layer: CompatLayer) -> str:
    """`layer` written in its own dialect.

    Parameters
    ----------
    layer : CompatLayer
        A layer of any dialect.

    Returns
    -------
    str
        Its constructor call as the dialect writes it (for a PyTorch layer, the PyTorch
        code `pytorch_text` writes).

    Examples
    --------
    >>> from xconv.compat import matlab
    >>> from xconv.compat.text import layer_text
    >>> layer_text(matlab.convolution2dLayer(3, 16, Stride=2, Padding="same"))
    "convolution2dLayer([3 3], 16, 'Stride', [2 2], 'Padding', 'same')"
    """
    if layer.dialect == "pytorch":
        return pytorch_text(layer)[0]
    return _WRITERS[layer.dialect](layer)


def translations(
    layer: CompatLayer, target: str = "all", spatial: Sequence[int] | None = None
) -> list[dict]:
    """`layer` written in other dialects, with notes where they differ or cannot.

    Parameters
    ----------
    layer : CompatLayer
        A layer of any dialect.
    target : str, default "all"
        A dialect, `"pytorch"`, or `"all"` (every other dialect and PyTorch).
    spatial : sequence of int, optional
        The input's spatial sizes, if known: PyTorch's padding becomes numbers.

    Returns
    -------
    list of dict
        One row per target: `{"target", "text", "notes"}`; `text` is None where the
        target cannot express the layer, and the notes say why.

    Examples
    --------
    >>> from xconv.compat import wolfram
    >>> from xconv.compat.text import translations
    >>> rows = translations(wolfram.ConvolutionLayer(8, [3, 3]), "matlab")
    >>> rows[0]["text"]
    'convolution2dLayer([3 3], 8)'
    """
    targets = [t for t in DIALECTS if t != layer.dialect] if target == "all" else [target]
    rows = []
    for name in targets:
        if name == "pytorch":
            text, notes = pytorch_text(layer, spatial)
            rows.append({"target": name, "text": text, "notes": notes})
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                other = translate(layer, name)
            except TranslationError as error:
                rows.append({"target": name, "text": None, "notes": [str(error)]})
                continue
        notes = [str(w.message) for w in caught]
        rows.append({"target": name, "text": _WRITERS[name](other), "notes": notes})
    return rows
