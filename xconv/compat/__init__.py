"""Dialect adapters: layers written as in Wolfram Language, MATLAB or Keras, computed by xconv.

Each dialect module translates its own names, defaults, weight and data layouts into a
canonical `ConvSpec` plus canonical weights and calls `xconv.conv` /
`xconv.conv_transpose`; `translate(layer, target)` rewrites a layer in another dialect.

>>> from xconv.compat import keras, matlab, translate, wolfram
>>> layer = matlab.convolution2dLayer(3, 8, NumChannels=3, Padding="same")
>>> translate(layer, "wolfram").PaddingSize
'Same'
"""

from . import keras, matlab, wolfram
from ._layer import CompatLayer, TranslationError
from .translate import TranslationWarning, translate

__all__ = [
    "CompatLayer",
    "TranslationError",
    "TranslationWarning",
    "keras",
    "matlab",
    "translate",
    "wolfram",
]
