"""`Backend`: what an array library offers xconv, implemented once with the array API.

This class is the interface and the fallback: every primitive here works on any
array-API namespace (`array_api_strict`, PyTorch, JAX, CuPy, Dask through
`array-api-compat`). A library's backend subclasses it and overrides what it does better:
primitives (padding, transforms, window views, scratch), the cost constants, the
algorithm implementations, the memory budget, `synchronize`, and whole-operation
`delegate`s. The algorithms receive a backend object and never import one.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

from array_api_compat import device, is_lazy_array

from ..algorithms import GENERIC, Algorithm
from ..algorithms._fft_sizes import FastLength, smooth_length
from ..algorithms._overlap import overlap_frames, overlap_join
from ..algorithms._taps import kernel_taps, tap_window
from ..algorithms.costs import REFERENCE_COSTS, CostModel
from ..config import get_thread_limit, get_workspace_limit
from ..padding import source_indices
from ..spec import ConvSpec

# no measurement exists for an arbitrary library, and the model only has to rank
# algorithms whose times differ by large factors: the NumPy backend's numbers serve
GENERIC_COSTS = dataclasses.replace(
    REFERENCE_COSTS, source=f"{REFERENCE_COSTS.source} (measured with NumPy)"
)

OPERATIONS = ("conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp")


@dataclass(frozen=True)
class Declined:
    """A delegate's answer when it does not take a case: xconv's own algorithms run.

    Parameters
    ----------
    reason : str
        Why, for a reader of the code or a log.

    Examples
    --------
    >>> from xconv.backends import Backend
    >>> Backend(None).delegate("conv", None, None)
    Declined(reason='no whole-operation delegate')
    """

    reason: str


@dataclass(frozen=True)
class Delegation:
    """A backend's answer at plan time when its library runs a whole operation.

    Parameters
    ----------
    route : str
        What runs (`"torch.nn.functional.conv2d"`), as the plan shows it.
    reason : str
        Why it wins over xconv's own plan.
    seconds : float, optional
        Its modelled time, where the backend prices it.

    Examples
    --------
    >>> from xconv.backends import Delegation
    >>> Delegation("mylib.conv", "the library's own kernel").route
    'mylib.conv'
    """

    route: str
    reason: str
    seconds: float | None = None


class Backend:
    """The generic array-API backend, and the interface every backend implements.

    A subclass overrides what its library does better (the user guide's "Writing a
    backend" page has the table); everything else runs on the array API.

    Parameters
    ----------
    xp : module or None
        The array-API namespace (None for a backend used only to plan by name).

    Attributes
    ----------
    name : str
        The backend's name, as plans show it.
    costs : CostModel
        The cost model's constants, with their source.
    algorithms : mapping of str to Algorithm
        The implementations of `"direct"`, `"gemm"` and `"fft"`.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> from xconv.backends import backend_for
    >>> backend = backend_for(xps)
    >>> backend.name, sorted(backend.algorithms)
    ('generic', ['direct', 'fft', 'gemm'])
    """

    name: str = "generic"
    costs: CostModel = GENERIC_COSTS
    algorithms: Mapping[str, Algorithm] = GENERIC

    def __init__(self, xp: ModuleType | None):
        self.xp = xp

    def __repr__(self) -> str:
        namespace = getattr(self.xp, "__name__", None)
        return f"<{type(self).__name__} {self.name!r} for {namespace}>"

    # -- whole operations ---------------------------------------------------------------

    def delegation(self, operation: str, request, modelled) -> Delegation | None:
        """At plan time: whether this backend's library runs the whole `operation` (one
        of `OPERATIONS`) of `request` (an `xconv.planner.Request`: spec, canonical input
        shape, compute dtype name, algorithm), given xconv's `modelled` seconds per
        algorithm for it; None leaves it to xconv's own plan."""
        return None

    def delegate(self, operation: str, call, own) -> object:
        """Run a whole `operation` (one of `OPERATIONS`) on the checked `call` (an
        `xconv._front.Call`, its `plan` attached), or return `Declined(reason)` to let
        xconv run its own plan.

        `own` is xconv's own implementation (`xconv.operations.Own`): `own(call)` runs the
        plan; `own.vjp` gives the gradients, for a delegate that wraps the run in its
        library's autograd; `own.correlate_block` and its siblings run one block, for a
        backend that splits the operation into blocks. A plan whose root is
        `"delegated"` is the one `delegation` asked for.
        """
        return Declined("no whole-operation delegate")

    # -- device -------------------------------------------------------------------------

    def for_device(self, device) -> Backend:
        """This backend as it prices work on `device` (the arrays' device, or its name):
        itself, unless its library runs on devices with other costs (PyTorch and JAX on
        a GPU)."""
        return self

    def synchronize(self) -> None:
        """Wait until queued work is done (a timing must not stop before the device does)."""

    def memory_budget(self) -> int:
        """Bytes of scratch one call may use: the workspace limit (host memory)."""
        return get_workspace_limit()

    def threads(self) -> object:
        """What the routes' prices depend on besides the shapes: the context's thread
        limit, and a backend's own thread pools (plans are remembered per value)."""
        return get_thread_limit()

    # -- primitives ---------------------------------------------------------------------

    def pad(self, x, pads: Sequence[tuple[int, int]], mode: str = "constant", value=0):
        """Pad the trailing `len(pads)` axes by `(before, after)` pairs in `mode`.

        Widths must already be valid for `mode` (`xconv.padding.check_padding_widths`).
        """
        if not any(p for pair in pads for p in pair):
            return x
        return self._pad(x, pads, mode, value)

    def pad_for_run(
        self, x, pads, mode: str, value, layout: str | None, buffer: str = "padded input"
    ):
        """`pad`, for a run whose plan asks for its padded input in `layout` (its
        `Estimate.padded_layout`), or for any caller done with the result before its
        thread next asks for the same `buffer`. A backend that lays out memory itself may
        return the padded `(N, C, *S)` array as a view of a buffer in that layout, reused
        by the next call for `buffer`: the caller must not keep it. The default pads as
        usual."""
        return self.pad(x, pads, mode, value)

    def _pad(self, x, pads, mode: str, value):
        xp = self.xp
        first = x.ndim - len(pads)
        for axis, (before, after) in enumerate(pads, start=first):
            if before == after == 0:
                continue
            if mode == "constant":
                x = _pad_constant(xp, x, axis, before, after, value)
            else:
                index = source_indices(x.shape[axis], before, after, mode)
                x = xp.take(x, xp.asarray(index, dtype=xp.int64, device=device(x)), axis=axis)
        return x

    def im2col(self, x, spec: ConvSpec, out_spatial: tuple[int, ...]):
        """Columns `(N, groups, C/groups * prod(kernel), prod(out))` of a padded `(N, C, *S)`."""
        xp = self.xp
        n, channels = x.shape[0], x.shape[1]
        shape = (n, spec.groups, channels // spec.groups * math.prod(spec.kernel_size), -1)
        if all(k == 1 for k in spec.kernel_size) and all(s == 1 for s in spec.stride):
            return xp.reshape(x, shape)  # a 1x1 convolution's columns are the input itself
        everything = (slice(None), slice(None))
        patches = [
            x[(*everything, *tap_window(tap, spec.stride, spec.dilation, out_spatial))]
            for tap in kernel_taps(spec.kernel_size)
        ]
        return xp.reshape(xp.stack(patches, axis=2), shape)  # (N, C, taps, *out) -> columns

    def assemble(self, shape, dtype, tiles: Iterable[tuple[tuple[slice, ...], object]]):
        """Join `(region, block)` tiles, produced in C order, into one array of `shape`."""
        tiles = list(tiles)
        if len(tiles) == 1:
            return tiles[0][1]
        return _concat_grid(self.xp, tiles, axis=0)

    def assemble_frames(self, shape, dtype, tiles, block: Sequence[int]):
        """`assemble` for the FFT path's overlap-save tiles: each `(region, frames)` has
        frames `(n, *counts, F, *L)` whose first `block` outputs per dimension, joined
        and cut to the region's size, are the region's values."""
        xp, rank = self.xp, len(block)

        def joined():
            for region, frames in tiles:
                y = overlap_join(xp, frames, frames.shape[1 : 1 + rank], block)
                yield region, _cut_to(region, y)

        return self.assemble(shape, dtype, joined())

    def max_abs(self, a) -> float | None:
        """The largest magnitude in `a` (NaN if it holds a NaN), or None where the value
        is not at hand (a traced or lazy array): the FFT path's guards then stand aside."""
        if is_lazy_array(a):  # Dask: a value would compute the whole graph
            return None
        return self._max_abs(a)

    def _max_abs(self, a) -> float:
        xp = self.xp
        if math.prod(a.shape) == 0:
            return 0.0
        # not every library's max propagates NaN (XLA's vectorised reductions drop it)
        if not bool(xp.all(xp.isfinite(a))):
            return math.nan
        return float(xp.max(xp.abs(a)))

    def matmul(self, a, b):
        """`a @ b`, batched over leading axes (`xp.matmul` semantics)."""
        return self.xp.matmul(a, b)

    def rfftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        """Real-to-complex n-d FFT over `axes`, zero-padded (or cropped) to `shape`."""
        return self.xp.fft.rfftn(x, s=tuple(shape), axes=tuple(axes))

    def irfftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.xp.fft.irfftn(x, s=tuple(shape), axes=tuple(axes))

    def fftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.xp.fft.fftn(x, s=tuple(shape), axes=tuple(axes))

    def ifftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return self.xp.fft.ifftn(x, s=tuple(shape), axes=tuple(axes))

    def fast_length(self, complex_: bool) -> FastLength:
        """The rule for fast transform lengths (one object per rule: it keys plan caches)."""
        return smooth_length

    def overlap_frames(self, x, counts, hop, frame):
        """Overlap-save frames `(n, *counts, C, *frame)` of `(n, C, *S)`."""
        return overlap_frames(self.xp, x, counts, hop, frame)

    def contiguous(self, x):
        """`x` in C order where the library has such a notion (transforms and BLAS like it)."""
        return x

    def interleave(self, blocks: list, stride: Sequence[int]):
        """Phase blocks `(N, C, *rows)` (C order over phases) as `(N, C, *(rows * stride))`."""
        xp = self.xp
        rank = len(stride)
        n, c, rows = blocks[0].shape[0], blocks[0].shape[1], tuple(blocks[0].shape[2:])
        stacked = xp.reshape(xp.stack(blocks, axis=0), (*stride, n, c, *rows))
        order = (rank, rank + 1, *itertools.chain(*((rank + 2 + i, i) for i in range(rank))))
        merged = xp.permute_dims(stacked, order)
        return xp.reshape(merged, (n, c, *(r * s for r, s in zip(rows, stride, strict=True))))

    def assemble_phases(self, shape, dtype, tiles, stride: Sequence[int]):
        """`assemble` for the transposed GEMM's output phases: each `(region, phases)` has,
        per output phase (C order over `stride`'s phases), the terms `(n, C, *rows)` whose
        sum is that phase's block; the blocks interleaved and cut to the region's size are
        the region's values. A backend with mutable arrays may write each sum into place
        (the terms may then be scratch that the next tile overwrites)."""

        def interleaved():
            for region, phases in tiles:
                blocks = [self.sum_of(terms) for terms in phases]
                y = blocks[0] if len(blocks) == 1 else self.interleave(blocks, stride)
                yield region, _cut_to(region, y)

        return self.assemble(shape, dtype, interleaved())

    def scratch_matmul(self, a, b):
        """`a @ b` for a caller done with the product before its thread asks for the next
        one: a backend with mutable arrays may return it in a buffer it reuses."""
        return self.matmul(a, b)

    def multiply_scratch(self, a, b):
        """`a * b`, where `a` is scratch the caller no longer needs (a backend with mutable
        arrays may write the product into it)."""
        return a * b

    # whether "measure" may time runs on this backend's arrays (not on lazy graphs)
    measurable = True
    compiled_mixing = False  # whether `mix_channels` has a kernel (the FFT path costs it)
    # whether plans and layers may keep weight forms (`PreparedWeights`): eager arrays
    # whose values can be compared on every call, not lazy graphs or traced values
    keeps_prepared_weights = False
    # whether the operations run as blocks planned on their own backend (Dask): an engine
    # forced on the whole array is then the blocks' to run, not this backend's
    plans_blocks = False

    def mix_channels(self, spectra, weight_spectra):
        """The FFT path's channel mixing by a compiled kernel: `(n, g, C/g, bins)` spectra
        and `(g, F/g, C/g, bins)` weight spectra to `(n, g, F/g, bins)`, or None where the
        backend has none (the path's own routes run)."""
        return None

    def sum_of(self, terms: list):
        """The sum of equally shaped arrays."""
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total


@functools.cache
def generic_backend(xp: ModuleType | None) -> Backend:
    """One generic backend per namespace."""
    return Backend(xp)


def _pad_constant(xp: ModuleType, x, axis: int, before: int, after: int, value):
    def block(width: int):
        shape = (*x.shape[:axis], width, *x.shape[axis + 1 :])
        return xp.full(shape, value, dtype=x.dtype, device=device(x))

    parts = [block(before)] if before else []
    parts += [x, block(after)] if after else [x]
    return xp.concat(parts, axis=axis)


def _cut_to(region: tuple[slice, ...], y):
    """`y` `(n, C, *S)` cut to the spatial size of the tile `region` (batch, channels,
    *spatial slices)."""
    return y[(slice(None), slice(None), *(slice(0, r.stop - r.start) for r in region[2:]))]


def _concat_grid(xp: ModuleType, tiles: list, axis: int):
    """Concatenate C-ordered tiles axis by axis (immutable arrays have no slice assignment)."""
    if axis == len(tiles[0][0]):
        return tiles[0][1]
    rows: list[list] = []
    for region, block in tiles:
        start = region[axis].start or 0
        if not rows or start != rows[-1][0]:
            rows.append([start, []])
        rows[-1][1].append((region, block))
    parts = [_concat_grid(xp, group, axis + 1) for _, group in rows]
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=axis)
