"""MATLAB's convolution layer objects: properties, weights, initialization and the call.

The public constructors (`convolution2dLayer`, ...) are in `xconv.compat.matlab`; the
name-value arguments are read by `_matlab_args`; `_matlab_translate` writes a canonical
spec as one of these layers, and as MATLAB text.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .._docstrings import entries, filled
from ..spec import ConvSpec
from . import _matlab_args as args
from ._layer import (
    CompatLayer,
    as_float_array,
    cast,
    check_real,
    namespace,
    permute,
    reshape,
    run,
    shape_of,
)
from ._matlab_args import MatlabError

_COMMON = (
    "Stride",
    "NumChannels",
    "WeightsInitializer",
    "BiasInitializer",
    "Weights",
    "Bias",
    "WeightLearnRateFactor",
    "BiasLearnRateFactor",
    "WeightL2Factor",
    "BiasL2Factor",
    "Name",
)
FORWARD_OPTIONS = (*_COMMON, "DilationFactor", "Padding", "PaddingValue")
_GROUPED = (*[n for n in FORWARD_OPTIONS if n != "NumChannels"], "NumChannelsPerGroup")
TRANSPOSED_OPTIONS = (*_COMMON, "Cropping")


_LAYER_DOC = entries(
    {
        "parameters": """filterSize : int or sequence of int
    The filter's size, as the constructor function takes it.
filters : int
    `numFilters` (`numFiltersPerGroup` for a grouped layer).
allowed : tuple of str
    The name-value names the constructor function accepts.
