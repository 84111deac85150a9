"""Keras' arguments: standardised as Keras 3 does, with Keras' own error messages.

Integers or tuples per dimension, `padding` and `data_format` strings, dtype policies,
the default data format (`image_data_format`), and what a transposed layer's `padding` /
`output_padding` mean as cropping of the full output (`keras_transpose_cropping`).

>>> standardize_tuple(3, 2, "kernel_size")
(3, 3)
>>> keras_transpose_cropping(3, 2, 1, "same", None)
((0, 1), 0)
"""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np

DTYPES = {  # policy name -> (variable dtype, compute dtype)
    "float16": ("float16", "float16"),
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "mixed_float16": ("float32", "float16"),
}
_data_format: dict[str, str | None] = {"value": None}


def image_data_format() -> str:
    """Keras' default data format, as `keras.config.image_data_format` gives it.

    Returns
    -------
    str
        What `set_image_data_format` set, else `image_data_format` in
        `$KERAS_HOME/keras.json` (`~/.keras`), else `"channels_last"`.

    Examples
    --------
    >>> from xconv.compat import keras
    >>> keras.image_data_format() in ("channels_last", "channels_first")
    True
    """
    if _data_format["value"] is None:
        home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        value = "channels_last"
        try:
            with open(os.path.join(home, "keras.json")) as file:
                value = json.load(file).get("image_data_format", value)
        except (OSError, ValueError):
            pass
        _data_format["value"] = value
    return _data_format["value"]


def set_image_data_format(data_format: str) -> None:
    """Set the default `data_format` of layers made afterwards.

    Parameters
    ----------
    data_format : {"channels_last", "channels_first"}
        The new default.

    Raises
    ------
    ValueError
        Another value, with Keras' message.

    Examples
    --------
    >>> from xconv.compat import keras
    >>> previous = keras.image_data_format()
    >>> keras.set_image_data_format("channels_first")
    >>> keras.Conv2D(8, 3).compute_output_shape((1, 3, 32, 32))
    (1, 8, 30, 30)
    >>> keras.set_image_data_format(previous)
    """
    _data_format["value"] = standardize_data_format(data_format)


def standardize_data_format(data_format) -> str:
    if data_format is None:
        return image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return value


def standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        try:
            integral = [int(v) == v for v in values]
        except (TypeError, ValueError, OverflowError):
            raise ValueError(message) from None
        if not all(integral):  # Keras keeps 3.7 and fails when it builds: fail here
            fractional = {v for v, whole in zip(values, integral, strict=True) if not whole}
            raise ValueError(f"{message}, including values {fractional} that are not integers")
        values = tuple(int(v) for v in values)
    bad = [v for v in values if v < 0 or (v == 0 and not allow_zero)]
    if bad:
        condition = "`>= 0`" if allow_zero else "`> 0`"
        raise ValueError(
            f"{message}, including values {set(bad)} that do not satisfy `value {condition[1:]}"
        )
    return values


def standardize_padding(value, allow_causal: bool) -> str:
    allowed = "{'valid', 'same', 'causal'}" if allow_causal else "{'valid', 'same'}"
    padding = value.lower() if isinstance(value, str) else value
    if padding not in (("valid", "same", "causal") if allow_causal else ("valid", "same")):
        raise ValueError(
            f"The `padding` argument must be a list/tuple or one of {allowed}. Received: {value}"
        )
    return padding


def dtype_policy(dtype) -> str:
    """The name of the dtype policy `dtype` (a name, a dtype, a policy or its config)."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", dtype)
    name = getattr(dtype, "name", dtype)
    if isinstance(name, str) and name in DTYPES:
        return name
    with contextlib.suppress(TypeError):
        name = str(np.dtype(name))
    if name not in DTYPES:
        raise ValueError(
            f"dtype {dtype!r} is not supported by xconv's Keras layers; use one of {sorted(DTYPES)}"
        )
    return name


def check_filters(filters) -> None:
    if filters is not None and filters <= 0:
        raise ValueError(
            "Invalid value for argument `filters`. Expected a strictly positive value. "
            f"Received filters={filters}."
        )


def check_strides_dilation(strides, dilation_rate) -> None:
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            f"strides={strides} and dilation_rate={dilation_rate}"
        )


def keras_transpose_cropping(
    kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[tuple[int, int], int]:
    """Keras 3's transposed convolution as (cropping of the full output, output padding).

    The full output has `(n - 1) * stride + extent` samples; Keras' `"valid"` keeps it and
    appends `output_padding` (by default `max(stride - extent, 0)`); `"same"` crops it to
    `n * stride` (or `(n - 1) * stride + extent % 2 + output_padding`), the larger half at
    the end.
    """
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return (0, 0), extra
    if output_padding is None:
        total = stride + extent - 2
    else:
        total = extent + extent % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, extent - 1)  # padding of the dilated input
    after = total - before
    start, end = extent - 1 - before, extent - 1 - after
    return (start, max(end, 0)), max(-end, 0)
