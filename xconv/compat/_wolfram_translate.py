"""The Wolfram writer: a canonical `ConvSpec` with canonical weights as a `ConvolutionLayer`
(`from_canonical`, for `xconv.compat.translate`)."""

from __future__ import annotations

from typing import Any

from ..spec import ConvSpec
from ._layer import TranslationError
from ._portable import static_padding
from ._wolfram_args import Automatic, Varying
from ._wolfram_layer import ConvolutionLayer


def from_canonical(
    spec: ConvSpec, weight, bias, portable: dict[str, Any]
) -> tuple[ConvolutionLayer, set[str]]:
    """The `ConvolutionLayer` computing `spec` with canonical weights; the portable keys used."""
    if spec.transposed:
        raise TranslationError(
            "Wolfram's ConvolutionLayer cannot express a transposed convolution; the nearest "
            "faithful form is DeconvolutionLayer, which xconv.compat.wolfram does not model"
        )
    if spec.padding_mode != "constant" or spec.padding_value != 0:
        what = (
            f"padding_mode={spec.padding_mode!r}"
            if spec.padding_mode != "constant"
            else f"padding value {spec.padding_value}"
        )
        raise TranslationError(
            f"Wolfram's ConvolutionLayer pads with zeros only, not {what}; the nearest "
            'faithful form is a PaddingLayer (Padding -> "Reflected", "Fixed", ...) '
            "followed by ConvolutionLayer[..., PaddingSize -> 0]"
        )
    padding = static_padding(spec)
    if isinstance(padding, str) and padding != "same":
        raise TranslationError(
            f"Wolfram's ConvolutionLayer has no {padding!r} padding at stride {spec.stride}: "
            'its "Same" puts the odd padding at the end; use explicit PaddingSize pairs '
            "for a fixed input size"
        )
    activation = portable.get("activation")
    if activation not in (None, "linear"):
        raise TranslationError(
            f"Wolfram's ConvolutionLayer has no activation ({activation!r}); the nearest "
            "faithful form is NetChain[{ConvolutionLayer[...], ElementwiseLayer[...]}]: "
            "translate the layer with activation=None and apply the function after it"
        )
    rates = {}
    if "weight_learn_rate" in portable:
        rates["Weights"] = portable["weight_learn_rate"]
    if "bias_learn_rate" in portable:
        rates["Biases"] = portable["bias_learn_rate"]
    layer = ConvolutionLayer(
        spec.out_channels if spec.out_channels is not None else weight.shape[0],
        list(spec.kernel_size),
        Weights=Automatic if weight is None else weight,
        Biases=None
        if bias is None and weight is not None
        else (Automatic if bias is None else bias),
        ChannelGroups=spec.groups,
        Dilation=list(spec.dilation),
        Interleaving=spec.channels_last,
        LearningRateMultipliers=rates or Automatic,
        PaddingSize="Same" if "same" in (padding, spec.padding) else [list(p) for p in padding],
        Stride=list(spec.stride),
        Input=Automatic
        if spec.in_channels is None
        else (
            [*[Varying] * spec.rank, spec.in_channels]
            if spec.channels_last
            else [spec.in_channels, *[Varying] * spec.rank]
        ),
    )
    # a Wolfram layer's name is its key in the enclosing NetChain / NetGraph
    return layer, {"weight_learn_rate", "bias_learn_rate", "activation", "name"}


# -- the layer as text ------------------------------------------------------------


def _wl(value) -> str:
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_wl(v) for v in value) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "True" if value else "False"
    return repr(value)


def wolfram_text(obj) -> str:
    parts = [str(obj.OutputChannels), _wl(list(obj.KernelSize))]
    rank = len(obj.KernelSize)
    if tuple(obj.Stride) != (1,) * rank:
        parts.append(f'"Stride" -> {_wl(list(obj.Stride))}')
    if tuple(obj.Dilation) != (1,) * rank:
        parts.append(f'"Dilation" -> {_wl(list(obj.Dilation))}')
    padding = obj.PaddingSize
    if isinstance(padding, str):
        parts.append(f"PaddingSize -> {_wl(padding)}")
    elif any(p for pair in padding for p in pair):
        parts.append(f"PaddingSize -> {_wl([list(p) for p in padding])}")
    if obj.ChannelGroups != 1:
        parts.append(f'"ChannelGroups" -> {obj.ChannelGroups}')
    if obj.Interleaving:
        parts.append("Interleaving -> True")
    if obj.Biases is None:
        parts.append('"Biases" -> None')
    return f"ConvolutionLayer[{', '.join(parts)}]"
