"""The MATLAB writer: a canonical `ConvSpec` with canonical weights as a MATLAB layer
(`from_canonical`, for `xconv.compat.translate`), and a MATLAB layer as the text of its
constructor call (`matlab_text`)."""

from __future__ import annotations

from typing import Any

from ..spec import ConvSpec
from . import _matlab_args as args
from ._layer import TranslationError, namespace, permute, reshape, shape_of
from ._matlab_layer import (
    FORWARD_OPTIONS,
    TRANSPOSED_OPTIONS,
    Convolution1DLayer,
    Convolution2DLayer,
    Convolution3DLayer,
    GroupedConvolution2DLayer,
    MatlabLayer,
    TransposedConvolution1DLayer,
    TransposedConvolution2DLayer,
    TransposedConvolution3DLayer,
)
from ._portable import net_cropping, require_linear, static_padding


def from_canonical(
    spec: ConvSpec, weight, bias, portable: dict[str, Any]
) -> tuple[MatlabLayer, set[str]]:
    """The MATLAB layer computing `spec` with canonical weights; the portable keys used."""
    require_linear(
        portable,
        "MATLAB",
        "the nearest faithful form is the convolution layer followed by the activation "
        "layer (reluLayer, tanhLayer, ...): translate with activation=None",
    )
    rank = spec.rank
    if rank > 3:
        raise TranslationError(f"MATLAB has no {rank}-D convolution layer (1-D to 3-D only)")
    options: dict[str, Any] = {
        "Stride": list(spec.stride),
        "WeightLearnRateFactor": portable.get("weight_learn_rate", 1),
        "BiasLearnRateFactor": portable.get("bias_learn_rate", 1),
        "WeightL2Factor": portable.get("weight_l2_factor", 1),
        "BiasL2Factor": portable.get("bias_l2_factor", 0),
        "Name": portable.get("name", ""),
    }
    used = {
        "name",
        "weight_learn_rate",
        "bias_learn_rate",
        "weight_l2_factor",
        "bias_l2_factor",
        "activation",
    }
    if spec.in_channels is not None:
        options["NumChannels"] = spec.in_channels
    if spec.transposed:
        layer_type = _transposed_options(spec, options, net_cropping(spec))
    else:
        layer_type = _forward_options(spec, options, static_padding(spec))
    if weight is not None:
        options["Weights"] = _matlab_weights(spec, weight)
        if bias is None:  # MATLAB layers always add a bias: a frozen zero one
            xp = namespace(weight)
            bias = xp.zeros((spec.out_channels,), dtype=weight.dtype)
            options["BiasLearnRateFactor"] = 0
        options["Bias"] = args.from_column_major(bias, _bias_size(spec))
    return layer_type(options), used


def _forward_options(spec: ConvSpec, options: dict, padding) -> Any:
    rank = spec.rank
    if isinstance(padding, str):
        if padding != "same":
            raise TranslationError(
                f"MATLAB has no {padding!r} padding at stride {spec.stride}: its 'same' puts the "
                "odd padding at the bottom/right; use explicit Padding for a fixed input size"
            )
        options["Padding"] = "same"
    elif spec.padding == "causal" and rank == 1:
        options["Padding"] = "causal"
    elif spec.padding == "same" and rank > 0:
        options["Padding"] = "same"
    else:
        options["Padding"] = _edge_value(padding, rank)
    options["DilationFactor"] = list(spec.dilation)
    mode = spec.padding_mode
    if mode == "circular":
        raise TranslationError(
            "MATLAB's PaddingValue has no circular padding; the nearest faithful form is to "
            "pad the input circularly first and use Padding=0"
        )
    if mode == "constant":
        if isinstance(spec.padding_value, complex):
            raise TranslationError("MATLAB's PaddingValue must be a real scalar")
        options["PaddingValue"] = spec.padding_value
    else:
        names = {v: k for k, v in args.PADDING_VALUES.items()}
        options["PaddingValue"] = names[mode]
    if spec.groups == 1:
        cls = {1: Convolution1DLayer, 2: Convolution2DLayer, 3: Convolution3DLayer}[rank]
        return lambda o: cls(spec.kernel_size, spec.out_channels, FORWARD_OPTIONS, o)
    if rank != 2:
        raise TranslationError(
            f"MATLAB has no grouped {rank}-D convolution layer (groupedConvolution2dLayer is "
            f"2-D only); the nearest faithful form is {spec.groups} convolution{rank}dLayer "
            "layers on the channel groups, joined by a concatenationLayer"
        )
    groups = spec.groups
    options.pop("NumChannels", None)
    if spec.in_channels is not None:
        options["NumChannelsPerGroup"] = spec.in_channels // groups
    per_group = spec.out_channels // groups
    return lambda o: GroupedConvolution2DLayer(spec.kernel_size, per_group, groups, o)


