"""Conformance cases: data files in, `Case` objects and their seeded arrays out.

A case is one convolution written as data (TOML under `cases/*.toml`, JSON under
`cases/*.json`): an operation, canonical parameters, canonical shapes, a dtype and a seed,
and for dialect cases the layer text. Shapes are always canonical: input `(N, C, *S)` (or
`(C, *S)` unbatched), weight `(F, C/g, *k)` (transposed: `(C, F/g, *k)`); `channels_last`
says how the data are *presented* to xconv and to peers that take channel-last data.

For dialect cases `params` are the documented meaning of the layer text, written down
independently of `xconv.compat`: peers compute that meaning, xconv computes the text.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CASES_DIR = Path(__file__).parent / "cases"
DIALECTS = ("canonical", "wolfram", "matlab", "keras")
OPS = ("conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp")
DTYPES = ("float16", "float32", "float64", "complex64", "complex128")
PARAM_DEFAULTS: dict[str, Any] = {
    "stride": 1,
    "padding": 0,
    "dilation": 1,
    "groups": 1,
    "padding_mode": "constant",
    "padding_value": 0.0,
    "channels_last": False,
    "output_padding": 0,
}


@dataclass(frozen=True)
class Case:
    """One convolution to compare across xconv and the peers."""

    id: str
    dialect: str
    op: str
    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    params: dict[str, Any]
    dtype: str = "float32"
    seed: int = 0
    bias: bool = True
    layer: str | None = None
    activation: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # explicit input / weight / bias
    source: str = ""
    algorithm: str = "auto"  # xconv's algorithm for canonical cases
    of: str = ""  # a gradient case derived from this forward case (`with_gradients`)

    @property
    def rank(self) -> int:
        return len(self.weight_shape) - 2

    @property
    def transposed(self) -> bool:
        return self.op in ("conv_transpose", "conv_transpose_vjp")

    @property
    def gradient(self) -> bool:
        return self.op.endswith("_vjp")

    @property
    def batched(self) -> bool:
        return len(self.input_shape) == self.rank + 2

    @property
    def in_channels(self) -> int:
        return self.input_shape[-self.rank - 1]

    @property
    def out_channels(self) -> int:
        first, second = self.weight_shape[:2]
        return second * self.params["groups"] if self.transposed else first

    @property
    def kernel(self) -> tuple[int, ...]:
        return self.weight_shape[2:]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.input_shape[-self.rank :]

    def per_dim(self, name: str) -> tuple[int, ...]:
        value = self.params[name]
        return tuple(value) if isinstance(value, list | tuple) else (value,) * self.rank

    @property
    def one_channel(self) -> bool:
        return self.in_channels == 1 and self.out_channels == 1

    @property
    def reduction(self) -> int:
        """Terms summed per output value (sets the tolerance)."""
        per_group = self.weight_shape[1]
        taps = math.prod(self.kernel)
        if self.transposed:  # each output gathers from C/g channels, ~prod(k/s) taps
            per_group = self.in_channels // self.params["groups"]
        terms = per_group * taps
        if self.gradient:  # the weight gradient sums over the batch and output positions
            batch = self.input_shape[0] if self.batched else 1
            terms = max(terms, batch * math.prod(self.spatial) * max(self.per_dim("stride")))
        return max(terms, 1)


def case_from_dict(raw: dict[str, Any]) -> Case:
    """Build a Case from one table of a case file, checking names and values."""
    raw = dict(raw)
    params = {**PARAM_DEFAULTS, **raw.pop("params", {})}
    unknown = set(params) - set(PARAM_DEFAULTS)
    if unknown:
        raise ValueError(f"case {raw.get('id')!r}: unknown params {sorted(unknown)}")
    dialect = raw.get("dialect", "canonical")
    op = raw.get("op", "conv")
    dtype = raw.get("dtype", "float32")
    if dialect not in DIALECTS or op not in OPS or dtype not in DTYPES:
        raise ValueError(f"case {raw.get('id')!r}: bad dialect, op or dtype")
    if dialect != "canonical" and not raw.get("layer"):
        raise ValueError(f"case {raw.get('id')!r}: a {dialect} case needs its layer text")
    return Case(
        id=raw["id"],
        dialect=dialect,
        op=op,
        input_shape=tuple(raw["input_shape"]),
        weight_shape=tuple(raw["weight_shape"]),
        params=params,
        dtype=dtype,
        seed=int(raw.get("seed", 0)),
        bias=bool(raw.get("bias", True)),
        layer=raw.get("layer"),
        activation=raw.get("activation"),
        expect=raw.get("expect", {}),
        values=raw.get("values", {}),
        source=raw.get("source", ""),
        algorithm=raw.get("algorithm", "auto"),
    )


def case_to_dict(case: Case) -> dict[str, Any]:
    """The data-file form of a case (defaults left out)."""
    out: dict[str, Any] = {"id": case.id, "dialect": case.dialect, "op": case.op}
    if case.layer:
        out["layer"] = case.layer
    out["input_shape"] = list(case.input_shape)
    out["weight_shape"] = list(case.weight_shape)
    params = {k: v for k, v in case.params.items() if PARAM_DEFAULTS[k] != v}
    if params:
        out["params"] = params
    out.update(dtype=case.dtype, seed=case.seed, bias=case.bias)
    if case.algorithm != "auto":
        out["algorithm"] = case.algorithm
    for name in ("activation", "expect", "values", "source"):
        if getattr(case, name):
            out[name] = getattr(case, name)
    return out


def load_file(path: Path) -> list[Case]:
    if path.suffix == ".toml":
        import tomllib  # Python 3.11: only the suite reads TOML, `xconv check` does not

        with path.open("rb") as handle:
            tables = tomllib.load(handle).get("case", [])
    else:
        tables = json.loads(path.read_text())["cases"]
    return [case_from_dict(table) for table in tables]


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    """Every case under `directory` (TOML and JSON files), ids checked unique."""
    cases: list[Case] = []
    for path in sorted(directory.glob("*.toml")) + sorted(directory.glob("*.json")):
        cases.extend(load_file(path))
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(f"duplicate case id {case.id!r}")
        seen.add(case.id)
    return cases


def with_gradients(cases: list[Case]) -> list[Case]:
    """`cases`, each forward and transposed case followed by the gradient case of its layer.

    The gradient case `<id>/grad` differentiates the same layer with the same operands and
    a seeded output gradient: input, weight and bias gradients, for every dialect. Cases
    that document an error or apply an activation have none.
    """
    out = []
    for case in cases:
        out.append(case)
        if case.gradient or "error" in case.expect or case.activation not in (None, "linear"):
            continue
        out.append(
            dataclasses.replace(case, id=f"{case.id}/grad", op=f"{case.op}_vjp", expect={},
                                of=case.id)
        )  # fmt: skip
    return out


# -- arrays ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrays:
    """Canonical-layout operands of a case, in the case's dtype."""

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    grad_output: np.ndarray | None = None


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    data = rng.uniform(-1.0, 1.0, shape)
    if dtype.startswith("complex"):
        data = data + 1j * rng.uniform(-1.0, 1.0, shape)
    return data.astype(dtype)


