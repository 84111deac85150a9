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

from .._docstrings import filled
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


# Keras' arguments, as its reference page documents them: one text for the three families
_COMMON = {
    "filters": """filters : int
    The number of output channels.""",
    "kernel_size": """kernel_size : int or tuple of int
    The size of the convolution window, one for every axis or one per axis.""",
    "strides": """strides : int or tuple of int, default 1
    The step of the window; `strides > 1` with `dilation_rate > 1` is Keras' error.""",
    "padding": """padding : {"valid", "same"}, default "valid"
    No padding, or zeros so that the output is `ceil(n / strides)` long (the odd extra
    sample at the end).""",
    "padding1d": """padding : {"valid", "same", "causal"}, default "valid"
    No padding; zeros so that the output is `ceil(n / strides)` long (the odd extra
    sample at the end); or all of the padding at the start (`"causal"`).""",
    "padding_t": """padding : {"valid", "same"}, default "valid"
    The output is `(n - 1) * strides + k` long, or `n * strides` (`"same"`).""",
    "output_padding": """output_padding : int or tuple of int, optional
    Extra size at the end of the output, smaller than `strides`.""",
    "data_format": """data_format : {"channels_last", "channels_first"}, optional
    The order of the data's axes (default: `image_data_format()`, `"channels_last"`).""",
    "dilation_rate": """dilation_rate : int or tuple of int, default 1
    The spacing between kernel taps.""",
    "groups": """groups : int, default 1
    Channel groups; the input channels and `filters` must be multiples of it.""",
    "depth_multiplier": """depth_multiplier : int, default 1
    Output channels per input channel.""",
    "activation": """activation : str or callable, optional
    Applied to the output (`keras.activations` names: `"relu"`, `"gelu"`, ...); None is
    linear.""",
    "use_bias": """use_bias : bool, default True
    Whether the layer has a bias.""",
    "kernel_initializer": """kernel_initializer : str or initializer, default "glorot_uniform"
    How `build` draws the kernel (`keras.initializers`).""",
    "depthwise_initializer": """depthwise_initializer : str or initializer, default "glorot_uniform"
    How `build` draws the depthwise kernel.""",
    "bias_initializer": """bias_initializer : str or initializer, default "zeros"
    How `build` draws the bias.""",
    "kernel_regularizer": """kernel_regularizer : regularizer, optional
    A penalty on the kernel, in `losses`.""",
    "depthwise_regularizer": """depthwise_regularizer : regularizer, optional
    A penalty on the depthwise kernel, in `losses`.""",
    "bias_regularizer": """bias_regularizer : regularizer, optional
    A penalty on the bias, in `losses`.""",
    "activity_regularizer": """activity_regularizer : regularizer, optional
    A penalty on the output of the last call, divided by its batch size, in `losses`.""",
    "kernel_constraint": """kernel_constraint : constraint, optional
    Applied to the kernel by `apply_constraints()`.""",
    "depthwise_constraint": """depthwise_constraint : constraint, optional
    Applied to the depthwise kernel by `apply_constraints()`.""",
    "bias_constraint": """bias_constraint : constraint, optional
    Applied to the bias by `apply_constraints()`.""",
    "name": """name : str, optional
    The layer's name (default: `conv2d`, `conv2d_1`, ... as Keras numbers them).""",
    "dtype": """dtype : str, optional
    The layer's dtype policy (`"float32"` by default); inputs are cast to it.""",
    "trainable": """trainable : bool, default True
    Keras' flag, kept in the config.""",
    "kwargs": """**kwargs
    Keras' base-layer arguments: `input_shape`, `input_dim`, `batch_input_shape` and
    `batch_size` warn as Keras does; others are Keras' "Unrecognized keyword arguments"
    error.""",
}
_TAIL = ["activation", "use_bias"]
_BASE = ["name", "dtype", "trainable", "kwargs"]
_REGULARIZED = ["bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint"]  # fmt: skip


def _parameters(*names: str) -> str:
    """A numpydoc Parameters section of Keras' entries, indented for a class docstring."""
    body = "\n".join(_COMMON[name] for name in names)
    return (
        "Parameters\n    ----------\n    "
        + "\n".join("    " + line if line else line for line in body.splitlines()).lstrip()
    )