name_values : dict
    Its name-value arguments, by MATLAB name.""",
    }
)


@filled(_LAYER_DOC)
class MatlabLayer(CompatLayer):
    """Shared by the MATLAB layers: properties, weights, initialization and the call.

    Made by the constructor functions (`convolution2dLayer`, ...), which check MATLAB's
    arguments; the properties have MATLAB's names (`FilterSize`, `Stride`, `Weights`,
    `Bias`, `NumChannels`, `NumFilters`, `PaddingSize`, ...).

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat import matlab
    >>> layer = matlab.convolution2dLayer(3, 4, NumChannels=2)
    >>> isinstance(layer, matlab.MatlabLayer), layer.Weights.shape, layer.NumFilters
    (True, (3, 3, 2, 4), 4)
    """

    dialect = "matlab"
    RANK: ClassVar[int] = 2
    FUNCTION: ClassVar[str] = ""
    TRANSPOSED: ClassVar[bool] = False
    GROUPED: ClassVar[bool] = False
    NumInputs = 1
    InputNames = ("in",)
    NumOutputs = 1
    OutputNames = ("out",)
    data_channels_last = True  # S x .. x S x C (x N)

    def __init__(self, filterSize: Any, filters: Any, allowed, name_values: dict) -> None:
        options = args.name_values(name_values, allowed, self.FUNCTION)
        rank = self.RANK
        self.FilterSize = args.per_dimension(filterSize, rank, "FilterSize")
        self._filters = args.scalar_integer(
            filters, "NumFiltersPerGroup" if self.GROUPED else "NumFilters"
        )
        self.Stride = args.per_dimension(options.get("Stride", 1), rank, "Stride")
        self.WeightsInitializer = args.initializer(
            options.get("WeightsInitializer", "glorot"),
            "WeightsInitializer",
            args.WEIGHT_INITIALIZERS,
        )
        self.BiasInitializer = args.initializer(
            options.get("BiasInitializer", "zeros"), "BiasInitializer", args.BIAS_INITIALIZERS
        )
        self.WeightLearnRateFactor = args.nonnegative_scalar(
            options.get("WeightLearnRateFactor", 1), "WeightLearnRateFactor"
        )
        self.BiasLearnRateFactor = args.nonnegative_scalar(
            options.get("BiasLearnRateFactor", 1), "BiasLearnRateFactor"
        )
        self.WeightL2Factor = args.nonnegative_scalar(
            options.get("WeightL2Factor", 1), "WeightL2Factor"
        )
        self.BiasL2Factor = args.nonnegative_scalar(options.get("BiasL2Factor", 0), "BiasL2Factor")
        name = options.get("Name", "")
        if not isinstance(name, str):
            raise MatlabError(
                "Invalid value for 'Name'. Value must be a character vector or string."
            )
        self.Name = name
        self._channels: int | None = None
        self._last_spatial: tuple[int, ...] | None = None
        self._configure(options)
        if "NumChannels" in options and options["NumChannels"] != "auto":
            self._set_channels(
                args.scalar_integer(options["NumChannels"], "NumChannels"), "NumChannels"
            )
        self.Weights = options.get("Weights")
        self.Bias = options.get("Bias")
        if self._channels is None and self.Weights is not None:
            self._set_channels(self._channels_from_weights(), "the weights")
        if self._channels is not None:
            self.initialize()

    # -- subclass hooks -------------------------------------------------------------------

    def _configure(self, options: dict) -> None:  # pragma: no cover - abstract
        """Read the subclass's own name-value options (the rest are read by `__init__`)."""
        raise NotImplementedError

    @property
    def _groups(self) -> int | None:
        return 1

    def _weights_size(self) -> tuple:
        """MATLAB size of the weights, None where the channel count is unknown."""
        c, f, k = self._channels, self._filters, self.FilterSize
        return (*k, f, c) if self.TRANSPOSED else (*k, c, f)

    def _bias_size(self) -> tuple[int, ...]:
        return (1,) * self.RANK + (self._filters,) if self.RANK > 1 else (1, self._filters)

    def _fans(self) -> tuple[int, int]:
        taps = math.prod(self.FilterSize)
        return taps * self._channels, taps * self._filters

    def _channels_from_weights(self) -> int:
        size = args.with_trailing_ones(self.Weights, len(self._weights_size())).shape
        return int(size[self.RANK + 1] if self.TRANSPOSED else size[self.RANK])

    # -- properties ----------------------------------------------------------------------

    @property
    def Weights(self):
        return self._weights

    @Weights.setter
    def Weights(self, value) -> None:
        self._weights = None if value is None or _empty(value) else as_float_array(value, "Weights")

    @property
    def Bias(self):
        return self._bias

    @Bias.setter
    def Bias(self, value) -> None:
        self._bias = None if value is None or _empty(value) else as_float_array(value, "Bias")

    @property
    def NumChannels(self) -> int | str:
        return "auto" if self._channels is None else self._channels

    @property
    def NumFilters(self) -> int:
        return self._filters

    # -- initialization --------------------------------------------------------------------

    def _set_channels(self, channels: int, source: str) -> None:
        if self._channels is not None and channels != self._channels:
            raise MatlabError(
                f"Layer '{self.Name}': the number of channels of {source} ({channels}) does "
                f"not match the layer's NumChannels ({self._channels})."
            )
        groups = self._groups
        if groups is not None and channels % groups:
            raise MatlabError(
                f"Layer '{self.Name}': the number of groups ({groups}) must evenly divide the "
                f"number of channels of the layer input ({channels})."
            )
        self._channels = channels

    def initialize(self, numChannels: int | None = None) -> MatlabLayer:
        """Fix the channel count and fill empty `Weights` / `Bias` from the initializers."""
        if numChannels is not None:
            self._set_channels(args.scalar_integer(numChannels, "NumChannels"), "the input")
        if self._channels is None:
            raise args.MatlabChannelsUnknown(
                f"Layer '{self.Name}': cannot initialize: the number of input channels is "
                "unknown; set NumChannels or call the layer on data"
            )
        self._settle_groups()
        size = self._weights_size()
        fan_in, fan_out = self._fans()
        if self.Weights is None:
            self.Weights = args.draw(self.WeightsInitializer, size, fan_in, fan_out)
        if self.Bias is None:
            self.Bias = args.draw(self.BiasInitializer, self._bias_size(), fan_in, fan_out)
        self._check_arrays()
        return self

    def _settle_groups(self) -> None:
        pass

    def _check_arrays(self) -> None:
        size = self._weights_size()
        weights = args.with_trailing_ones(self.Weights, len(size))
        if shape_of(weights) != size:
            raise MatlabError(
                f"Layer '{self.Name}': Weights must be a {args.size_text(size)} array, got "
                f"size {args.size_text(shape_of(self.Weights))}."
            )
        bias_size = self._bias_size()
        bias = self.Bias
        if math.prod(shape_of(bias)) != math.prod(bias_size) or (
            self.GROUPED and shape_of(args.with_trailing_ones(bias, 4)) != bias_size
        ):
            raise MatlabError(
                f"Layer '{self.Name}': Bias must be a {args.size_text(bias_size)} array, got "
                f"size {args.size_text(shape_of(bias))}."
            )

    # -- the canonical description -------------------------------------------------------

    @property
    def spec(self) -> ConvSpec:  # pragma: no cover - per subclass
        """The layer's canonical `ConvSpec` (its channels known)."""
        raise NotImplementedError

    def canonical_weights(self) -> tuple[Any, Any]:
        """`(weight, bias)` in xconv's layout, from MATLAB's."""
        if self.Weights is None or self.Bias is None:
            raise MatlabError(f"Layer '{self.Name}' has no Weights yet: initialize it first.")
        rank = self.RANK
        w = args.with_trailing_ones(self.Weights, len(self._weights_size()))
        spatial = tuple(range(rank))
        if self.GROUPED:
            w = permute(w, (rank + 2, rank + 1, rank, *spatial))
            shape = shape_of(w)
            w = reshape(w, (shape[0] * shape[1], shape[2], *shape[3:]))
        else:
            w = permute(w, (rank + 1, rank, *spatial))
        return w, args.column_major_vector(self.Bias)

    def portable(self) -> dict[str, Any]:
        """The layer's name and learning-rate and L2 factors, for a translation."""
        out: dict[str, Any] = {}
        if self.Name:
            out["name"] = self.Name
        for key, value, default in (
            ("weight_learn_rate", self.WeightLearnRateFactor, 1),
            ("bias_learn_rate", self.BiasLearnRateFactor, 1),
            ("weight_l2_factor", self.WeightL2Factor, 1),
            ("bias_l2_factor", self.BiasL2Factor, 0),
        ):
            if value != default:
                out[key] = value
        return out

    # -- evaluation ------------------------------------------------------------------------

    def __call__(self, X, DataFormat: str | None = None):
        """The layer's output for `X` in `DataFormat` (default `S..SCB`), in that format."""
        X = check_real(X, f"Layer '{self.Name}': the input must be real numeric data")
        fmt = DataFormat or args.default_format(self.RANK)
        x, undo = args.to_canonical(X, fmt, self.RANK)
        channels = int(x.shape[1])
        self._set_channels(channels, "the input")
        self.initialize()
        self._last_spatial = shape_of(x)[2:]
        self._check_input(self._last_spatial)
        weight, bias = self.canonical_weights()
        xp = namespace(x)
        both_double = x.dtype == xp.float64 and weight.dtype == getattr(
            namespace(weight), "float64", None
        )
        dtype = "float64" if both_double else "float32"
        try:
            y = run(
                self.spec,
                cast(x, dtype),
                cast(weight, dtype),
                cast(bias, dtype),
                prepared=self.prepared_weights,
            )
        except ValueError as error:
            raise MatlabError(f"Layer '{self.Name}': {error}") from error
        return undo(y)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} with properties:"]
        for name in self._display():
            lines.append(f"    {name}: {_show(getattr(self, name))}")
        return "\n".join(lines)

    def _display(self) -> tuple[str, ...]:
        return ("Name", "FilterSize", "NumChannels", "NumFilters", "Stride")

    def _check_input(self, spatial: tuple[int, ...]) -> None:
        pass


