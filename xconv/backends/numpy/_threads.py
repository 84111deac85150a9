"""Splitting large NumPy copies and elementwise passes across the cores.

NumPy runs each copy or ufunc on one core, while BLAS uses them all: on a 2-core machine
the copies of a convolution (layout changes, column buffers) take as long as its GEMM
unless they run in parallel too. NumPy releases the GIL inside these loops, so plain
threads over slabs of the array suffice.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ...config import get_thread_limit

PARALLEL_BYTES = 1 << 20  # below this a copy is over before a thread wakes up

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def workers() -> int:
    """Threads worth using: the cores this process may run on (at most 8, and at most the
    context's `xconv.thread_limit`)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8, get_thread_limit() or cores))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(workers(), thread_name_prefix="xconv")
        return _pool


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool when needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def split(extent: int, parts: int) -> list[slice]:
    """`parts` nearly equal consecutive slices of range(extent) (no empty ones)."""
    parts = max(1, min(parts, extent))
    bounds = [extent * i // parts for i in range(parts + 1)]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def run(tasks: Sequence[Callable[[], object]]) -> None:
    """Run the tasks, in parallel when there are several; re-raise the first error."""
    if len(tasks) <= 1 or workers() == 1:
        for task in tasks:
            task()
        return
    for future in [_executor().submit(task) for task in tasks]:
        future.result()


def _slabs(shape: Sequence[int], nbytes: int) -> tuple[int, list[slice]]:
    """The axis to cut and its slabs, one per worker (a single slab for small work)."""
    if nbytes < PARALLEL_BYTES or workers() == 1:
        return 0, [slice(None)]
    axis = next((i for i, size in enumerate(shape) if size >= workers()), None)
    if axis is None:
        axis = max(range(len(shape)), key=lambda i: shape[i]) if shape else 0
    return axis, split(shape[axis], workers()) if shape else [slice(None)]


def copyto(dst: np.ndarray, src: np.ndarray) -> None:
    """`np.copyto(dst, src)` for a `src` of dst's shape, on all cores when it is large."""
    axis, slabs = _slabs(dst.shape, dst.nbytes)
    if len(slabs) == 1:
        np.copyto(dst, src)
        return
    lead = (slice(None),) * axis
    run([lambda s=s: np.copyto(dst[(*lead, s)], src[(*lead, s)]) for s in slabs])


def for_slabs(shape: Sequence[int], nbytes: int, body: Callable[[tuple[slice, ...]], None]):
    """Call `body(index)` for slabs of an array of `shape`, in parallel when it is large."""
    axis, slabs = _slabs(shape, nbytes)
    lead = (slice(None),) * axis
    run([lambda s=s: body((*lead, s)) for s in slabs])
