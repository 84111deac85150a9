"""What every dialect layer shares: a canonical `ConvSpec`, canonical weights, one call path.

A dialect layer keeps its weights in its own layout and converts them on the way in and
out; the convolution itself always runs through `xconv.conv` / `xconv.conv_transpose`
with the layer's `.spec`. Nothing here knows a dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from .._arrays import array_namespace
from ..algorithms.prepared import PreparedWeights
from ..forward import conv_prepared
from ..spec import ConvSpec
from ..transposed import conv_transpose


class ChannelsUnknownError(ValueError):
    """What a layer cannot say before it knows its input channels (a depthwise or
    channel-wise layer's groups, a lazy module's weight): give it data or its shape."""


class TranslationError(ValueError):
    """A layer that the target dialect cannot express; the message suggests the nearest form.

    Examples
    --------
    >>> from xconv.compat import TranslationError, keras, matlab, translate
    >>> layer = matlab.convolution2dLayer(3, 4, PaddingValue="replicate", NumChannels=2)
    >>> try:
    ...     translate(layer, "keras")
    ... except TranslationError as error:
    ...     print("keras.ops.pad" in str(error))
    True
    """


class CompatLayer:
    """Base of the dialect layers: `.spec`, `canonical_weights()` and `portable()`.

    Subclasses implement `spec` and `canonical_weights`; `portable()` lists what else
    (names, learning-rate factors, regularizers, ...) a translation may carry over.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat import CompatLayer, wolfram
    >>> layer = wolfram.ConvolutionLayer(2, [3], Input=[1, 8])
    >>> isinstance(layer, CompatLayer), layer.spec.kernel_size
    (True, (3,))
    """

    dialect: ClassVar[str] = ""

    @property
    def spec(self) -> ConvSpec:  # pragma: no cover - abstract
        """The layer's canonical `ConvSpec`."""
        raise NotImplementedError

    def canonical_weights(self) -> tuple[Any, Any]:  # pragma: no cover - abstract
        """`(weight, bias)` in xconv's layout: `(F, C/g, *k)` (transposed `(C, F/g, *k)`)
        and `(F,)`; the bias is None when the layer has none."""
        raise NotImplementedError

    def portable(self) -> dict[str, Any]:
        """Attributes besides the convolution that a translation may carry over."""
        return {}

    @property
    def data_channels_last(self) -> bool:
        """Whether the dialect's data keep channels after the spatial axes (what a
        translation keeps: MATLAB's `H x W x C` becomes Keras' channels-last)."""
        return self.spec.channels_last

    @property
    def has_bias(self) -> bool:
        """Whether the layer adds a bias (MATLAB layers always do)."""
        return True

    @property
    def prepared_weights(self) -> PreparedWeights:
        """The weight in its algorithm's form (the FFT path's spectrum), kept between calls
        and made again when the weight's values change."""
        kept = self.__dict__.get("_prepared_weights")
        if kept is None:
            kept = self.__dict__["_prepared_weights"] = PreparedWeights()
        return kept


# -- arrays -----------------------------------------------------------------------------


def namespace(x) -> ModuleType:
    """The array-API namespace of `x` (NumPy for Python lists and scalars)."""
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    return array_namespace(x)


def like(array, ref):
    """`array` converted to the namespace and device of `ref` (no copy when it already is)."""
    if array is None:
        return None
    xp = namespace(ref)
    try:
        if namespace(array) is xp:
            return array
    except TypeError:
        pass
    device = getattr(ref, "device", None)
    kwargs = {} if device is None or isinstance(ref, np.ndarray) else {"device": device}
    try:
        return xp.asarray(array, **kwargs)
    except (TypeError, ValueError, RuntimeError):
        return xp.asarray(to_numpy(array), **kwargs)


def to_numpy(array) -> np.ndarray:
    """A NumPy copy or view of any array (via `__array__`, DLPack or `.get()` for CuPy)."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        return array.get()
    try:
        return np.asarray(array)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(array)


def permute(array, axes: Sequence[int]):
    """`permute_dims` in the array's own namespace."""
    return namespace(array).permute_dims(array, tuple(axes))


def reshape(array, shape: Sequence[int]):
    """`reshape` in the array's own namespace."""
    return namespace(array).reshape(array, tuple(shape))


def shape_of(array) -> tuple[int, ...]:
    return tuple(int(n) for n in array.shape)


def as_float_array(value, name: str, dtype: str = "float32"):
    """Arrays stay in their namespace; nested lists and scalars become NumPy `dtype`.

    TypeError naming `name` for complex values (the dialects' layers are real).
    """
    array = value
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        array = np.asarray(value)
        if array.dtype.kind != "c":
            array = array.astype(dtype)
    if namespace(array).isdtype(array.dtype, "complex floating"):
        raise TypeError(f"{name} must be real, got complex values")
    return array


# -- the one call path ------------------------------------------------------------------


def run(
    spec: ConvSpec,
    x,
    weight,
    bias=None,
    *,
    algorithm: str = "auto",
    prepared: PreparedWeights | None = None,
):
    """Apply the convolution that `spec` describes to canonical-layout arrays.

    `x` follows `spec.channels_last`; the weights are moved to `x`'s namespace and device.
    `prepared`: the layer's kept weight forms (`CompatLayer.prepared_weights`).
    """
    weight, bias = like(weight, x), like(bias, x)
    if spec.transposed:
        return conv_transpose(x, weight, bias, spec=spec, algorithm=algorithm)
    return conv_prepared(x, weight, bias, spec=spec, prepared=prepared, algorithm=algorithm)


def cast(x, dtype_name: str):
    """`x` cast to the floating dtype called `dtype_name` in its own namespace."""
    xp = namespace(x)
    dtype = getattr(xp, dtype_name)
    return x if x.dtype == dtype else xp.astype(x, dtype)


def check_real(x, message: str):
    """`check_numeric`, and `message` (a TypeError) for complex data as well."""
    x = check_numeric(x, message)
    if namespace(x).isdtype(x.dtype, "complex floating"):
        raise TypeError(f"{message}: complex data are not supported, got dtype {x.dtype}")
    return x


def check_numeric(x, message: str):
    """`x` as an array; `message` (a TypeError) when it is not numeric data."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        xp = namespace(x)
        if not xp.isdtype(x.dtype, ("integral", "real floating", "complex floating")):
            raise TypeError(f"{message}, got an array of dtype {x.dtype}")
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{message}, got {x!r}") from error
    if array.dtype.kind not in "iufc":
        raise TypeError(f"{message}, got {x!r}")
    return array
