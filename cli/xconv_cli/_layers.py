"""What the command line needs of a dialect layer: build it, shape it, feed it, seed it.

Each dialect keeps data in its own order (Wolfram channels first without a batch unless
`Interleaving`, MATLAB `S..S x C x N`, Keras with a batch and channels last unless
`data_format` says otherwise, PyTorch `N x C x S..S` with the batch optional); the
functions here move between that order, images `(H, W, C)` and the canonical `(N, C, *S)`
the planner reads. No convolution math here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from xconv import ConvSpec
from xconv.compat import matlab, pytorch, wolfram
from xconv.compat.parse import parse as parse_layer
from xconv.compat.parse import read

from ._stream import available_memory


class UsageError(ValueError):
    """Input that does not fit the layer: shapes, channel counts, ranks."""


@dataclass
class Layer:
    """A layer built from text, with its dialect."""

    dialect: str
    text: str
    obj: object
    pending_weights: list | None = None  # Keras weights to set once the layer is built

    @property
    def rank(self) -> int | None:
        if self.dialect == "wolfram":
            return self.obj._rank
        return self.obj.RANK


def build(text: str, weights: np.ndarray | None = None, bias: np.ndarray | None = None) -> Layer:
    """The layer `text` writes, with `weights` / `bias` (in the dialect's layout) if given."""
    call = read(text)
    if call.dialect == "pytorch":
        layer = Layer(call.dialect, text, parse_layer(text))
        if weights is not None:
            if bias is None and layer.obj.use_bias:
                raise UsageError(
                    "the layer has a bias: give it with --bias FILE (or write the layer "
                    "without one: bias=False, or no bias argument)"
                )
            layer.obj.set_weights(weights, bias)
        elif bias is not None:
            raise UsageError("a PyTorch layer takes --bias with --weights")
        return layer
    if call.dialect == "keras" or (weights is None and bias is None):
        layer = Layer(call.dialect, text, parse_layer(text))
        if call.dialect == "keras" and (weights is not None or bias is not None):
            if weights is None:
                raise UsageError("a Keras layer takes --weights (its kernel) with --bias")
            layer.pending_weights = [w for w in (weights, bias) if w is not None]
        return layer
    options = dict(call.options)
    names = ("Weights", "Biases") if call.dialect == "wolfram" else ("Weights", "Bias")
    for name, value in zip(names, (weights, bias), strict=True):
        if value is not None:
            options = {k: v for k, v in options.items() if k.lower() != name.lower()}
            options[name] = value
    module = wolfram if call.dialect == "wolfram" else matlab
    if call.dialect == "wolfram":
        obj = module.ConvolutionLayer(*call.args, **options)
    else:
        obj = getattr(module, call.name)(*call.args, **options)
    return Layer(call.dialect, text, obj)


# -- shapes --------------------------------------------------------------------------------


def output_shape(layer: Layer, shape: tuple) -> tuple:
    """The output shape for an input shape in the dialect's own order."""
    obj = layer.obj
    if layer.dialect == "wolfram":
        return tuple(_wolfram_with_input(layer, shape).output_shape())
    if layer.dialect == "keras":
        _check_keras_rank(obj, shape)
        return tuple(obj.compute_output_shape(shape))
    spec, canonical = canonical_problem(layer, shape)
    out = spec.output_shape(canonical)
    if layer.dialect == "pytorch":
        return tuple(out) if len(shape) == spec.rank + 2 else tuple(out[1:])
    return _matlab_order(out, batched=len(shape) == spec.rank + 2)


def canonical_problem(layer: Layer, shape: tuple) -> tuple[ConvSpec, tuple]:
    """The layer's `ConvSpec` (channels known) and the input shape in the spec's order."""
    obj = layer.obj
    if layer.dialect == "wolfram":
        batched = layer.rank is not None and len(shape) == layer.rank + 2
        probe = _wolfram_with_input(layer, shape[1:] if batched else shape)
        return probe.spec, tuple(shape)
    if layer.dialect == "keras":
        _check_keras_rank(obj, shape)
        if not obj.built:
            obj.build(shape)
        return obj.spec, tuple(shape)
    rank = obj.RANK
    if layer.dialect == "pytorch":
        return _pytorch_problem(obj, shape)
    if len(shape) == rank:  # MATLAB's trailing singleton: an H x W image is H x W x 1
        shape = (*shape, 1)
    if len(shape) not in (rank + 1, rank + 2):
        raise UsageError(
            f"a {rank}-d MATLAB layer takes {'x'.join(['S'] * rank)}[xC[xN]] input, got "
            f"{len(shape)} sizes"
        )
    spatial, channels = shape[:rank], shape[rank]
    batch = shape[rank + 1] if len(shape) == rank + 2 else 1
    if channels is None:
        raise UsageError("the channel count of the input must be known")
    obj.initialize(channels)  # fixes the channel count; fills only missing weights
    return obj.spec, (batch, channels, *spatial)


def _pytorch_problem(obj, shape: tuple) -> tuple[ConvSpec, tuple]:
    rank = obj.RANK
    if len(shape) not in (rank + 1, rank + 2):
        raise UsageError(
            f"Expected {rank + 1}D (unbatched) or {rank + 2}D (batched) input to "
            f"{type(obj).__name__}, got {len(shape)} sizes"
        )
    channels = shape[-rank - 1]
    if channels is None:
        raise UsageError("the channel count of the input must be known")
    if getattr(obj, "in_channels", 0) is None:  # a lazy module: fix its channels
        if channels % obj.groups:
            raise UsageError(f"in_channels ({channels}) must be divisible by groups")
        obj.in_channels = channels
    spec = obj.spec
    if channels != spec.in_channels:
        raise UsageError(
            f"{type(obj).__name__} expects input with {spec.in_channels} channels, but got "
            f"{channels} channels"
        )
    return spec, (1, *shape) if len(shape) == rank + 1 else tuple(shape)


def _check_keras_rank(obj, shape: tuple) -> None:
    if len(shape) != obj.RANK + 2:
        raise UsageError(
            f"Input 0 of layer {type(obj).__name__} is incompatible with the layer: expected "
            f"ndim={obj.RANK + 2} (batch, spatial..., channels), found ndim={len(shape)}"
        )


def _matlab_order(canonical_out: tuple, batched: bool) -> tuple:
    n, f, *spatial = canonical_out
    return (*spatial, f, n) if batched else (*spatial, f)


def _wolfram_with_input(layer: Layer, shape: tuple):
    """The layer as written, with its "Input" dimensions fixed to `shape` (one example)."""
    call = read(layer.text)
    options = {k: v for k, v in call.options.items() if k != "Input"}
    return wolfram.ConvolutionLayer(*call.args, **options, Input=list(shape))


_ORDERS = {
    "wolfram": "CxHxW, or HxWxC with Interleaving -> True",
    "matlab": "HxWxC, or HxWxCxN",
    "keras": "NxHxWxC (channels_last) or NxCxHxW (channels_first)",
    "pytorch": "NxCxHxW, or CxHxW",
}


def order_warning(layer: Layer, spec: ConvSpec, canonical: tuple) -> str | None:
    """A warning when an input shape reads oddly in the layer's order: as many channels as
    the largest spatial size or more, while some spatial size is 4 or less, as another
    dialect's order
    (PyTorch's 1x3x224x224 given to a MATLAB layer) reads."""
    shape = tuple(canonical)
    if len(shape) == spec.rank + 1:
        shape = (1, *shape)
    channels, spatial = (shape[-1], shape[1:-1]) if spec.channels_last else (shape[1], shape[2:])
    if channels is None or any(n is None for n in spatial):
        return None
    if channels < max(spatial) or min(spatial) > 4:
        return None
    sizes = "x".join(map(str, spatial))
    likely = min((n for n in spatial if n > 1), default=min(spatial))  # 1 is a batch's size
    return (
        f"this shape reads as {channels} channels of {sizes} samples in {layer.dialect}'s "
        f"order ({_ORDERS[layer.dialect]}); if the data have {likely} channels, write "
        "the shape in that order"
    )


def parameter_count(spec: ConvSpec, has_bias: bool) -> int:
    taps = math.prod(spec.kernel_size)
    if spec.transposed:
        weights = spec.in_channels * (spec.out_channels // spec.groups) * taps
    else:
        weights = spec.out_channels * (spec.in_channels // spec.groups) * taps
    return weights + (spec.out_channels if has_bias else 0)


# -- data ----------------------------------------------------------------------------------


def image_to_input(layer: Layer, image: np.ndarray) -> np.ndarray:
    """An `(H, W, C)` image in the layer's data order."""
    if layer.rank not in (None, 2):
        raise UsageError(f"an image is 2-d data, but the layer is {layer.rank}-d")
    if layer.dialect == "wolfram":
        return image if layer.obj.Interleaving else np.moveaxis(image, -1, 0)
    if layer.dialect == "matlab":
        return image
    if layer.dialect == "pytorch":
        return np.moveaxis(image, -1, 0)
    first = layer.obj.data_format == "channels_first"
    return (np.moveaxis(image, -1, 0) if first else image)[None]


def output_to_image(layer: Layer, y: np.ndarray) -> np.ndarray:
    """The layer's output for one image as `(H, W, C)`."""
    if layer.dialect == "wolfram":
        return y if layer.obj.Interleaving else np.moveaxis(y, 0, -1)
    if layer.dialect == "matlab":
        return y
    if layer.dialect == "pytorch":
        return np.moveaxis(y, 0, -1)
    y = y[0]
    return np.moveaxis(y, 0, -1) if layer.obj.data_format == "channels_first" else y


def random_input(shape: tuple, seed: int) -> np.ndarray:
    if any(s is None for s in shape):
        raise UsageError("--input-shape must give every size to make random data")
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


# a run's input, output and working copies (padding, layouts: about two more of each)
COPIES = 3


def check_fits(layer: Layer, shape: tuple) -> None:
    """UsageError, before allocating, for a run whose input, output and working copies
    cannot fit in memory. (Weights too large to draw end as a MemoryError, which the
    command reports in one line: sizing them here would draw them.)"""
    out_shape = output_shape(layer, shape)
    if any(s is None for s in (*shape, *out_shape)):
        return  # random_input says what is missing
    nbytes = COPIES * 4 * (math.prod(shape) + math.prod(out_shape))
    available = available_memory()
    if available is not None and nbytes > available:
        raise UsageError(
            f"a {'x'.join(map(str, shape))} input needs about {nbytes / 2**30:.3g} GiB "
            f"(input, output and working copies); {available / 2**30:.3g} GiB of memory "
            "are available"
        )


def weights_source(layer: Layer, given: str | None, seed: int) -> str:
    """Where a run's weights come from: a file, the layer text, or an initializer (which,
    and its seed): a run on random weights must say so."""
    if given:
        return f"from {given}"
    obj = layer.obj
    if layer.dialect == "wolfram":
        if obj.initialized:
            return "in the layer text"
        return f"random: NetInitialize's default, seed {seed}"
    if layer.dialect == "matlab":
        if obj.Weights is not None and np.size(obj.Weights):
            return "in the layer text"
        return f"random: WeightsInitializer {obj.WeightsInitializer!r}, seed {seed}"
    if layer.dialect == "keras":
        names = ("kernel_initializer", "depthwise_initializer")
        initializer = next(getattr(obj, n) for n in names if getattr(obj, n, None) is not None)
        return f"random: {type(initializer).__name__}, seed {seed}"
    creators = getattr(obj, "_creators", {})
    if "weight" in creators:
        return f"random: torch.{creators['weight'].creator} as written, seed {seed}"
    if getattr(obj, "_weight", None) is not None:
        return "in the layer text"
    return f"random: kaiming_uniform (PyTorch's default), seed {seed}"


def seed_initializers(layer: Layer, seed: int) -> None:
    """Seed the dialect's initializers before anything can draw from them (a MATLAB
    layer draws its weights when its channels are first known, by a shape check too)."""
    obj = layer.obj
    if layer.dialect == "matlab":
        matlab.rng(seed)
    elif layer.dialect == "pytorch":
        pytorch.manual_seed(seed)
    elif layer.dialect == "keras":
        names = ("kernel_initializer", "depthwise_initializer", "bias_initializer")
        for initializer in (getattr(obj, name, None) for name in names):
            if getattr(initializer, "seed", 0) is None:  # an unseeded initializer
                initializer.seed = seed


def prepare(layer: Layer, x: np.ndarray, seed: int) -> Layer:
    """Fill the weights the user did not give with the dialect's initializer, seeded."""
    obj = layer.obj
    if layer.dialect == "wolfram":
        if not obj.initialized:
            dims = list(x.shape[1:] if x.ndim == (obj._rank or 0) + 2 else x.shape)
            layer.obj = wolfram.NetInitialize(
                _wolfram_with_input(layer, tuple(dims)) if obj._rank is None else obj,
                RandomSeeding=seed,
                Input=dims,
            )
        return layer
    seed_initializers(layer, seed)
    if layer.dialect != "keras":
        return layer
    if layer.pending_weights is not None:
        if not obj.built:
            obj.build(x.shape)
        obj.set_weights(layer.pending_weights)
        layer.pending_weights = None
    return layer


def run(layer: Layer, x: np.ndarray) -> np.ndarray:
    return np.asarray(layer.obj(x))


def run_lazy(layer: Layer, x):
    """The layer on a Dask array: a Dask array, computed only when it is written."""
    return layer.obj(x)


def spec_of(layer: Layer, x_shape: tuple) -> tuple[ConvSpec, tuple]:
    """The spec and canonical-order input shape of a prepared layer about to run."""
    return canonical_problem(layer, x_shape)
