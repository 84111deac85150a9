"""A canonical spec and weights as PyTorch's own module: `nn.Conv*d` / `nn.ConvTranspose*d`.

A module holds what PyTorch's constructor can say: the same padding on both sides of a
dimension (or `'same'` at stride 1, its extra sample at the end as xconv's), zero,
reflect, replicate or circular padding, transposed cropping of `padding` on both sides
with `output_padding` added at the end. Anything else (asymmetric padding, a padding
value, symmetric padding, `same` at a stride) is a `TranslationError` naming the exact
form that computes it: the code `xconv translate --to pytorch` prints (`F.pad` before the
module) or `xconv.torch.Conv`. The weight layout is xconv's own: `(F, C / g, *k)`,
transposed `(C, F / g, *k)`; the data are PyTorch's channels-first, whatever the source
dialect's layout (a MATLAB `H x W x C` image is `(C, H, W)` there).
"""

from __future__ import annotations

from typing import Any

from ..spec import ConvSpec
from . import pytorch
from ._layer import TranslationError, to_numpy
from ._portable import net_cropping, static_padding

_MODES = {"constant": "zeros", "reflect": "reflect", "replicate": "replicate",
          "circular": "circular"}  # fmt: skip
_ELSEWHERE = (
    "the code `xconv translate --to pytorch` prints (F.pad, then the module) computes it, "
    "as does the module xconv.torch.Conv(spec, weight, bias)"
)


def from_canonical(spec: ConvSpec, weight, bias, portable: dict[str, Any]):
    """The PyTorch module layer computing `spec` with canonical weights; keys used."""
    if not 1 <= spec.rank <= 3:
        raise TranslationError(f"PyTorch has no {spec.rank}-D convolution module; {_ELSEWHERE}")
    if spec.in_channels is None or spec.out_channels is None:
        raise TranslationError(
            "the layer's input channels are not known yet: initialize it or call it on data"
        )
    has_bias = weight is None or bias is not None
    options: dict[str, Any] = dict(
        stride=spec.stride, dilation=spec.dilation, groups=spec.groups, bias=has_bias
    )
    if spec.transposed:
        options.update(_transposed_padding(spec))
        layer = getattr(pytorch, f"ConvTranspose{spec.rank}d")(
            spec.in_channels, spec.out_channels, spec.kernel_size, **options
        )
    else:
        options.update(_forward_padding(spec))
        layer = getattr(pytorch, f"Conv{spec.rank}d")(
            spec.in_channels, spec.out_channels, spec.kernel_size, **options
        )
    if weight is not None:
        layer.set_weights(to_numpy(weight), None if bias is None else to_numpy(bias))
    return layer, {"name"}


def _forward_padding(spec: ConvSpec) -> dict[str, Any]:
    if spec.padding_mode not in _MODES or spec.padding_value != 0:
        what = (f"padding value {spec.padding_value}" if spec.padding_mode == "constant"
                else f"{spec.padding_mode} padding")  # fmt: skip
        raise TranslationError(f"nn.Conv{spec.rank}d has no {what}; {_ELSEWHERE}")
    mode = _MODES[spec.padding_mode]
    pads = static_padding(spec)
    if isinstance(pads, str):
        raise TranslationError(
            f"nn.Conv{spec.rank}d's padding='same' is for stride 1 only (stride {spec.stride}); "
            f"{_ELSEWHERE}"
        )
    if all(before == after for before, after in pads):
        return {"padding": tuple(before for before, _ in pads), "padding_mode": mode}
    if all(s == 1 for s in spec.stride) and spec.padding == "same":
        return {"padding": "same", "padding_mode": mode}  # the extra sample at the end
    raise TranslationError(
        f"nn.Conv{spec.rank}d pads both sides of a dimension alike, but this layer pads "
        f"{pads}; {_ELSEWHERE}"
    )


def _transposed_padding(spec: ConvSpec) -> dict[str, Any]:
    crops = net_cropping(spec)
    padding, extra = [], []
    for (start, end), s, d in zip(crops, spec.stride, spec.dilation, strict=True):
        added = start - end  # output_padding: the end cropped that much less than the start
        if start < 0 or not 0 <= added < max(s, d):
            raise TranslationError(
                f"nn.ConvTranspose{spec.rank}d crops `padding` from both ends and adds at most "
                f"max(stride, dilation) - 1 at the end; this layer crops {crops}; {_ELSEWHERE}"
            )
        padding.append(start)
        extra.append(added)
    return {"padding": tuple(padding), "output_padding": tuple(extra)}