class _Convolution(MatlabLayer):
    """Forward convolution: Padding, PaddingValue, DilationFactor."""

    MODES: ClassVar[tuple[str, ...]] = ("same",)

    def _configure(self, options: dict) -> None:
        self.DilationFactor = args.per_dimension(
            options.get("DilationFactor", 1), self.RANK, "DilationFactor"
        )
        self.PaddingMode, self._pairs = args.edge_sizes(
            options.get("Padding", 0), self.RANK, "Padding", self.MODES
        )
        self._padding_mode, self._padding_value, self.PaddingValue = args.padding_value(
            options.get("PaddingValue", 0)
        )

    def _check_input(self, spatial: tuple[int, ...]) -> None:
        limit = {"reflect": lambda n: n - 1, "symmetric": lambda n: n}.get(self._padding_mode)
        if limit is None:
            return
        pads = self.spec_without_channels().resolve_padding(spatial)
        for i, (n, pair) in enumerate(zip(spatial, pads, strict=True)):
            if max(pair) > limit(n):
                raise MatlabError(
                    f"Layer '{self.Name}': PaddingValue '{self.PaddingValue}' cannot pad "
                    f"{max(pair)} elements on dimension {i + 1} of size {n} (at most "
                    f"{limit(n)})."
                )

    @property
    def PaddingSize(self):
        pairs = self._pairs
        if pairs is None:
            spec = self.spec_without_channels()
            pairs = spec.resolve_padding(self._last_spatial or (None,) * self.RANK)
            if any(p is None for p in pairs):
                pairs = ((0, 0),) * self.RANK
        return args.size_property(pairs, self.RANK)

    def spec_without_channels(self) -> ConvSpec:
        return self._spec(groups=1)

    def _spec(self, **channels) -> ConvSpec:
        """A `ConvSpec` of the filter size, stride, padding and dilation, with `channels`."""
        return ConvSpec(
            self.FilterSize,
            stride=self.Stride,
            padding=self.PaddingMode if self._pairs is None else self._pairs,
            dilation=self.DilationFactor,
            padding_mode=self._padding_mode,
            padding_value=self._padding_value,
            **channels,
        )

    @property
    def spec(self) -> ConvSpec:
        """The layer as an `xconv.ConvSpec` (channel-first canonical layout)."""
        groups = self._groups
        if groups is None:
            raise args.MatlabChannelsUnknown(
                f"Layer '{self.Name}': NumGroups is 'channelwise' and the number of input "
                "channels is not known yet; call the layer on data or initialize it"
            )
        filters = self._filters * (groups if self.GROUPED else 1)
        return self._spec(groups=groups, in_channels=self._channels, out_channels=filters)

    def _display(self) -> tuple[str, ...]:
        return (
            "Name",
            "FilterSize",
            "NumChannels",
            "NumFilters",
            "Stride",
            "DilationFactor",
            "PaddingMode",
            "PaddingSize",
            "PaddingValue",
        )


