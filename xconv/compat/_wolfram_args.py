"""Wolfram `ConvolutionLayer` arguments: `Automatic`, option values, and the layer's messages."""

from __future__ import annotations

import numbers
from collections.abc import Sequence


class _AutomaticType:
    """Wolfram's `Automatic`: a value the layer infers."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Automatic"

    def __reduce__(self):
        return (_AutomaticType, ())


Automatic = _AutomaticType()
Varying = "Varying"

PRECISIONS = {"Real32": "float32", "Real64": "float64", "Mixed": "float16"}
EVALUATION_OPTIONS = {
    "BatchSize": Automatic,
    "NetEvaluationMode": "Test",
    "RandomSeeding": "Inherited",
    "TargetDevice": "CPU",
    "WorkingPrecision": "Real32",
}
LAYER_NAME = "ConvolutionLayer"


def is_automatic(value: object) -> bool:
    return value is Automatic or (isinstance(value, str) and value == "Automatic")


def failure(message: str) -> ValueError:
    return ValueError(f"{LAYER_NAME}: {message}")


def positive_int(value: object, what: str) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise failure(f"{what} should be a positive integer, but was {value!r}")


def is_sequence(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def per_dimension(value, rank: int, what: str, minimum: int) -> list[int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = [int(value)] * rank
    elif (
        is_sequence(value)
        and len(value) == rank
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        values = [int(v) for v in value]
    else:
        raise failure(
            f"{what} should be an integer or a list of {rank} integers, but was {value!r}"
        )
    if any(v < minimum for v in values):
        raise failure(f"{what} should be at least {minimum} in every dimension, but was {value!r}")
    return values


def padding_of(value, rank: int):
    if isinstance(value, str):
        if value != "Same":
            raise failure(f'PaddingSize should be an integer, a list or "Same", but was {value!r}')
        return "Same"
    if is_sequence(value) and len(value) == rank and all(is_sequence(p) for p in value):
        pairs = []
        for p in value:
            pair = per_dimension(p, 2, "each PaddingSize pair {before, after}", 0)
            pairs.append((pair[0], pair[1]))
        return tuple(pairs)
    sizes = per_dimension(value, rank, "PaddingSize", 0)
    return tuple((p, p) for p in sizes)


def learning_rates(value) -> dict[str, float]:
    if value is None or is_automatic(value):
        return {}
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return {"Weights": float(value), "Biases": float(value)}
    rules = value.items() if isinstance(value, dict) else value
    out = {}
    try:
        for key, rate in rules:
            if key not in ("Weights", "Biases"):
                raise KeyError(key)
            out[key] = float(rate)
    except (KeyError, TypeError, ValueError) as error:
        raise failure(
            'LearningRateMultipliers should be a number or rules for "Weights" and '
            f'"Biases", but was {value!r}'
        ) from error
    return out
