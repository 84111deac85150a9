"""The array libraries a case runs xconv on: its operands moved there, its results back.

xconv computes a case on each library's own arrays (NumPy, array-api-strict, PyTorch,
JAX, Dask, and CuPy where a GPU is present), through that library's backend: a torch
case reaches `torch.nn.functional` or xconv's paths inside autograd, a Dask case the block
graph. The peers compute each case once, on NumPy; every library's result is compared
with them.
"""

from __future__ import annotations

import contextlib
import functools
import importlib

import numpy as np

LIBRARIES = ("numpy", "array_api_strict", "torch", "jax", "dask", "cupy")


@functools.cache
def status(name: str) -> tuple[str | None, str]:
    """`(version, "")` when `name` imports (CuPy: and sees a GPU), else `(None, why)`."""
    if name not in LIBRARIES:
        raise ValueError(f"unknown library {name!r}; choose from {', '.join(LIBRARIES)}")
    module = {"dask": "dask.array"}.get(name, name)
    try:
        library = importlib.import_module(module)
    except ImportError as error:
        return None, f"{name} is not installed ({error})"
    if name == "cupy":
        try:
            if library.cuda.runtime.getDeviceCount() < 1:
                return None, "cupy sees no GPU"
        except Exception as error:  # no driver, no device
            return None, f"cupy sees no GPU ({type(error).__name__})"
    if name == "dask":
        library = importlib.import_module("dask")
    return str(getattr(library, "__version__", "?")), ""


def installed() -> list[str]:
    """The libraries that import here, in `LIBRARIES` order."""
    return [name for name in LIBRARIES if status(name)[0] is not None]


def lacks(name: str, dtype: str) -> str | None:
    """Why `name` cannot hold a case's data of `dtype` (None: it can): array-api-strict
    has only the standard's dtypes, which leave out float16."""
    if name == "array_api_strict":
        import array_api_strict

        if not hasattr(array_api_strict, dtype):
            return f"array_api_strict has no {dtype} (the array API standard leaves it out)"
    return None


@contextlib.contextmanager
def scope(name: str, dtype: str):
    """What a library needs around a 64-bit case: JAX computes in 32 bits otherwise."""
    if name == "jax" and dtype in ("float64", "complex128"):
        from .peers._common import enable_x64

        with enable_x64(True):
            yield
        return
    yield


def compiled(name: str, function):
    """`function` under `jax.jit` on JAX arrays (as JAX users call xconv: one compilation
    per case, not one per operation), as it is on other libraries."""
    if name != "jax":
        return function
    import jax

    return jax.jit(function)


def to_library(name: str, array: np.ndarray | None, data: bool = True):
    """`array` as `name`'s array (None stays None); Dask splits data arrays into blocks."""
    if array is None or name == "numpy":
        return array
    array = np.ascontiguousarray(array)
    if name == "array_api_strict":
        import array_api_strict

        return array_api_strict.asarray(array)
    if name == "torch":
        import torch

        return torch.from_numpy(array.copy())
    if name == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array)
    if name == "dask":
        import dask.array as da

        # two blocks along every axis long enough: the halos cross block borders
        chunks = tuple(-(-n // 2) if data and n >= 4 else n for n in array.shape) or -1
        return da.from_array(array, chunks=chunks)
    if name == "cupy":
        import cupy

        return cupy.asarray(array)
    raise ValueError(f"unknown library {name!r}")


def to_numpy(array) -> np.ndarray:
    """A NumPy copy of any library's array (computed, detached, on the host)."""
    if hasattr(array, "detach"):  # torch
        array = array.detach().cpu()
    if hasattr(array, "compute") and not isinstance(array, np.ndarray):  # dask
        array = array.compute()
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        array = array.get()
    if type(array).__module__.startswith("array_api_strict"):
        return np.from_dlpack(array)  # the array API's own way out
    return np.asarray(array)
