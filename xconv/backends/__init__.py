"""Backends: one object per array library, found from the caller's namespace.

`backend_for(xp)` returns the backend of an array-API namespace: the first registered
backend whose predicate accepts it, else the generic array-API backend (`Backend`). A
backend's module is imported only when a caller's arrays come from its library, and the
predicates (array-api-compat's `is_*_namespace`) import no library either.

`register_backend(matches, factory)` plugs in a backend without touching the core (it is
consulted before the built-in ones); see "Writing a backend" in the README.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from types import ModuleType

from array_api_compat import (
    is_cupy_namespace,
    is_dask_namespace,
    is_jax_namespace,
    is_numpy_namespace,
    is_torch_namespace,
)

from .generic import OPERATIONS, Backend, Declined, Delegation, generic_backend

Predicate = Callable[[ModuleType], bool]
Factory = Callable[[ModuleType], Backend]


def _lazy(module: str, name: str) -> Factory:
    """A factory that imports `module` only when first called."""

    def make(xp: ModuleType) -> Backend:
        return getattr(importlib.import_module(module), name)(xp)

    return make


# the backend objects made so far, by (factory, namespace)
_INSTANCES: dict[tuple[Factory, ModuleType], Backend] = {}

# (predicate on the namespace, factory), consulted in order
_REGISTRY: list[tuple[Predicate, Factory]] = [
    (is_numpy_namespace, _lazy("xconv.backends.numpy", "NumPyBackend")),
    (is_torch_namespace, _lazy("xconv.backends.pytorch", "TorchBackend")),
    (is_jax_namespace, _lazy("xconv.backends.jaxlax", "JaxBackend")),
    (is_dask_namespace, _lazy("xconv.backends.daskarray", "DaskBackend")),
    (is_cupy_namespace, _lazy("xconv.backends.cupyarray", "CuPyBackend")),
]


def register_backend(matches: Predicate, factory: Factory) -> None:
    """Use `factory(xp)` as the backend of every namespace `xp` that `matches` accepts.

    Registered backends take precedence over the built-in ones, latest first. The user
    guide's "Writing a backend" page has a whole example.

    Parameters
    ----------
    matches : callable
        `matches(xp) -> bool` on an array-API namespace; it should not import a library.
    factory : callable
        `factory(xp) -> Backend`, called once per namespace (a `Backend` subclass will do).

    See Also
    --------
    unregister_backend : the way back.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> import xconv
    >>> from xconv.backends import Backend, register_backend, unregister_backend
    >>> class Timed(Backend):
    ...     name = "timed"
    ...     waits = 0
    ...     def synchronize(self):  # called around each timed run of "measure"
    ...         type(self).waits += 1
    >>> register_backend(lambda xp: xp is xps, Timed)
    >>> y = xconv.conv(xps.ones((1, 8)), xps.ones((1, 1, 3)), algorithm="measure")
    >>> Timed.waits > 0, y.shape
    (True, (1, 6))
    >>> unregister_backend(Timed)
    """
    _REGISTRY.insert(0, (matches, factory))
    backend_for.cache_clear()


def unregister_backend(factory: Factory) -> None:
    """Remove every registration of `factory`, and forget the backends it made.

    Parameters
    ----------
    factory : callable
        A factory given to `register_backend`.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> from xconv.backends import Backend, backend_for, register_backend, unregister_backend
    >>> class Mine(Backend):
    ...     name = "mine"
    >>> register_backend(lambda xp: xp is xps, Mine)
    >>> backend_for(xps).name
    'mine'
    >>> unregister_backend(Mine)
    >>> backend_for(xps).name
    'generic'
    """
    _REGISTRY[:] = [(m, f) for m, f in _REGISTRY if f is not factory]
    backend_for.cache_clear()
    for key in [key for key in _INSTANCES if key[0] is factory]:
        del _INSTANCES[key]


@functools.cache
def backend_for(xp: ModuleType) -> Backend:
    """The backend of an array-API namespace: one object per namespace and factory.

    Parameters
    ----------
    xp : module
        An array-API namespace (as `array_api_compat.array_namespace` gives it).

    Returns
    -------
    Backend
        The first registered backend whose predicate accepts `xp`, else the generic
        array-API backend.

    Examples
    --------
    >>> import array_api_compat.numpy as np_compat
    >>> from xconv.backends import backend_for
    >>> backend_for(np_compat).name
    'numpy'
    """
    for matches, factory in _REGISTRY:
        if matches(xp):
            return _made(factory, xp)
    return generic_backend(xp)


def _made(factory: Factory, xp: ModuleType) -> Backend:
    """`factory(xp)`, made once: registering another backend keeps the existing objects."""
    key = (factory, xp)
    if key not in _INSTANCES:
        _INSTANCES[key] = factory(xp)
    return _INSTANCES[key]


_NAMESPACES = {
    "numpy": "array_api_compat.numpy",
    "cupy": "array_api_compat.cupy",
    "torch": "array_api_compat.torch",
    "jax": "jax.numpy",
    "dask": "array_api_compat.dask.array",
}


def backend_named(name: str) -> Backend:
    """The backend `xconv.plan(..., backend=name)` plans for.

    Parameters
    ----------
    name : {"numpy", "cupy", "torch", "jax", "dask", "generic"}
        The backend of that library's arrays (the library must be installed), or the
        generic array-API backend.

    Returns
    -------
    Backend
        The backend object.

    Raises
    ------
    ValueError
        Another name, or a library that is not installed.

    Examples
    --------
    >>> from xconv.backends import backend_named
    >>> backend_named("generic")
    <Backend 'generic' for None>
    """
    if name == "generic":
        return generic_backend(None)
    if name not in _NAMESPACES:
        known = ", ".join(repr(n) for n in (*_NAMESPACES, "generic"))
        raise ValueError(f"backend must be one of {known}, got {name!r}")
    try:
        namespace = importlib.import_module(_NAMESPACES[name])
    except ImportError as error:
        raise ValueError(f"backend {name!r} needs its library: {error}") from None
    return backend_for(namespace)


__all__ = [
    "OPERATIONS",
    "Backend",
    "Declined",
    "Delegation",
    "backend_for",
    "backend_named",
    "register_backend",
    "unregister_backend",
]
