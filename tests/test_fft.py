"""The FFT path (`algorithm="fft"`) against the float64 oracle in ``reference.py``.

Errors are measured as in the `xconv.algorithms.fft` docstring: max |error| relative to
the scale of the sums, max(sum |x| |w| + |bias|), because an FFT spreads its rounding
evenly over the output. The bounds are the documented ones.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import (
    NUMPY,
    Namespace,
    NumpyNamespace,
    StrictNamespace,
    TorchNamespace,
    get_namespace,
)
from reference import reference_conv
from strategies import ConvProblem, conv_problems, examples, random_array

import xconv
from xconv.algorithms import _fft_sizes, _overlap, fft
from xconv.algorithms.fft import fft_geometry
from xconv.backends import backend_named, generic_backend
from xconv.spec import ConvSpec

# max |error| / max(sum |x| |w|): the documented bounds (float64: the 1e-10)
SCALED_BOUND = {
    "float16": 2e-6,  # computed in float32; plus float16 rounding of the result, below
    "float32": 2e-6,
    "complex64": 2e-6,
    "float64": 1e-10,
    "complex128": 1e-10,
}

NUMPY_BACKEND = backend_named("numpy")


def oracle(problem: ConvProblem):
    """The float64/complex128 oracle and the scale max(sum |x| |w| + |bias|)."""
    kw = problem.kwargs
    ref = reference_conv(problem.x, problem.weight, problem.bias, **kw)
    bound = reference_conv(
        np.abs(problem.x),
        np.abs(problem.weight),
        None if problem.bias is None else np.abs(problem.bias),
        **dict(kw, padding_value=abs(kw.get("padding_value", 0.0))),
    )
    return ref, float(np.max(np.abs(bound), initial=0.0))


def assert_fft_accurate(actual: np.ndarray, problem: ConvProblem) -> None:
    ref, scale = oracle(problem)
    assert actual.shape == ref.shape
    dtype = problem.out_dtype
    tol = SCALED_BOUND[dtype] * scale + 1e-300
    if dtype == "float16":  # the result itself is rounded to float16
        tol = tol + 2.0**-11 * np.abs(ref)
    err = np.abs(actual.astype(ref.dtype) - ref)
    worst = np.unravel_index(np.argmax(err - tol), err.shape) if err.size else ()
    assert np.all(err <= tol), (
        f"error {err[worst]:.3g} > {np.broadcast_to(tol, err.shape)[worst]:.3g} at {worst} "
        f"(scale {scale:.3g}, dtype {dtype})"
    )


def run_fft(ns: Namespace, problem: ConvProblem) -> np.ndarray:
    x, w = ns.asarray(problem.x), ns.asarray(problem.weight)
    b = None if problem.bias is None else ns.asarray(problem.bias)
    out = xconv.conv(x, w, b, algorithm="fft", **problem.kwargs)
    assert ns.is_array(out)
    assert out.dtype == ns.dtype(problem.out_dtype)
    return ns.to_numpy(out)


# ---------------------------------------------------------------------------- every option


@settings(max_examples=examples(150))
@given(problem=conv_problems(dtypes=NumpyNamespace.dtypes))
def test_numpy_matches_oracle(problem):
    assert_fft_accurate(run_fft(NUMPY, problem), problem)


@settings(max_examples=examples(50))
@given(problem=conv_problems(dtypes=StrictNamespace.dtypes))
def test_array_api_strict_matches_oracle(strict_ns, problem):
    assert_fft_accurate(run_fft(strict_ns, problem), problem)


@settings(max_examples=examples(50))
@given(problem=conv_problems(dtypes=TorchNamespace.dtypes))
def test_torch_matches_oracle(torch_ns, problem):
    assert_fft_accurate(run_fft(torch_ns, problem), problem)


@settings(max_examples=examples(60))
@given(
    problem=conv_problems(dtypes=("float32", "float64", "complex128")),
    limit=st.sampled_from([256, 2048, 16384]),
)
def test_overlap_save_blocks_within_a_small_workspace(problem, limit):
    """A workspace of a few KiB forces many overlap-save frames and chunks."""
    with xconv.workspace_limit(limit):
        assert_fft_accurate(run_fft(NUMPY, problem), problem)


BLOCKED = {
    "1d-same": ((2, 2, 3000), (3, 2, 50), dict(padding="same")),
    "1d-strided-grouped": (
        (1, 3, 2000),
        (6, 1, 21),
        dict(stride=3, dilation=2, groups=3, padding="causal"),
    ),
    "2d-reflect": (
        (2, 4, 61, 47),
        (4, 2, 7, 9),
        dict(stride=(2, 1), groups=2, padding_mode="reflect", padding=(3, 4)),
    ),
    "3d-full": ((1, 1, 23, 20, 19), (2, 1, 5, 4, 3), dict(padding="full", dilation=(1, 2, 1))),
}


@pytest.mark.parametrize("namespace_name", ["numpy", "array_api_strict", "torch"])
@pytest.mark.parametrize("case", list(BLOCKED))
def test_blocked_larger_problems(namespace_name, case):
    """Blocked geometries (checked) on every namespace, with stride, dilation and groups."""
    ns = get_namespace(namespace_name)
    x_shape, w_shape, kw = BLOCKED[case]
    rng = np.random.default_rng(7)
    problem = ConvProblem(
        x=rng.uniform(-1, 1, x_shape),
        weight=rng.uniform(-1, 1, w_shape),
        bias=rng.uniform(-1, 1, w_shape[:1]),
        kwargs=kw,
    )
    with xconv.workspace_limit(256 * 2**10):
        backend = "numpy" if namespace_name == "numpy" else "generic"
        plan = xconv.plan(x_shape, w_shape, dtype="float64", algorithm="fft", backend=backend, **kw)
        assert math.prod(plan.chunking["frames"]) > 1
        assert_fft_accurate(run_fft(ns, problem), problem)


# ---------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("kernel", [3, 15, 63])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_error_does_not_grow_with_the_kernel(rank, kernel, dtype):
    """The documented table: float32 within 2e-6 of the scale (and 1e-6 of max |y|)."""
    rng = np.random.default_rng(kernel)
    size = (1500,) if rank == 1 else (64, 64)
    problem = ConvProblem(
        x=random_array(rng, (1, 1, *size), dtype, integer_valued=False),
        weight=random_array(rng, (1, 1, *(kernel,) * rank), dtype, integer_valued=False),
        bias=None,
        kwargs=dict(padding="same"),
        x_dtype=dtype,
        w_dtype=dtype,
    )
    actual = run_fft(NUMPY, problem)
    assert_fft_accurate(actual, problem)
    ref, _ = oracle(problem)
    relative = np.max(np.abs(actual - ref)) / np.max(np.abs(ref))
    assert relative <= (1e-6 if dtype == "float32" else 1e-13)


def test_float32_stays_complex64(monkeypatch):
    """Every transform of a float32 convolution is float32 in and complex64 out."""
    seen = []
    for name in ("rfftn", "irfftn", "fftn"):
        original = getattr(NUMPY_BACKEND, name)

        def spy(x, shape, axes, original=original):
            out = original(x, shape, axes)
            seen.append((x.dtype, out.dtype))
            return out

        monkeypatch.setattr(NUMPY_BACKEND, name, spy)
    x = np.ones((2, 3, 50, 40), dtype=np.float32)
    w = np.ones((4, 3, 9, 9), dtype=np.float32)
    y = xconv.conv(x, w, algorithm="fft", stride=2)
    assert y.dtype == np.float32
    assert seen
    assert all(
        str(a) in ("float32", "complex64") and str(b) in ("float32", "complex64") for a, b in seen
    )


def test_empty_batch():
    y = xconv.conv(np.zeros((0, 2, 10)), np.ones((3, 2, 3)), algorithm="fft")
    assert y.shape == (0, 3, 8)


# ---------------------------------------------------------------------------- pieces


@pytest.mark.parametrize("n", [*range(1, 200), 1025, 2049, 4097, 10**6 + 1])
def test_smooth_length_is_the_next_235_smooth_number(n):
    def smooth(m):
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    length = _fft_sizes.smooth_length(n)
    assert length >= n
    assert smooth(length)
    if n < 5000:
        assert not any(smooth(m) for m in range(n, length))


def test_candidate_lengths_end_at_the_fast_length_of_the_maximum():
    lengths = _fft_sizes.candidate_lengths(25, 2072, _fft_sizes.smooth_length)
    assert lengths == sorted(set(lengths))
    assert lengths[0] >= 25
    assert lengths[-1] == _fft_sizes.smooth_length(2072)


@pytest.mark.parametrize("counts", [(1,), (3,), (2, 3), (4, 1, 2)])
def test_overlap_frames_numpy_matches_generic(strict_ns, counts):
    rank = len(counts)
    hop, frame = (5, 3, 4)[:rank], (8, 3, 9)[:rank]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, *(c * h + 2 for c, h in zip(counts, hop, strict=True))))
    native = backend_named("numpy").overlap_frames(x, counts, hop, frame)
    generic = strict_ns.to_numpy(
        _overlap.overlap_frames(strict_ns.xp, strict_ns.asarray(x), counts, hop, frame)
    )
    assert native.shape == (2, *counts, 3, *frame)
    np.testing.assert_array_equal(native, generic)
    # frame (i, j, ...) starts at sample (i * hop, j * hop, ...), zeros past the end
    padded = np.pad(x, [(0, 0), (0, 0), *((0, f) for f in frame)])
    for index in np.ndindex(*counts):
        window = tuple(slice(i * h, i * h + f) for i, h, f in zip(index, hop, frame, strict=True))
        np.testing.assert_array_equal(
            native[(slice(None), *index)], padded[(slice(None), slice(None), *window)]
        )


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
@pytest.mark.parametrize(
    "block, sizes, counts",
    [
        ((7,), (20,), (3,)),
        ((7,), (21,), (3,)),
        ((4, 5), (9, 15), (3, 3)),
        ((2, 3, 2), (3, 6, 4), (2, 2, 2)),
    ],
)
def test_assemble_frames_writes_each_frames_first_outputs(backend_name, block, sizes, counts):
    """Output `i` (per dimension) is output `i % block` of frame `i // block`; the last
    frame is cut where the region ends. Two regions side by side along the batch."""
    ns = get_namespace(backend_name)
    rank = len(block)
    rng = np.random.default_rng(3)
    frames = [rng.standard_normal((1, *counts, 2, *(b + 3 for b in block))) for _ in range(2)]
    regions = [(slice(i, i + 1), slice(None), *(slice(0, s) for s in sizes)) for i in range(2)]
    backend = backend_named("numpy") if backend_name == "numpy" else generic_backend(ns.xp)
    tiles = ((r, ns.asarray(f)) for r, f in zip(regions, frames, strict=True))
    out = ns.to_numpy(backend.assemble_frames((2, 2, *sizes), None, tiles, block))
    for batch, f in enumerate(frames):
        for index in np.ndindex(*sizes):
            frame = tuple(i // b for i, b in zip(index, block, strict=True))
            within = tuple(i % b for i, b in zip(index, block, strict=True))
            np.testing.assert_array_equal(
                out[(batch, slice(None), *index)], f[(0, *frame, slice(None), *within)]
            )
    assert out.shape == (2, 2, *sizes) and rank == len(sizes)


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_frames_tail_padded_with_the_input(value):
    """The FFT plan asks for zeros past the padded input where its last frames read
    (`Estimate.padded_tail`); those frames' extra outputs never reach the result. A
    non-zero padding value is not extended (the run pads the tail itself)."""
    rng = np.random.default_rng(4)
    x, w = rng.uniform(-1, 1, (2, 3, 5000)), rng.uniform(-1, 1, (4, 3, 61))
    kw = dict(padding=((20, 40),), padding_value=value)
    with xconv.workspace_limit(2**18):  # many frames, several chunks
        plan = xconv.plan(x.shape, w.shape, dtype="float64", algorithm="fft", **kw)
        assert plan.estimate.padded_tail[0] > 0 and math.prod(plan.chunking["frames"]) > 4
        problem = ConvProblem(x=x, weight=w, bias=None, kwargs=kw)
        assert_fft_accurate(run_fft(NUMPY, problem), problem)


def geometry(spec: ConvSpec, x_shape, limit=2**28, dtype_bytes=4):
    n, c = x_shape[:2]
    out = spec.output_spatial(x_shape[2:])
    return fft_geometry(
        spec,
        n,
        c,
        spec.out_channels,
        out,
        item_bytes=dtype_bytes,
        complex_=False,
        limit=limit,
        costs=NUMPY_BACKEND.costs.fft,
        fast_length=NUMPY_BACKEND.fast_length(False),
    )


def test_geometry_drops_phases_without_taps():
    """Dilation 2 and stride 2: every kernel tap sits on an even sample."""
    spec = ConvSpec.from_weight_shape((1, 1, 5, 3), stride=2, dilation=(2, 1))
    g = geometry(spec, (1, 1, 40, 40))
    assert g.phases == ((0,), (0, 1))
    assert g.channels == 2
    assert g.taps == (5, 2)


def test_geometry_blocks_long_signals_and_fits_the_workspace():
    spec = ConvSpec.from_weight_shape((1, 1, 1025))
    g = geometry(spec, (1, 1, 10**6))
    assert g.blocked and 2048 < g.fft_shape[0] < 2**17
    assert g.block[0] == g.fft_shape[0] - 1024
    small = geometry(spec, (1, 1, 10**6), limit=2**20)
    assert small.workspace_bytes <= 2**20
    assert math.prod(small.chunk) < math.prod(small.blocks)


def test_geometry_unblocked_for_a_small_image():
    spec = ConvSpec.from_weight_shape((64, 1, 31, 31), groups=64, padding=15)
    g = geometry(spec, (2, 64, 64, 64))
    assert not g.blocked and g.fft_shape == (96, 96) and g.route == "product"


def test_geometry_mixes_many_channels_by_matmul():
    spec = ConvSpec.from_weight_shape((64, 64, 9, 9), padding=4)
    assert geometry(spec, (2, 64, 64, 64)).route == "matmul"


@pytest.mark.parametrize("module", [fft, _fft_sizes, _overlap])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0
