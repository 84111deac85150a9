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

import contextlib
import json
import math
import os
import types
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..spec import ConvSpec
from . import _keras_activations as activations
from . import _keras_initializers as initializers
from . import _keras_regularizers as _penalties
from ._layer import (
    CompatLayer,
    TranslationError,
    cast,
    check_numeric,
    namespace,
    permute,
    reshape,
    run,
    shape_of,
    to_numpy,
)

regularizers = types.SimpleNamespace(
    Regularizer=_penalties.Regularizer,
    L1=_penalties.L1,
    L2=_penalties.L2,
    L1L2=_penalties.L1L2,
    l1=_penalties.L1,
    l2=_penalties.L2,
    l1_l2=_penalties.L1L2,
    get=_penalties.get_regularizer,
    serialize=_penalties.serialize_regularizer,
)
constraints = types.SimpleNamespace(
    Constraint=_penalties.Constraint,
    MaxNorm=_penalties.MaxNorm,
    NonNeg=_penalties.NonNeg,
    UnitNorm=_penalties.UnitNorm,
    MinMaxNorm=_penalties.MinMaxNorm,
    max_norm=_penalties.MaxNorm,
    non_neg=_penalties.NonNeg,
    unit_norm=_penalties.UnitNorm,
    min_max_norm=_penalties.MinMaxNorm,
    get=_penalties.get_constraint,
    serialize=_penalties.serialize_constraint,
)

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

_DTYPES = {  # policy name -> (variable dtype, compute dtype)
    "float16": ("float16", "float16"),
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "mixed_float16": ("float32", "float16"),
}
_data_format: dict[str, str | None] = {"value": None}
_names: dict[str, int] = {}


def image_data_format() -> str:
    """Keras' default data format: `set_image_data_format`, else `keras.json`, else
    `"channels_last"`."""
    if _data_format["value"] is None:
        home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        value = "channels_last"
        try:
            with open(os.path.join(home, "keras.json")) as file:
                value = json.load(file).get("image_data_format", value)
        except (OSError, ValueError):
            pass
        _data_format["value"] = value
    return _data_format["value"]


def set_image_data_format(data_format: str) -> None:
    """Set the default `data_format` of layers built afterwards."""
    _data_format["value"] = _standardize_data_format(data_format)


def _standardize_data_format(data_format) -> str:
    if data_format is None:
        return image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return value


def _standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        try:
            values = tuple(int(v) for v in values)
        except (TypeError, ValueError):
            raise ValueError(message) from None
    bad = [v for v in values if v < 0 or (v == 0 and not allow_zero)]
    if bad:
        condition = "`>= 0`" if allow_zero else "`> 0`"
        raise ValueError(
            f"{message} including values {set(bad)} that do not satisfy `value {condition[1:]}"
        )
    return values


def _standardize_padding(value, allow_causal: bool) -> str:
    allowed = "{'valid', 'same', 'causal'}" if allow_causal else "{'valid', 'same'}"
    padding = value.lower() if isinstance(value, str) else value
    if padding not in (("valid", "same", "causal") if allow_causal else ("valid", "same")):
        raise ValueError(
            f"The `padding` argument must be a list/tuple or one of {allowed}. Received: {value}"
        )
    return padding


def _dtype_policy(dtype) -> str:
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", dtype)
    name = getattr(dtype, "name", dtype)
    if isinstance(name, str) and name in _DTYPES:
        return name
    with contextlib.suppress(TypeError):
        name = str(np.dtype(name))
    if name not in _DTYPES:
        raise ValueError(
            f"dtype {dtype!r} is not supported by xconv's Keras layers; use one of "
            f"{sorted(_DTYPES)}"
        )
    return name


