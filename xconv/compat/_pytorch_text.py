"""A layer as PyTorch code: `nn.Conv*d` / `nn.ConvTranspose*d`, with `F.pad` where PyTorch's
own padding cannot express the layer's."""

from __future__ import annotations

from ..spec import ConvSpec
from ._layer import CompatLayer

_TORCH_MODES = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def pytorch_text(layer: CompatLayer) -> tuple[str, list[str]]:
    """PyTorch code computing `layer` (`x` in, `y` out), and notes where it is not exact."""
    spec = layer.spec
    notes: list[str] = []
    lines = _pytorch_lines(spec, layer.has_bias, notes)
    if spec.channels_last:
        notes.append(
            "PyTorch takes channels first: x.movedim(-1, 1) before, y.movedim(1, -1) after"
        )
    return "\n".join(lines), notes


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
