"""`ConvSpec`: the one canonical description of a convolution.

Every dialect adapter translates into a `ConvSpec`; every algorithm reads one. The spec
normalises user input (ints to per-dimension tuples, padding forms to `(before, after)`
pairs once the input size is known), computes output shapes (with `None` for sizes that
cannot be known), and validates. It holds no arrays and imports no array library.
"""

from __future__ import annotations

import cmath
import dataclasses
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

PADDING_STRINGS = ("valid", "same", "same_lower", "full", "causal")
TRANSPOSED_PADDING_STRINGS = ("valid", "same")
PADDING_MODES = ("constant", "reflect", "symmetric", "replicate", "circular")
# no array holds more elements than this (2**62 bytes of int8 already exceed any machine)
LARGEST_ELEMENTS = 2**62

Size = int | None
Pair = tuple[int, int]


def is_int(value: object) -> bool:
    if type(value) is int:  # the common case, without the slower ABC check
        return True
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_bool(value: object) -> bool:
    """A Python or NumPy boolean (never a truthy string or number)."""
    return isinstance(value, bool) or type(value).__name__ in ("bool", "bool_")


def per_dimension(value: object, rank: int, name: str, *, minimum: int) -> tuple[int, ...]:
    """Normalise an int or a sequence of `rank` ints to a tuple, checking the lower bound."""
    if is_int(value):
        values = (int(value),) * rank
    elif type(value) is tuple or (isinstance(value, Sequence) and not isinstance(value, str)):
        if len(value) != rank or not all(is_int(v) for v in value):
            raise ValueError(
                f"{name} must be an int or {rank} ints (one per spatial dimension), got {value!r}"
            )
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be >= {minimum} in every dimension, got {value!r}")
    return values


def normalize_padding(padding: object, rank: int, *, transposed: bool = False) -> str | tuple:
    """Return a padding string or a tuple of `rank` `(before, after)` pairs."""
    if isinstance(padding, str):
        allowed = TRANSPOSED_PADDING_STRINGS if transposed else PADDING_STRINGS
        key = padding.lower()
        if key not in allowed:
            raise ValueError(f"padding must be one of {allowed} or sizes, got {padding!r}")
        return key
    if is_int(padding):
        pairs = ((int(padding), int(padding)),) * rank
    elif isinstance(padding, Sequence) and len(padding) == rank:
        pairs = tuple(_padding_pair(p, padding) for p in padding)
    else:
        raise ValueError(
            f"padding must be an int, {rank} ints, {rank} (before, after) pairs or a string, "
            f"got {padding!r}"
        )
    if any(p < 0 for pair in pairs for p in pair):
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return pairs


def _padding_pair(item: object, whole: object) -> Pair:
    if is_int(item):
        return (int(item), int(item))
    if isinstance(item, Sequence) and len(item) == 2 and all(is_int(v) for v in item):
        return (int(item[0]), int(item[1]))
    raise ValueError(
        f"padding entries must be ints or (before, after) pairs of ints, got {whole!r}"
    )


