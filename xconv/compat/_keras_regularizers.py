"""Keras 3 regularizers (`L1`, `L2`, `L1L2`) and constraints (`MaxNorm`, `NonNeg`,
`UnitNorm`, `MinMaxNorm`), computed in the weights' own array namespace.

Names follow Keras 3's lookup exactly: `"l1"`, `"l2"`, `"l1l2"`, `"max_norm"`,
`"non_neg"`, `"unit_norm"`, `"min_max_norm"` and the class names (`"l1_l2"` is not a name
Keras 3 resolves, but `l1_l2` is an alias of the class). `regularizers` and
`constraints` are the namespaces `xconv.compat.keras` offers in place of Keras' modules.

>>> import numpy as np
>>> from xconv.compat.keras import regularizers
>>> float(regularizers.get("l2")(np.ones((2, 2))))
0.04
"""

from __future__ import annotations

import inspect
import math
import numbers
import types
from typing import Any

from ._layer import namespace

EPSILON = 1e-7  # keras.backend.epsilon()


def _non_negative(value, name: str) -> float:
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float."
            f"Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """`regularizer(weights)` is the penalty added to `layer.losses`."""

    def __call__(self, x):
        return 0.0

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        return cls(**config)


class L1(Regularizer):
    """`l1 * sum(|x|)`."""

    def __init__(self, l1=0.01):
        self.l1 = _non_negative(l1, "l1")

    def __call__(self, x):
        xp = namespace(x)
        return self.l1 * xp.sum(xp.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(x**2)`."""

    def __init__(self, l2=0.01):
        self.l2 = _non_negative(l2, "l2")

    def __call__(self, x):
        xp = namespace(x)
        return self.l2 * xp.sum(x * x)

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x**2)`."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _non_negative(l1, "l1")
        self.l2 = _non_negative(l2, "l2")

    def __call__(self, x):
        xp = namespace(x)
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * xp.sum(xp.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * xp.sum(x * x)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2


class Constraint:
    """`constraint(weights)` is the projected weights (the identity here)."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        return cls(**config)


def _norms(w, axis):
    xp = namespace(w)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return xp.sqrt(xp.sum(w * w, axis=axis, keepdims=True))


def _clip(xp, x, low, high):
    return xp.minimum(xp.maximum(x, xp.full_like(x, low)), xp.full_like(x, high))


class MaxNorm(Constraint):
    """Rescale to norm at most `max_value` along `axis`."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        xp = namespace(w)
        norms = _norms(w, self.axis)
        desired = _clip(xp, norms, 0, self.max_value)
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become zero."""

    def __call__(self, w):
        xp = namespace(w)
        return xp.maximum(w, xp.zeros_like(w))


class UnitNorm(Constraint):
    """Rescale to unit norm along `axis`."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move the norm along `axis` a fraction `rate` of the way into `[min, max]`."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        xp = namespace(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * _clip(xp, norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm


_REGULARIZERS = {
    "Regularizer": Regularizer,
    "regularizer": Regularizer,
    "L1": L1,
    "l1": L1,
    "L2": L2,
    "l2": L2,
    "L1L2": L1L2,
    "l1l2": L1L2,
}
_CONSTRAINTS = {
    "Constraint": Constraint,
    "constraint": Constraint,
    "MaxNorm": MaxNorm,
    "max_norm": MaxNorm,
    "NonNeg": NonNeg,
    "non_neg": NonNeg,
    "UnitNorm": UnitNorm,
    "unit_norm": UnitNorm,
    "MinMaxNorm": MinMaxNorm,
    "min_max_norm": MinMaxNorm,
}


def _serialize(obj, table, module):
    if obj is None:
        return None
    if type(obj).__name__ in table and table[type(obj).__name__] is type(obj):
        return {
            "module": module,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": None,
        }
    return obj


def _get(identifier, table, kind):
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = table.get(identifier.get("class_name"))
        if obj is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
        return obj(**(identifier.get("config") or {}))
    obj = table.get(identifier) if isinstance(identifier, str) else identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")


def serialize_regularizer(regularizer):
    return _serialize(regularizer, _REGULARIZERS, "keras.regularizers")


def get_regularizer(identifier):
    """A regularizer from a name, a config dict, a class or a callable."""
    return _get(identifier, _REGULARIZERS, "regularizer")


def serialize_constraint(constraint):
    return _serialize(constraint, _CONSTRAINTS, "keras.constraints")


def get_constraint(identifier):
    """A constraint from a name, a config dict, a class or a callable."""
    return _get(identifier, _CONSTRAINTS, "constraint")


regularizers = types.SimpleNamespace(
    Regularizer=Regularizer,
    L1=L1,
    L2=L2,
    L1L2=L1L2,
    l1=L1,
    l2=L2,
    l1_l2=L1L2,
    get=get_regularizer,
    serialize=serialize_regularizer,
)
constraints = types.SimpleNamespace(
    Constraint=Constraint,
    MaxNorm=MaxNorm,
    NonNeg=NonNeg,
    UnitNorm=UnitNorm,
    MinMaxNorm=MinMaxNorm,
    max_norm=MaxNorm,
    non_neg=NonNeg,
    unit_norm=UnitNorm,
    min_max_norm=MinMaxNorm,
    get=get_constraint,
    serialize=serialize_constraint,
)