_FIELDS = {
    "conv": _parameters("filters", "kernel_size", "strides", "padding", "data_format",
                        "dilation_rate", "groups", *_TAIL, "kernel_initializer",
                        *_REGULARIZED, *_BASE),
    "conv1d": _parameters("filters", "kernel_size", "strides", "padding1d", "data_format",
                          "dilation_rate", "groups", *_TAIL, "kernel_initializer",
                          *_REGULARIZED, *_BASE),
    "transpose": _parameters("filters", "kernel_size", "strides", "padding_t",
                             "output_padding", "data_format", "dilation_rate", *_TAIL,
                             "kernel_initializer", *_REGULARIZED, *_BASE),
    "depthwise": _parameters("kernel_size", "strides", "padding", "depth_multiplier",
                             "data_format", "dilation_rate", *_TAIL,
                             "depthwise_initializer", "bias_initializer",
                             "depthwise_regularizer", "bias_regularizer",
                             "activity_regularizer", "depthwise_constraint",
                             "bias_constraint", *_BASE),
}  # fmt: skip


@filled(_FIELDS)
class Conv1D(_Conv):
    """`keras.layers.Conv1D`: inputs `(batch, steps, channels)`; kernel `(k, C/groups, filters)`.

    {conv1d}

    Examples
    --------
    >>> Conv1D(2, 3, padding="causal").compute_output_shape((None, 10, 4))
    (None, 10, 2)
    """

    RANK = 1
    BASE_NAME = "conv1d"


@filled(_FIELDS)
class Conv2D(_Conv):
    """`keras.layers.Conv2D`: inputs `(batch, height, width, channels)`.

    The kernel is `(h, w, C/groups, filters)`.

    {conv}

    Examples
    --------
    >>> Conv2D(32, 3, activation="relu").compute_output_shape((4, 10, 10, 128))
    (4, 8, 8, 32)
    """

    RANK = 2
    BASE_NAME = "conv2d"


@filled(_FIELDS)
class Conv3D(_Conv):
    """`keras.layers.Conv3D`: inputs `(batch, d1, d2, d3, channels)`.

    The kernel is `(k1, k2, k3, C/groups, filters)`.

    {conv}

    Examples
    --------
    >>> Conv3D(2, 3, strides=2, padding="same").compute_output_shape((1, 9, 8, 7, 3))
    (1, 5, 4, 4, 2)
    """

    RANK = 3
    BASE_NAME = "conv3d"


@filled(_FIELDS)
class Conv1DTranspose(_ConvTranspose):
    """`keras.layers.Conv1DTranspose`; kernel `(k, filters, channels)`.

    {transpose}

    Examples
    --------
    >>> Conv1DTranspose(2, 3, strides=2, padding="same").compute_output_shape((1, 5, 4))
    (1, 10, 2)
    """

    RANK = 1
    BASE_NAME = "conv1d_transpose"


@filled(_FIELDS)
class Conv2DTranspose(_ConvTranspose):
    """`keras.layers.Conv2DTranspose`; kernel `(h, w, filters, channels)`.

    {transpose}

    Examples
    --------
    >>> Conv2DTranspose(4, 3, strides=2).compute_output_shape((2, 5, 6, 3))
    (2, 11, 13, 4)
    """

    RANK = 2
    BASE_NAME = "conv2d_transpose"


@filled(_FIELDS)
class Conv3DTranspose(_ConvTranspose):
    """`keras.layers.Conv3DTranspose`; kernel `(k1, k2, k3, filters, channels)`.

    {transpose}

    Examples
    --------
    >>> Conv3DTranspose(2, 2, strides=2).compute_output_shape((1, 4, 4, 4, 3))
    (1, 8, 8, 8, 2)
    """

    RANK = 3
    BASE_NAME = "conv3d_transpose"


@filled(_FIELDS)
class DepthwiseConv1D(_DepthwiseConv):
    """`keras.layers.DepthwiseConv1D`; kernel `(k, channels, depth_multiplier)`.

    {depthwise}

    Examples
    --------
    >>> DepthwiseConv1D(5, depth_multiplier=3, padding="same").compute_output_shape((2, 40, 4))
    (2, 40, 12)
    """

    RANK = 1
    BASE_NAME = "depthwise_conv1d"


@filled(_FIELDS)
class DepthwiseConv2D(_DepthwiseConv):
    """`keras.layers.DepthwiseConv2D`; kernel `(h, w, channels, depth_multiplier)`.

    {depthwise}

    Examples
    --------
    >>> DepthwiseConv2D(3, depth_multiplier=2).compute_output_shape((1, 8, 8, 3))
    (1, 6, 6, 6)
    """

    RANK = 2
    BASE_NAME = "depthwise_conv2d"


# Keras 3's aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
