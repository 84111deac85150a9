"""Seeded case generator: `python -m conformance.generate [--check]`.

Writes `cases/generated-<dialect>.json`: canonical cases drawn over every option of the
canonical API (ranks 1-3, strides, dilations, every padding form, mode and value, groups
and depthwise, channel order, batching, bias, dtypes, transposed, both VJPs), and layer
text in each seed dialect drawn over every option its reference page documents, each
with the canonical meaning the page gives it (written here from the pages, not taken
from `xconv.compat`). The draw is deterministic: `--check` regenerates in memory and
fails if the committed files differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import semantics
from .cases import CASES_DIR, Case, case_to_dict

SEED = 20261121
COUNTS = {"canonical": 220, "wolfram": 40, "matlab": 48, "keras": 48}
SIZES = {1: (5, 24), 2: (4, 12), 3: (3, 7)}
KERNELS = {1: 5, 2: 4, 3: 3}


class Draw:
    """Small helpers over a seeded NumPy generator."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def pick(self, options: Sequence, p: Sequence[float] | None = None):
        if p is not None:
            p = np.asarray(p, dtype=float) / np.sum(p)
        return options[int(self.rng.choice(len(options), p=p))]

    def int(self, low: int, high: int) -> int:
        """Uniform on [low, high]."""
        return int(self.rng.integers(low, high + 1))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def ints(self, rank: int, low: int, high: int) -> list[int]:
        return [self.int(low, high) for _ in range(rank)]

    def per_dim(self, rank: int, values: Sequence[int], p: Sequence[float]) -> int | list[int]:
        """One value for all dimensions (as an int) or a list mixing the values."""
        form = self.pick(("one", "all", "mixed"), p)
        if form == "one":
            return 1
        if form == "all":
            return int(self.pick(values))
        return [int(self.pick((1, *values))) for _ in range(rank)]


def valid(case: Case) -> bool:
    """True when the case is well defined (sizes fit, padding modes within the input)."""
    try:
        pads = semantics.pads(case)
        out = semantics.output_spatial(case)
    except (ValueError, IndexError):
        return False
    if any(n < 1 for n in out):
        return False
    if case.transposed:
        stride, dilation = case.per_dim("stride"), case.per_dim("dilation")
        return all(
            p < max(s, d)
            for p, s, d in zip(case.per_dim("output_padding"), stride, dilation, strict=True)
        )
    mode = case.params["padding_mode"]
    limit = {"reflect": -1, "symmetric": 0, "circular": 0, "replicate": 10**9}.get(mode)
    for n, (before, after), e in zip(case.spatial, pads, semantics.extents(case), strict=True):
        if n + before + after < e:
            return False
        if limit is not None and max(before, after) > n + limit:
            return False
    return True


def _params(**values) -> dict:
    from .cases import PARAM_DEFAULTS

    return {**PARAM_DEFAULTS, **values}


def _drawn(draw_one: Callable[[Draw, int], Case | None], d: Draw, count: int) -> list[Case]:
    out: list[Case] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > 50 * count:
            raise RuntimeError("the generator keeps drawing invalid cases")
        case = draw_one(d, len(out))
        if case is not None and valid(case):
            out.append(case)
    return out


# -- canonical -----------------------------------------------------------------------------


def _channels(d: Draw, kind: str) -> tuple[int, int, int]:
    """`(C, F, groups)` for a channel arrangement."""
    if kind == "single":
        return 1, 1, 1
    if kind == "plain":
        return d.int(1, 4), d.int(1, 4), 1
    if kind == "grouped":
        g = d.pick((2, 3))
        return g * d.int(1, 2), g * d.int(1, 2), g
    c = d.int(2, 4)  # depthwise: one group per channel, multiplier 1 or 2
    return c, c * d.pick((1, 2)), c


