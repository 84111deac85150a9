"""A canonical `ConvSpec` with canonical weights, written as a Keras layer (`from_canonical`).

Keras pads with zeros only, as `"valid"`, `"same"` (the odd padding at the end) or, in
1-D, `"causal"`; a transposed layer crops its full output as `padding` and
`output_padding` say (`keras_transpose_cropping`). A spec outside these raises
`TranslationError` naming the nearest faithful Keras form.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..padding import NUMPY_PAD_MODES
from ..spec import ConvSpec
from ._keras_args import keras_transpose_cropping
from ._keras_layer import KerasLayer
from ._layer import TranslationError, permute, reshape, to_numpy
from ._portable import net_cropping, same_forward_pairs, static_padding
from .keras import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
)

_KERAS_KEYS = (
    "activation",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


def from_canonical(
    spec: ConvSpec, weight, bias, portable: dict[str, Any]
) -> tuple[KerasLayer, set[str]]:
    """The Keras layer computing `spec` with canonical weights; the portable keys used."""
    rank = spec.rank
    if rank > 3:
        raise TranslationError(f"Keras has no {rank}-D convolution layer (1-D to 3-D only)")
    if spec.padding_mode != "constant" or spec.padding_value != 0:
        raise TranslationError(_padded_first(spec))
    used = {"name", *_KERAS_KEYS}
    if bias is not None and portable.get("bias_learn_rate") == 0 and not to_numpy(bias).any():
        bias = None  # a frozen zero bias (MATLAB's stand-in for none) is no bias
        used.add("bias_learn_rate")
    common: dict[str, Any] = {
        "strides": spec.stride,
        "dilation_rate": spec.dilation,
        "data_format": "channels_last" if spec.channels_last else "channels_first",
        "use_bias": weight is None or bias is not None,
        "name": portable.get("name"),
    }
    for key in _KERAS_KEYS:
        if key in portable:
            common[key] = portable[key]
    if max(spec.stride) > 1 and max(spec.dilation) > 1:
        raise TranslationError(
            f"Keras does not support strides > 1 with dilation_rate > 1 (strides={spec.stride},"
            f" dilation_rate={spec.dilation}); the nearest faithful form is the stride-1 "
            "dilated layer followed by subsampling of its output"
        )
    if spec.transposed:
        layer, kernel = _keras_transposed(spec, weight, common, net_cropping(spec))
    else:
        padding = _keras_padding(spec, static_padding(spec), same_forward_pairs(spec))
        layer, kernel = _keras_forward(spec, weight, common, padding)
    if spec.in_channels is not None:
        shape = (
            (None, *[None] * rank, spec.in_channels)
            if spec.channels_last
            else (None, spec.in_channels, *[None] * rank)
        )
        layer.build(shape)
        if kernel is not None:
            layer.set_weights([kernel] + ([bias] if layer.use_bias else []))
    return layer, used


def _padded_first(spec: ConvSpec) -> str:
    """The refusal of a padding mode or value, with the exact Keras construction."""
    mode = spec.padding_mode
    if mode == "constant":
        what = f"value {spec.padding_value}"
        how = f"mode='constant', constant_values={spec.padding_value}"
    else:
        what = f"padding_mode={mode!r}"
        how = f"mode='{NUMPY_PAD_MODES[mode]}'"  # keras.ops.pad takes numpy.pad's names
    padding = static_padding(spec)
    if isinstance(padding, str):
        widths = f"the widths {padding!r} gives at stride {spec.stride} for the input's size"
    else:
        none = ((0, 0),)
        pairs = (*none, *padding, *none) if spec.channels_last else (*none, *none, *padding)
        widths = str(tuple(pairs))
    return (
        f"Keras convolution layers pad with zeros only (here {what}); the exact form pads the "
        f"input first, keras.ops.pad(x, {widths}, {how}), and uses the layer with "
        "padding='valid'"
    )


def _keras_padding(spec: ConvSpec, padding, same_pairs) -> str:
    if padding == "same" or spec.padding == "same":
        return "same"
    if isinstance(padding, str):
        raise TranslationError(
            f"Keras has no {padding!r} padding at stride {spec.stride}: its 'same' puts the odd "
            "padding at the end; the nearest faithful form for a fixed input size is "
            "keras.layers.ZeroPadding layer with explicit pairs and padding='valid'"
        )
    if all(p == (0, 0) for p in padding):
        return "valid"
    if all(s == 1 for s in spec.stride) and tuple(padding) == tuple(same_pairs):
        return "same"
    if spec.rank == 1 and padding[0] == (spec.dilated_kernel[0] - 1, 0):
        return "causal"
    zero_padding = f"ZeroPadding{spec.rank}D" if spec.rank > 1 else "ZeroPadding1D"
    raise TranslationError(
        f"Keras convolution layers have no explicit padding {tuple(padding)}; the nearest "
        f"faithful form is keras.layers.{zero_padding}(padding={tuple(padding)}) followed by "
        "the layer with padding='valid'"
    )


def _keras_forward(spec: ConvSpec, weight, common: dict, padding: str):
    conv = {1: Conv1D, 2: Conv2D, 3: Conv3D}
    depthwise_conv = {1: DepthwiseConv1D, 2: DepthwiseConv2D}
    rank = spec.rank
    groups = spec.groups
    depthwise = (
        groups > 1
        and spec.in_channels is not None
        and groups == spec.in_channels
        and rank in depthwise_conv
        and padding != "causal"
    )
    if depthwise:
        multiplier = spec.out_channels // groups
        if "kernel_regularizer" in common:
            common["depthwise_regularizer"] = common.pop("kernel_regularizer")
        if "kernel_constraint" in common:
            common["depthwise_constraint"] = common.pop("kernel_constraint")
        layer = depthwise_conv[rank](
            spec.kernel_size, padding=padding, depth_multiplier=multiplier, **common
        )
        kernel = None
        if weight is not None:  # (C*M, 1, *k) -> (*k, C, M)
            w = reshape(weight, (groups, multiplier, *spec.kernel_size))
            kernel = permute(w, (*range(2, rank + 2), 0, 1))
        return layer, kernel
    layer = conv[rank](
        spec.out_channels, spec.kernel_size, padding=padding, groups=groups, **common
    )
    return layer, _keras_kernel(weight, rank)


def _keras_transposed(spec: ConvSpec, weight, common: dict, crops):
    conv_transpose = {1: Conv1DTranspose, 2: Conv2DTranspose, 3: Conv3DTranspose}
    rank = spec.rank
    if spec.groups != 1:
        raise TranslationError(
            f"Keras' Conv{rank}DTranspose has no groups; the nearest faithful form is "
            f"{spec.groups} Conv{rank}DTranspose layers on the channel groups, concatenated"
        )
    choice = None
    for padding in ("valid", "same"):
        for output_padding in [None, *_paddings(spec)]:
            candidate = []
            for i in range(rank):
                op = None if output_padding is None else output_padding[i]
                (start, end), extra = keras_transpose_cropping(
                    spec.kernel_size[i], spec.stride[i], spec.dilation[i], padding, op
                )
                candidate.append((start, end - extra))
            if tuple(candidate) == tuple(crops):
                choice = (padding, output_padding)
                break
        if choice:
            break
    if choice is None:
        raise TranslationError(
            f"Keras' Conv{rank}DTranspose cannot crop {crops} (as (start, end) per dimension): "
            "it offers 'valid' (no cropping) and 'same' with an output_padding; the nearest "
            "faithful form is padding='valid' followed by keras.layers.Cropping"
            f"{rank}D(cropping=...)"
        )
    padding, output_padding = choice
    layer = conv_transpose[rank](
        spec.out_channels,
        spec.kernel_size,
        padding=padding,
        output_padding=output_padding,
        **common,
    )
    return layer, _keras_kernel(weight, rank)


def _keras_kernel(weight, rank: int):
    """Canonical `(b, a, *k)` as Keras' `(*k, a, b)`: `(F, C/g, *k)` as a convolution's
    `(*k, C/g, F)`, `(C, F, *k)` as a transposed convolution's `(*k, F, C)`."""
    return None if weight is None else permute(weight, (*range(2, rank + 2), 1, 0))


