"""Keras 3's convolution layers: `Conv1D/2D/3D`, `Conv1D/2D/3DTranspose`, `DepthwiseConv1D/2D`.

The layers take Keras' arguments and behave as Keras 3 does: `data_format` defaults to
`"channels_last"` (or `image_data_format` in `~/.keras/keras.json`); kernels are
`(*k, C/groups, filters)`, transposed `(*k, filters, C)`, depthwise `(*k, C, multiplier)`;
weights are created by `build(input_shape)` or the first call; `get_weights`,
`set_weights`, `compute_output_shape`, `get_config`, `from_config`, `losses` (regularizer
penalties, and the activity penalty of the last call divided by its batch size) and
constraints (`apply_constraints()`, what Keras' optimizers do after each update).
Inputs are cast to the layer's dtype (`"float32"` by default); the result is in the
input's array namespace.

Keras' documented errors are raised with Keras' messages: `strides > 1` together with
`dilation_rate > 1` at construction, input channels not divisible by `groups` at build.

>>> import numpy as np
>>> from xconv.compat import keras
>>> x = np.random.rand(4, 10, 10, 128)
>>> y = keras.Conv2D(32, 3, activation="relu")(x)
>>> print(y.shape)
(4, 8, 8, 32)
"""

from __future__ import annotations

from . import _keras_activations as activations
from . import _keras_initializers as initializers
from ._keras_args import image_data_format, set_image_data_format
from ._keras_args import keras_transpose_cropping as keras_transpose_cropping
from ._keras_conv import Conv as _Conv
from ._keras_conv import ConvTranspose as _ConvTranspose
from ._keras_conv import DepthwiseConv as _DepthwiseConv
from ._keras_regularizers import constraints, regularizers

# The machinery lives beside this module: `_keras_args` (arguments as Keras standardises
# them), `_keras_layer` (build, weights, call, config), `_keras_conv` (the three families
# and their signatures), `_keras_translate` (the writer: a ConvSpec as a Keras layer).

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "activations",
    "constraints",
    "image_data_format",
    "initializers",
    "regularizers",
    "set_image_data_format",
]


class Conv1D(_Conv):
    """`keras.layers.Conv1D`: inputs `(batch, steps, channels)`; `padding="causal"` too.

    >>> Conv1D(2, 3, padding="causal").compute_output_shape((None, 10, 4))
    (None, 10, 2)
    """

    RANK = 1
    BASE_NAME = "conv1d"


class Conv2D(_Conv):
    """`keras.layers.Conv2D`: inputs `(batch, height, width, channels)`.

    >>> Conv2D(32, 3, activation="relu").compute_output_shape((4, 10, 10, 128))
    (4, 8, 8, 32)
    """

    RANK = 2
    BASE_NAME = "conv2d"


class Conv3D(_Conv):
    """`keras.layers.Conv3D`: inputs `(batch, d1, d2, d3, channels)`.

    >>> Conv3D(2, 3, strides=2, padding="same").compute_output_shape((1, 9, 8, 7, 3))
    (1, 5, 4, 4, 2)
    """

    RANK = 3
    BASE_NAME = "conv3d"


class Conv1DTranspose(_ConvTranspose):
    """`keras.layers.Conv1DTranspose`; kernel `(k, filters, channels)`.

    >>> Conv1DTranspose(2, 3, strides=2, padding="same").compute_output_shape((1, 5, 4))
    (1, 10, 2)
    """

    RANK = 1
    BASE_NAME = "conv1d_transpose"


class Conv2DTranspose(_ConvTranspose):
    """`keras.layers.Conv2DTranspose`; kernel `(h, w, filters, channels)`.

    >>> Conv2DTranspose(4, 3, strides=2).compute_output_shape((2, 5, 6, 3))
    (2, 11, 13, 4)
    """

    RANK = 2
    BASE_NAME = "conv2d_transpose"


class Conv3DTranspose(_ConvTranspose):
    """`keras.layers.Conv3DTranspose`; kernel `(k1, k2, k3, filters, channels)`."""

    RANK = 3
    BASE_NAME = "conv3d_transpose"


class DepthwiseConv1D(_DepthwiseConv):
    """`keras.layers.DepthwiseConv1D`; kernel `(k, channels, depth_multiplier)`."""

    RANK = 1
    BASE_NAME = "depthwise_conv1d"


class DepthwiseConv2D(_DepthwiseConv):
    """`keras.layers.DepthwiseConv2D`; kernel `(h, w, channels, depth_multiplier)`.

    >>> DepthwiseConv2D(3, depth_multiplier=2).compute_output_shape((1, 8, 8, 3))
    (1, 6, 6, 6)
    """

    RANK = 2
    BASE_NAME = "depthwise_conv2d"


# Keras 3's aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
