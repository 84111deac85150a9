"""The three families of Keras convolution layers, with Keras 3's constructor signatures.

- `Conv`: `Conv1D/2D/3D`, kernel `(*k, C/groups, filters)`;
- `ConvTranspose`: `Conv1D/2D/3DTranspose`, kernel `(*k, filters, C)`, Keras' `padding`
  and `output_padding` as cropping of the full output;
- `DepthwiseConv`: `DepthwiseConv1D/2D`, kernel `(*k, C, depth_multiplier)`, the
  convolution with `groups` = input channels.

The public classes, one per rank, are in `xconv.compat.keras`.
"""

from __future__ import annotations

from typing import Any

from ..spec import ConvSpec
from . import _keras_initializers as initializers
from ._keras_args import (
    check_filters,
    check_strides_dilation,
    keras_transpose_cropping,
    standardize_tuple,
)
from ._keras_layer import KerasLayer
from ._keras_regularizers import constraints, regularizers
from ._layer import ChannelsUnknownError, permute, reshape, shape_of


class Conv(KerasLayer):
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
            kernel_size, strides, padding, data_format, dilation_rate, allow_causal=self.RANK == 1
        )
        self._init_output(activation, use_bias, bias_initializer, bias_regularizer, bias_constraint)
        self._init_kernel(kernel_initializer, kernel_regularizer, kernel_constraint)
        check_filters(filters)
        if groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        if filters is not None and filters % groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
        check_strides_dilation(self.strides, self.dilation_rate)

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
        return self._spec(padding=self.padding, groups=self.groups, out_channels=self.filters)

    def get_config(self) -> dict[str, Any]:
        """Keras' config: every constructor argument, objects serialized as Keras does."""
        return {
            **self._base_config(),
            "filters": self.filters,
            "groups": self.groups,
            **self._common_config(),
            **self._kernel_config(),
        }


class ConvTranspose(KerasLayer):
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
            kernel_size, strides, padding, data_format, dilation_rate, allow_causal=False
        )
        self._init_output(activation, use_bias, bias_initializer, bias_regularizer, bias_constraint)
        self.output_padding = (
            None
            if output_padding is None
            else standardize_tuple(output_padding, self.RANK, "output_padding", True)
        )
        self._init_kernel(kernel_initializer, kernel_regularizer, kernel_constraint)
        check_filters(filters)
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides, strict=True)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but `strides` "
                        f"is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        check_strides_dilation(self.strides, self.dilation_rate)

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
        return self._spec(
            padding=crop, transposed=True, output_padding=extra, out_channels=self.filters
        )

    def _output_spatial(self, spatial: tuple, input_shape: tuple) -> tuple:
        return self.spec.output_spatial(spatial)

    def get_config(self) -> dict[str, Any]:
        return {
            **self._base_config(),
            "filters": self.filters,
            **self._common_config(),
            "output_padding": self.output_padding,
            **self._kernel_config(),
        }


class DepthwiseConv(KerasLayer):
    """`DepthwiseConv1D/2D`: each input channel convolved with `depth_multiplier` kernels."""

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
            kernel_size, strides, padding, data_format, dilation_rate, allow_causal=False
        )
        self._init_output(activation, use_bias, bias_initializer, bias_regularizer, bias_constraint)
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
            raise ChannelsUnknownError(
                f"Layer '{self.name}': the number of input channels (and so the groups of the "
                "depthwise convolution) is known once the layer is built"
            )
        return self._spec(
            padding=self.padding, groups=channels, out_channels=channels * self.depth_multiplier
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