def make_arrays(case: Case, output_shape: tuple[int, ...] | None = None) -> Arrays:
    """Seeded operands (explicit `values` win); `output_shape` sizes the VJP cotangent."""
    rng = np.random.default_rng(case.seed)
    x = _uniform(rng, case.input_shape, case.dtype)
    weight = _uniform(rng, case.weight_shape, case.dtype)
    bias = _uniform(rng, (case.out_channels,), case.dtype) if case.bias else None
    if "input" in case.values:
        x = np.asarray(case.values["input"], dtype=case.dtype).reshape(case.input_shape)
    if "weight" in case.values:
        weight = np.asarray(case.values["weight"], dtype=case.dtype).reshape(case.weight_shape)
    if case.bias and "bias" in case.values:
        bias = np.asarray(case.values["bias"], dtype=case.dtype).reshape(-1)
    if case.dialect == "wolfram":  # Wolfram keeps weights as Real32 at any precision
        weight = weight.astype(np.float32).astype(case.dtype)
        bias = None if bias is None else bias.astype(np.float32).astype(case.dtype)
    grad = None
    if case.gradient:
        if output_shape is None:
            raise ValueError("a VJP case needs the output shape for its cotangent")
        grad = _uniform(np.random.default_rng(case.seed + 1), tuple(output_shape), case.dtype)
    return Arrays(x, weight, bias, grad)


def present(case: Case, array: np.ndarray) -> np.ndarray:
    """Canonical `(N, C, *S)` data as the case presents it (channel-last if asked)."""
    if not case.params["channels_last"]:
        return array
    axis = 0 if array.ndim == case.rank + 1 else 1
    return np.moveaxis(array, axis, -1)


def canonical(case: Case, array: np.ndarray) -> np.ndarray:
    """Inverse of `present`."""
    if not case.params["channels_last"]:
        return array
    axis = 0 if array.ndim == case.rank + 1 else 1
    return np.moveaxis(array, -1, axis)
