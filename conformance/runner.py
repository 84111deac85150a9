"""Run cases through xconv and the peers, compare, and collect one result per pair."""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from . import libraries as array_libraries
from . import semantics, subject
from .cases import Case, make_arrays
from .peers import Unsupported, load_peer, peer_status

_EPS = {
    "float16": float(np.finfo(np.float16).eps),
    "float32": float(np.finfo(np.float32).eps),
    "complex64": float(np.finfo(np.float32).eps),
    "float64": float(np.finfo(np.float64).eps),
    "complex128": float(np.finfo(np.float64).eps),
}


@dataclass
class Result:
    """One comparison of xconv with one peer on one case."""

    case: str
    dialect: str
    peer: str
    status: str  # pass | fail | unsupported
    max_abs_err: float | None = None
    tolerance: float | None = None
    reason: str = ""
    op: str = ""
    rank: int = 0
    dtype: str = ""
    algorithm: str = "auto"
    seconds: float = 0.0
    backend: str = "numpy"  # the array library xconv ran on

    def as_dict(self) -> dict:
        return asdict(self)


def tolerance(case: Case, magnitude: float) -> float:
    """Absolute tolerance: rounding of a `reduction`-term sum in the case's dtype.

    `16 eps sqrt(K) max(1, |y|)`: a sum of K terms accumulates errors that grow like
    sqrt(K) ulps of the result's magnitude; 16 leaves room for different summation orders
    and for float16 results rounded once more from float32 accumulators.
    """
    return 16 * _EPS[case.dtype] * math.sqrt(case.reduction) * max(1.0, magnitude)


def compare(case: Case, ours: dict, theirs: dict) -> tuple[str, float | None, float | None, str]:
    """`(status, max_abs_err, tolerance, reason)` over the keys both sides produced."""
    worst, tol_used, problems = 0.0, None, []
    compared = 0
    for key, expected in theirs.items():
        if key not in ours:
            if key == "grad_bias" and not case.bias:
                continue
            problems.append(f"xconv produced no {key}")
            continue
        got = ours[key]
        compared += 1
        if not isinstance(expected, np.ndarray):  # a shape or a count
            if tuple(np.atleast_1d(got)) != tuple(np.atleast_1d(expected)):
                problems.append(f"{key}: xconv {got}, peer {expected}")
            continue
        if got.shape != expected.shape:
            problems.append(f"{key} shape: xconv {got.shape}, peer {expected.shape}")
            continue
        a = got.astype(np.complex128 if np.iscomplexobj(got) else np.float64)
        b = expected.astype(np.complex128 if np.iscomplexobj(expected) else np.float64)
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
        tol = tolerance(case, float(np.max(np.abs(b))) if b.size else 0.0)
        if not np.isfinite(err) or err > tol:
            problems.append(f"{key}: max abs error {err:.3g} > tolerance {tol:.3g}")
        if tol_used is None or err / tol > worst / tol_used:
            worst, tol_used = err, tol
    if not compared:
        problems.append("nothing to compare")
    status = "fail" if problems else "pass"
    return status, worst if tol_used is not None else None, tol_used, "; ".join(problems)


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text if len(text) < 400 else text[:397] + "..."


def subject_result(case: Case, arrays, library: str = "numpy") -> tuple[dict, str | None]:
    """xconv's outputs for `case` on `library`'s arrays, or `({}, why)` if it raised."""
    try:
        ours = subject.run(case, arrays, library)
    except subject.NotAvailable:
        raise
    except Exception as error:  # the subject failing is a result, not a crash
        return {}, f"xconv raised {_short(error)}"
    if "output" in ours:
        ours["output_shape"] = ours["output"].shape
    return ours, None


def _peer_result(name: str, case: Case, arrays) -> tuple[str, object, float]:
    """`(kind, value, seconds)`: `("ok", outputs)`, `("unsupported", why)` or
    `("error", why)` for one peer on one case."""
    start = time.perf_counter()
    try:
        theirs = load_peer(name).run(case, arrays)
    except Unsupported as why:
        return "unsupported", str(why), 0.0
    except Exception as error:
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        return "error", f"{name} raised {detail[:400]}", 0.0
    return "ok", theirs, time.perf_counter() - start


