"""Array namespaces as the tests see them: make arrays, read them back, name dtypes."""

from __future__ import annotations

import numpy as np
import pytest


class Namespace:
    """One array library as the tests see it: make arrays, read them back, name dtypes."""

    name: str = ""
    dtypes: tuple[str, ...] = ()

    def asarray(self, a: np.ndarray):
        raise NotImplementedError

    def to_numpy(self, a) -> np.ndarray:
        raise NotImplementedError

    def dtype(self, name: str):
        raise NotImplementedError

    def is_array(self, a) -> bool:
        raise NotImplementedError

    def default_float(self):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Namespace {self.name}>"


class NumpyNamespace(Namespace):
    name = "numpy"
    dtypes = ("float16", "float32", "float64", "complex64", "complex128")

    def asarray(self, a):
        return np.array(a, copy=True)

    def to_numpy(self, a):
        assert isinstance(a, np.ndarray), type(a)
        return a

    def dtype(self, name):
        return np.dtype(name)

    def is_array(self, a):
        return isinstance(a, np.ndarray)

    def default_float(self):
        return np.dtype(np.float64)


class StrictNamespace(Namespace):
    name = "array_api_strict"
    # the array API standard has no float16
    dtypes = ("float32", "float64", "complex64", "complex128")

    def __init__(self, xp):
        self.xp = xp

    def asarray(self, a):
        return self.xp.asarray(np.array(a, copy=True))

    def to_numpy(self, a):
        return np.array(np.from_dlpack(a), copy=True)

    def dtype(self, name):
        return getattr(self.xp, name)

    def is_array(self, a):
        return isinstance(a, type(self.xp.asarray(0.0)))

    def default_float(self):
        return self.xp.__array_namespace_info__().default_dtypes()["real floating"]


class TorchNamespace(Namespace):
    name = "torch"
    dtypes = ("float16", "float32", "float64", "complex64", "complex128")

    def __init__(self, torch):
        self.torch = torch

    def asarray(self, a):
        return self.torch.from_numpy(np.array(a, copy=True))

    def to_numpy(self, a):
        return a.detach().cpu().resolve_conj().numpy().copy()

    def dtype(self, name):
        return getattr(self.torch, name)

    def is_array(self, a):
        return isinstance(a, self.torch.Tensor)

    def default_float(self):
        return self.torch.get_default_dtype()


class DaskNamespace(Namespace):
    """Dask arrays in small uneven chunks along every axis (sizes 2, 1, 3, 2, 1, 3, ...), so
    that every window of a test problem crosses chunk borders, some more than one."""

    name = "dask"
    dtypes = ("float16", "float32", "float64", "complex64", "complex128")

    def __init__(self, da):
        import array_api_compat.dask.array as xp

        self.da, self.xp = da, xp

    def asarray(self, a):
        a = np.array(a, copy=True)
        return self.da.from_array(a, chunks=tuple(uneven_chunks(n) for n in a.shape))

    def to_numpy(self, a):
        assert isinstance(a, self.da.Array), type(a)
        return np.asarray(a.compute())

    def dtype(self, name):
        return np.dtype(name)

    def is_array(self, a):
        return isinstance(a, self.da.Array)

    def default_float(self):
        return np.dtype(np.float64)


class CuPyNamespace(Namespace):
    """CuPy arrays on the GPU (the tests skip, saying why, without CuPy or a GPU)."""

    name = "cupy"
    dtypes = ("float16", "float32", "float64", "complex64", "complex128")

    def __init__(self, cupy):
        self.cupy = cupy

    def asarray(self, a):
        return self.cupy.asarray(np.array(a, copy=True))

    def to_numpy(self, a):
        assert isinstance(a, self.cupy.ndarray), type(a)
        return self.cupy.asnumpy(a)

    def dtype(self, name):
        return self.cupy.dtype(name)

    def is_array(self, a):
        return isinstance(a, self.cupy.ndarray)

    def default_float(self):
        return self.cupy.dtype(self.cupy.float64)


def cupy_or_skip():
    """CuPy with a GPU, or a skip naming what is missing."""
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install 'xconv[gpu]')")
    try:
        devices = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, no device: CuPy raises its own CUDA errors
        devices = 0
    if not devices:
        pytest.skip("no NVIDIA GPU: the CuPy tests need one (benchmarks/gpu_check.sh runs them)")
    return cupy


def uneven_chunks(n: int, pattern=(2, 1, 3)) -> tuple[int, ...]:
    """Chunk sizes that add up to `n`, cycling through `pattern` (one empty chunk for 0)."""
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(min(pattern[len(sizes) % len(pattern)], n - sum(sizes)))
    return tuple(sizes) or (0,)


NUMPY = NumpyNamespace()


def get_namespace(name: str) -> Namespace:
    """The namespace called ``name``; skips the calling test if its library is missing."""
    if name == "numpy":
        return NUMPY
    if name == "array_api_strict":
        return StrictNamespace(pytest.importorskip("array_api_strict"))
    if name == "torch":
        return TorchNamespace(pytest.importorskip("torch"))
    if name == "dask":
        return DaskNamespace(pytest.importorskip("dask.array"))
    if name == "cupy":
        return CuPyNamespace(cupy_or_skip())
    raise ValueError(name)


NAMESPACE_NAMES = ("numpy", "array_api_strict", "torch", "dask", "cupy")