@filled(_LAYER_DOC)
class Convolution1DLayer(_Convolution):
    """MATLAB's `Convolution1DLayer`: the layer `convolution1dLayer` makes.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import convolution1dLayer
    >>> convolution1dLayer(3, 2, NumChannels=1)(np.ones((10, 1), np.float32)).shape
    (8, 2)
    """

    RANK = 1
    FUNCTION = "convolution1dLayer"
    MODES = ("same", "causal")


@filled(_LAYER_DOC)
class Convolution2DLayer(_Convolution):
    """MATLAB's `Convolution2DLayer`: the layer `convolution2dLayer` makes.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import convolution2dLayer
    >>> convolution2dLayer(3, 2, NumChannels=1)(np.ones((10, 9, 1), np.float32)).shape
    (8, 7, 2)
    """

    RANK = 2
    FUNCTION = "convolution2dLayer"


@filled(_LAYER_DOC)
class Convolution3DLayer(_Convolution):
    """MATLAB's `Convolution3DLayer`: the layer `convolution3dLayer` makes.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import convolution3dLayer
    >>> convolution3dLayer(3, 2, NumChannels=1)(np.ones((5, 6, 7, 1), np.float32)).shape
    (3, 4, 5, 2)
    """

    RANK = 3
    FUNCTION = "convolution3dLayer"


