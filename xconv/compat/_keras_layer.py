"""What the Keras convolution layers share: arguments, weights, the call, shapes and config.

`KerasLayer` keeps the kernel in Keras' layout and the bias as `(filters,)`; it creates
them in `build(input_shape)` (or on the first call), runs the convolution through the
layer's `.spec` with canonical weights, and serializes itself as Keras does. A subclass
(`xconv.compat.keras`' convolution families) supplies the kernel's layout (`_kernel_shape`,
`_canonical_kernel`), the number of output channels (`_filters_out`), `spec` and
`get_config`. The kernel's initializer, regularizer and constraint are the arguments
`kernel_*` (`depthwise_*` in the depthwise layers, which override the `_kernel_*` hooks).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..spec import ConvSpec
from . import _keras_activations as activations
from . import _keras_initializers as initializers
from ._keras_args import (
    DTYPES,
    dtype_policy,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from ._keras_regularizers import constraints, regularizers
from ._layer import CompatLayer, cast, check_numeric, namespace, permute, run, shape_of, to_numpy

_names: dict[str, int] = {}  # base name -> layers named so far ("conv2d", "conv2d_1", ...)


class KerasLayer(CompatLayer):
    """What the Keras convolution layers share."""

    dialect = "keras"
    RANK: ClassVar[int] = 2
    BASE_NAME: ClassVar[str] = ""
    TRANSPOSED: ClassVar[bool] = False
    KERNEL_NAME: ClassVar[str] = "kernel"

    # -- arguments ---------------------------------------------------------------------------

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
        self.dtype_policy = dtype_policy(dtype)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._kernel = None
        self.bias = None
        self._input_channels: int | None = None
        self._activity_losses: list = []

    def _init_conv(
        self, kernel_size, strides, padding, data_format, dilation_rate, allow_causal: bool
    ) -> None:
        """The window (kernel size, strides, dilation, padding) and the data format."""
        rank = self.RANK
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal)
        self.data_format = standardize_data_format(data_format)

    def _init_output(
        self, activation, use_bias, bias_initializer, bias_regularizer, bias_constraint
    ) -> None:
        """What is applied to the convolution's output: the bias, then the activation."""
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    def _init_kernel(self, initializer, regularizer, constraint) -> None:
        """Keras' `kernel_initializer`, `kernel_regularizer` and `kernel_constraint`."""
        self.kernel_initializer = initializers.get(initializer)
        self.kernel_regularizer = regularizers.get(regularizer)
        self.kernel_constraint = constraints.get(constraint)

    def _kernel_initializer(self):
        return self.kernel_initializer

    def _kernel_regularizer(self):
        return self.kernel_regularizer

    def _kernel_constraint(self):
        return self.kernel_constraint

    @property
    def dtype(self) -> str:
        """The variables' dtype."""
        return DTYPES[self.dtype_policy][0]

    @property
    def compute_dtype(self) -> str:
        return DTYPES[self.dtype_policy][1]

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

    def _filters_out(self) -> int | None:
        return self.filters

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
        y = run(
            self.spec, cast(x, dtype), cast(weight, dtype), bias, prepared=self.prepared_weights
        )
        y = self.activation(y)
        self._activity_losses = []
        if self.activity_regularizer is not None:
            penalty = self.activity_regularizer(y)
            self._activity_losses.append(penalty / shape[0] if shape[0] else penalty)
        return y

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple:
        """The output shape for `input_shape` (None stays None)."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.RANK + 2:
            channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
            kernel_shape = (*self.kernel_size, channels, self._filters_out())
            raise ValueError(
                "Kernel shape must have the same length as input, but received kernel of shape "
                f"{kernel_shape} and input of shape {input_shape}."
            )
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

    def _kernel_config(self) -> dict[str, Any]:
        return {
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        """The layer a `get_config()` dict (xconv's or Keras' own) describes."""
        return cls(**config)

    # -- canonical form ------------------------------------------------------------------------

    def _spec(self, **arguments) -> ConvSpec:
        """A `ConvSpec` with the layer's kernel size, strides, dilation and data format."""
        return ConvSpec(
            self.kernel_size,
            stride=self.strides,
            dilation=self.dilation_rate,
            channels_last=self.data_format == "channels_last",
            in_channels=self._input_channels,
            **arguments,
        )

    def _require_built(self) -> None:
        if not self.built:
            raise ValueError(
                f"Layer '{self.name}' is not built yet: call `build(input_shape)` or call it on "
                "data first"
            )

    def canonical_weights(self) -> tuple[Any, Any]:
        self._require_built()
        return self._canonical_kernel(), self.bias if self.use_bias else None

    def _canonical_kernel(self):
        """`(*k, a, b)` -> `(b, a, *k)`: `(F, C/g, *k)` from a convolution's `(*k, C/g, F)`,
        `(C, F, *k)` from a transposed convolution's `(*k, F, C)`."""
        rank = self.RANK
        return permute(self._kernel, (rank + 1, rank, *range(rank)))

    @property
    def has_bias(self) -> bool:
        return bool(self.use_bias)

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
