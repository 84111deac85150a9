"""Settings: the algorithm names, the workspace bound, the default algorithm, the threads."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

ALGORITHMS = ("auto", "direct", "gemm", "fft", "onnxruntime", "measure")
FORWARD_ALGORITHMS = ("direct", "gemm", "fft")  # xconv's own: every backend runs them
ENGINES = ("onnxruntime",)  # compiled engines a backend may offer besides them
ROUTES = FORWARD_ALGORITHMS + ENGINES  # every algorithm a caller may force

DEFAULT_WORKSPACE_LIMIT = 256 * 2**20  # bytes

_workspace_limit = contextvars.ContextVar("xconv_workspace_limit", default=DEFAULT_WORKSPACE_LIMIT)


def get_workspace_limit() -> int:
    """Bytes the scratch of the chunked paths may use per call in this context.

    The scratch is the GEMM columns, FFT frames and spectra, and gradient segments. Not
    bounded by it: the output, one padded copy of the input where the padding is not
    zero, and the direct path's per-tap temporaries (one input and two outputs in size,
    its plan's `workspace_bytes`); a GEMM or FFT call peaks at about input + padded input
    + output + this limit.

    Returns
    -------
    int
        The bound in bytes (256 MiB unless set).

    See Also
    --------
    workspace_limit : set it within a `with` block.

    Examples
    --------
    >>> import xconv
    >>> xconv.get_workspace_limit() // 2**20
    256
    """
    return _workspace_limit.get()


def set_workspace_limit(nbytes: int) -> int:
    """Set the workspace bound in this context (prefer `workspace_limit` in a block).

    Parameters
    ----------
    nbytes : int
        The new bound in bytes, >= 1.

    Returns
    -------
    int
        The previous bound, to restore it.

    Raises
    ------
    ValueError
        `nbytes` is not a positive int.

    Examples
    --------
    >>> import xconv
    >>> previous = xconv.set_workspace_limit(2**26)
    >>> xconv.get_workspace_limit(), xconv.set_workspace_limit(previous) == 2**26
    (67108864, True)
    """
    previous = _workspace_limit.get()
    _workspace_limit.set(_check(nbytes))
    return previous


@contextlib.contextmanager
def workspace_limit(nbytes: int) -> Iterator[None]:
    """Bound the workspace (see `get_workspace_limit`) within a `with` block.

    A smaller bound gives smaller GEMM tiles and FFT chunks, never a different result.

    Parameters
    ----------
    nbytes : int
        The bound in bytes, >= 1.

    Yields
    ------
    None
        Within the block, every call in this context is bounded.

    Raises
    ------
    ValueError
        `nbytes` is not a positive int.

    Examples
    --------
    >>> import xconv
    >>> with xconv.workspace_limit(16 * 2**20):
    ...     xconv.get_workspace_limit()
    16777216
    """
    token = _workspace_limit.set(_check(nbytes))
    try:
        yield
    finally:
        _workspace_limit.reset(token)


def check_algorithm(algorithm: object) -> str:
    """`algorithm` if it names an algorithm choice, else ValueError."""
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return algorithm  # type: ignore[return-value]


def _check(nbytes: object) -> int:
    if not isinstance(nbytes, int) or isinstance(nbytes, bool) or nbytes < 1:
        raise ValueError(f"workspace limit must be a positive number of bytes, got {nbytes!r}")
    return nbytes


_default_algorithm = contextvars.ContextVar("xconv_default_algorithm", default="auto")


def get_default_algorithm() -> str:
    """What `algorithm="auto"` means in this context: the planner, or a forced algorithm.

    Returns
    -------
    str
        `"auto"` (the planner decides) or the algorithm `default_algorithm` set.

    Examples
    --------
    >>> import xconv
    >>> xconv.get_default_algorithm()
    'auto'
    """
    return _default_algorithm.get()


@contextlib.contextmanager
def default_algorithm(name: str) -> Iterator[None]:
    """Make `algorithm="auto"` run `name` within a `with` block.

    For callers that cannot pass `algorithm` down, such as dialect layers.

    Parameters
    ----------
    name : {"auto", "direct", "gemm", "fft", "onnxruntime", "measure"}
        The algorithm every `"auto"` call in the block runs.

    Yields
    ------
    None
        Within the block, `"auto"` means `name`.

    Raises
    ------
    ValueError
        `name` is not an algorithm.

    Examples
    --------
    >>> import xconv
    >>> with xconv.default_algorithm("gemm"):
    ...     xconv.get_default_algorithm()
    'gemm'
    """
    token = _default_algorithm.set(check_algorithm(name))
    try:
        yield
    finally:
        _default_algorithm.reset(token)


_thread_limit = contextvars.ContextVar("xconv_thread_limit", default=None)


def get_thread_limit() -> int | None:
    """The most threads one call may use in this context.

    Returns
    -------
    int or None
        The bound `thread_limit` set, or None: every core, up to 8.

    Examples
    --------
    >>> import xconv
    >>> xconv.get_thread_limit() is None
    True
    """
    return _thread_limit.get()


@contextlib.contextmanager
def thread_limit(count: int) -> Iterator[None]:
    """Run xconv's NumPy work on at most `count` threads within a `with` block.

    The work is the transforms, copies, the direct path and the compiled kernels: for
    callers that run many calls side by side, as the Dask backend's tasks do (one thread
    each: the scheduler supplies the parallelism). BLAS keeps its own, process-wide
    thread count.

    Parameters
    ----------
    count : int
        The most threads, >= 1.

    Yields
    ------
    None
        Within the block, each call uses at most `count` threads.

    Raises
    ------
    ValueError
        `count` is not a positive int.

    Examples
    --------
    >>> import xconv
    >>> with xconv.thread_limit(1):
    ...     xconv.get_thread_limit()
    1
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"thread limit must be a positive int, got {count!r}")
    token = _thread_limit.set(count)
    try:
        yield
    finally:
        _thread_limit.reset(token)