class GroupedConvolution2DLayer(_Convolution):
    """MATLAB's `GroupedConvolution2DLayer`: `NumGroups` groups of `NumFiltersPerGroup`.

    Made by `groupedConvolution2dLayer`, whose arguments these are.

    Parameters
    ----------
    filterSize : int or sequence of int
        The filter's size.
    numFiltersPerGroup : int
        Filters per group.
    numGroups : int or "channelwise"
        The number of groups, or one per input channel.
    name_values : dict
        The name-value arguments, by MATLAB name.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import groupedConvolution2dLayer
    >>> layer = groupedConvolution2dLayer(3, 2, "channelwise", Padding="same")
    >>> layer(np.ones((8, 8, 5), np.float32)).shape, layer.NumGroups
    ((8, 8, 10), 'channelwise')
    """

    RANK = 2
    FUNCTION = "groupedConvolution2dLayer"
    GROUPED = True

    def __init__(self, filterSize, numFiltersPerGroup, numGroups, name_values) -> None:
        if isinstance(numGroups, str):
            if numGroups.lower() != "channelwise":
                raise MatlabError(
                    f"Invalid value for 'numGroups'. Value must be a positive integer or "
                    f"'channelwise', got {numGroups!r}."
                )
            self._num_groups: int | str = "channelwise"
        else:
            self._num_groups = args.scalar_integer(numGroups, "numGroups")
        self._resolved_groups: int | None = (
            None if self._num_groups == "channelwise" else self._num_groups
        )
        super().__init__(filterSize, numFiltersPerGroup, _GROUPED, name_values)

    def _configure(self, options: dict) -> None:
        per_group = options.pop("NumChannelsPerGroup", "auto")
        super()._configure(options)
        if not (isinstance(per_group, str) and per_group.lower() == "auto"):
            per_group = args.scalar_integer(per_group, "NumChannelsPerGroup")
            if self._num_groups == "channelwise":
                if per_group != 1:
                    raise MatlabError(
                        f"NumChannelsPerGroup must be 1 for a 'channelwise' layer, got {per_group}."
                    )
            else:
                self._set_channels(per_group * self._num_groups, "NumChannelsPerGroup")

    @property
    def _groups(self) -> int | None:
        return self._resolved_groups

    def _set_channels(self, channels: int, source: str) -> None:
        if self._num_groups == "channelwise" and self._resolved_groups is None:
            self._resolved_groups = channels
        super()._set_channels(channels, source)

    def _channels_from_weights(self) -> int:
        size = shape_of(args.with_trailing_ones(self.Weights, 5))
        groups = size[4]
        if self._num_groups == "channelwise":
            self._resolved_groups = groups
        return size[2] * groups

    @property
    def NumGroups(self) -> int | str:
        return self._num_groups

    @property
    def NumFiltersPerGroup(self) -> int:
        return self._filters

    @property
    def NumFilters(self) -> int | None:
        groups = self._groups
        return None if groups is None else self._filters * groups

    @property
    def NumChannelsPerGroup(self) -> int | str:
        groups = self._groups
        if self._channels is None or groups is None:
            return "auto"
        return self._channels // groups

    def _weights_size(self) -> tuple:
        per_group = self.NumChannelsPerGroup
        return (
            *self.FilterSize,
            None if per_group == "auto" else per_group,
            self._filters,
            self._groups,
        )

    def _bias_size(self) -> tuple:
        return (1, 1, self._filters, self._groups)

    def _fans(self) -> tuple[int, int]:
        taps = math.prod(self.FilterSize)
        return taps * self.NumChannelsPerGroup, taps * self._filters

    def _display(self) -> tuple[str, ...]:
        return (
            "Name",
            "FilterSize",
            "NumGroups",
            "NumChannelsPerGroup",
            "NumFiltersPerGroup",
            "Stride",
            "DilationFactor",
            "PaddingMode",
            "PaddingSize",
            "PaddingValue",
        )


