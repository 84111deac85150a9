"""Wolfram Language's `ConvolutionLayer`, with its options, ports, `NetExtract` and `Information`.

`ConvolutionLayer(n, s, **options)` takes the options under their Wolfram names
(`Weights`, `Biases`, `ChannelGroups`, `Dilation`, `Dimensionality`, `Interleaving`,
`LearningRateMultipliers`, `PaddingSize`, `Stride`, `Input`); `Automatic` (or the string
`"Automatic"`) leaves a value to be inferred, `None` and `"Varying"` mark a varying
dimension in `Input`. Weights are `{n, m/g, *k}` (xconv's own layout), biases `{n}`.

The layer object lives in `_wolfram_layer`, its option values in `_wolfram_args`, the
writer (a canonical spec as a `ConvolutionLayer`, and as Wolfram text) in
`_wolfram_translate`.

Choices where the reference page is silent:

- `PaddingSize -> "Same"` with an odd total padding puts the extra zero at the end
  (bottom/right), as MATLAB documents and Keras, TensorFlow and ONNX `SAME_UPPER` do.
- A layer given `Weights` but not `Biases` uses zero biases.
- `NetInitialize` draws Xavier weights (normal, variance 2 / (fan_in + fan_out), fans
  counted per channel group) and zero biases unless told otherwise.
- Evaluation runs in `WorkingPrecision -> "Real32"` unless `"Real64"` (or `"Mixed"`:
  half-precision arrays accumulated in single precision) is asked for.

>>> import numpy as np
>>> from xconv.compat import wolfram
>>> layer = wolfram.ConvolutionLayer(1, 2, Weights=[[[0.5, 0.5]]], Biases=None)
>>> layer(np.array([[1.0, 2.0, 3.0, 4.0]]))
array([[1.5, 2.5, 3.5]], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _init
from ._wolfram_args import EVALUATION_OPTIONS, LAYER_NAME, Automatic, Varying, failure, is_automatic
from ._wolfram_layer import ConvolutionLayer

__all__ = [
    "Automatic",
    "ConvolutionLayer",
    "Information",
    "NetExtract",
    "NetInitialize",
    "Options",
    "Varying",
]


def NetInitialize(
    layer: ConvolutionLayer,
    *,
    Method: Any = "Xavier",
    RandomSeeding: int | Any = Automatic,
    Input: Sequence | None = None,
) -> ConvolutionLayer:
    """A copy of `layer` with random weights (`"Xavier"` or `"Kaiming"`) and zero biases.

    Fans are counted per channel group.

    Parameters
    ----------
    layer : ConvolutionLayer
        The layer; its input channel count must be known (`Input` here or on it).
    Method : str or tuple, default "Xavier"
        `"Xavier"` or `"Kaiming"`, or `(name, {"Distribution": "Normal" | "Uniform"})`.
    RandomSeeding : int or Automatic
        A seed, for repeatable weights.
    Input : sequence, optional
        The input's dimensions, where the layer does not know them.

    Returns
    -------
    ConvolutionLayer
        The initialized copy.

    Raises
    ------
    ValueError
        A method not known, or input channels not known.

    Examples
    --------
    >>> layer = NetInitialize(ConvolutionLayer(4, [3, 3], Input=[2, 8, 8]), RandomSeeding=1)
    >>> NetExtract(layer, "Weights").shape
    (4, 2, 3, 3)
    """
    import copy

    name, settings = _method(Method)
    if name not in ("Xavier", "Kaiming"):
        raise failure(f'Method should be "Xavier" or "Kaiming", but was {Method!r}')
    distribution = settings.get("Distribution", "Normal")
    if distribution not in ("Normal", "Uniform"):
        raise failure(f'"Distribution" should be "Normal" or "Uniform", but was {distribution!r}')
    new = copy.copy(layer)
    if Input is not None:
        new._input_arg = Input
        new._rank = new._infer_rank(new._kernel_arg, Automatic, Input, None)
        new._settle()
    new._need_rank()
    if new._channels is None:
        raise failure(
            "cannot be initialized until all its input and output dimensions are known: "
            'the number of input channels is unknown (specify "Input")'
        )
    groups = new.ChannelGroups
    taps = math.prod(new.KernelSize)
    fan_in, fan_out = taps * new._channels // groups, taps * new.OutputChannels // groups
    variance = 2.0 / (fan_in + fan_out) if name == "Xavier" else 2.0 / fan_in
    rng = np.random.default_rng(None if is_automatic(RandomSeeding) else RandomSeeding)
    shape = (new.OutputChannels, new._channels // groups, *new.KernelSize)
    if distribution == "Normal":
        weights = _init.normal(rng, shape, math.sqrt(variance))
    else:
        limit = math.sqrt(3 * variance)
        weights = _init.uniform(rng, shape, -limit, limit)
    new.Weights = Automatic
    if new.Biases is not None:
        new.Biases = Automatic
    new._set_weights(weights)
    return new


_PARAMETERS = (
    "OutputChannels",
    "KernelSize",
    "Stride",
    "Dilation",
    "PaddingSize",
    "ChannelGroups",
    "Dimensionality",
    "Interleaving",
    "InputChannels",
)


def _method(method: Any) -> tuple[Any, dict]:
    """`"Xavier"` or `("Xavier", {"Distribution": ...})` as (name, settings)."""
    if isinstance(method, str):
        return method, {}
    try:
        name, settings = method
        return name, dict(settings)
    except (TypeError, ValueError):
        raise failure(
            'Method should be "Xavier", "Kaiming" or {name, <|"Distribution" -> ...|>}, '
            f"but was {method!r}"
        ) from None


def NetExtract(layer: ConvolutionLayer, name: str):
    """An array (`"Weights"`, `"Biases"`) or a parameter of the layer.

    Parameters
    ----------
    layer : ConvolutionLayer
        The layer.
    name : str
        `"Weights"`, `"Biases"`, `"Input"`, `"Output"` or a parameter (`"Stride"`,
        `"PaddingSize"`, `"OutputChannels"`, ...).

    Returns
    -------
    object
        The array or value; uninitialized arrays are `Automatic`, and `"Biases"` is None
        for a layer without biases.

    Raises
    ------
    ValueError
        A name the layer does not have, listing those it has.

    Examples
    --------
    >>> layer = ConvolutionLayer(2, [3], Weights=np.ones((2, 1, 3)))
    >>> NetExtract(layer, "Weights").shape, NetExtract(layer, "Stride")
    ((2, 1, 3), (1,))
    """
    if name == "Weights":
        return layer.Weights
    if name == "Biases":
        return layer.Biases
    if name in ("Input", "Output"):
        return _ports(layer)[name]
    if name in _PARAMETERS:
        if name not in ("OutputChannels", "ChannelGroups", "Interleaving", "InputChannels"):
            layer._need_rank()
        return getattr(layer, name)
    raise failure(
        f"NetExtract: {name!r} is not an array or parameter of the layer; "
        f"available: {['Weights', 'Biases', 'Input', 'Output', *_PARAMETERS]}"
    )


def _ports(layer: ConvolutionLayer) -> dict[str, Any]:
    if layer._rank is None:
        return {"Input": Automatic, "Output": Automatic}
    spatial = layer._spatial_in or (None,) * layer._rank
    m = layer._channels
    dims_in = (*spatial, m) if layer.Interleaving else (m, *spatial)
    try:
        dims_out = layer.output_shape(dims_in)
    except ValueError:
        dims_out = Automatic
    return {"Input": dims_in, "Output": dims_out}


def _array_dimensions(layer: ConvolutionLayer) -> dict[tuple, Any]:
    layer._need_rank()
    m = layer._channels
    per_group = None if m is None else m // layer.ChannelGroups
    dims: dict[tuple, Any] = {("Weights",): (layer.OutputChannels, per_group, *layer.KernelSize)}
    if layer.Biases is not None:
        dims[("Biases",)] = (layer.OutputChannels,)
    return dims


def Information(layer: ConvolutionLayer, prop: str | None = None):
    """A property of the layer (as for NetGraph), or a dict of all of them.

    Properties: "InputPorts", "OutputPorts", "Arrays", "ArraysCount", "ArraysDimensions",
    "ArraysElementCounts", "ArraysPositionList", "ArraysTotalElementCount",
    "ArraysTotalSize" (bytes), "LayersCount", "LayerTypeCounts", "Options".

    Parameters
    ----------
    layer : ConvolutionLayer
        The layer.
    prop : str, optional
        One property; all of them when omitted.

    Returns
    -------
    object or dict
        The property's value, or a dict of every property.

    Raises
    ------
    ValueError
        A property not known.

    Examples
    --------
    >>> Information(ConvolutionLayer(6, [3, 3], ChannelGroups=3, Input=[3, 8, 8]),
    ...             "ArraysTotalElementCount")
    60
    """
    dims = _array_dimensions(layer)
    counts = {k: None if any(d is None for d in v) else math.prod(v) for k, v in dims.items()}
    known = all(c is not None for c in counts.values())

    def total_size():
        if not known:
            return None
        size = 0
        for key, count in counts.items():
            array = layer.Weights if key == ("Weights",) else layer.Biases
            itemsize = getattr(getattr(array, "dtype", None), "itemsize", 4)
            size += count * (itemsize if isinstance(itemsize, int) else 4)
        return size

    ports = _ports(layer)
    props = {
        "InputPorts": lambda: {"Input": ports["Input"]},
        "OutputPorts": lambda: {"Output": ports["Output"]},
        "Arrays": lambda: {k: layer.Weights if k == ("Weights",) else layer.Biases for k in dims},
        "ArraysCount": lambda: len(dims),
        "ArraysDimensions": lambda: dims,
        "ArraysElementCounts": lambda: counts,
        "ArraysPositionList": lambda: list(dims),
        "ArraysTotalElementCount": lambda: sum(counts.values()) if known else None,
        "ArraysTotalSize": total_size,
        "LayersCount": lambda: 1,
        "LayerTypeCounts": lambda: {LAYER_NAME: 1},
        "Options": lambda: _layer_options(layer),
    }
    if prop is None:
        return {name: get() for name, get in props.items()}
    if prop not in props:
        raise failure(f"Information: {prop!r} is not a known property; available: {list(props)}")
    return props[prop]()


def _layer_options(layer: ConvolutionLayer) -> dict[str, Any]:
    return {
        "Biases": layer.Biases,
        "ChannelGroups": layer.ChannelGroups,
        "Dilation": getattr(layer, "Dilation", layer._dilation_arg),
        "Dimensionality": layer._rank if layer._rank is not None else Automatic,
        "Interleaving": layer.Interleaving,
        "LearningRateMultipliers": layer.LearningRateMultipliers or Automatic,
        "PaddingSize": getattr(layer, "PaddingSize", layer._padding_arg),
        "Stride": getattr(layer, "Stride", layer._stride_arg),
        "Weights": layer.Weights,
    }


def Options(obj: Any = ConvolutionLayer) -> dict[str, Any]:
    """`Options(ConvolutionLayer)`: construction defaults; `Options(layer)`: evaluation ones.

    Parameters
    ----------
    obj : ConvolutionLayer class or instance, default ConvolutionLayer
        The class, for its construction defaults, or a layer, for its evaluation options
        (`"WorkingPrecision"`, ...).

    Returns
    -------
    dict
        The options by Wolfram name.

    Examples
    --------
    >>> Options(ConvolutionLayer)["PaddingSize"], Options(ConvolutionLayer)["Interleaving"]
    (0, False)
    """
    if obj is ConvolutionLayer:
        return {
            "Biases": Automatic,
            "ChannelGroups": 1,
            "Dilation": 1,
            "Dimensionality": Automatic,
            "Interleaving": False,
            "LearningRateMultipliers": Automatic,
            "PaddingSize": 0,
            "Stride": 1,
            "Weights": Automatic,
        }
    if isinstance(obj, ConvolutionLayer):
        return dict(EVALUATION_OPTIONS)
    raise TypeError(f"Options expects ConvolutionLayer or a ConvolutionLayer[...], got {obj!r}")
