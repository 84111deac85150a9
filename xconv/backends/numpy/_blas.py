"""BLAS `gemm` with accumulation and strided operands, for the NumPy backend.

`numpy.matmul` always overwrites its output, so summing per-tap products would need a
temporary and an extra pass over the output per tap. BLAS `gemm` computes
`C = A @ B + beta * C` on strided matrices in one pass. SciPy publishes its BLAS for
Cython users as `scipy.linalg.cython_blas`; its function pointers are reachable from
Python through the capsules in `__pyx_capi__`, and ctypes calls them without the GIL.
Whatever cannot take that road (no SciPy, an unusual dtype or layout) falls back to
`numpy.matmul`, which gives the same results.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import numpy as np

_PREFIX = {
    np.dtype(np.float32): ("s", ctypes.c_float),
    np.dtype(np.float64): ("d", ctypes.c_double),
    np.dtype(np.complex64): ("c", ctypes.c_float * 2),
    np.dtype(np.complex128): ("z", ctypes.c_double * 2),
}
_INT_MAX = 2**31 - 1  # cython_blas takes C ints


@functools.cache
def _fortran_gemm(dtype: np.dtype) -> tuple[Callable, type] | None:
    """The `?gemm` of SciPy's BLAS for `dtype` as a ctypes function, or None."""
    if dtype not in _PREFIX:
        return None
    prefix, scalar = _PREFIX[dtype]
    try:
        from scipy.linalg import cython_blas

        capsule = cython_blas.__pyx_capi__[prefix + "gemm"]
        get_name = ctypes.pythonapi.PyCapsule_GetName
        get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        name = get_name(capsule)
        if name is None or b"int *" not in name:  # only the LP64 interface is understood
            return None
        pointer = get_pointer(capsule, name)
    except (ImportError, KeyError, AttributeError, ValueError):
        return None
    int_p, scalar_p, void_p = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(scalar), ctypes.c_void_p
    prototype = ctypes.CFUNCTYPE(
        None,
        ctypes.c_char_p,  # transa
        ctypes.c_char_p,  # transb
        int_p,  # m
        int_p,  # n
        int_p,  # k
        scalar_p,  # alpha
        void_p,  # a
        int_p,  # lda
        void_p,  # b
        int_p,  # ldb
        scalar_p,  # beta
        void_p,  # c
        int_p,  # ldc
    )
    return prototype(pointer), scalar


def _layout(a: np.ndarray) -> tuple[bytes, int] | None:
    """Row-major `a` as a column-major BLAS operand: (b"N" or b"T", leading dimension)."""
    size = a.itemsize
    rows, cols = a.shape
    s0, s1 = a.strides
    if (s1 == size or cols == 1) and s0 % size == 0 and s0 // size >= max(cols, 1):
        return b"N", s0 // size  # row-major (rows, cols) is column-major (cols, rows)
    if (s0 == size or rows == 1) and s1 % size == 0 and s1 // size >= max(rows, 1):
        return b"T", s1 // size
    return None


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False) -> None:
    """`out = a @ b`, or `out += a @ b` with `accumulate`; 2-D arrays of one dtype.

    The operands may be strided views (a window of a larger buffer); `out` must have a
    unit stride along its rows.
    """
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        if not accumulate:
            out[...] = 0
        return
    blas = _fortran_gemm(out.dtype) if a.dtype == b.dtype == out.dtype else None
    layouts = (_layout(b), _layout(a))
    out_ok = out.strides[1] == out.itemsize and out.strides[0] % out.itemsize == 0
    fits = max(m, n, k, *(ld for _, ld in filter(None, layouts)), 1) <= _INT_MAX
    if blas is None or None in layouts or not out_ok or not fits:
        product = np.matmul(a, b)
        if accumulate:
            out += product
        else:
            out[...] = product
        return
    function, scalar = blas
    (trans_b, ldb), (trans_a, lda) = layouts
    one, beta = _scalar(scalar, 1.0), _scalar(scalar, 1.0 if accumulate else 0.0)
    c_int = ctypes.c_int
    # row-major out = a @ b is column-major out^T = b^T @ a^T
    function(
        trans_b,
        trans_a,
        ctypes.byref(c_int(n)),
        ctypes.byref(c_int(m)),
        ctypes.byref(c_int(k)),
        ctypes.byref(one),
        b.ctypes.data,
        ctypes.byref(c_int(ldb)),
        a.ctypes.data,
        ctypes.byref(c_int(lda)),
        ctypes.byref(beta),
        out.ctypes.data,
        ctypes.byref(c_int(out.strides[0] // out.itemsize)),
    )


def _scalar(scalar: type, value: float):
    """A ctypes real, or a complex as its (real, imaginary) pair."""
    return scalar(value, 0.0) if issubclass(scalar, ctypes.Array) else scalar(value)


def available(dtype) -> bool:
    """Whether `gemm` reaches BLAS directly for `dtype`."""
    return _fortran_gemm(np.dtype(dtype)) is not None
