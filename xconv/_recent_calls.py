"""The checked calls and plans of recent NumPy calls, so that a call repeated in a loop
skips the checks and the plan lookup.

A call's checks (`xconv._front.check_call`) and its plan depend only on the arrays'
types, shapes and dtypes, the keywords, and the context (default algorithm, thread
limit, BLAS threads, workspace limit). After a cache flush, as when another library's
kernel ran in between, checking and planning took 0.35 ms (0.08 ms warm): as much as a
tenth of a GEMM-bound layer's time. So each checked call is kept, its arrays dropped
(no user array is kept alive), under that key; a call with the same key takes the new
arrays into the kept one. Only plain NumPy arrays qualify (other libraries' arrays may
move between devices or be traced), and only calls that passed their checks are kept:
every mistake still goes through the checks and gets their error.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ._front import Call, options_key
from ._recent import Recent
from .backends import backend_for
from .config import get_default_algorithm, get_workspace_limit
from .spec import ConvSpec

SIZE = 64  # calls kept, least recently used dropped

_kept = Recent(SIZE)


def key(operation: str, given: dict, keywords: list[str]) -> tuple | None:
    """What the checked call and plan of these bound arguments depend on, or None where
    the call does not qualify (non-NumPy arrays, "measure", unusual keyword values)."""
    arrays = [given["x"], given["weight"], given.get("bias"), given.get("grad_output")]
    if any(a is not None and type(a) is not np.ndarray for a in arrays):
        return None
    algorithm, spec = given["algorithm"], given["spec"]
    if type(algorithm) is not str or algorithm == "measure":
        return None
    if spec is not None and type(spec) is not ConvSpec:
        return None
    options = options_key({name: given[name] for name in keywords})
    if options is None:
        return None
    shapes = tuple(None if a is None else (a.shape, a.dtype) for a in arrays)
    context = (get_default_algorithm(), _numpy().threads(), get_workspace_limit())
    return (operation, shapes, algorithm, spec, options, context)


@functools.cache
def _numpy():
    """The NumPy backend (its `threads()`: the thread limit and BLAS's threads)."""
    return backend_for(np)


def checked(key: tuple, given: dict) -> Call | None:
    """The kept call of `key` on the arrays in `given` (its plan included), or None."""
    call = _kept.get(key)
    if call is None:
        return None
    return call.with_arrays(
        given["x"], given["weight"], given.get("bias"), given.get("grad_output")
    )


def keep(key: tuple, call: Call) -> None:
    """Remember a checked and planned call under `key`, without its arrays."""
    bare = dataclasses.replace(call, x=None, weight=None, bias=None, grad=None, user_x=None)
    _kept.put(key, bare)


def forget() -> None:
    """Drop every kept call (plans were cleared: `xconv.planner.clear_plans`)."""
    _kept.clear()
