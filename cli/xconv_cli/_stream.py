"""Arrays larger than memory: read lazily, computed block by block, written block by block.

A `.npy` input is read block by block with positioned reads (one per contiguous run of
a block) and a Zarr store (`DATA.zarr`, the `zarr` extra) as it is chunked; both become
Dask arrays, which the layers pass to xconv's Dask backend unchanged. The output is
written as its blocks are computed, to `.npy` (one positioned write per contiguous run:
no memory map, whose pages would stay with the process, either way) or to Zarr, under a
temporary name that replaces the target only once every block is in: a failed or
interrupted run leaves no half-written file. For inputs that press on memory each output
block reads its own inputs (`private_inputs`), so memory stays a few blocks whatever the
image's size.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ._files import FileError, umask

# inputs at least this large are streamed unless the user says otherwise
STREAM_BYTES = 256 * 2**20
# the target size of one block, before the halo a kernel adds
DEFAULT_BLOCK_MIB = 64.0
# axes this short (channels) stay whole in a block
_WHOLE_AXIS = 64


def is_zarr(spec: str) -> bool:
    return Path(spec).suffix.lower() == ".zarr"


def streams(spec: str) -> bool:
    """Whether an input is large enough to stream by default."""
    path = Path(spec)
    if is_zarr(spec):
        return True
    return path.suffix.lower() == ".npy" and path.is_file() and path.stat().st_size >= STREAM_BYTES


def can_stream(spec: str) -> bool:
    return is_zarr(spec) or Path(spec).suffix.lower() == ".npy"


def open_lazy(spec: str, block_mib: float):
    """The array in `spec` (.npy or .zarr) as a Dask array that reads it block by block."""
    import dask.array as da

    path = Path(spec)
    if not path.exists():
        raise FileError(f"{path}: no such file")
    try:
        if is_zarr(spec):
            return da.from_zarr(_zarr().open_array(str(path), mode="r"))
        data = NpyReader(path)
    except FileError:
        raise
    except Exception as error:
        raise FileError(f"{path}: cannot read ({error})") from error
    chunks = block_chunks(data.shape, data.dtype.itemsize, block_mib)
    meta = np.empty((0,) * len(data.shape), data.dtype)
    return da.from_array(
        data, chunks=chunks, lock=False, asarray=False, meta=meta, inline_array=True
    )


# the most blocks a streamed run cuts an input into
MAX_BLOCKS = 20_000


def block_chunks(shape: tuple, itemsize: int, block_mib: float) -> tuple:
    """Chunks of about `block_mib` MiB: short axes (channels) whole, the long ones split
    into equal cubes."""
    if block_mib <= 0:
        raise FileError(f"--block-mib must be positive, got {block_mib}")
    long_axes = [i for i, n in enumerate(shape) if n > _WHOLE_AXIS]
    if not long_axes:
        return tuple(shape)
    whole = itemsize * math.prod(n for i, n in enumerate(shape) if i not in long_axes)
    side = (block_mib * 2**20 / whole) ** (1 / len(long_axes))
    side = max(1, int(side))
    chunks = tuple(min(n, side) if i in long_axes else n for i, n in enumerate(shape))
    count = math.prod(-(-n // c) for n, c in zip(shape, chunks, strict=True))
    if count > MAX_BLOCKS:  # each block is a task: hundreds of thousands never finish
        floor = block_mib * count / MAX_BLOCKS
        raise FileError(f"--block-mib {block_mib:g} cuts this input into {count:,} blocks; "
                        f"use at least {floor:.3g} (at most {MAX_BLOCKS:,} blocks)")  # fmt: skip
    return chunks


def private_inputs(y):
    """`y` with each output block reading its own inputs: every task an output block
    depends on is copied for that block alone.

    Output blocks of a convolution share their neighbours' input blocks (the halos), so
    a shared graph keeps every input block until its last neighbour is done: two or three
    rows of blocks, memory that grows with the image's width. With private copies each
    input block is read again by each neighbour that needs it (from the file: cheap)
    and freed with its block, so memory stays a few blocks whatever the image's size,
    for about twice the time (the halos' reads, layout changes and padding repeated)."""
    import dask.array as da
    from dask._task_spec import convert_legacy_graph
    from dask.base import tokenize
    from dask.core import flatten
    from dask.highlevelgraph import HighLevelGraph

    graph = convert_legacy_graph(dict(y.__dask_graph__()))
    private = {}
    for key in flatten(y.__dask_keys__()):
        ancestors, stack = set(), list(graph[key].dependencies)
        while stack:
            k = stack.pop()
            if k not in ancestors:
                ancestors.add(k)
                stack.extend(graph[k].dependencies)
        tag = tokenize(key)[:12]
        renamed = {k: _renamed(k, tag) for k in ancestors}
        for k in ancestors:
            private[renamed[k]] = graph[k].substitute(renamed, key=renamed[k])
        private[key] = graph[key].substitute(renamed)
    layer = HighLevelGraph.from_collections(y.name, private, dependencies=())
    return da.Array(layer, y.name, y.chunks, meta=y._meta)


def _renamed(key, tag: str):
    if isinstance(key, tuple):
        return (f"{key[0]}-for-{tag}", *key[1:])
    return f"{key}-for-{tag}"


def flat_memory(nbytes: int, choice: bool | None) -> bool:
    """Whether a streamed run gives each output block its own inputs: as asked, or when
    the input is more than an eighth of the memory available (where a row of blocks
    held could count)."""
    if choice is not None:
        return choice
    available = available_memory()
    return available is not None and nbytes > available / 8


def available_memory() -> int | None:
    """Bytes of memory available now (Linux `MemAvailable`), or None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def write_lazy(target: str, y, progress: Callable[[int], Callable[[], None]]) -> None:
    """Compute `y` (a Dask array) block by block into `target` (.npy or .zarr), atomically.

    `progress(total)` returns the callback that marks one of `total` tasks done.
    """
    from dask.callbacks import Callback

    path = Path(target)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".zarr"):
        raise FileError(f"{path}: a streamed output is .npy or .zarr, not {suffix or '(none)'}")
    if not path.parent.is_dir():
        raise FileError(f"{path.parent}: no such directory")
    with _Tasks(Callback, progress), _replacing(path) as temporary:
        if suffix == ".npy":
            writer = NpyWriter(temporary, tuple(y.shape), y.dtype)
            try:
                y.store(writer, lock=False)
            finally:
                writer.close()
        else:
            y = y.rechunk(y.chunksize)  # Zarr chunks are regular: no two tasks share one
            store = _zarr().open_array(
                str(temporary), mode="w", shape=y.shape, chunks=y.chunksize, dtype=y.dtype
            )
            y.store(store, lock=False)


def _runs(shape: tuple, itemsize: int, region: tuple) -> tuple[int, int, Iterator[int]]:
    """A region of a C-order array as contiguous runs: (first byte, run length in bytes,
    the runs' offsets from the first byte, in C order)."""
    cut = len(shape) - 1  # the axes after `cut` are whole: a run spans them
    while cut > 0 and region[cut] == slice(0, shape[cut]):
        cut -= 1
    strides = [itemsize * math.prod(shape[k + 1 :]) for k in range(len(shape))]
    first = sum(s.start * stride for s, stride in zip(region, strides, strict=True))
    run = (region[cut].stop - region[cut].start) * strides[cut] if shape else itemsize
    offsets = itertools.product(
        *(range(0, (s.stop - s.start) * st, st)
          for s, st in zip(region[:cut], strides[:cut], strict=True))
    )  # fmt: skip
    return first, run, (sum(steps) for steps in offsets)


class NpyReader:
    """A `.npy` file read region by region with positioned reads (`pread`): only the
    region's bytes are read, into the block's own array (no memory map whose pages stay
    with the process). Picklable: it holds the path and header, and opens per read."""

    def __init__(self, path: Path):
        header = np.load(path, mmap_mode="r", allow_pickle=False)  # its header; no page read
        if not header.flags.c_contiguous or header.dtype.hasobject:
            raise FileError(f"{path}: streaming reads C-order numeric .npy files")
        self.offset, self.shape, self.dtype = header.offset, tuple(header.shape), header.dtype
        self.path, self.ndim = str(path), header.ndim
        del header

    def __getitem__(self, region: tuple) -> np.ndarray:
        region = tuple(slice(*s.indices(n)[:2]) for s, n in zip(region, self.shape, strict=True))
        block = np.empty(tuple(s.stop - s.start for s in region), self.dtype)
        target = memoryview(block).cast("B")
        first, run, offsets = _runs(self.shape, self.dtype.itemsize, region)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for i, offset in enumerate(offsets):
                got = os.preadv(fd, [target[i * run : (i + 1) * run]], self.offset + first + offset)
                if got != run:
                    raise FileError(f"{self.path}: the file is shorter than its header says")
        finally:
            os.close(fd)
        return block


class NpyWriter:
    """A `.npy` file filled by `writer[region] = block` (the target of `dask.array.store`):
    each contiguous run of a block is one positioned write."""

    def __init__(self, path: Path, shape: tuple, dtype):
        self.shape, self.dtype = shape, np.dtype(dtype)
        header = np.lib.format.open_memmap(path, mode="w+", dtype=self.dtype, shape=shape)
        self.offset = header.offset
        del header  # the file has its header and its size; the data go in by pwrite
        self.fd = os.open(path, os.O_WRONLY)

    def __setitem__(self, region: tuple, block) -> None:
        shape = self.shape
        region = tuple(slice(*s.indices(n)[:2]) for s, n in zip(region, shape, strict=True))
        data = memoryview(np.ascontiguousarray(block, dtype=self.dtype)).cast("B")
        first, run, offsets = _runs(shape, self.dtype.itemsize, region)
        for i, offset in enumerate(offsets):  # C order: the runs lie one after another
            os.pwrite(self.fd, data[i * run : (i + 1) * run], self.offset + first + offset)

    def close(self) -> None:
        os.close(self.fd)


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it when the block ends without error."""
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    except OSError as error:
        raise FileError(f"{path.parent}: cannot write there ({error.strerror})") from None
    try:
        yield temporary
        os.chmod(temporary, (0o777 if temporary.is_dir() else 0o666) & ~umask())
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)  # a Zarr store: directories do not replace one another
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary.parent, ignore_errors=True)


class _Tasks:
    """Calls `progress(total)()` once per finished Dask task of the computation within."""

    def __init__(self, callback_type, progress):
        outer = self

        class Counting(callback_type):
            def _start_state(self, dsk, state):
                outer.advance = progress(len(dsk))

            def _posttask(self, key, result, dsk, state, worker_id):
                outer.advance()

        self.callback = Counting()

    def __enter__(self):
        self.callback.__enter__()
        return self

    def __exit__(self, *exc):
        return self.callback.__exit__(*exc)


def _zarr():
    try:
        import zarr
    except ImportError:
        raise FileError('Zarr stores need the zarr package: pip install "xconv[zarr]"') from None
    return zarr
