"""A layer as PyTorch code: `nn.Conv*d` / `nn.ConvTranspose*d`, with `F.pad` (or a small
printed helper) where PyTorch's own padding cannot express the layer's.

The code is exact and runs as printed, given `x`: it defines `conv` (the module, which
holds the weights) and `layer(x)`, which pads, convolves and crops as the layer does, and
ends with `y = layer(x)`. Data are in the layer's canonical order: `(N, C, *spatial)` or
unbatched `(C, *spatial)`, channels last where the layer keeps them last (Keras, Wolfram
with `Interleaving -> True`). Padding that depends on the input size ("same" at a stride
above 1) is computed from `x.shape` by a printed `same_padding`, unless the input's size is
given, when the widths are printed as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..spec import ConvSpec
from ._layer import CompatLayer
from ._portable import net_cropping

_TORCH_MODES = ("reflect", "replicate", "circular")
_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}

_SAME_PADDING = '''\
def same_padding(x, kernel={kernel}, stride={stride}, dilation={dilation}):
    """F.pad's widths (last dimension first) giving {which} output of ceil(n / stride)."""
    widths = []
    for n, k, s, d in zip(x.shape[-{rank}:], kernel, stride, dilation):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        widths = [{before}, {after}, *widths]
    return widths'''

_PAD_SYMMETRIC = '''\
def pad_symmetric(x, widths):
    """numpy.pad(mode="symmetric"): mirror images that repeat the edge sample."""
    for axis, (before, after) in enumerate(zip(widths[::2], widths[1::2]), start=1):
        n = x.shape[-axis]
        i = torch.arange(-before, n + after, device=x.device) % (2 * n)
        x = x.index_select(x.ndim - axis, torch.where(i < n, i, 2 * n - 1 - i))
    return x'''


def pytorch_text(layer: CompatLayer, spatial: Sequence[int] | None = None) -> tuple[str, list[str]]:
    """PyTorch code computing `layer` (`x` in, `y` out), and notes where it is not exact.

    Parameters
    ----------
    layer : CompatLayer
        A layer of any dialect.
    spatial : sequence of int, optional
        The input's spatial sizes: input-dependent padding becomes numbers.

    Returns
    -------
    code : str
        `nn.Conv*d` / `nn.ConvTranspose*d` code, with `F.pad` (or a printed helper) where
        the module's own padding cannot say the layer's.
    notes : list of str
        Where the code is not exact.

    Examples
    --------
    >>> from xconv.compat import keras
    >>> from xconv.compat.text import pytorch_text
    >>> code, notes = pytorch_text(keras.Conv2D(8, 3, padding="same"), spatial=(32, 32))
    >>> print(code.splitlines()[3])
    conv = nn.LazyConv2d(8, kernel_size=3, padding=1)
    """
    spec = layer.spec
    code = _Code(spec)
    if spec.transposed:
        code.transposed(layer.has_bias)
    else:
        code.forward(layer.has_bias, spatial)
    return code.text(), code.notes


def _tuple(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else str(values)


class _Code:
    """The pieces of the printed code, assembled by `text()`."""

    def __init__(self, spec: ConvSpec) -> None:
        self.spec = spec
        self.uses_torch = False
        self.uses_functional = False
        self.helpers: list[str] = []
        self.module = ""
        self.body: list[str] = []
        self.notes: list[str] = []

    # -- the two kinds of layer -----------------------------------------------------------

    def forward(self, bias: bool, spatial: Sequence[int] | None) -> None:
        spec = self.spec
        pairs = spec.resolve_padding(tuple(spatial) if spatial else (None,) * spec.rank)
        options: list[str] = []
        if any(pair is None for pair in pairs):
            self.helpers.append(self._same_padding())
            self._pad("same_padding(x)")
        elif self._module_pads(pairs):
            if any(a for a, _ in pairs):
                options.append(f"padding={_tuple(a for a, _ in pairs)}")
            if spec.padding_mode != "constant":
                options.append(f"padding_mode='{spec.padding_mode}'")
        elif any(a or b for a, b in pairs):
            self._pad(str(tuple(p for pair in reversed(pairs) for p in pair)))
        self.module = self._module("Conv", options, bias)
        self.body.append("y = conv(x)")

    def transposed(self, bias: bool) -> None:
        """PyTorch crops `padding` from both ends and extends the end by `output_padding`
        (which gets the bias, as the layers' extension does); the rest is a slice."""
        spec = self.spec
        options, window = [], []
        shared, extra = [], []
        for (start, end), s, d in zip(net_cropping(spec), spec.stride, spec.dilation, strict=True):
            both = max(0, min(start, end))
            extension = max(0, both - end)
            if extension >= max(s, d):
                self.notes.append(
                    f"not exact: the output is extended by {extension} at the end, more than "
                    "PyTorch's output_padding allows (less than the stride or the dilation)"
                )
                extension = 0
            shared.append(both)
            extra.append(extension)
            stop = end - both + extension
            window.append(f"{start - both or ''}:{-stop if stop > 0 else ''}")
        if any(shared):
            options.append(f"padding={_tuple(shared)}")
        if any(extra):
            options.append(f"output_padding={_tuple(extra)}")
        self.module = self._module("ConvTranspose", options, bias)
        self.body.append("y = conv(x)")
        if any(w != ":" for w in window):
            self.body.append(f"y = y[..., {', '.join(window)}]  # the uneven cropping")

    # -- pieces ---------------------------------------------------------------------------

    def _module_pads(self, pairs) -> bool:
        """Whether the module's own `padding` / `padding_mode` pads as the layer does."""
        spec = self.spec
        mode = spec.padding_mode
        zeros = mode == "constant" and spec.padding_value == 0
        return all(a == b for a, b in pairs) and (zeros or mode in _TORCH_MODES)

    def _pad(self, widths: str) -> None:
        spec = self.spec
        mode = spec.padding_mode
        if mode == "symmetric":
            self.uses_torch = True
            self.helpers.append(_PAD_SYMMETRIC)
            self.body.append(f"x = pad_symmetric(x, {widths})")
            return
        self.uses_functional = True
        if mode == "constant":
            value = f", value={float(spec.padding_value)!r}" if spec.padding_value != 0 else ""
            self.body.append(f"x = F.pad(x, {widths}{value})")
        else:
            self.body.append(f"x = F.pad(x, {widths}, mode='{mode}')")

    def _same_padding(self) -> str:
        spec = self.spec
        lower = spec.padding == "same_lower"
        return _SAME_PADDING.format(
            kernel=tuple(spec.kernel_size),
            stride=tuple(spec.stride),
            dilation=tuple(spec.dilation),
            rank=spec.rank,
            which="ONNX's SAME_LOWER" if lower else "an",
            before="total - total // 2" if lower else "total // 2",
            after="total // 2" if lower else "total - total // 2",
        )

    def _module(self, kind: str, options: list[str], bias: bool) -> str:
        spec = self.spec
        common = []
        if set(spec.stride) != {1}:
            common.append(f"stride={_tuple(spec.stride)}")
        if set(spec.dilation) != {1}:
            common.append(f"dilation={_tuple(spec.dilation)}")
        if spec.groups != 1:
            common.append(f"groups={spec.groups}")
        if not bias:
            common.append("bias=False")
        arguments = [str(spec.out_channels), f"kernel_size={_tuple(spec.kernel_size)}"]
        if spec.in_channels:
            name = f"nn.{kind}{spec.rank}d"
            arguments.insert(0, str(spec.in_channels))
        else:
            name = f"nn.Lazy{kind}{spec.rank}d"
        return f"conv = {name}({', '.join([*arguments, *options, *common])})"

    def text(self) -> str:
        spec = self.spec
        rank = spec.rank
        axes = _AXES.get(rank, ", ".join(f"S{i}" for i in range(1, rank + 1)))
        if spec.channels_last:
            layout = f"# x: (N, {axes}, C) or ({axes}, C), channels last as the layer keeps them"
            body = [
                f"x = x.movedim(-1, {-rank - 1})",
                *self.body,
                f"y = y.movedim({-rank - 1}, -1)",
            ]
        else:
            layout = f"# x: (N, C, {axes}) or (C, {axes})"
            body = self.body
        imports = []
        if self.uses_torch:
            imports.append("import torch")
        if self.uses_functional:
            imports.append("import torch.nn.functional as F")
        imports.append("from torch import nn")
        function = "\n".join(
            ["def layer(x):", f"    {layout}", *(f"    {line}" for line in body), "    return y"]
        )
        parts = ["\n".join(imports), *self.helpers, self.module, function, "y = layer(x)"]
        return "\n\n\n".join(parts)
