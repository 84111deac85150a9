"""BLAS `gemm` with accumulation and strided operands, on NumPy's own BLAS.

`numpy.matmul` always overwrites its output, so summing per-tap products would need a
temporary and an extra pass over the output per tap; BLAS `gemm` computes
`C = A @ B + beta * C` on strided matrices in one pass. NumPy does not publish its BLAS,
but its library is loaded in the process: threadpoolctl (the maintained tool for native
thread pools) names the loaded BLAS libraries, and we call the CBLAS `?gemm` of NumPy's
through ctypes (which releases the GIL), after checking it on a tiny product.

Why NumPy's BLAS and not SciPy's (`scipy.linalg.cython_blas`): pip wheels of NumPy and
SciPy each bundle an OpenBLAS with its own thread pool, and an OpenBLAS pool spins for a
while after every call. Alternating between two pools on a machine with few cores ran
each call 2-3x slower (measured), so every product here, and the user's own NumPy
products, must share one pool. Where NumPy's BLAS cannot be found (an unknown build),
`gemm` falls back to `numpy.matmul`, with the same results.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_PREFIX = {
    np.dtype(np.float32): ("s", ctypes.c_float),
    np.dtype(np.float64): ("d", ctypes.c_double),
    np.dtype(np.complex64): ("c", ctypes.c_float * 2),
    np.dtype(np.complex128): ("z", ctypes.c_double * 2),
}


@functools.cache
def _blas_pools():
    """threadpoolctl's controller of the loaded BLAS libraries (None if it has none)."""
    from threadpoolctl import ThreadpoolController

    pools = ThreadpoolController().select(user_api="blas")
    return pools if pools.lib_controllers else None


def blas_threads() -> int:
    """The threads NumPy's BLAS runs on now (threadpoolctl's limits included; one ctypes
    call, a microsecond: every plan lookup reads it); 1 where no BLAS pool can be read."""
    pool = _numpy_blas_pool()
    return 1 if pool is None else max(1, int(pool.num_threads))


@functools.cache
def _numpy_blas_pool():
    """threadpoolctl's controller of NumPy's own BLAS (of the first loaded one where
    NumPy's cannot be told apart), or None."""
    pools = _blas_pools()
    if pools is None:
        return None
    ours = [p for p in pools.lib_controllers if p.filepath.startswith(_numpy_libraries())]
    return (ours or pools.lib_controllers)[0]


@functools.cache
def _numpy_libraries() -> str:
    """The folder of the libraries bundled in NumPy's wheel (its OpenBLAS among them)."""
    return str(Path(np.__file__).parent.parent / "numpy.libs") + os.sep


def _candidate_libraries() -> list[str]:
    """Loaded BLAS libraries, NumPy's own (in its wheel's library folder) first."""
    pools = _blas_pools()
    paths = [pool.filepath for pool in pools.lib_controllers] if pools else []
    own = _numpy_libraries()
    return sorted(dict.fromkeys(paths), key=lambda path: not path.startswith(own))


def _numpy_ilp64() -> bool | None:
    """Whether NumPy's BLAS takes 64-bit integers (None: NumPy does not say)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # the layout of show_config differs between NumPy versions
        return None
    text = " ".join(str(v) for v in blas.values())
    return "USE64BITINT" in text or "ilp64" in text.lower() or "64_" in text


@functools.cache
def _cblas_gemm(dtype: np.dtype) -> tuple[Callable, type, type, ctypes.CDLL] | None:
    """NumPy's CBLAS `?gemm` for `dtype`: (function, integer type, scalar type), or None."""
    if dtype not in _PREFIX:
        return None
    letter, scalar = _PREFIX[dtype]
    ilp64 = _numpy_ilp64()
    # suffixed ILP64 names are unambiguous; a plain name's integer width is NumPy's
    symbols = [(f"scipy_cblas_{letter}gemm64_", ctypes.c_int64)]
    symbols.append((f"cblas_{letter}gemm64_", ctypes.c_int64))
    if ilp64 is False:
        symbols.append((f"cblas_{letter}gemm", ctypes.c_int))
    for path in _candidate_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol, integer in symbols:
            function = getattr(library, symbol, None)
            if function is None:
                continue
            by_value = not issubclass(scalar, ctypes.Array)
            scalar_arg = scalar if by_value else ctypes.c_void_p  # complex by pointer
            function.restype = None
            function.argtypes = [
                ctypes.c_int,  # order
                ctypes.c_int,  # transa
                ctypes.c_int,  # transb
                integer,  # m
                integer,  # n
                integer,  # k
                scalar_arg,  # alpha
                ctypes.c_void_p,  # a
                integer,  # lda
                ctypes.c_void_p,  # b
                integer,  # ldb
                scalar_arg,  # beta
                ctypes.c_void_p,  # c
                integer,  # ldc
            ]
            found = (function, integer, scalar, library)
            if _works(found, dtype):
                return found
    return None


