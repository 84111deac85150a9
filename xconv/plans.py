"""`Plan`: what xconv runs for one operation, and why, as a small tree.

A plan is made once per call (or by `xconv.plan`, from shapes) by `xconv.planner` and
run by `xconv.executor` without any further choice. A forward convolution is one node;
an operation with parts has one node per part:

- `conv_transpose`: a transposed window, run as one transposed GEMM, as its stride
  phases (one forward correlation node each), or spread out (a stride wider than the
  kernel: the tight window inside);
- `conv_vjp`: the input gradient (a transposed window) and the weight gradient, or one
  set of FFT spectra for both;
- `conv_transpose_vjp`: the input gradient (a forward correlation) and the weight gradient;
- a weight gradient by the FFT: its swapped correlations (one node per chunk shape).

A node states the choices that depend on the values: where xconv chose the FFT, data that
are not all finite run `fallback` instead (`fallback_when`). Where a backend runs the
whole operation with its own library, the root says so (`algorithm="delegated"`) and
holds xconv's own plan as its part, for the cases the delegate hands back.

`Plan.to_json` writes a plan (measured timings included) and `xconv.load_plan` reads it
back: a plan tuned once travels with a model.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .algorithms import Estimate
from .algorithms.prepared import PreparedWeights
from .spec import ConvSpec

Pair = tuple[int, int]

# the value-dependent switch a node may state
NON_FINITE = "the data are not all finite (a transform would spread NaN and infinity)"


@dataclass(frozen=True)
class Plan:
    """How `xconv` will run one operation, and why; call it to run it.

    Made by `xconv.plan` (from shapes) or by the planner inside a call; not meant to be
    constructed by hand. A plan from `xconv.plan` runs the operation it was made for on
    arrays of the planned shapes and dtype, without planning again: `plan(x, weight,
    bias=None)` for `conv` and `conv_transpose`, `plan(grad_output, x, weight)` for the
    VJPs. It keeps the weight in its algorithm's form (the FFT path's spectrum) between
    calls and makes it again when the weight changes (`prepared`).

    Parameters
    ----------
    operation : str
        `"conv"`, `"conv_transpose"`, `"conv_vjp"` or `"conv_transpose_vjp"` at the root;
        a part's role below it (`"correlation"`, `"phase"`, `"input gradient"`, ...).
    algorithm : str
        What runs: `"direct"`, `"gemm"` or `"fft"` for a correlation; a part's route
        (`"phases"`, `"transposed gemm"`, `"spread"`, `"parts"`, `"shared spectra"`,
        `"swapped"`); `"delegated"` where the backend's library runs it.
    reason : str
        Why: the route and its modelled time, its margin over the runner-up,
        "requested", or "measured" with the timings.
    spec : ConvSpec
        The convolution of this node.
    input_shape : tuple of int
        The canonical `(N, C, *S)` input shape of this node (before padding).
    dtype : str
        The compute dtype's name.
    flops : int
        The chosen route's flops (the FFT's conventional count, the definition's for
        direct and GEMM); the parts' sum for a node with parts.
    workspace_bytes : int
        Its scratch memory (the largest part's).
    chunking : mapping
        How the work is split: the NumPy engine's layout and tiles, the FFT's transform
        shape, frames and frames per chunk, the stride phases.
    estimates : mapping of str to float
        Each candidate's modelled seconds.
    backend : Backend
        The backend it runs on (`backend.name` names it).
    padding : tuple of (int, int)
        The resolved `(before, after)` padding per spatial axis (the cropping of a
        transposed convolution).
    output_shape : tuple of int
        The canonical `(N, F, *O)` result shape (of the first result for the VJPs).
    estimate : Estimate
        A correlation's own estimate, which its run follows.
    seconds : float
        The modelled time of this node, its parts included.
    measured : mapping of str to float
        Measured seconds per candidate (`algorithm="measure"`), empty when modelled.
    parts : tuple of Plan
        The parts, in the order they run.
    fallback : Plan, optional
        What runs instead when `fallback_when` holds.
    fallback_when : str
        The condition, checked on the values as the plan runs.
    region : tuple, optional
        A transposed window's `(start, size)`.
    repeat : int
        How many times this part runs (equal stride phases, equal chunks).
    limit : int, optional
        The workspace in bytes the plan was made for (its chunks and routes fit it).
    runner : callable, optional
        What calling the plan runs (`xconv.operations.run_plan`, set on the plans
        `xconv.plan` and `xconv.load_plan` return).

    See Also
    --------
    plan : make one from shapes.
    load_plan : read one written by `Plan.to_json`.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> p = xconv.plan((1, 4, 64, 64), (8, 4, 3, 3), dtype="float64", padding=1)
    >>> p.output_shape, p.padding
    ((1, 8, 64, 64), ((1, 1), (1, 1)))
    >>> p(np.ones((1, 4, 64, 64)), np.ones((8, 4, 3, 3)))[0, 0, 0, :3]
    array([16., 24., 24.])
    """

    operation: str
    algorithm: str
    reason: str
    spec: ConvSpec | None = None
    input_shape: tuple[int, ...] | None = None
    dtype: str | None = None
    flops: int | None = None
    workspace_bytes: int | None = None
    chunking: Mapping[str, object] = field(default_factory=dict, hash=False)
    estimates: Mapping[str, float] = field(default_factory=dict, hash=False)
    backend: object = field(default=None, compare=False)
    padding: tuple[Pair, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    estimate: Estimate | None = field(default=None, compare=False, repr=False)
    seconds: float | None = None
    measured: Mapping[str, float] = field(default_factory=dict, hash=False)
    parts: tuple[Plan, ...] = ()
    fallback: Plan | None = field(default=None, compare=False)
    fallback_when: str = ""
    region: tuple | None = None
    repeat: int = 1
    limit: int | None = None
    # set on plans handed to users: runs the plan on arrays (`xconv.operations.run_plan`)
    runner: Callable | None = field(default=None, compare=False, repr=False)
    prepared: PreparedWeights = field(
        default_factory=PreparedWeights, init=False, compare=False, repr=False
    )

    @property
    def backend_name(self) -> str:
        """The backend's name."""
        return getattr(self.backend, "name", str(self.backend))

    def __repr__(self) -> str:
        fields = [
            f"operation={self.operation!r}",
            f"algorithm={self.algorithm!r}",
            f"reason={self.reason!r}",
        ]
        if self.flops is not None:
            fields += [f"flops={self.flops:.3g}", f"workspace_bytes={self.workspace_bytes}"]
        if self.chunking:
            fields.append(f"chunking={dict(self.chunking)!r}")
        if self.parts:
            fields.append(f"parts={len(self.parts)}")
        fields.append(f"backend={self.backend_name!r}")
        return f"Plan({', '.join(fields)})"

    def __str__(self) -> str:
        return "\n".join(self._lines(0))

    def _lines(self, depth: int) -> list[str]:
        pad = "  " * depth
        head = "Plan" if depth == 0 else self.operation
        if self.repeat > 1:
            head += f" (x{self.repeat})"
        modelled = "" if self.seconds is None else f", modelled {_ms(self.seconds)}"
        lines = [f"{pad}{head}: {self.algorithm} ({self.reason}){modelled if depth else ''}"]
        pad += "  "
        if self.spec is not None and self.input_shape is not None:
            kind = "transposed " if self.spec.transposed else ""
            lines.append(
                f"{pad}{kind}input {self.input_shape} {self.dtype}, kernel "
                f"{self.spec.kernel_size}, stride {self.spec.stride}, dilation "
                f"{self.spec.dilation}, groups {self.spec.groups}"
            )
        if depth == 0 and self.padding is not None:
            lines.append(
                f"{pad}backend {self.backend_name}, padding {self.padding}, "
                f"output {self.output_shape}"
            )
        if self.flops is not None and not self.parts:
            lines.append(f"{pad}flops {self.flops:.3g}, workspace {_bytes(self.workspace_bytes)}")
        if self.chunking:
            lines.append(
                f"{pad}chunking " + ", ".join(f"{k} {v}" for k, v in self.chunking.items())
            )
        if self.measured:
            ranked = sorted(self.measured.items(), key=lambda item: item[1])
            lines.append(f"{pad}measured " + ", ".join(f"{a} {_ms(s)}" for a, s in ranked))
        if self.estimates:
            ranked = sorted(self.estimates.items(), key=lambda item: item[1])
            lines.append(f"{pad}modelled " + ", ".join(f"{a} {_ms(s)}" for a, s in ranked))
        elif depth == 0 and self.seconds is not None:
            lines.append(f"{pad}modelled {_ms(self.seconds)} in all")
        if self.fallback is not None:
            lines.append(f"{pad}if {self.fallback_when}: {self.fallback.algorithm} instead")
        for part in self.parts:
            lines += part._lines(depth + 1)
        return lines

    def __call__(self, *arrays, **keywords):
        """Run the planned operation on arrays of the planned shapes and dtype."""
        if self.runner is None:
            raise TypeError(
                "only a plan from xconv.plan (or xconv.load_plan) can be called; this "
                f"{self.operation!r} plan is a part of one"
            )
        return self.runner(self, *arrays, **keywords)

    def walk(self):
        """This node and every node below it, parents first (fallbacks included)."""
        yield self
        for part in self.parts:
            yield from part.walk()
        if self.fallback is not None:
            yield from self.fallback.walk()

    # -- JSON ------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The plan as JSON text: `xconv.load_plan` makes it again, with its choices and
        measured timings (the algorithms' own details are recomputed from the shapes).

        Examples
        --------
        >>> import xconv
        >>> p = xconv.plan((1, 8, 32, 32), (8, 8, 3, 3), padding=1, algorithm="gemm")
        >>> q = xconv.load_plan(p.to_json())
        >>> q == p, q.algorithm
        (True, 'gemm')
        """
        return json.dumps(self.as_dict())

    def as_dict(self) -> dict:
        """The plan as plain data (what `to_json` writes)."""
        data = {
            "operation": self.operation,
            "algorithm": self.algorithm,
            "reason": self.reason,
            "spec": None if self.spec is None else spec_to_dict(self.spec),
            "input_shape": _listed(self.input_shape),
            "dtype": self.dtype,
            "flops": self.flops,
            "workspace_bytes": self.workspace_bytes,
            "chunking": {k: _listed(v) for k, v in self.chunking.items()},
            "estimates": dict(self.estimates),
            "backend": self.backend_name,
            "padding": _listed(self.padding),
            "output_shape": _listed(self.output_shape),
            "seconds": self.seconds,
            "measured": dict(self.measured),
            "parts": [p.as_dict() for p in self.parts],
            "fallback": None if self.fallback is None else self.fallback.as_dict(),
            "fallback_when": self.fallback_when,
            "region": _listed(self.region),
            "repeat": self.repeat,
            "limit": self.limit,
        }
        return data


def from_dict(data: Mapping, backend, estimate_of: Callable) -> Plan:
    """A plan from `Plan.as_dict` data, on `backend`; `estimate_of(node)` recomputes a
    correlation node's `Estimate` (its run's details) from its shapes and algorithm."""
    node = Plan(
        operation=data["operation"],
        algorithm=data["algorithm"],
        reason=data["reason"],
        spec=None if data["spec"] is None else spec_from_dict(data["spec"]),
        input_shape=_tupled(data["input_shape"]),
        dtype=data["dtype"],
        flops=data["flops"],
        workspace_bytes=data["workspace_bytes"],
        chunking=MappingProxyType({k: _tupled(v) for k, v in data["chunking"].items()}),
        estimates=MappingProxyType(dict(data["estimates"])),
        backend=backend,
        padding=_tupled(data["padding"]),
        output_shape=_tupled(data["output_shape"]),
        seconds=data["seconds"],
        measured=MappingProxyType(dict(data["measured"])),
        parts=tuple(from_dict(p, backend, estimate_of) for p in data["parts"]),
        fallback=None
        if data["fallback"] is None
        else from_dict(data["fallback"], backend, estimate_of),
        fallback_when=data["fallback_when"],
        region=_tupled(data["region"]),
        repeat=data.get("repeat", 1),
        limit=data.get("limit"),
    )
    return dataclasses.replace(node, estimate=estimate_of(node))


def spec_to_dict(spec: ConvSpec) -> dict:
    """A `ConvSpec` as JSON-ready data (a complex padding value as `[real, imag]`)."""
    data = {f.name: _listed(getattr(spec, f.name)) for f in dataclasses.fields(spec)}
    if isinstance(spec.padding_value, complex):
        data["padding_value"] = {"complex": [spec.padding_value.real, spec.padding_value.imag]}
    return data


def spec_from_dict(data: Mapping) -> ConvSpec:
    values = {k: _tupled(v) for k, v in data.items()}
    value = data["padding_value"]
    if isinstance(value, Mapping):
        values["padding_value"] = complex(*value["complex"])
    return ConvSpec(**values)


def _listed(value):
    if isinstance(value, tuple | list):
        return [_listed(v) for v in value]
    return value


def _tupled(value):
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
