"""Peers: one small module per framework, each translating a canonical case into its call.

A peer module defines `NAME`, `version()` and `run(case, arrays) -> dict[str, ndarray]`
(keys `output`, or `grad_input` / `grad_weight` / `grad_bias` for VJP cases), takes the
canonical `(N, C, *S)` arrays of `conformance.cases.make_arrays` and returns canonical
arrays. It raises `Unsupported` with a reason where the framework cannot express a case.
Frameworks are imported only when their peer runs.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

from ._common import Unsupported

__all__ = ["PEER_NAMES", "Unsupported", "load_peer", "peer_status"]

_MODULES = {
    "torch": "pytorch",
    "jax": "jaxlax",
    "keras": "keras3",
    "onnxruntime": "onnxrt",
    "scipy": "scipypeer",
    "pages": "pages",
}
PEER_NAMES = tuple(_MODULES)


def load_peer(name: str) -> ModuleType:
    """The peer module for `name` (its framework is imported lazily, on first use)."""
    if name not in _MODULES:
        raise ValueError(f"unknown peer {name!r}; choose from {', '.join(PEER_NAMES)}")
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


@functools.cache
def peer_status(name: str) -> tuple[str | None, str]:
    """`(version, "")` if the peer's framework imports, else `(None, why)`."""
    try:
        return load_peer(name).version(), ""
    except ImportError as error:
        return None, f"{name} is not installed ({error})"
