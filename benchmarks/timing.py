"""Timing peers against each other in one process, and xconv's peak memory.

Peers take turns (xconv, torch, jax; torch, jax, xconv; ...: each opens as many rounds)
so that a slow spell of a shared machine hits all of them alike; each gets warm-up calls
first (JIT compilation, plan caches, first-touch page faults) and the median of the timed
calls is reported.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)


def time_alternating(
    runs: dict[str, Callable[[], object]], repeat: int, warmup: int = 1
) -> dict[str, Timing]:
    """Median wall time of each callable, calling them in turn `repeat` times."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    timings = {name: Timing() for name in runs}
    names = list(runs)
    enabled = gc.isenabled()
    gc.disable()  # a collection inside one peer's call would be charged to it alone
    try:
        for turn in range(repeat):
            # the first call of a round follows the collection (tens of ms of one busy
            # core, the others idle) and ran 15-40% slower on the 2-core VM: every peer
            # opens as many rounds
            shift = turn % len(names)
            for name in names[shift:] + names[:shift]:
                run = runs[name]
                start = time.perf_counter()
                result = run()
                timings[name].samples_ms.append((time.perf_counter() - start) * 1e3)
                del result
            gc.collect()
    finally:
        if enabled:
            gc.enable()
    return timings


def peak_extra_bytes(run: Callable[[], object]) -> int:
    """Peak memory allocated during `run()` beyond what existed before, result included.

    NumPy reports its data buffers to tracemalloc, so this sees every array the call
    creates (scratch buffers and the output); memory held by other libraries' own
    allocators is invisible to it.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = run()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak - before


class BackgroundLoad:
    """CPU time that other processes used while a block ran, in cores (Linux only).

    Timings on a shared machine are only as good as its quiet: a busy neighbour stalls
    multi-threaded BLAS far more than its share, so every row records this.
    """

    def __enter__(self) -> BackgroundLoad:
        self.cores: float | None = None
        self._start = (_busy_seconds(), _own_seconds(), time.perf_counter())
        return self

    def __exit__(self, *exc) -> None:
        busy, own, wall = _busy_seconds(), _own_seconds(), time.perf_counter()
        if busy is not None and self._start[0] is not None and wall > self._start[2]:
            others = (busy - self._start[0]) - (own - self._start[1])
            self.cores = max(others, 0.0) / (wall - self._start[2])


def _busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:8]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system
