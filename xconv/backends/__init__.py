"""Native speed-ups for particular array libraries.

The algorithms are written once against the array API standard. Where a library offers
something faster (NumPy's `sliding_window_view` and `np.pad`, for example), its backend
module here defines a function of the same name and signature, and the generic code
delegates to it when the caller's namespace matches. A backend module is imported only
when the caller's arrays come from its library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

from array_api_compat import is_numpy_namespace

# (predicate on the namespace, backend module name), checked in order
_BACKENDS: tuple[tuple[Callable[[ModuleType], bool], str], ...] = (
    (is_numpy_namespace, "xconv.backends.numpy"),
)


def native(xp: ModuleType, name: str) -> Callable | None:
    """The native implementation of operation `name` for namespace `xp`, or None."""
    for matches, module_name in _BACKENDS:
        if matches(xp):
            return getattr(importlib.import_module(module_name), name, None)
    return None