class _Layer(CompatLayer):
    """What the Keras convolution layers share."""

    dialect = "keras"
    RANK: ClassVar[int] = 2
    BASE_NAME: ClassVar[str] = ""
    TRANSPOSED: ClassVar[bool] = False
    KERNEL_NAME: ClassVar[str] = "kernel"

    def _init_layer(self, name, dtype, trainable, activity_regularizer, kwargs) -> None:
        for key in ("input_shape", "input_dim", "batch_input_shape", "batch_size"):
            if key in kwargs:
                kwargs.pop(key)
                warnings.warn(
                    "Do not pass an `input_shape`/`input_dim` argument to a layer. When "
                    "using Sequential models, prefer using an `Input(shape)` object as the "
                    "first layer in the model instead.",
                    stacklevel=3,
                )
        kwargs.pop("autocast", None)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if name is None:
            count = _names.get(self.BASE_NAME, 0)
            _names[self.BASE_NAME] = count + 1
            name = self.BASE_NAME if count == 0 else f"{self.BASE_NAME}_{count}"
        self.name = name
        self.trainable = bool(trainable)
        self.dtype_policy = _dtype_policy(dtype)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._kernel = None
        self.bias = None
        self._input_channels: int | None = None
        self._activity_losses: list = []

    # -- common arguments ------------------------------------------------------------------

    def _init_conv(
        self,
        kernel_size,
        strides,
        padding,
        data_format,
        dilation_rate,
        activation,
        use_bias,
        bias_initializer,
        bias_regularizer,
        bias_constraint,
        allow_causal,
    ) -> None:
        rank = self.RANK
        self.kernel_size = _standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = _standardize_tuple(strides, rank, "strides")
        self.dilation_rate = _standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = _standardize_padding(padding, allow_causal)
        self.data_format = _standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    @property
    def dtype(self) -> str:
        """The variables' dtype."""
        return _DTYPES[self.dtype_policy][0]

    @property
    def compute_dtype(self) -> str:
        return _DTYPES[self.dtype_policy][1]

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError(f"You must build the layer before accessing `{self.KERNEL_NAME}`.")
        return self._kernel

    @kernel.setter
    def kernel(self, value) -> None:
        self._kernel = value

    def _channel_of(self, shape: Sequence) -> Any:
        return shape[-1] if self.data_format == "channels_last" else shape[1]

    # -- building ----------------------------------------------------------------------------

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create the kernel and bias for inputs of `input_shape` (batch size may be None)."""
        input_shape = tuple(input_shape)
        channels = self._channel_of(input_shape)
        if channels is None:
            raise ValueError(
                f"The channel dimension of the inputs should be defined. Received input shape "
                f"{input_shape}"
            )
        self._check_channels(int(channels), input_shape)
        self._input_channels = int(channels)
        self.compute_output_shape(input_shape)
        kernel_shape = self._kernel_shape(int(channels))
        self._kernel = self._initial(self._kernel_initializer(), kernel_shape)
        self.bias = (
            self._initial(self.bias_initializer, (self._filters_out(),)) if self.use_bias else None
        )
        self.built = True

    def _initial(self, initializer, shape):
        values = initializer(shape, dtype=self.dtype)
        xp = namespace(values)
        return cast(xp.asarray(values), self.dtype)

    def _check_channels(self, channels: int, input_shape) -> None:
        pass

    # -- weights -----------------------------------------------------------------------------

    @property
    def weights(self) -> list:
        if not self.built:
            return []
        return [self._kernel] + ([self.bias] if self.use_bias else [])

    @property
    def trainable_weights(self) -> list:
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        return [] if self.trainable else self.weights

    def get_weights(self) -> list[np.ndarray]:
        """The kernel and bias as NumPy arrays."""
        return [np.array(to_numpy(w)) for w in self.weights]

    def set_weights(self, weights: Sequence) -> None:
        """Replace the kernel and bias (shapes must match; values take the layer's dtype)."""
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list "
                f"of length {len(weights)}, but the layer was expecting {len(current)} weights."
            )
        new = []
        for variable, value in zip(current, weights, strict=True):
            value = value if hasattr(value, "shape") else np.asarray(value)
            if shape_of(variable) != shape_of(value):
                raise ValueError(
                    f"Layer {self.name} weight shape {shape_of(variable)} is not compatible "
                    f"with provided weight shape {shape_of(value)}."
                )
            new.append(cast(value, self.dtype))
        self._kernel = new[0]
        if self.use_bias:
            self.bias = new[1]

    def count_params(self) -> int:
        return sum(math.prod(shape_of(w)) for w in self.weights)

    @property
    def losses(self) -> list:
        """Activity penalties of the last call, then the kernel and bias penalties."""
        out = list(self._activity_losses)
        if self.built:
            if self._kernel_regularizer() is not None:
                out.append(self._kernel_regularizer()(self._kernel))
            if self.use_bias and self.bias_regularizer is not None:
                out.append(self.bias_regularizer(self.bias))
        return out

    def apply_constraints(self) -> None:
        """Project the kernel and bias with their constraints, as Keras' optimizers do."""
        if not self.built:
            return
        if self._kernel_constraint() is not None:
            self._kernel = self._kernel_constraint()(self._kernel)
        if self.use_bias and self.bias_constraint is not None:
            self.bias = self.bias_constraint(self.bias)

    # -- calling -------------------------------------------------------------------------------

    def __call__(self, inputs):
        """`activation(conv(inputs, kernel) + bias)` for a batch `inputs`."""
        x = check_numeric(inputs, f"Inputs to a layer should be tensors. Layer '{self.name}'")
        ndim = self.RANK + 2
        shape = shape_of(x)
        if len(shape) != ndim:
            kind = "min_ndim" if len(shape) < ndim else "ndim"
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"{kind}={ndim}, found ndim={len(shape)}. Full shape received: {shape}"
            )
        if not self.built:
            self.build(shape)
        elif self._channel_of(shape) != self._input_channels:
            axis = -1 if self.data_format == "channels_last" else 1
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis "
                f"{axis} of input shape to have value {self._input_channels}, but received "
                f"input with shape {shape}"
            )
        self.compute_output_shape(shape)
        xp = namespace(x)
        if xp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"Layer '{self.name}' does not accept complex inputs")
        dtype = self.compute_dtype
        weight, bias = self.canonical_weights()
        bias = None if bias is None else cast(bias, dtype)
        y = run(self.spec, cast(x, dtype), cast(weight, dtype), bias)
        y = self.activation(y)
        self._activity_losses = []
        if self.activity_regularizer is not None:
            penalty = self.activity_regularizer(y)
            self._activity_losses.append(penalty / shape[0] if shape[0] else penalty)
        return y

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple:
        """The output shape for `input_shape` (None stays None)."""
        input_shape = tuple(input_shape)
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        out = self._output_spatial(tuple(spatial), input_shape)
        filters = self._filters_out()
        if self.data_format == "channels_last":
            return (input_shape[0], *out, filters)
        return (input_shape[0], filters, *out)

    def _output_spatial(self, spatial: tuple, input_shape: tuple) -> tuple:
        out = []
        for i, n in enumerate(spatial):
            if n is None:
                out.append(None)
                continue
            extent = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
            size = (
                (n - extent) // self.strides[i] + 1
                if self.padding == "valid"
                else ((n - 1) // self.strides[i] + 1)
            )
            if size <= 0:
                raise ValueError(
                    "Computed output size would be zero or negative. Received `inputs shape="
                    f"{input_shape}`, `kernel shape={self._kernel_shape_for_message()}`, "
                    f"`dilation_rate={list(self.dilation_rate)}`, `strides={list(self.strides)}`"
                    f", `padding={self.padding}`."
                )
            out.append(size)
        return tuple(out)

    def _kernel_shape_for_message(self) -> tuple:
        return (*self.kernel_size, self._input_channels, self._filters_out())

    # -- config --------------------------------------------------------------------------------

    def _base_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {
                "module": "keras",
                "class_name": "DTypePolicy",
                "config": {"name": self.dtype_policy},
                "registered_name": None,
            },
        }

    def _common_config(self) -> dict[str, Any]:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        """The layer a `get_config()` dict (xconv's or Keras' own) describes."""
        return cls(**config)

    # -- canonical form ------------------------------------------------------------------------

    def _require_built(self) -> None:
        if not self.built:
            raise ValueError(
                f"Layer '{self.name}' is not built yet: call `build(input_shape)` or call it on "
                "data first"
            )

    def canonical_weights(self) -> tuple[Any, Any]:
        self._require_built()
        return self._canonical_kernel(), self.bias if self.use_bias else None

    def portable(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        name = activations.serialize(self.activation)
        if name != "linear":
            out["activation"] = name
        for key in (
            "kernel_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "bias_constraint",
        ):
            value = self._attribute(key)
            if value is not None:
                out[key] = value
        return out

    def _attribute(self, key: str):
        if key == "kernel_regularizer":
            return self._kernel_regularizer()
        if key == "kernel_constraint":
            return self._kernel_constraint()
        return getattr(self, key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class _Conv(_Layer):
    """`Conv1D/2D/3D`."""

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=1,
        groups: int = 1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        *,
        name: str | None = None,
        dtype=None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        self._init_layer(name, dtype, trainable, activity_regularizer, kwargs)
        self.filters = filters
        self.groups = groups
        self._init_conv(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=self.RANK == 1,
        )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        if filters is not None and filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        if groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        if filters is not None and filters % groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
        _check_strides_dilation(self.strides, self.dilation_rate)

    def _kernel_initializer(self):
        return self.kernel_initializer

    def _kernel_regularizer(self):
        return self.kernel_regularizer

    def _kernel_constraint(self):
        return self.kernel_constraint

    def _filters_out(self) -> int:
        return self.filters

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels // self.groups, self.filters)

    def _check_channels(self, channels: int, input_shape) -> None:
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of "
                f"groups. Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {input_shape})."
            )

    @property
    def spec(self) -> ConvSpec:
        """The layer as an `xconv.ConvSpec`."""
        return ConvSpec(
            self.kernel_size,
            stride=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            groups=self.groups,
            channels_last=self.data_format == "channels_last",
            in_channels=self._input_channels,
            out_channels=self.filters,
        )

    def _canonical_kernel(self):
        rank = self.RANK
        return permute(self._kernel, (rank + 1, rank, *range(rank)))

    def get_config(self) -> dict[str, Any]:
        """Keras' config: every constructor argument, objects serialized as Keras does."""
        return {
            **self._base_config(),
            "filters": self.filters,
            "groups": self.groups,
            **self._common_config(),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }


def _check_strides_dilation(strides, dilation_rate) -> None:
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            f"strides={strides} and dilation_rate={dilation_rate}"
        )


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


