"""A layer written as text in each dialect, and as PyTorch code, for `xconv translate`.

The translation itself (and its refusals, with the nearest faithful form) is
`xconv.compat.translate`; this module only spells the translated layer in its dialect.
"""

from __future__ import annotations

import warnings

from xconv import ConvSpec
from xconv.compat import TranslationError, translate

from ._layers import Layer

_DIALECTS = ("wolfram", "matlab", "keras")


def translations(layer: Layer, target: str) -> list[dict]:
    """One row per target: `{"target", "text", "notes"}`; `text` is None where impossible."""
    targets = [t for t in (*_DIALECTS, "pytorch") if t != layer.dialect or target != "all"]
    if target != "all":
        targets = [target]
    rows = []
    for name in targets:
        if name == "pytorch":
            rows.append(_pytorch_row(layer))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                other = translate(layer.obj, name)
            except TranslationError as error:
                rows.append({"target": name, "text": None, "notes": [str(error)]})
                continue
        notes = [str(w.message) for w in caught]
        rows.append({"target": name, "text": _WRITERS[name](other), "notes": notes})
    return rows


# -- Wolfram -------------------------------------------------------------------------------


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


# -- MATLAB --------------------------------------------------------------------------------


def _m(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_m(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def matlab_text(obj) -> str:
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


# -- Keras ---------------------------------------------------------------------------------

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


_WRITERS = {"wolfram": wolfram_text, "matlab": matlab_text, "keras": keras_text}


# -- PyTorch -------------------------------------------------------------------------------

_TORCH_MODES = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _pytorch_row(layer: Layer) -> dict:
    spec = layer.obj.spec
    notes: list[str] = []
    bias = _has_bias(layer)
    lines = _pytorch_lines(spec, bias, notes)
    if spec.channels_last:
        notes.append(
            "PyTorch takes channels first: x.movedim(-1, 1) before, y.movedim(1, -1) after"
        )
    return {"target": "pytorch", "text": "\n".join(lines), "notes": notes}


def _has_bias(layer: Layer) -> bool:
    from ._layers import has_bias

    return has_bias(layer)


def _tuple(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else str(values)


def _pytorch_lines(spec: ConvSpec, bias: bool, notes: list[str]) -> list[str]:
    rank = spec.rank
    kernel = _tuple(spec.kernel_size)
    common = []
    if set(spec.stride) != {1}:
        common.append(f"stride={_tuple(spec.stride)}")
    if set(spec.dilation) != {1}:
        common.append(f"dilation={_tuple(spec.dilation)}")
    if spec.groups != 1:
        common.append(f"groups={spec.groups}")
    if not bias:
        common.append("bias=False")
    if spec.transposed:
        return _pytorch_transposed(spec, kernel, common, notes)
    channels = spec.in_channels
    head = f"nn.Conv{rank}d({channels}, " if channels else f"nn.LazyConv{rank}d("
    pairs = spec.resolve_padding((None,) * rank)
    padding: list[str] = []
    pre: list[str] = []
    if any(pair is None for pair in pairs):
        notes.append(
            f"not exact: padding={spec.padding!r} at stride {spec.stride} depends on the input "
            "size; pad each dimension by max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0) in total "
            "with F.pad first"
        )
    else:
        padding, pre = _pytorch_padding(spec, pairs, notes)
    layer = head + ", ".join([f"{spec.out_channels}", f"kernel_size={kernel}", *padding, *common])
    return [*pre, f"conv = {layer})", "y = conv(x)"]


def _pytorch_padding(spec: ConvSpec, pairs, notes: list[str]) -> tuple[list[str], list[str]]:
    mode, value = spec.padding_mode, spec.padding_value
    symmetric = all(a == b for a, b in pairs)
    if mode == "symmetric":
        notes.append(
            "not exact: PyTorch has no 'symmetric' (edge-including mirror) padding; pad with "
            "numpy.pad(mode='symmetric') or xconv first"
        )
    if symmetric and mode in ("constant", *_TORCH_MODES) and (mode != "constant" or value == 0):
        size = _tuple(a for a, _ in pairs)
        extra = [] if mode == "constant" else [f"padding_mode='{_TORCH_MODES[mode]}'"]
        return ([f"padding={size}", *extra] if any(a for a, _ in pairs) else []), []
    flat = tuple(p for pair in reversed(pairs) for p in pair)  # F.pad: last dimension first
    torch_mode = "constant" if mode in ("constant", "symmetric") else _TORCH_MODES[mode]
    value_arg = f", value={value!r}" if mode == "constant" and value != 0 else ""
    return [], [f"x = F.pad(x, {flat}, mode='{torch_mode}'{value_arg})"]


def _pytorch_transposed(spec: ConvSpec, kernel: str, common: list[str], notes: list[str]):
    rank = spec.rank
    crops = spec.resolve_padding((None,) * rank)
    if any(c is None for c in crops):
        notes.append("not exact: the cropping depends on the input size")
        crops = ((0, 0),) * rank
    shared = tuple(min(b, a) if a >= 0 else 0 for b, a in crops)
    options = []
    if any(shared):
        options.append(f"padding={_tuple(shared)}")
    if any(spec.output_padding):
        options.append(f"output_padding={_tuple(spec.output_padding)}")
    head = (
        f"nn.ConvTranspose{rank}d({spec.in_channels}, "
        if spec.in_channels
        else f"nn.LazyConvTranspose{rank}d("
    )
    arguments = ", ".join([str(spec.out_channels), f"kernel_size={kernel}", *options, *common])
    lines = [f"conv = {head}{arguments})", "y = conv(x)"]
    window = []
    for (before, after), s in zip(crops, shared, strict=True):
        start, stop = before - s, (after - s if after >= 0 else 0)
        if after < 0:
            notes.append(f"the output is extended by {-after} zeros at the end: F.pad(y, ...)")
        window.append(f"{start or ''}:{-stop if stop else ''}")
    if any(w != ":" for w in window):
        lines.append(f"y = y[..., {', '.join(window)}]  # the uneven part of the cropping")
    return lines
