"""Dialect cases: layer text through `xconv.compat.parse`, run as that dialect's layer.

xconv's side of a dialect case is the whole dialect path: the text is parsed into the
dialect's layer, the case's weights are given the way that dialect gives them (Wolfram:
the "Weights" and "Biases" options written into the text; MATLAB: the `Weights` and
`Bias` properties; Keras: `build` and `set_weights`), and the layer runs on the input in
the dialect's data layout. The layouts are converted here, from the reference pages,
independently of `xconv.compat`; results come back in canonical layout.
"""

from __future__ import annotations

import math
import re

import numpy as np

from . import libraries
from .availability import NotAvailable
from .cases import Arrays, Case, canonical, present


def parser():
    """`xconv.compat.parse`, or NotAvailable while the adapters are not in this checkout."""
    try:
        from xconv.compat import parse
    except ImportError as error:
        raise NotAvailable(f"xconv.compat.parse is not available ({error})") from None
    return getattr(parse, "parse", parse)  # the function, also if the name is its module


def run(case: Case, arrays: Arrays, library: str = "numpy") -> dict[str, np.ndarray]:
    """The dialect's layer on the case's input, moved to `library` in the dialect's layout
    (on JAX arrays the layer's call is compiled with `jax.jit`, as JAX users run it)."""
    runners = {"wolfram": _wolfram, "matlab": _matlab, "keras": _keras}
    return runners[case.dialect](case, arrays, library)


def _call(layer, x, library: str, **options):
    return libraries.compiled(library, lambda x: layer(x, **options))(x)


def layer(case: Case, arrays: Arrays):
    """The case's layer as xconv reads its text, with the case's weights given the
    dialect's way (what `run` calls), its input channels known."""
    makers = {"wolfram": _wolfram_layer, "matlab": _matlab_layer, "keras": _keras_layer}
    made = makers[case.dialect](case, arrays)
    if case.dialect == "matlab":  # a 'channelwise' layer learns its groups from the data
        made.initialize(case.in_channels)
    return made


# -- Wolfram: weights as options in the text -----------------------------------------------


def _wolfram_number(value: float) -> str:
    text = repr(float(value))
    return text.replace("e", "*^") if "e" in text else text


def _wolfram_list(array: np.ndarray) -> str:
    if array.ndim == 0:
        return _wolfram_number(array)
    return "{" + ", ".join(_wolfram_list(a) for a in array) + "}"


def wolfram_text(case: Case, arrays: Arrays) -> str:
    """The case's layer text with `"Weights" -> {...}` (and `"Biases"`) added."""
    text = case.layer.rstrip()
    if not text.endswith("]"):
        raise ValueError(f"not a Wolfram layer call: {text!r}")
    extra = f', "Weights" -> {_wolfram_list(arrays.weight)}'  # Wolfram's (n, m/g, *k)
    if arrays.bias is not None:
        extra += f', "Biases" -> {_wolfram_list(arrays.bias)}'
    return text[:-1] + extra + "]"


def _wolfram_layer(case: Case, arrays: Arrays):
    return parser()(wolfram_text(case, arrays))


def _wolfram(case: Case, arrays: Arrays, library: str) -> dict[str, np.ndarray]:
    layer = _wolfram_layer(case, arrays)
    precision = "Real64" if case.dtype == "float64" else "Real32"
    x = libraries.to_library(library, present(case, arrays.x))
    y = libraries.to_numpy(_call(layer, x, library, WorkingPrecision=precision))
    weight, _ = layer.canonical_weights()
    return {
        "output": canonical(case, y),
        "weight_shape": tuple(np.shape(weight)),
        "weight_count": int(np.size(weight)),
    }


# -- MATLAB: Weights / Bias properties, S..SCB data ------------------------------------------


def _matlab_kind(case: Case) -> str:
    name = re.match(r"\s*(\w+)", case.layer).group(1)
    if name.startswith("grouped"):
        return "grouped"
    return "transposed" if name.startswith("transposed") else "conv"