def _explicit_padding(d: Draw, rank: int, extents: list[int], form: str):
    high = [max(e - 1, 1) for e in extents]
    if form == "int":
        return d.int(0, min(high))
    if form == "per_dim":
        return [d.int(0, h) for h in high]
    return [[d.int(0, h), d.int(0, h)] for h in high]  # pairs


def canonical_case(d: Draw, index: int) -> Case | None:
    op = d.pick(("conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp"), (45, 20, 20, 15))
    transposed, gradient = "transpose" in op, op.endswith("_vjp")
    rank = d.pick((1, 2, 3), (35, 45, 20))
    dtypes = ("float32", "float64", "float16", "complex64", "complex128")
    dtype = d.pick(dtypes, (55, 20, 7, 10, 8))
    if gradient and dtype == "float16":
        dtype = "float32"
    single = not gradient and d.chance(0.3)
    kind = "single" if single else d.pick(("plain", "grouped", "depthwise"), (50, 30, 20))
    c, f, groups = _channels(d, kind)
    kernel = d.ints(rank, 1, KERNELS[rank])
    stride = d.per_dim(rank, (2, 3), (50, 30, 20))
    dilation = d.per_dim(rank, (2, 3), (60, 25, 15))
    low, high = SIZES[rank]
    spatial = d.ints(rank, low, high)
    batched = d.chance(0.85)
    shape = [d.int(1, 3), c, *spatial] if batched else [c, *spatial]
    dil = dilation if isinstance(dilation, list) else [dilation] * rank
    extents = [(k - 1) * q + 1 for k, q in zip(kernel, dil, strict=True)]
    params = _params(stride=stride, dilation=dilation, groups=groups, channels_last=d.chance(0.3))
    if transposed:
        form = d.pick(("int", "per_dim", "pairs", "valid", "same"), (15, 15, 25, 20, 25))
        params["padding"] = form if form in ("valid", "same") else None
        if params["padding"] is None:
            params["padding"] = _explicit_padding(d, rank, extents, form)
        if d.chance(0.3):
            strides = stride if isinstance(stride, list) else [stride] * rank
            params["output_padding"] = [
                d.int(0, max(s, q) - 1) for s, q in zip(strides, dil, strict=True)
            ]
        weight = [c, f // groups, *kernel]
    else:
        forms = ("int", "per_dim", "pairs", "valid", "same", "same_lower", "full", "causal")
        form = d.pick(forms, (10, 10, 20, 10, 20, 10, 10, 10))
        named = form in ("valid", "same", "same_lower", "full", "causal")
        params["padding"] = form if named else _explicit_padding(d, rank, extents, form)
        modes = ("constant", "reflect", "symmetric", "replicate", "circular")
        params["padding_mode"] = d.pick(modes, (40, 15, 15, 15, 15))
        if params["padding_mode"] == "constant":
            params["padding_value"] = d.pick((0.0, 0.0, 1.5, -0.75))
        weight = [f, c // groups, *kernel]
    return Case(
        algorithm=("auto", "direct", "gemm", "fft")[index % 4],  # each of xconv's paths
        id=f"canonical/gen-{index:04d}",
        dialect="canonical",
        op=op,
        input_shape=tuple(shape),
        weight_shape=tuple(weight),
        params=params,
        dtype=dtype,
        seed=SEED + index,
        bias=d.chance(0.7),
    )


# -- dialect text helpers -------------------------------------------------------------------


def _wl(value) -> str:
    """A Wolfram Language literal: lists in braces."""
    if isinstance(value, list | tuple):
        return "{" + ", ".join(_wl(v) for v in value) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _ml(value) -> str:
    """A MATLAB literal: row vectors `[a b]`, matrices `[a b; c d]`, 'char vectors'."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], list | tuple):
            return "[" + "; ".join(" ".join(str(v) for v in row) for row in value) + "]"
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def _py(value) -> str:
    """A Python literal with tuples for sequences."""
    if isinstance(value, list | tuple):
        inner = ", ".join(_py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _maybe_scalar(d: Draw, values: list[int]) -> int | list[int]:
    """Equal values written as one int half of the time."""
    if len(set(values)) == 1 and d.chance(0.5):
        return values[0]
    return values


def _dialect_case(
    dialect: str, index: int, layer: str, op: str, shape, weight, params, dtype, seed, bias
) -> Case:
    return Case(
        id=f"{dialect}/gen-{index:04d}",
        dialect=dialect,
        op=op,
        input_shape=tuple(shape),
        weight_shape=tuple(weight),
        params=params,
        dtype=dtype,
        seed=seed,
        bias=bias,
        layer=layer,
    )


def _spatial_and_batch(d: Draw, rank: int, batched_p: float = 0.8) -> tuple[list[int], int | None]:
    low, high = SIZES[rank]
    return d.ints(rank, low, high), (d.int(1, 3) if d.chance(batched_p) else None)


# -- Wolfram ---------------------------------------------------------------------------------


def wolfram_case(d: Draw, index: int) -> Case | None:
    """`ConvolutionLayer[n, s, opts]`: Stride, Dilation, PaddingSize (n, {n_i}, {{b, a}},
    "Same"), ChannelGroups, Interleaving, Biases -> None, Dimensionality, Input."""
    rank = d.pick((1, 2, 3), (30, 50, 20))
    groups = d.pick((1, 1, 2, 3))
    m, n = groups * d.int(1, 2), groups * d.int(1, 3)
    if d.chance(0.2):  # one channel in and out: SciPy can check these too
        groups, m, n = 1, 1, 1
    kernel = d.ints(rank, 1, KERNELS[rank])
    spatial, batch = _spatial_and_batch(d, rank)
    options: list[str] = []
    stride = d.per_dim(rank, (2, 3), (40, 35, 25))
    dilation = d.per_dim(rank, (2, 3), (55, 25, 20))
    if stride != 1 or d.chance(0.2):
        options.append(f'"Stride" -> {_wl(stride)}')
    if dilation != 1 or d.chance(0.2):
        options.append(f'"Dilation" -> {_wl(dilation)}')
    dil = dilation if isinstance(dilation, list) else [dilation] * rank
    extents = [(k - 1) * q + 1 for k, q in zip(kernel, dil, strict=True)]
    form = d.pick(("none", "int", "per_dim", "pairs", "same"), (15, 15, 20, 25, 25))
    if form == "none":
        padding = 0
    elif form == "same":
        padding = "same"  # the page: output = ceil(input / stride); odd extra at the end
        options.append('PaddingSize -> "Same"')
    else:
        padding = _explicit_padding(d, rank, extents, form)
        options.append(f"PaddingSize -> {_wl(padding)}")
    if groups > 1:
        options.append(f'"ChannelGroups" -> {groups}')
    interleaving = d.chance(0.3)
    if interleaving or d.chance(0.2):
        options.append(f"Interleaving -> {interleaving}")
    bias = d.chance(0.75)
    if not bias:
        options.append('"Biases" -> None')
    if len(set(kernel)) == 1 and d.chance(0.5):
        size = str(kernel[0])  # rank from Dimensionality, Input or the input itself
        how = d.pick(("dimensionality", "input", "inferred"))
        if how == "dimensionality":
            options.append(f'"Dimensionality" -> {rank}')
        elif how == "input" and not interleaving:
            options.append(f'"Input" -> {_wl([m, *spatial])}')
    else:
        size = _wl(kernel)
    text = f"ConvolutionLayer[{', '.join([str(n), size, *options])}]"
    params = _params(
        stride=stride, dilation=dilation, groups=groups, padding=padding,
        channels_last=interleaving,
    )  # fmt: skip
    shape = [m, *spatial] if batch is None else [batch, m, *spatial]
    dtype = d.pick(("float32", "float64"), (75, 25))
    weight = [n, m // groups, *kernel]
    return _dialect_case(
        "wolfram", index, text, "conv", shape, weight, params, dtype, SEED + 10_000 + index, bias
    )


# -- MATLAB ----------------------------------------------------------------------------------

_MATLAB_VALUES = {
    "symmetric-include-edge": "symmetric",
    "symmetric-exclude-edge": "reflect",
    "replicate": "replicate",
}


def _matlab_padding(d: Draw, rank: int, extents: list[int], allow_causal: bool):
    """(MATLAB value, canonical padding) in the forms the pages list for this rank."""
    forms = ["int", "vector", "same"]
    if rank == 2:
        forms.append("tblr")
    if rank == 3:
        forms.append("matrix")
    if allow_causal and rank == 1:
        forms.append("causal")
    form = d.pick(forms)
    high = [max(e - 1, 1) for e in extents]
    if form in ("same", "causal"):
        return form, form
    if form == "int":
        p = d.int(0, min(high))
        return p, p
    if form == "tblr":  # [t b l r]
        t, b, left, r = d.int(0, high[0]), d.int(0, high[0]), d.int(0, high[1]), d.int(0, high[1])
        return [t, b, left, r], [[t, b], [left, r]]
    if form == "matrix":  # [t l f; b r k]: befores on the first row, afters on the second
        before, after = [d.int(0, h) for h in high], [d.int(0, h) for h in high]
        return [before, after], [list(p) for p in zip(before, after, strict=True)]
    if rank == 1:  # [l r]
        left, right = d.int(0, high[0]), d.int(0, high[0])
        return [left, right], [[left, right]]
    sizes = [d.int(0, h) for h in high]  # [a b] / [a b c]: the same on both sides
    return sizes, sizes


def _name_values(d: Draw, pairs: list[tuple[str, object]]) -> str:
    """`, 'Name', value` pairs; from a random point on, MATLAB's `Name=value` form (which
    MATLAB allows only after the comma-separated pairs)."""
    start = d.int(0, len(pairs)) if d.chance(0.3) else len(pairs)
    return "".join(
        f", {name}={_ml(value)}" if i >= start else f", '{name}', {_ml(value)}"
        for i, (name, value) in enumerate(pairs)
    )


def matlab_case(d: Draw, index: int) -> Case | None:
    """convolution1d/2d/3dLayer, groupedConvolution2dLayer (numGroups or 'channelwise'),
    transposedConv1d/2d/3dLayer; Stride, DilationFactor, Padding, PaddingValue, Cropping."""
    kind = d.pick(("conv", "grouped", "transposed"), (45, 25, 30))
    rank = 2 if kind == "grouped" else d.pick((1, 2, 3), (30, 45, 25))
    kernel = d.ints(rank, 1, KERNELS[rank])
    spatial, batch = _spatial_and_batch(d, rank)
    pairs: list[tuple[str, object]] = []
    stride = d.per_dim(rank, (2, 3), (40, 35, 25))
    if stride != 1 or d.chance(0.2):
        pairs.append(("Stride", stride))
    dilation = 1
    if kind != "transposed":
        dilation = d.per_dim(rank, (2, 3), (55, 25, 20))
        if dilation != 1 or d.chance(0.2):
            pairs.append(("DilationFactor", dilation))
    dil = dilation if isinstance(dilation, list) else [dilation] * rank
    extents = [(k - 1) * q + 1 for k, q in zip(kernel, dil, strict=True)]
    params = _params(stride=stride, dilation=dilation)
    size = _maybe_scalar(d, kernel)
    if kind == "grouped":
        channelwise = d.chance(0.4)
        groups = d.int(2, 4) if channelwise else d.pick((2, 3))
        per_group = d.int(1, 3)
        c = groups if channelwise else groups * d.int(1, 2)
        f = per_group * groups
        head = f"groupedConvolution2dLayer({_ml(size)}, {per_group}, "
        head += "'channelwise'" if channelwise else str(groups)
        params["groups"] = groups
    elif kind == "conv":
        c, f = (1, 1) if d.chance(0.25) else (d.int(1, 4), d.int(1, 4))
        head = f"convolution{rank}dLayer({_ml(size)}, {f}"
    else:
        c, f = (1, 1) if d.chance(0.25) else (d.int(1, 4), d.int(1, 4))
        head = f"transposedConv{rank}dLayer({_ml(size)}, {f}"
    if kind == "transposed":
        if d.chance(0.75):
            value, padding = _matlab_padding(d, rank, extents, False)
            pairs.append(("Cropping", value))
            params["padding"] = padding
        weight = [c, f, *kernel]
    else:
        if d.chance(0.8):
            value, padding = _matlab_padding(d, rank, extents, True)
            pairs.append(("Padding", value))
            params["padding"] = padding
        choice = d.pick(("none", "scalar", *_MATLAB_VALUES), (30, 15, 20, 20, 15))
        if choice == "scalar":
            value = d.pick((0, 1.5, -2))
            pairs.append(("PaddingValue", value))
            params["padding_value"] = float(value)
        elif choice != "none":
            pairs.append(("PaddingValue", choice))
            params["padding_mode"] = _MATLAB_VALUES[choice]
        weight = [f, c // params["groups"], *kernel]
    text = head + _name_values(d, pairs) + ")"
    shape = [c, *spatial] if batch is None else [batch, c, *spatial]
    dtype = d.pick(("float32", "float64"), (70, 30))
    op = "conv_transpose" if kind == "transposed" else "conv"
    return _dialect_case(
        "matlab", index, text, op, shape, weight, params, dtype, SEED + 20_000 + index, True
    )


# -- Keras -----------------------------------------------------------------------------------


def _keras_same_crop(extent: int, output_padding: int) -> list[int]:
    """Crops of Keras' transposed 'same' with an explicit output_padding: 2 (e // 2) in
    all, the smaller half, of what the output_padding leaves, at the start."""
    total = 2 * (extent // 2)
    before = max(total - output_padding, 0) // 2
    return [before, total - before]


def keras_case(d: Draw, index: int) -> Case | None:
    """Conv1D/2D/3D, Conv1D/2D/3DTranspose and DepthwiseConv1D/2D with strides, padding
    (valid, same, causal), data_format, dilation_rate, groups, depth_multiplier,
    output_padding and use_bias."""
    kind = d.pick(("conv", "transpose", "depthwise"), (50, 25, 25))
    rank = d.pick((1, 2), (40, 60)) if kind == "depthwise" else d.pick((1, 2, 3), (30, 45, 25))
    kernel = d.ints(rank, 1, KERNELS[rank])
    spatial, batch = _spatial_and_batch(d, rank, 0.9)
    batch = batch or 1  # Keras layers take batches
    options: list[str] = []
    stride = d.per_dim(rank, (2, 3), (45, 35, 20))
    dilation = 1
    if max(np.atleast_1d(stride)) == 1 or kind == "depthwise":  # Keras: not with stride > 1
        dilation = d.per_dim(rank, (2, 3), (45, 35, 20))
    if stride != 1 or d.chance(0.2):
        options.append(f"strides={_py(stride)}")
    if dilation != 1 or d.chance(0.2):
        options.append(f"dilation_rate={_py(dilation)}")
    pads = ["valid", "same"] + (["causal"] if kind == "conv" and rank == 1 else [])
    padding = d.pick(pads)
    if padding != "valid" or d.chance(0.3):
        options.append(f'padding="{padding}"')
    channels_first = d.chance(0.3)
    if channels_first:
        options.append('data_format="channels_first"')
    elif d.chance(0.2):
        options.append('data_format="channels_last"')
    bias = d.chance(0.75)
    if not bias:
        options.append("use_bias=False")
    size = _maybe_scalar(d, kernel)
    size_text = str(size) if isinstance(size, int) else _py(size)
    params = _params(stride=stride, dilation=dilation, padding=padding,
                     channels_last=not channels_first)  # fmt: skip
    dil = dilation if isinstance(dilation, list) else [dilation] * rank
    strides = stride if isinstance(stride, list) else [stride] * rank
    extents = [(k - 1) * q + 1 for k, q in zip(kernel, dil, strict=True)]
    op = "conv"
    if kind == "conv":
        groups = d.pick((1, 1, 2, 3))
        c, f = groups * d.int(1, 2), groups * d.int(1, 3)
        if d.chance(0.2):  # one channel: SciPy can check these too
            groups, c, f = 1, 1, 1
        if groups > 1:
            options.append(f"groups={groups}")
        params["groups"] = groups
        text = f"keras.layers.Conv{rank}D({f}, {size_text}, {', '.join(options)})"
        weight = [f, c // groups, *kernel]
    elif kind == "depthwise":
        c, multiplier = d.int(1, 4), d.pick((1, 1, 2))
        if multiplier > 1 or d.chance(0.2):
            options.append(f"depth_multiplier={multiplier}")
        params["groups"] = c
        text = f"keras.layers.DepthwiseConv{rank}D({size_text}, {', '.join(options)})"
        weight = [c * multiplier, 1, *kernel]
    else:
        op = "conv_transpose"
        c, f = (1, 1) if d.chance(0.2) else (d.int(1, 4), d.int(1, 4))
        if d.chance(0.35):  # Keras: output_padding < strides
            output_padding = [d.int(0, s - 1) for s in strides]
            options.append(f"output_padding={_py(output_padding)}")
            params["output_padding"] = output_padding
            if padding == "same":  # Keras: output (n-1)s + e - 2(e//2) + op, placed as
                # the adjoint of a 'same' convolution from that size (checked with Keras 3)
                params["padding"] = [
                    _keras_same_crop(e, p) for e, p in zip(extents, output_padding, strict=True)
                ]
            else:
                params["padding"] = "valid"
        elif padding == "valid" and any(e < s for e, s in zip(extents, strides, strict=True)):
            # Keras' 'valid' output is n * s + max(e - s, 0): zeros after a short kernel
            params["output_padding"] = [
                max(s - e, 0) for e, s in zip(extents, strides, strict=True)
            ]
        text = f"keras.layers.Conv{rank}DTranspose({f}, {size_text}, {', '.join(options)})"
        weight = [c, f, *kernel]
    text = text.replace(", )", ")")
    shape = [batch, c, *spatial]
    return _dialect_case(
        "keras", index, text, op, shape, weight, params, "float32", SEED + 30_000 + index, bias
    )


# -- files -----------------------------------------------------------------------------------

DRAWERS = {
    "canonical": canonical_case,
    "wolfram": wolfram_case,
    "matlab": matlab_case,
    "keras": keras_case,
}


def generate() -> dict[str, list[Case]]:
    """Every generated case, by dialect (one seeded stream per dialect)."""
    out = {}
    for offset, (dialect, drawer) in enumerate(DRAWERS.items()):
        out[dialect] = _drawn(drawer, Draw(SEED + offset), COUNTS[dialect])
    return out


def render(cases: list[Case]) -> str:
    """JSON with one case per line (readable diffs)."""
    head = {"generator": "python -m conformance.generate", "seed": SEED}
    lines = [json.dumps(case_to_dict(c), separators=(", ", ": ")) for c in cases]
    return json.dumps(head)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"


def paths() -> dict[str, Path]:
    return {dialect: CASES_DIR / f"generated-{dialect}.json" for dialect in DRAWERS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.generate")
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    stale = []
    for dialect, cases in generate().items():
        path, text = paths()[dialect], render(cases)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
            print(f"{path}: {len(cases)} cases")
    if stale:
        print("stale generated cases (run python -m conformance.generate):", *stale, sep="\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