def run_case(
    case: Case,
    peers: Iterable[str],
    cache: dict | None = None,
    libraries: Iterable[str] = ("numpy",),
) -> Iterator[Result]:
    """Compare xconv on each array library with each peer on `case` (call
    `subject.check_available` first). Each peer computes the case once.

    `cache` (a dict) keeps the operands, the peers' results and xconv's results per case
    id across calls.
    """
    base = {"case": case.id, "dialect": case.dialect, "op": case.op}
    base.update(rank=case.rank, dtype=case.dtype, algorithm=case.algorithm)
    kept = cache.get(case.id) if cache is not None else None
    if kept is None:
        out_shape = semantics.output_shape(case) if case.gradient else None
        kept = {"arrays": make_arrays(case, out_shape), "peers": {}, "ours": {}}
        if cache is not None:
            cache[case.id] = kept
    arrays = kept["arrays"]
    if "error" in case.expect:  # a documented error
        for library in libraries:
            yield from _expected_errors(case, arrays, {**base, "backend": library}, peers, library)
        return
    for library in libraries:
        lacks = array_libraries.lacks(library, case.dtype)
        if library not in kept["ours"] and lacks is None:
            kept["ours"][library] = subject_result(case, arrays, library)
        ours, our_error = kept["ours"].get(library, ({}, None))
        for name in peers:
            if name == "pages" and not case.expect:
                continue  # the pages speak only to golden cases
            if lacks is not None:  # the library cannot hold the data: nothing to compare
                yield Result(**base, peer=name, backend=library, status="unsupported",
                             reason=lacks)  # fmt: skip
                continue
            if name not in kept["peers"]:
                kept["peers"][name] = _peer_result(name, case, arrays)
            kind, theirs, seconds = kept["peers"][name]
            where = {**base, "peer": name, "backend": library}
            if kind == "unsupported":
                yield Result(**where, status="unsupported", reason=theirs)
            elif kind == "error":
                reason = f"{our_error}; {theirs}" if our_error else theirs
                yield Result(**where, status="fail", reason=reason)
            elif our_error:
                yield Result(**where, status="fail", reason=our_error, seconds=seconds)
            else:
                status, err, tol, reason = compare(case, ours, theirs)
                yield Result(**where, status=status, max_abs_err=err, tolerance=tol,
                             reason=reason, seconds=seconds)  # fmt: skip


def judges_errors(case: Case, peer: str) -> bool:
    """Whether `peer` can confirm the documented error of `case`: the pages, and a peer
    that builds the dialect's own layer from the text (Keras)."""
    return peer == "pages" or getattr(load_peer(peer), "TEXT_DIALECT", None) == case.dialect


def _raised(call) -> BaseException | None:
    try:
        call()
    except (subject.NotAvailable, Unsupported):
        raise
    except Exception as error:
        return error
    return None


def _expected_errors(
    case: Case, arrays, base: dict, peers: Iterable[str], library: str = "numpy"
) -> Iterator[Result]:
    """Results for a case whose page documents an error: xconv must raise it (on
    `library`'s arrays), as must a peer that builds the dialect's layer itself."""
    wanted = case.expect["error"]

    def matches(error: BaseException | None) -> bool:
        return error is not None and wanted in {c.__name__ for c in type(error).__mro__}

    ours = _raised(lambda: subject.run(case, arrays, library))
    for name in peers:
        if not judges_errors(case, name):
            continue
        if name != "pages":
            try:
                theirs = _raised(lambda name=name: load_peer(name).run(case, arrays))
            except Unsupported as why:
                yield Result(**base, peer=name, status="unsupported", reason=str(why))
                continue
            if not matches(theirs):
                got = "no error" if theirs is None else _short(theirs)
                reason = f"{name} gave {got}, the page documents {wanted}"
                yield Result(**base, peer=name, status="fail", reason=reason)
                continue
        if matches(ours):
            yield Result(**base, peer=name, status="pass", reason=f"raised {_short(ours)}")
        else:
            got = "no error" if ours is None else _short(ours)
            reason = f"xconv gave {got}, the page documents {wanted}"
            yield Result(**base, peer=name, status="fail", reason=reason)


@dataclass
class Run:
    """Everything one run produced."""

    peers: dict[str, str | None]  # name -> version (None: not installed)
    results: list[Result]
    skipped: list[dict]  # cases this checkout of xconv cannot run yet, with why
    seconds: float
    libraries: dict[str, str | None] = field(default_factory=lambda: {"numpy": None})


def run_all(
    cases: Iterable[Case],
    peers: Iterable[str],
    progress=None,
    libraries: Iterable[str] = ("numpy",),
) -> Run:
    """Run every case on each array library against every installed peer among `peers`."""
    start = time.perf_counter()
    libraries = list(libraries)
    versions, installed = {}, []
    for name in peers:
        version, _ = peer_status(name)
        versions[name] = version
        if version is not None:
            installed.append(name)
    results, skipped = [], []
    for case in cases:
        try:
            subject.check_available(case)
            results.extend(run_case(case, installed, libraries=libraries))
        except subject.NotAvailable as why:
            skipped.append({"case": case.id, "dialect": case.dialect, "reason": str(why)})
        if progress is not None:
            progress(case)
    found = {name: array_libraries.status(name)[0] for name in libraries}
    return Run(versions, results, skipped, time.perf_counter() - start, found)