def keras_transpose_cropping(
    kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[tuple[int, int], int]:
    """Keras 3's transposed convolution as (cropping of the full output, output padding).

    The full output has `(n - 1) * stride + extent` samples; Keras' `"valid"` keeps it and
    appends `output_padding` (by default `max(stride - extent, 0)`); `"same"` crops it to
    `n * stride` (or `(n - 1) * stride + extent % 2 + output_padding`), the larger half at
    the end.
    """
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return (0, 0), extra
    if output_padding is None:
        total = stride + extent - 2
    else:
        total = extent + extent % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, extent - 1)  # padding of the dilated input
    after = total - before
    start, end = extent - 1 - before, extent - 1 - after
    return (start, max(end, 0)), max(-end, 0)


class _ConvTranspose(_Layer):
    """`Conv1D/2D/3DTranspose`."""

    TRANSPOSED = True

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        output_padding=None,
        data_format: str | None = None,
        dilation_rate=1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        *,
        name: str | None = None,
        dtype=None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        self._init_layer(name, dtype, trainable, activity_regularizer, kwargs)
        self.filters = filters
        self._init_conv(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=False,
        )
        self.output_padding = (
            None
            if output_padding is None
            else _standardize_tuple(output_padding, self.RANK, "output_padding", True)
        )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        if filters is not None and filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides, strict=True)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but `strides` "
                        f"is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        _check_strides_dilation(self.strides, self.dilation_rate)

    _kernel_initializer = _Conv._kernel_initializer
    _kernel_regularizer = _Conv._kernel_regularizer
    _kernel_constraint = _Conv._kernel_constraint

    def _filters_out(self) -> int:
        return self.filters

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def _kernel_shape_for_message(self) -> tuple:
        return (*self.kernel_size, self.filters, self._input_channels)

    def _cropping(self):
        if self.padding == "same" and self.output_padding is None:
            return "same", (0,) * self.RANK
        pairs, extras = [], []
        for i in range(self.RANK):
            op = None if self.output_padding is None else self.output_padding[i]
            pair, extra = keras_transpose_cropping(
                self.kernel_size[i], self.strides[i], self.dilation_rate[i], self.padding, op
            )
            pairs.append(pair)
            extras.append(extra)
        return tuple(pairs), tuple(extras)

    @property
    def spec(self) -> ConvSpec:
        """The layer as a transposed `xconv.ConvSpec` (Keras' padding as cropping)."""
        crop, extra = self._cropping()
        return ConvSpec(
            self.kernel_size,
            stride=self.strides,
            padding=crop,
            dilation=self.dilation_rate,
            transposed=True,
            output_padding=extra,
            channels_last=self.data_format == "channels_last",
            in_channels=self._input_channels,
            out_channels=self.filters,
        )

    def _output_spatial(self, spatial: tuple, input_shape: tuple) -> tuple:
        return self.spec.output_spatial(spatial)

    def _canonical_kernel(self):
        rank = self.RANK
        return permute(self._kernel, (rank + 1, rank, *range(rank)))

    def get_config(self) -> dict[str, Any]:
        config = {
            **self._base_config(),
            "filters": self.filters,
            **self._common_config(),
            "output_padding": self.output_padding,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }
        return config


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


