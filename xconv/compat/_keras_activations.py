"""Keras 3 activations by name, written once against the array API (`xp`).

`get(None)` is `linear`; unknown names raise Keras' own message. `gelu` is the exact
(erf) form by default, as in Keras; `leaky_relu` has Keras 3's slope 0.2.

>>> import numpy as np
>>> from xconv.compat.keras import activations
>>> activations.get("relu")(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._layer import namespace, to_numpy

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _full(x, value):
    return namespace(x).full_like(x, value)


def _erf(x):
    xp = namespace(x)
    module = type(x).__module__.split(".")[0]
    if module == "torch":
        import torch

        return torch.special.erf(x)
    if module == "cupy":
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)
    if module in ("jax", "jaxlib"):
        import jax.scipy.special

        return jax.scipy.special.erf(x)
    from scipy.special import erf

    values = erf(to_numpy(x))
    return values if isinstance(x, np.ndarray) else xp.asarray(values)


def linear(x):
    return x


def relu(x):
    xp = namespace(x)
    return xp.maximum(x, xp.zeros_like(x))


def leaky_relu(x, negative_slope=0.2):
    xp = namespace(x)
    return xp.where(x >= 0, x, negative_slope * x)


def relu6(x):
    xp = namespace(x)
    return xp.minimum(xp.maximum(x, xp.zeros_like(x)), _full(x, 6.0))


def elu(x, alpha=1.0):
    xp = namespace(x)
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, xp.zeros_like(x))))


def selu(x):
    return SELU_SCALE * elu(x, SELU_ALPHA)


def celu(x, alpha=1.0):
    xp = namespace(x)
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, xp.zeros_like(x)) / alpha))


def softplus(x):
    xp = namespace(x)
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(-xp.abs(x)))


def softsign(x):
    xp = namespace(x)
    return x / (1 + xp.abs(x))


def sigmoid(x):
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def silu(x):
    return x * sigmoid(x)


def gelu(x, approximate=False):
    xp = namespace(x)
    if approximate:
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + xp.tanh(inner))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2.0)))


def tanh(x):
    return namespace(x).tanh(x)


def exponential(x):
    return namespace(x).exp(x)


def hard_sigmoid(x):
    return relu6(x + 3.0) / 6.0


def hard_silu(x):
    return x * hard_sigmoid(x)


def hard_tanh(x):
    xp = namespace(x)
    return xp.minimum(xp.maximum(x, _full(x, -1.0)), _full(x, 1.0))


def tanh_shrink(x):
    return x - namespace(x).tanh(x)


def soft_shrink(x, threshold=0.5):
    xp = namespace(x)
    zero = xp.zeros_like(x)
    return xp.where(x > threshold, x - threshold, xp.where(x < -threshold, x + threshold, zero))


def hard_shrink(x, threshold=0.5):
    xp = namespace(x)
    return xp.where(xp.abs(x) > threshold, x, xp.zeros_like(x))


def squareplus(x, b=4):
    xp = namespace(x)
    return (x + xp.sqrt(x * x + b)) / 2


def sparse_plus(x):
    xp = namespace(x)
    middle = (x + 1) * (x + 1) / 4
    return xp.where(x <= -1, xp.zeros_like(x), xp.where(x >= 1, x, middle))


def sparse_sigmoid(x):
    xp = namespace(x)
    return xp.where(x <= -1, xp.zeros_like(x), xp.where(x >= 1, xp.ones_like(x), (x + 1) / 2))


def mish(x):
    return x * namespace(x).tanh(softplus(x))


def log_sigmoid(x):
    return -softplus(-x)


def softmax(x, axis=-1):
    xp = namespace(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    xp = namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def glu(x, axis=-1):
    xp = namespace(x)
    half = x.shape[axis] // 2
    a = xp.take(x, xp.arange(half), axis=axis % x.ndim)
    b = xp.take(x, xp.arange(half, 2 * half), axis=axis % x.ndim)
    return a * sigmoid(b)


_ALL = {
    fn.__name__: fn
    for fn in (
        linear,
        relu,
        leaky_relu,
        relu6,
        elu,
        selu,
        celu,
        softplus,
        softsign,
        sigmoid,
        silu,
        gelu,
        tanh,
        exponential,
        hard_sigmoid,
        hard_silu,
        hard_tanh,
        tanh_shrink,
        soft_shrink,
        hard_shrink,
        squareplus,
        sparse_plus,
        sparse_sigmoid,
        mish,
        log_sigmoid,
        softmax,
        log_softmax,
        glu,
    )
}
_ALL["swish"] = silu
_ALL["hard_swish"] = hard_silu


def get(identifier: Any):
    """An activation from a name, `None` (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str):
        fn = _ALL.get(identifier)
        if fn is not None:
            return fn
    elif callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


def serialize(activation: Any) -> Any:
    """The Keras name of a built-in activation (other callables are returned as is)."""
    name = getattr(activation, "__name__", None)
    if name in _ALL and _ALL[name] is activation:
        return name
    return activation
