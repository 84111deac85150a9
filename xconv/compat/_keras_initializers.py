"""Keras 3 initializers: the same names, configs, fan counts and distributions.

Draws come from NumPy (`numpy.random.default_rng(seed)`), so the numbers differ from
Keras' own, but the distributions are Keras': variance scaling over `compute_fans` of the
Keras kernel shape, truncated normals cut at two standard deviations and rescaled by
0.8796..., orthogonal matrices from a sign-fixed QR. A seeded initializer returns the same
values on every call, as in Keras 3.

>>> from xconv.compat.keras import initializers
>>> initializers.get("glorot_uniform")((3, 3, 2, 4)).shape
(3, 3, 2, 4)
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
from typing import Any

import numpy as np

from . import _init

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "deserialize",
    "get",
    "serialize",
]


def compute_fans(shape) -> tuple[int, int]:
    """Keras' fan-in and fan-out of a kernel `(*receptive_field, in, out)`."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    field = math.prod(shape[:-2])
    return shape[-2] * field, shape[-1] * field


class Initializer:
    """Base class: `initializer(shape, dtype=None)` returns a NumPy array."""

    def __call__(self, shape, dtype=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()}>"


def _dtype(dtype) -> str:
    return "float32" if dtype is None else str(np.dtype(dtype))


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return _init.constant(shape, 0.0, _dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return _init.constant(shape, 1.0, _dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.broadcast_to(np.asarray(self.value, dtype=_dtype(dtype)), tuple(shape)).copy()

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Seeded initializers draw the same values on every call; unseeded ones fresh ones."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise ValueError(
                "`seed` argument should be an instance of `keras.random.SeedGenerator()` or "
                f"an integer. Received: seed={seed}"
            )
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _init.normal(self._rng(), shape, self.stddev, self.mean, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _init.truncated_normal(self._rng(), shape, self.stddev, self.mean, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _init.uniform(self._rng(), shape, self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Variance `scale / n` with `n` the fan-in, fan-out or their mean."""

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in modes:
            raise ValueError(
                f"Invalid `mode` argument: expected one of {modes}. Received: mode={mode}"
            )
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in distributions:
            raise ValueError(
                f"Invalid `distribution` argument: expected one of "
                f"{distributions}. Received: distribution={distribution}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def _fans(self, shape) -> tuple[int, int]:
        if self.input_axes is not None and self.output_axes is not None:
            return (
                math.prod(shape[a] for a in self.input_axes),
                math.prod(shape[a] for a in self.output_axes),
            )
        return compute_fans(shape)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = self._fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, n[self.mode])
        rng, dtype = self._rng(), _dtype(dtype)
        if self.distribution == "truncated_normal":
            std = math.sqrt(scale) / _init.TRUNCATED_NORMAL_STD
            return _init.truncated_normal(rng, shape, std, dtype=dtype)
        if self.distribution == "untruncated_normal":
            return _init.normal(rng, shape, math.sqrt(scale), dtype=dtype)
        limit = math.sqrt(3.0 * scale)
        return _init.uniform(rng, shape, -limit, limit, dtype)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


def _variance_scaling(name: str, scale: float, mode: str, distribution: str):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    return type(
        name,
        (VarianceScaling,),
        {
            "__init__": __init__,
            "get_config": get_config,
            "__doc__": f"VarianceScaling({scale}, {mode!r}, {distribution!r}).",
        },
    )


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")
for _cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal):
    _cls.__module__ = __name__


class Orthogonal(RandomInitializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _init.orthogonal(self._rng(), tuple(shape), self.gain, _dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_CLASSES = (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({_snake(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update(
    {
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "one": Ones,
        "zero": Zeros,
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
    }
)


def serialize(initializer: Any) -> Any:
    """Keras' config dict for a built-in initializer (other callables are returned as is)."""
    if initializer is None:
        return None
    if isinstance(initializer, Initializer) and type(initializer).__name__ in _BY_NAME:
        return {
            "module": "keras.initializers",
            "class_name": type(initializer).__name__,
            "config": initializer.get_config(),
            "registered_name": None,
        }
    return initializer


def deserialize(config: dict[str, Any]) -> Initializer:
    name = config.get("class_name")
    cls = _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret initializer identifier: {config}")
    return cls(**(config.get("config") or {}))


def get(identifier: Any):
    """An initializer from a name, a config dict, a class, an instance, a callable or an
    array (which the initializer then returns, for its own shape only)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return cls()
    if inspect.isclass(identifier) and issubclass(identifier, Initializer):
        return identifier()
    if hasattr(identifier, "shape") and hasattr(identifier, "dtype"):
        values = identifier

        def initialize_fn(shape, dtype=None):
            if tuple(shape) != tuple(values.shape):
                raise ValueError(
                    f"Expected `shape` to be {tuple(values.shape)} for direct tensor as "
                    f"initializer. Received shape={tuple(shape)}"
                )
            return values

        return initialize_fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