def _works(found, dtype) -> bool:
    """A tiny product checked against NumPy: never trust a symbol we merely guessed."""
    a = np.arange(6, dtype=dtype).reshape(2, 3) + 1
    b = np.arange(12, dtype=dtype).reshape(3, 4) - 5
    out = np.full((2, 4), 7, dtype=dtype)
    _call(found, a, b, out, accumulate=True)
    return bool(np.array_equal(out, a @ b + 7))


def _operand(a: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) of a row-major operand, or None if unusable."""
    size = a.itemsize
    rows, cols = a.shape
    s0, s1 = a.strides
    if (s1 == size or cols == 1) and s0 % size == 0 and s0 // size >= max(cols, 1):
        return _NO_TRANS, s0 // size
    if (s0 == size or rows == 1) and s1 % size == 0 and s1 // size >= max(rows, 1):
        return _TRANS, s1 // size
    return None


def _scalar(found, value: float):
    scalar = found[2]
    if issubclass(scalar, ctypes.Array):  # complex: a pointer to (real, imaginary)
        return ctypes.cast(ctypes.pointer(scalar(value, 0.0)), ctypes.c_void_p)
    return scalar(value)


def _call(found, a, b, out, accumulate: bool) -> bool:
    """Run `out (+)= a @ b` through CBLAS; False if an operand's layout does not allow it."""
    function, integer = found[0], found[1]
    layout_a, layout_b = _operand(a), _operand(b)
    if layout_a is None or layout_b is None or out.strides[1] != out.itemsize:
        return False
    if out.strides[0] % out.itemsize or out.strides[0] // out.itemsize < max(out.shape[1], 1):
        return False
    (trans_a, lda), (trans_b, ldb) = layout_a, layout_b
    m, k = a.shape
    n = b.shape[1]
    alpha, beta = _scalar(found, 1.0), _scalar(found, 1.0 if accumulate else 0.0)
    function(
        _ROW_MAJOR,
        trans_a,
        trans_b,
        integer(m),
        integer(n),
        integer(k),
        alpha,
        a.ctypes.data,
        integer(lda),
        b.ctypes.data,
        integer(ldb),
        beta,
        out.ctypes.data,
        integer(out.strides[0] // out.itemsize),
    )
    return True


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False) -> None:
    """`out = a @ b`, or `out += a @ b` with `accumulate`; 2-D arrays of one dtype.

    The operands may be strided views (a window of a larger buffer), each with a unit
    stride along one axis; anything else takes the `numpy.matmul` road.
    """
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        if not accumulate:
            out[...] = 0
        return
    found = _cblas_gemm(out.dtype) if a.dtype == b.dtype == out.dtype else None
    if found is not None and _call(found, a, b, out, accumulate):
        return
    if accumulate:
        out += a @ b
    else:
        np.matmul(a, b, out=out)


def available(dtype) -> bool:
    """Whether `gemm` reaches NumPy's BLAS directly for `dtype`."""
    return _cblas_gemm(np.dtype(dtype)) is not None