def _transposed_options(spec: ConvSpec, options: dict, crops) -> Any:
    rank = spec.rank
    if spec.groups != 1:
        raise TranslationError(
            f"MATLAB's transposedConv{rank}dLayer has no channel groups; the nearest faithful "
            f"form is {spec.groups} transposed layers on the channel groups, concatenated"
        )
    if any(d > 1 for d in spec.dilation):
        raise TranslationError(
            f"MATLAB's transposedConv{rank}dLayer has no DilationFactor; the nearest faithful "
            "form is the undilated kernel of size (k-1)*d+1 with zeros between the taps"
        )
    same = ConvSpec(spec.kernel_size, stride=spec.stride, padding="same", transposed=True)
    if tuple(crops) == net_cropping(same):
        options["Cropping"] = "same"
    elif all(end >= 0 for _, end in crops):
        options["Cropping"] = _edge_value(crops, rank)
    else:
        raise TranslationError(
            "MATLAB's Cropping cannot extend the output with zeros (output padding beyond the "
            "cropping); the nearest faithful form is Cropping=0 followed by zero padding of "
            "the output"
        )
    cls = {
        1: TransposedConvolution1DLayer,
        2: TransposedConvolution2DLayer,
        3: TransposedConvolution3DLayer,
    }[rank]
    return lambda o: cls(spec.kernel_size, spec.out_channels, TRANSPOSED_OPTIONS, o)


def _edge_value(pairs, rank: int):
    if rank == 3:
        return [[p[0] for p in pairs], [p[1] for p in pairs]]
    return [v for pair in pairs for v in pair]


def _matlab_weights(spec: ConvSpec, weight):
    rank = spec.rank
    spatial = tuple(range(2, rank + 2))
    if spec.groups > 1:
        shape = shape_of(weight)
        grouped = reshape(weight, (spec.groups, shape[0] // spec.groups, *shape[1:]))
        return permute(grouped, (*[a + 1 for a in spatial], 2, 1, 0))
    return permute(weight, (*spatial, 1, 0))


def _bias_size(spec: ConvSpec) -> tuple[int, ...]:
    if spec.groups > 1:
        return (1, 1, spec.out_channels // spec.groups, spec.groups)
    return (1,) * spec.rank + (spec.out_channels,) if spec.rank > 1 else (1, spec.out_channels)


# -- the layer as text ------------------------------------------------------------


def _m(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_m(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def matlab_text(obj) -> str:
    """A MATLAB layer as MATLAB code: its constructor call with the options it sets.

    Parameters
    ----------
    obj : MatlabLayer
        A MATLAB layer.

    Returns
    -------
    str
        The constructor call, name-value arguments in MATLAB's order.

    Examples
    --------
    >>> from xconv.compat import matlab
    >>> from xconv.compat.text import matlab_text
    >>> matlab_text(matlab.transposedConv2dLayer(4, 8, Stride=2, Cropping="same"))
    "transposedConv2dLayer([4 4], 8, 'Stride', [2 2], 'Cropping', 'same')"
    """
    kind = type(obj).__name__
    rank = len(obj.FilterSize)
    if kind.startswith("Grouped"):
        groups = obj.NumGroups
        head = f"groupedConvolution2dLayer({_m(list(obj.FilterSize))}, {obj.NumFiltersPerGroup}, "
        head += _m(groups) if isinstance(groups, str) else str(groups)
    elif kind.startswith("Transposed"):
        head = f"transposedConv{rank}dLayer({_m(list(obj.FilterSize))}, {obj.NumFilters}"
    else:
        head = f"convolution{rank}dLayer({_m(list(obj.FilterSize))}, {obj.NumFilters}"
    options = []
    if tuple(obj.Stride) != (1,) * rank:
        options.append(("Stride", list(obj.Stride)))
    if kind.startswith("Transposed"):
        if obj.CroppingMode == "same":
            options.append(("Cropping", "same"))
        elif any(obj.CroppingSize):
            options.append(("Cropping", list(obj.CroppingSize)))
    else:
        if tuple(obj.DilationFactor) != (1,) * rank:
            options.append(("DilationFactor", list(obj.DilationFactor)))
        if obj.PaddingMode == "same":
            options.append(("Padding", "same"))
        elif any(obj.PaddingSize):
            options.append(("Padding", list(obj.PaddingSize)))
        if obj.PaddingValue not in (0, 0.0):
            options.append(("PaddingValue", obj.PaddingValue))
    if getattr(obj, "BiasLearnRateFactor", 1) != 1:
        options.append(("BiasLearnRateFactor", obj.BiasLearnRateFactor))
    if obj.Name:
        options.append(("Name", obj.Name))
    tail = "".join(f", {_m(name)}, {_m(value)}" for name, value in options)
    return f"{head}{tail})"