class _DepthwiseConv(_Layer):
    """`DepthwiseConv1D/2D`: each input channel convolved with `depth_multiplier` kernels."""

    KERNEL_NAME = "kernel"

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate=1,
        activation=None,
        use_bias: bool = True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        *,
        name: str | None = None,
        dtype=None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        self._init_layer(name, dtype, trainable, activity_regularizer, kwargs)
        self.depth_multiplier = depth_multiplier
        self._init_conv(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=False,
        )
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        if depth_multiplier <= 0:
            raise ValueError(
                "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
                f"value. Received depth_multiplier={depth_multiplier}."
            )

    def _kernel_initializer(self):
        return self.depthwise_initializer

    def _kernel_regularizer(self):
        return self.depthwise_regularizer

    def _kernel_constraint(self):
        return self.depthwise_constraint

    def _filters_out(self) -> int | None:
        if self._input_channels is None:
            return None
        return self._input_channels * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        channels = self._channel_of(tuple(input_shape))
        keep = self._input_channels
        if keep is None:
            self._input_channels = channels
        try:
            return super().compute_output_shape(input_shape)
        finally:
            self._input_channels = keep

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels, self.depth_multiplier)

    def _kernel_shape_for_message(self) -> tuple:
        return (*self.kernel_size, self._input_channels, self.depth_multiplier)

    @property
    def spec(self) -> ConvSpec:
        """The layer as an `xconv.ConvSpec` with `groups` = input channels (once built)."""
        channels = self._input_channels
        if channels is None:
            raise ValueError(
                f"Layer '{self.name}': the number of input channels (and so the groups of the "
                "depthwise convolution) is known once the layer is built"
            )
        return ConvSpec(
            self.kernel_size,
            stride=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            groups=channels,
            channels_last=self.data_format == "channels_last",
            in_channels=channels,
            out_channels=channels * self.depth_multiplier,
        )

    def _canonical_kernel(self):
        rank = self.RANK
        w = permute(self._kernel, (rank, rank + 1, *range(rank)))  # (C, M, *k)
        shape = shape_of(w)
        return reshape(w, (shape[0] * shape[1], 1, *shape[2:]))

    def get_config(self) -> dict[str, Any]:
        return {
            **self._base_config(),
            "depth_multiplier": self.depth_multiplier,
            **self._common_config(),
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        }

    def _attribute(self, key: str):
        return super()._attribute(key)


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