@dataclass(frozen=True)
class ConvSpec:
    """Canonical convolution parameters (cross-correlation, channel-first weights).

    The one description of a convolution that every dialect translates into and every
    operation runs. Integer or per-dimension arguments are normalised to tuples;
    `padding` becomes a string (resolved against the input size by `resolve_padding`)
    or `(before, after)` pairs.

    Parameters
    ----------
    kernel_size : tuple of int
        The kernel's spatial size; its length is the spatial rank.
    stride : int or tuple of int, default 1
        The step between windows per axis.
    padding : int, str, tuple of int or tuple of (int, int), default 0
        As `xconv.conv` takes it; for a transposed spec, the cropping.
    dilation : int or tuple of int, default 1
        The spacing between kernel taps per axis.
    groups : int, default 1
        Channel groups.
    padding_mode : {"constant", "reflect", "symmetric", "replicate", "circular"}
        How the padding is filled (forward specs).
    padding_value : float or complex, default 0.0
        The value of constant padding.
    channels_last : bool, default False
        Whether data have their channel axis last.
    transposed : bool, default False
        A transposed convolution: weights `(C, F // groups, *kernel_size)`, `padding`
        read as the cropping of the full transposed output.
    output_padding : int or tuple of int, default 0
        Samples added at the end of a transposed output.
    in_channels, out_channels : int, optional
        The channel counts, when known (the weight supplies them otherwise).

    Raises
    ------
    ValueError
        A size, padding or option that does not fit, named with its values.
    TypeError
        An argument of the wrong kind, named.

    Examples
    --------
    >>> spec = ConvSpec((2, 3), stride=2, dilation=(3, 4), padding=(1, 2))
    >>> spec.output_shape((5, 256, 252))[1:]
    (128, 124)
    >>> ConvSpec((3, 3), padding="same", stride=2).resolve_padding((7, 8))
    ((1, 1), (0, 1))
    """

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] = 1  # type: ignore[assignment]
    padding: str | tuple[Pair, ...] = 0  # type: ignore[assignment]
    dilation: tuple[int, ...] = 1  # type: ignore[assignment]
    groups: int = 1
    padding_mode: str = "constant"
    padding_value: float | complex = 0.0
    channels_last: bool = False
    transposed: bool = False
    output_padding: tuple[int, ...] = 0  # type: ignore[assignment]
    in_channels: int | None = None
    out_channels: int | None = None

    def __post_init__(self) -> None:
        for name in ("channels_last", "transposed"):
            value = getattr(self, name)
            if not _is_bool(value):
                raise TypeError(f"{name} must be True or False, got {value!r}")
            object.__setattr__(self, name, bool(value))
        kernel = self.kernel_size
        if is_int(kernel):
            raise TypeError("kernel_size must be a sequence of ints (its length is the rank)")
        kernel = per_dimension(kernel, len(kernel), "kernel_size", minimum=1)
        if not kernel:
            raise ValueError("kernel_size must have at least one spatial dimension")
        rank = len(kernel)
        set_ = object.__setattr__
        set_(self, "kernel_size", kernel)
        set_(self, "stride", per_dimension(self.stride, rank, "stride", minimum=1))
        set_(self, "dilation", per_dimension(self.dilation, rank, "dilation", minimum=1))
        set_(self, "padding", normalize_padding(self.padding, rank, transposed=self.transposed))
        set_(
            self,
            "output_padding",
            per_dimension(self.output_padding, rank, "output_padding", minimum=0),
        )
        self._check_options()
        self._check_channels()

    def _check_options(self) -> None:
        if self.padding_mode not in PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {PADDING_MODES}, got {self.padding_mode!r}"
            )
        if not isinstance(self.padding_value, numbers.Number) or isinstance(
            self.padding_value, bool
        ):
            raise TypeError(f"padding_value must be a number, got {self.padding_value!r}")
        try:
            finite = cmath.isfinite(complex(self.padding_value))
        except OverflowError:
            finite = False
        if not finite:
            shown = repr(self.padding_value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ValueError(f"padding_value must be finite, got {shown}")
        if self.transposed and self.padding_mode != "constant":
            raise ValueError("padding_mode applies to forward convolution only")
        if not self.transposed and any(self.output_padding):
            raise ValueError("output_padding applies to transposed convolution only")
        for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if op >= max(s, d):
                raise ValueError(
                    f"output_padding must be smaller than stride or dilation, got "
                    f"output_padding={self.output_padding}, stride={self.stride}, "
                    f"dilation={self.dilation}"
                )

    def _check_channels(self) -> None:
        if not is_int(self.groups) or self.groups < 1:
            raise ValueError(f"groups must be a positive int, got {self.groups!r}")
        for name in ("in_channels", "out_channels"):
            count = getattr(self, name)
            if count is None:
                continue
            if not is_int(count) or count < 1:
                raise ValueError(f"{name} must be a positive int, got {count!r}")
            if count % self.groups:
                raise ValueError(f"groups={self.groups} does not divide {name}={count}")

    @property
    def rank(self) -> int:
        """Number of spatial dimensions."""
        return len(self.kernel_size)

    @property
    def dilated_kernel(self) -> tuple[int, ...]:
        """Extent of each kernel on the input: `(k - 1) * d + 1`."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True))

    # -- padding -----------------------------------------------------------------------

    def resolve_padding(self, spatial: Sequence[Size]) -> tuple[Pair | None, ...]:
        """Per-dimension `(before, after)` padding (cropping, if transposed) for `spatial`.

        An entry is None when it depends on an unknown (None) input size. A transposed
        "same" whose dilated kernel is shorter than the stride crops a negative amount at
        the end: the output is extended with zeros there, as in Keras and TensorFlow.
        """
        spatial = self._check_spatial(spatial)
        if not isinstance(self.padding, str):
            return self.padding
        return tuple(
            self._resolve_string(n, k, s)
            for n, k, s in zip(spatial, self.dilated_kernel, self.stride, strict=True)
        )

    def _resolve_string(self, n: Size, extent: int, stride: int) -> Pair | None:
        mode = self.padding
        if mode == "valid":
            return (0, 0)
        if mode == "full":
            return (extent - 1, extent - 1)
        if mode == "causal":
            return (extent - 1, 0)
        if self.transposed:  # "same": output = n * stride
            total = extent - stride
            if total < 0:  # kernel shorter than the stride: extend with zeros at the end
                return (0, total)
        elif stride == 1:  # "same"/"same_lower" at stride 1 need no input size
            total = extent - 1
        elif n is None:
            return None
        else:
            total = max((-(-n // stride) - 1) * stride + extent - n, 0)
        small, large = total // 2, total - total // 2
        return (large, small) if mode == "same_lower" else (small, large)

    # -- shapes ------------------------------------------------------------------------

    def output_spatial(
        self, spatial: Sequence[Size], padding: Sequence[Pair | None] | None = None
    ) -> tuple[Size, ...]:
        """Output spatial sizes for input spatial sizes (None stays None); `padding` is the
        already resolved padding (`resolve_padding(spatial)`), if the caller has it."""
        pads = self.resolve_padding(spatial) if padding is None else padding
        out = []
        for i, n in enumerate(spatial):
            if n is None:
                out.append(None)
            elif self.transposed:
                out.append(self._transposed_size(i, n, pads[i]))
            else:
                out.append(self._forward_size(i, n, pads[i]))
        return tuple(out)

    def _forward_size(self, i: int, n: int, pad: Pair) -> int:
        padded = n + pad[0] + pad[1]
        extent = self.dilated_kernel[i]
        if extent > padded:
            raise ValueError(
                f"kernel of size {self.kernel_size[i]} with dilation {self.dilation[i]} spans "
                f"{extent} samples, more than the {padded} of the padded input in spatial "
                f"dimension {i} (input size {n}, padding {pad})"
            )
        return (padded - extent) // self.stride[i] + 1

    def _transposed_size(self, i: int, n: int, crop: Pair) -> int:
        full = (n - 1) * self.stride[i] + self.dilated_kernel[i] + self.output_padding[i]
        size = full - crop[0] - crop[1]
        if size < 1:
            raise ValueError(
                f"padding (cropping) {crop} removes all of the {full} outputs in spatial "
                f"dimension {i} (input size {n})"
            )
        return size

    def output_shape(self, input_shape: Sequence[Size]) -> tuple[Size, ...]:
        """Output shape for `(N, C, *S)` / `(C, *S)` input (channel-last if the spec says so).

        `None` marks an unknown size, in the input and in the result.
        """
        shape = tuple(input_shape)
        known = [n for n in shape if n is not None]
        if all(is_int(n) for n in known) and math.prod(known) > LARGEST_ELEMENTS:
            raise ValueError(
                f"input shape {shape} holds more than {LARGEST_ELEMENTS:.2e} elements, more "
                "than any array can"
            )
        if len(shape) not in (self.rank + 1, self.rank + 2):
            raise ValueError(
                f"input shape {shape} must have {self.rank + 2} dimensions (batched) or "
                f"{self.rank + 1} (unbatched) for a {self.rank}-d convolution"
            )
        batch = shape[: len(shape) - self.rank - 1]
        if self.channels_last:
            spatial, channels = shape[len(batch) : -1], shape[-1]
        else:
            spatial, channels = shape[len(batch) + 1 :], shape[len(batch)]
        self._check_input_channels(channels)
        out_spatial = self.output_spatial(spatial)
        if self.channels_last:
            return (*batch, *out_spatial, self.out_channels)
        return (*batch, self.out_channels, *out_spatial)

    def _check_input_channels(self, channels: Size) -> None:
        if channels is None:
            return
        if self.in_channels is not None and channels != self.in_channels:
            raise ValueError(
                f"input has {channels} channels but the weight expects in_channels="
                f"{self.in_channels}"
            )
        if channels % self.groups:
            raise ValueError(f"groups={self.groups} does not divide the {channels} input channels")

    def _check_spatial(self, spatial: Sequence[Size]) -> tuple[Size, ...]:
        spatial = tuple(spatial)
        if len(spatial) != self.rank:
            raise ValueError(
                f"expected {self.rank} spatial sizes for a {self.rank}-d convolution, got {spatial}"
            )
        for n in spatial:
            if n is not None and (not is_int(n) or n < 0):
                raise ValueError(f"spatial sizes must be non-negative ints or None, got {spatial}")
        return spatial

    # -- convenience -------------------------------------------------------------------

    @classmethod
    def from_weight_shape(
        cls, weight_shape: Sequence[int], *, groups: int = 1, transposed: bool = False, **options
    ) -> ConvSpec:
        """The spec of a canonical weight `(F, C/g, *k)` (or `(C, F/g, *k)` if transposed)."""
        weight_shape = tuple(weight_shape)
        if not is_int(groups) or groups < 1:
            raise ValueError(f"groups must be a positive int, got {groups!r}")
        if len(weight_shape) < 3:
            raise ValueError(
                f"weight must have shape (out_channels, in_channels // groups, *kernel) with "
                f"at least one spatial dimension, got shape {weight_shape}"
            )
        first, second = weight_shape[0], weight_shape[1]
        if transposed:
            in_channels, out_channels = first, second * groups
        else:
            in_channels, out_channels = second * groups, first
        return cls(
            weight_shape[2:],
            groups=groups,
            transposed=transposed,
            in_channels=in_channels,
            out_channels=out_channels,
            **options,
        )

    def with_weight_shape(self, weight_shape: Sequence[int]) -> ConvSpec:
        """This spec for a canonical weight of `weight_shape`: its channels filled in from
        the weight; ValueError if the weight's kernel or channels contradict the spec."""
        weight_shape = tuple(weight_shape)
        first, second = weight_shape[0], weight_shape[1] * self.groups
        found = {
            "in_channels": first if self.transposed else second,
            "out_channels": second if self.transposed else first,
        }
        if weight_shape[2:] != self.kernel_size:
            raise ValueError(
                f"weight of shape {weight_shape} has kernel {weight_shape[2:]} but the spec's "
                f"kernel_size is {self.kernel_size}"
            )
        for name, theirs in found.items():
            mine = getattr(self, name)
            if mine is not None and mine != theirs:
                raise ValueError(
                    f"weight of shape {weight_shape} with groups={self.groups} has "
                    f"{name}={theirs} but the spec says {mine}"
                )
        if all(getattr(self, name) is not None for name in found):
            return self
        return dataclasses.replace(self, **found)

    def flops(self, input_shape: Sequence[int]) -> int:
        """Floating-point operations (two per multiply-add) of the direct definition."""
        shape = tuple(input_shape)
        out = self.output_shape(shape)
        batch = shape[0] if len(shape) == self.rank + 2 else 1
        spatial_of = (
            (lambda s: s[-self.rank - 1 : -1])
            if self.channels_last
            else (lambda s: s[-self.rank :])
        )
        channels = shape[-1] if self.channels_last else shape[-self.rank - 1]
        taps = math.prod(self.kernel_size)
        if self.transposed:  # every input sample scatters into (F / g) * taps outputs
            out_per_group = self.out_channels // self.groups
            return 2 * batch * channels * math.prod(spatial_of(shape)) * out_per_group * taps
        in_per_group = channels // self.groups
        return 2 * batch * self.out_channels * math.prod(spatial_of(out)) * in_per_group * taps