def _paddings(spec: ConvSpec):
    return itertools.product(*(range(s) for s in spec.stride))


# -- the layer as text ------------------------------------------------------------


_KERAS_DEFAULTS = {
    "strides": None,
    "padding": "valid",
    "data_format": "channels_last",
    "dilation_rate": None,
    "groups": 1,
    "depth_multiplier": 1,
    "activation": "linear",
    "use_bias": True,
    "output_padding": None,
}


def _py(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def keras_text(obj) -> str:
    """A Keras layer as Python code: `keras.layers.<Class>(...)` with the options it sets.

    Parameters
    ----------
    obj : keras layer
        A layer of `xconv.compat.keras`.

    Returns
    -------
    str
        The constructor call, default options left out.

    Examples
    --------
    >>> from xconv.compat import keras
    >>> from xconv.compat.text import keras_text
    >>> keras_text(keras.DepthwiseConv2D(3, depth_multiplier=2, padding="same"))
    "keras.layers.DepthwiseConv2D((3, 3), padding='same', depth_multiplier=2)"
    """
    config = obj.get_config()
    kind = type(obj).__name__
    rank = len(config["kernel_size"])
    args = [] if kind.startswith("Depthwise") else [_py(config["filters"])]
    args.append(_py(tuple(config["kernel_size"])))
    for name, default in _KERAS_DEFAULTS.items():
        if name not in config:
            continue
        value = config[name]
        if isinstance(value, list):
            value = tuple(value)
        if default is None and name != "output_padding":
            default = (1,) * rank
        if value != default:
            args.append(f"{name}={_py(value)}")
    return f"keras.layers.{kind}({', '.join(args)})"