# -- translation target ---------------------------------------------------------------------------

_CONV = {1: Conv1D, 2: Conv2D, 3: Conv3D}
_TRANSPOSE = {1: Conv1DTranspose, 2: Conv2DTranspose, 3: Conv3DTranspose}
_DEPTHWISE = {1: DepthwiseConv1D, 2: DepthwiseConv2D}
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
) -> tuple[_Layer, set[str]]:
    """The Keras layer computing `spec` with canonical weights; the portable keys used."""
    from .translate import net_cropping, same_forward_pairs, static_padding

    rank = spec.rank
    if rank > 3:
        raise TranslationError(f"Keras has no {rank}-D convolution layer (1-D to 3-D only)")
    if spec.padding_mode != "constant" or spec.padding_value != 0:
        raise TranslationError(
            f"Keras convolution layers pad with zeros only (here padding_mode="
            f"{spec.padding_mode!r}, value {spec.padding_value}); the nearest faithful form "
            "pads the input first (e.g. with xconv, or keras.ops.pad(mode='reflect'|"
            "'symmetric')) and uses padding='valid'"
        )
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
    rank = spec.rank
    groups = spec.groups
    kernel = None
    depthwise = (
        groups > 1
        and spec.in_channels is not None
        and groups == spec.in_channels
        and rank in _DEPTHWISE
        and padding != "causal"
    )
    if depthwise:
        multiplier = spec.out_channels // groups
        if "kernel_regularizer" in common:
            common["depthwise_regularizer"] = common.pop("kernel_regularizer")
        if "kernel_constraint" in common:
            common["depthwise_constraint"] = common.pop("kernel_constraint")
        layer = _DEPTHWISE[rank](
            spec.kernel_size, padding=padding, depth_multiplier=multiplier, **common
        )
        if weight is not None:  # (C*M, 1, *k) -> (*k, C, M)
            w = reshape(weight, (groups, multiplier, *spec.kernel_size))
            kernel = permute(w, (*range(2, rank + 2), 0, 1))
        return layer, kernel
    layer = _CONV[rank](
        spec.out_channels, spec.kernel_size, padding=padding, groups=groups, **common
    )
    if weight is not None:
        kernel = permute(weight, (*range(2, rank + 2), 1, 0))
    return layer, kernel


def _keras_transposed(spec: ConvSpec, weight, common: dict, crops):
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
    layer = _TRANSPOSE[rank](
        spec.out_channels,
        spec.kernel_size,
        padding=padding,
        output_padding=output_padding,
        **common,
    )
    kernel = None if weight is None else permute(weight, (*range(2, rank + 2), 1, 0))
    return layer, kernel


def _paddings(spec: ConvSpec):
    import itertools

    return itertools.product(*(range(s) for s in spec.stride))
