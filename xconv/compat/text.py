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
    """`layer` written in its own dialect."""
    return _WRITERS[layer.dialect](layer)


def translations(
    layer: CompatLayer, target: str = "all", spatial: Sequence[int] | None = None
) -> list[dict]:
    """One row per target: `{"target", "text", "notes"}`; `text` is None where impossible.

    `target` is a dialect, `"pytorch"`, or `"all"` (every other dialect and PyTorch);
    `spatial`, the input's spatial sizes if known, makes PyTorch's padding numbers.
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