class _TransposedConvolution(MatlabLayer):
    """Transposed convolution: Cropping instead of Padding, weights `h x w x F x C`."""

    TRANSPOSED = True

    def _configure(self, options: dict) -> None:
        self.CroppingMode, self._pairs = args.edge_sizes(
            options.get("Cropping", 0), self.RANK, "Cropping", ("same",)
        )

    @property
    def CroppingSize(self):
        pairs = self._pairs
        if pairs is None:
            pairs = self.spec.resolve_padding((None,) * self.RANK)
        return args.size_property(pairs, self.RANK)

    @property
    def Cropping(self):
        """Deprecated `[a b]` form of `CroppingSize` (top/bottom, left/right), 2-D only."""
        size = self.CroppingSize
        return (size[0], size[2]) if self.RANK == 2 else size

    @property
    def spec(self) -> ConvSpec:
        """The layer as a transposed `xconv.ConvSpec` (cropping as padding)."""
        return ConvSpec(
            self.FilterSize,
            stride=self.Stride,
            padding=self.CroppingMode if self._pairs is None else self._pairs,
            transposed=True,
            in_channels=self._channels,
            out_channels=self._filters,
        )

    def _display(self) -> tuple[str, ...]:
        return (
            "Name",
            "FilterSize",
            "NumChannels",
            "NumFilters",
            "Stride",
            "CroppingMode",
            "CroppingSize",
        )


@filled(_LAYER_DOC)
class TransposedConvolution1DLayer(_TransposedConvolution):
    """MATLAB's `TransposedConvolution1DLayer`: the layer `transposedConv1dLayer` makes.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import transposedConv1dLayer
    >>> layer = transposedConv1dLayer(3, 2, NumChannels=1)
    >>> layer(np.ones((4, 1), np.float32)).shape
    (6, 2)
    """

    RANK = 1
    FUNCTION = "transposedConv1dLayer"


@filled(_LAYER_DOC)
class TransposedConvolution2DLayer(_TransposedConvolution):
    """MATLAB's `TransposedConvolution2DLayer`: the layer `transposedConv2dLayer` makes.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import transposedConv2dLayer
    >>> layer = transposedConv2dLayer(3, 2, NumChannels=1)
    >>> layer(np.ones((4, 5, 1), np.float32)).shape
    (6, 7, 2)
    """

    RANK = 2
    FUNCTION = "transposedConv2dLayer"


@filled(_LAYER_DOC)
class TransposedConvolution3DLayer(_TransposedConvolution):
    """MATLAB's `TransposedConvolution3DLayer`: the layer `transposedConv3dLayer` makes.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat.matlab import transposedConv3dLayer
    >>> layer = transposedConv3dLayer(2, 2, Stride=2, NumChannels=1)
    >>> layer(np.ones((2, 3, 4, 1), np.float32)).shape
    (4, 6, 8, 2)
    """

    RANK = 3
    FUNCTION = "transposedConv3dLayer"


def _empty(value) -> bool:
    if hasattr(value, "shape"):
        return math.prod(value.shape) == 0
    return isinstance(value, (list, tuple)) and len(value) == 0


def _show(value) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "[]"
    if hasattr(value, "shape"):
        return f"[{args.size_text(shape_of(value)).replace('-by-', 'x')} {value.dtype}]"
    if isinstance(value, tuple):
        if value and isinstance(value[0], tuple):
            return "[" + "; ".join(" ".join(str(v) for v in row) for row in value) + "]"
        return "[" + " ".join(str(v) for v in value) + "]"
    if callable(value):
        return f"@{getattr(value, '__name__', 'function')}"
    return str(value)
