"""Wolfram's `ConvolutionLayer` object: options, ports, inference of shapes, evaluation.

The public names (`ConvolutionLayer`, `NetInitialize`, `NetExtract`, ...) are in
`xconv.compat.wolfram`; option values are read by `_wolfram_args`; `_wolfram_translate`
writes a canonical spec as a `ConvolutionLayer`, and as Wolfram Language text.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..spec import ConvSpec
from ._layer import (
    CompatLayer,
    as_float_array,
    cast,
    check_real,
    namespace,
    run,
    shape_of,
)
from ._wolfram_args import (
    LAYER_NAME,
    PRECISIONS,
    Automatic,
    Varying,
    failure,
    is_automatic,
    is_sequence,
    learning_rates,
    padding_of,
    per_dimension,
    positive_int,
)


class ConvolutionLayer(CompatLayer):
    """`ConvolutionLayer[n, s, opts]`: `n` output channels, kernels of size `s`.

    `s` is an int (the rank then comes from `Dimensionality`, `Input` or `Weights`) or a
    list of 1, 2 or 3 ints. Call the layer on one example `(m, *spatial)` (channels
    last with `Interleaving=True`), on a batch with one more leading axis, or on a list
    of examples (each may have its own size); `output_shape(dims)` gives the output
    dimensions of one example, with None for "Varying".

    Parameters
    ----------
    n : int
        The number of output channels.
    s : int or sequence of int
        The kernel's size: an int (the rank then comes from `Dimensionality`, `Input` or
        `Weights`) or a list of 1, 2 or 3 ints.
    Weights : array or Automatic
        `{n, m/g, *s}` kernels for `m` input channels in `g` groups; Automatic until
        `NetInitialize` draws them.
    Biases : array, None or Automatic
        `{n}` biases; None for none; Automatic: zero when `Weights` are given, drawn by
        `NetInitialize` otherwise.
    ChannelGroups : int, default 1
        Channel groups; `n` and the input channels must be multiples of it.
    Dilation : int or sequence of int, default 1
        The spacing between kernel taps.
    Dimensionality : int or Automatic
        The spatial rank, where `s` is an int and nothing else gives it.
    Interleaving : bool, default False
        Data with channels last (`{h, w, m}`) instead of first.
    LearningRateMultipliers : object, optional
        Kept for translation (to MATLAB's learning-rate factors); no effect here.
    PaddingSize : int, sequence or "Same", default 0
        Zeros on both sides of each axis: one int, one per axis, `{{b, a}, ...}` pairs,
        or `"Same"` (the output `ceil(n / stride)`, an odd total's extra at the end).
    Stride : int or sequence of int, default 1
        The step of the window.
    Input : sequence or Automatic
        The input's dimensions `{m, *spatial}` (`"Varying"` or None for a size that may
        change).

    Raises
    ------
    ValueError
        An option Wolfram Language refuses, in its words.

    Examples
    --------
    >>> from xconv.compat.wolfram import ConvolutionLayer
    >>> layer = ConvolutionLayer(16, [2, 3], Stride=2, Dilation=[3, 4], PaddingSize=[1, 2],
    ...                          Input=[3, 256, 252])
    >>> layer.output_shape()
    (16, 128, 124)
    """

    dialect = "wolfram"

    def __init__(
        self,
        n: int,
        s: int | Sequence[int],
        *,
        Weights: Any = Automatic,
        Biases: Any = Automatic,
        ChannelGroups: int = 1,
        Dilation: int | Sequence[int] = 1,
        Dimensionality: int | Any = Automatic,
        Interleaving: bool = False,
        LearningRateMultipliers: Any = Automatic,
        PaddingSize: Any = 0,
        Stride: int | Sequence[int] = 1,
        Input: Any = Automatic,
    ) -> None:
        self.OutputChannels = positive_int(n, "the number of output channels n")
        self.ChannelGroups = positive_int(ChannelGroups, "'ChannelGroups'")
        if self.OutputChannels % self.ChannelGroups:
            raise failure(
                f"'ChannelGroups' -> {self.ChannelGroups} does not divide the "
                f"{self.OutputChannels} output channels"
            )
        if not isinstance(Interleaving, bool):
            raise failure(f"Interleaving should be True or False, but was {Interleaving!r}")
        self.Interleaving = Interleaving
        weights = (
            None
            if Weights is None or is_automatic(Weights)
            else as_float_array(Weights, f"{LAYER_NAME}: Weights")
        )
        self.Biases = (
            None
            if Biases is None
            else (
                Automatic
                if is_automatic(Biases)
                else as_float_array(Biases, f"{LAYER_NAME}: Biases")
            )
        )
        self._rank = self._infer_rank(s, Dimensionality, Input, weights)
        self._kernel_arg = s
        self._stride_arg, self._dilation_arg, self._padding_arg = Stride, Dilation, PaddingSize
        self._input_arg = Input
        self._channels: int | None = None
        self._spatial_in: tuple | None = None
        if self._rank is not None:
            self._settle()
        self.Weights = Automatic
        self.LearningRateMultipliers = learning_rates(LearningRateMultipliers)
        if weights is not None:
            self._set_weights(weights)
        biases = self.Biases
        has_biases = biases is not None and biases is not Automatic
        if has_biases and shape_of(biases) != (self.OutputChannels,):
            raise failure(
                f'the value of "Biases" should be a vector of length '
                f"{self.OutputChannels}, but has dimensions {shape_of(self.Biases)}"
            )

    # -- parameters --------------------------------------------------------------------

    def _infer_rank(self, s, dimensionality, input_dims, weights) -> int | None:
        claims = {}
        if is_sequence(s):
            if not 1 <= len(s) <= 3:
                raise failure(
                    f"the kernel size should be an integer or a list of 1 to 3 "
                    f"integers, but was {list(s)}"
                )
            claims["the kernel size"] = len(s)
        elif not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise failure(
                f"the kernel size should be an integer or a list of integers, but was {s!r}"
            )
        if not is_automatic(dimensionality) and dimensionality is not None:
            claims['"Dimensionality"'] = positive_int(dimensionality, '"Dimensionality"')
        if not is_automatic(input_dims) and input_dims is not None:
            if not is_sequence(input_dims) or len(input_dims) < 2:
                raise failure(
                    f'"Input" should be a list of dimensions {{m, d1, ...}}, but was {input_dims!r}'
                )
            claims['"Input"'] = len(input_dims) - 1
        if weights is not None:
            claims['"Weights"'] = len(weights.shape) - 2
        ranks = set(claims.values())
        if len(ranks) > 1:
            stated = ", ".join(f"{k} implies {v}" for k, v in claims.items())
            raise failure(f"inconsistent dimensionality: {stated}")
        if ranks and not 1 <= min(ranks) <= 3:
            raise failure(
                f"convolutions of {min(ranks)} spatial dimensions are not supported (1 to 3 are)"
            )
        return ranks.pop() if ranks else None

    def _settle(self) -> None:
        """Normalise every per-dimension parameter once the rank is known."""
        rank = self._rank
        s = self._kernel_arg
        self.KernelSize = tuple(per_dimension(s, rank, "the kernel size", 1))
        self.Stride = tuple(per_dimension(self._stride_arg, rank, '"Stride"', 1))
        self.Dilation = tuple(per_dimension(self._dilation_arg, rank, '"Dilation"', 1))
        self.PaddingSize = padding_of(self._padding_arg, rank)
        self.Dimensionality = rank
        if not is_automatic(self._input_arg) and self._input_arg is not None:
            dims = [None if d is None or d == Varying else d for d in self._input_arg]
            channels = dims[-1] if self.Interleaving else dims[0]
            spatial = dims[:-1] if self.Interleaving else dims[1:]
            for d in spatial:
                if d is not None:
                    positive_int(d, 'every dimension of "Input"')
            self._spatial_in = tuple(spatial)
            self._set_channels(positive_int(channels, 'the channel dimension of "Input"'))

    def _set_channels(self, m: int) -> None:
        if self._channels is not None and m != self._channels:
            raise failure(f"the input has {m} channels, but the layer expects {self._channels}")
        if m % self.ChannelGroups:
            raise failure(
                f"'ChannelGroups' -> {self.ChannelGroups} does not divide the {m} input channels"
            )
        self._channels = m

    def _set_weights(self, weights) -> None:
        shape = shape_of(weights)
        expected = (self.OutputChannels, None, *self.KernelSize)
        if len(shape) != len(expected) or any(
            e is not None and e != d for e, d in zip(expected, shape, strict=True)
        ):
            want = ", ".join("m/g" if e is None else str(e) for e in expected)
            raise failure(
                f'the value of "Weights" should have dimensions {{{want}}}, but has '
                f"dimensions {list(shape)}"
            )
        self._set_channels(shape[1] * self.ChannelGroups)
        self.Weights = weights
        if self.Biases is Automatic:
            xp = namespace(weights)
            self.Biases = xp.zeros((self.OutputChannels,), dtype=weights.dtype)

    @property
    def initialized(self) -> bool:
        """True when the weights are known (given, or set by `NetInitialize`)."""
        return self.Weights is not Automatic

    @property
    def InputChannels(self) -> int | None:
        return self._channels

    def _need_rank(self) -> int:
        if self._rank is None:
            raise failure(
                "the dimensionality of the convolution is not known; give the kernel size as "
                'a list, or specify "Dimensionality", "Input" or "Weights"'
            )
        return self._rank

    # -- the canonical description -------------------------------------------------------

    @property
    def spec(self) -> ConvSpec:
        """The layer as an `xconv.ConvSpec` (zero padding, channels-last if interleaved)."""
        self._need_rank()
        return ConvSpec(
            self.KernelSize,
            stride=self.Stride,
            padding="same" if self.PaddingSize == "Same" else self.PaddingSize,
            dilation=self.Dilation,
            groups=self.ChannelGroups,
            channels_last=self.Interleaving,
            in_channels=self._channels,
            out_channels=self.OutputChannels,
        )

    def canonical_weights(self) -> tuple[Any, Any]:
        """`(Weights, Biases)`: Wolfram's layout is xconv's (`{n, m/g, *s}` and `{n}`)."""
        self._require_initialized()
        return self.Weights, self.Biases

    @property
    def has_bias(self) -> bool:
        """Whether the layer has biases (`Biases -> None` has none)."""
        return self.Biases is not None

    def portable(self) -> dict[str, Any]:
        """The learning-rate multipliers, for a translation (to MATLAB's factors)."""
        rates = self.LearningRateMultipliers
        out: dict[str, Any] = {}
        if rates.get("Weights", 1) != 1:
            out["weight_learn_rate"] = rates["Weights"]
        if rates.get("Biases", 1) != 1:
            out["bias_learn_rate"] = rates["Biases"]
        return out

    def _require_initialized(self) -> None:
        self._need_rank()
        if not self.initialized:
            known = "known" if self._channels is not None else "not known"
            raise failure(
                'the layer is not initialized: its "Weights" are Automatic and the number '
                f'of input channels is {known}. Specify "Weights" -> an array of dimensions '
                '{n, m/g, *k}, or use NetInitialize(layer) once "Input" fixes the channels'
            )

    # -- shapes --------------------------------------------------------------------------

    def output_shape(self, input_dims: Sequence | None = None) -> tuple:
        """Output dimensions of one example, `(n, *d')` (or `(*d', n)` interleaved).

        `input_dims` is `(m, d1, ...)` (or `(d1, ..., m)`); None or `"Varying"` marks a
        varying size, which stays None in the result. Without it, the `Input` option.
        """
        rank = self._need_rank()
        if input_dims is None:
            if self._spatial_in is None:
                raise failure('the input dimensions are not known; specify "Input" or pass them')
            input_dims = (
                (*self._spatial_in, self._channels)
                if self.Interleaving
                else (self._channels, *self._spatial_in)
            )
        dims = tuple(None if d is None or d == Varying else d for d in input_dims)
        if len(dims) != rank + 1:
            raise failure(
                f"the input should be an array of rank {rank + 1} (channels and "
                f"{rank} spatial dimensions), but has dimensions {list(input_dims)}"
            )
        channels = dims[-1] if self.Interleaving else dims[0]
        spatial = dims[:-1] if self.Interleaving else dims[1:]
        if channels is not None:
            self._check_input_channels(channels)
        self._check_fits(spatial)
        out = self.spec.output_spatial(spatial)
        return (*out, self.OutputChannels) if self.Interleaving else (self.OutputChannels, *out)

    def _check_input_channels(self, m: int) -> None:
        if m % self.ChannelGroups:
            raise failure(
                f"'ChannelGroups' -> {self.ChannelGroups} does not divide the {m} input channels"
            )
        if self._channels is not None and m != self._channels:
            raise failure(f"the input has {m} channels, but the layer expects {self._channels}")

    def _check_fits(self, spatial: Sequence) -> None:
        pads = self.spec.resolve_padding(spatial)
        for i, (d, pad) in enumerate(zip(spatial, pads, strict=True)):
            if d is None or pad is None:
                continue
            extent = (self.KernelSize[i] - 1) * self.Dilation[i] + 1
            if extent > d + pad[0] + pad[1]:
                raise failure(
                    f"the kernel size {self.KernelSize[i]} (spanning {extent} with dilation "
                    f"{self.Dilation[i]}) cannot be larger than the input dimension {d} plus "
                    f"padding {pad[0] + pad[1]} (dimension {i + 1})"
                )

    # -- evaluation ----------------------------------------------------------------------

    def __call__(
        self,
        x,
        *,
        WorkingPrecision: str = "Real32",
        TargetDevice: str = "CPU",
        BatchSize: int | Any = Automatic,
        NetEvaluationMode: str = "Test",
        RandomSeeding: Any = "Inherited",
    ):
        """Apply the layer to one example, a batch, or a list of examples."""
        if WorkingPrecision not in PRECISIONS:
            raise failure(
                f"WorkingPrecision should be one of {list(PRECISIONS)}, but was "
                f"{WorkingPrecision!r}"
            )
        if TargetDevice not in ("CPU", "GPU") and not is_sequence(TargetDevice):
            raise failure(f'TargetDevice should be "CPU" or "GPU", but was {TargetDevice!r}')
        if NetEvaluationMode not in ("Test", "Train"):
            raise failure(
                f'NetEvaluationMode should be "Test" or "Train", but was {NetEvaluationMode!r}'
            )
        options = {"WorkingPrecision": WorkingPrecision, "BatchSize": BatchSize}
        if isinstance(x, (list, tuple)) and x and all(hasattr(e, "shape") for e in x):
            return [self._evaluate(e, options, allow_batch=False) for e in x]
        x = check_real(
            x, f"{LAYER_NAME} cannot accept symbolic inputs: expected real numeric arrays"
        )
        if isinstance(x, np.ndarray) and x.dtype == object:
            raise TypeError(f"{LAYER_NAME} cannot accept symbolic inputs")
        return self._evaluate(x, options, allow_batch=True)

    def _evaluate(self, x, options, *, allow_batch: bool):
        rank = self._need_rank()
        self._require_initialized()
        if x.ndim not in ((rank + 1, rank + 2) if allow_batch else (rank + 1,)):
            raise failure(
                f"the input should be an array of rank {rank + 1} (one example) or "
                f"{rank + 2} (a batch), but has dimensions {list(shape_of(x))}"
            )
        xp = namespace(x)
        if xp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"{LAYER_NAME} cannot accept complex inputs")
        example = shape_of(x)[-rank - 1 :]
        channels = example[-1] if self.Interleaving else example[0]
        self._check_input_channels(channels)
        self._check_fits(example[:-1] if self.Interleaving else example[1:])
        dtype = PRECISIONS[options["WorkingPrecision"]]
        weight, bias = cast(self.Weights, dtype), self.Biases
        bias = None if bias is None else cast(bias, dtype)
        x = cast(x, dtype)
        batch = options["BatchSize"]
        if x.ndim == rank + 2 and not is_automatic(batch) and batch is not None:
            size = positive_int(batch, "BatchSize")
            parts = [
                run(self.spec, x[i : i + size, ...], weight, bias, prepared=self.prepared_weights)
                for i in range(0, x.shape[0], size)
            ]
            y = xp.concat(parts, axis=0)
        else:
            y = run(self.spec, x, weight, bias, prepared=self.prepared_weights)
        return cast(y, "float32") if dtype == "float16" else y

    def __repr__(self) -> str:
        kernel = list(self.KernelSize) if self._rank is not None else self._kernel_arg
        state = "" if self.initialized else ", <uninitialized>"
        return f"ConvolutionLayer[{self.OutputChannels}, {kernel}{state}]"