def matlab_weights(case: Case, weight: np.ndarray, bias: np.ndarray | None):
    """Canonical weights in MATLAB's layouts (the pages' Weights and Bias sizes).

    Convolution `h x w x C x F`, transposed `h x w x F x C` (canonical `(C, F, *k)`):
    both are the canonical array with its two leading axes moved to the end, reversed.
    Grouped: `h x w x C/g x F/g x g`, bias `1 x 1 x F/g x g`.
    """
    rank, kind = case.rank, _matlab_kind(case)
    spatial = tuple(range(2, 2 + rank))
    if kind == "grouped":
        groups = case.params["groups"]
        f, per_group_c = weight.shape[:2]
        split = weight.reshape(groups, f // groups, per_group_c, *case.kernel)
        w = split.transpose(*(a + 1 for a in spatial), 2, 1, 0)
        b = None if bias is None else bias.reshape(groups, f // groups).T.reshape(1, 1, -1, groups)
        return w, b
    w = weight.transpose(*spatial, 1, 0)
    b = None if bias is None else bias.reshape((1,) * rank + (-1,))
    return w, b


def _sscb(case: Case, x: np.ndarray) -> np.ndarray:
    """Canonical `(N, C, *S)` (or `(C, *S)`) as MATLAB's `S..SCB` (or `S..SC`)."""
    rank = case.rank
    if case.batched:
        return x.transpose(*range(2, 2 + rank), 1, 0)
    return x.transpose(*range(1, 1 + rank), 0)


def _from_sscb(case: Case, y: np.ndarray) -> np.ndarray:
    rank = case.rank
    if case.batched:
        return y.transpose(rank + 1, rank, *range(rank))
    return y.transpose(rank, *range(rank))


def _matlab_layer(case: Case, arrays: Arrays):
    layer = parser()(case.layer)
    weights, bias = matlab_weights(case, arrays.weight, arrays.bias)
    layer.Weights = weights
    layer.Bias = bias if bias is not None else np.zeros((1,) * case.rank + (case.out_channels,))
    return layer


def _matlab(case: Case, arrays: Arrays, library: str) -> dict[str, np.ndarray]:
    layer = _matlab_layer(case, arrays)
    x = libraries.to_library(library, _sscb(case, arrays.x))
    y = libraries.to_numpy(_call(layer, x, library))
    canonical_weight, _ = layer.canonical_weights()
    return {
        "output": _from_sscb(case, y),
        "weight_shape": tuple(np.shape(canonical_weight)),
        "weight_count": int(np.size(layer.Weights)),
    }


# -- Keras: build + set_weights, channels-last data by default -------------------------------


def _keras_kind(case: Case) -> str:
    name = re.match(r"\s*([\w.]+)", case.layer).group(1).rsplit(".", 1)[-1]
    if name.startswith("Depthwise"):
        return "depthwise"
    return "transposed" if name.endswith("Transpose") else "conv"


def keras_weights(case: Case, weight: np.ndarray, depthwise: bool | None = None) -> np.ndarray:
    """Canonical weight -> Keras kernel: `(*k, C/g, F)`, transposed `(*k, F, C)` (the
    canonical `(C, F, *k)` reversed the same way), depthwise `(*k, C, multiplier)`;
    `depthwise` defaults to what the case's layer text says."""
    rank = case.rank
    spatial = tuple(range(2, 2 + rank))
    if depthwise is None:
        depthwise = _keras_kind(case) == "depthwise"
    if depthwise:
        channels = case.in_channels
        split = weight.reshape(channels, weight.shape[0] // channels, *case.kernel)
        return split.transpose(*spatial, 0, 1)
    return weight.transpose(*spatial, 1, 0)


def keras_weights_to_canonical(
    case: Case, kernel: np.ndarray, depthwise: bool | None = None
) -> np.ndarray:
    """The inverse of `keras_weights`: a Keras kernel (or its gradient) as `(F, C/g, *k)`;
    `depthwise` defaults to what the case's layer text says."""
    rank = case.rank
    if depthwise is None:
        depthwise = _keras_kind(case) == "depthwise"
    if depthwise:
        channels, multiplier = kernel.shape[-2:]
        moved = kernel.transpose(rank, rank + 1, *range(rank))
        return moved.reshape(channels * multiplier, 1, *case.kernel)
    return kernel.transpose(rank + 1, rank, *range(rank))


def _keras_layer(case: Case, arrays: Arrays):
    layer = parser()(case.layer)
    layer.build(present(case, arrays.x).shape)
    kernel = keras_weights(case, arrays.weight)
    layer.set_weights([kernel] + ([arrays.bias] if arrays.bias is not None else []))
    return layer


def _keras(case: Case, arrays: Arrays, library: str) -> dict[str, np.ndarray]:
    layer = _keras_layer(case, arrays)
    kernel = keras_weights(case, arrays.weight)
    x = libraries.to_library(library, present(case, arrays.x))
    y = libraries.to_numpy(_call(layer, x, library))
    weight, _ = layer.canonical_weights()
    return {
        "output": canonical(case, y),
        "weight_shape": tuple(np.shape(weight)),
        "weight_count": math.prod(kernel.shape),
    }
