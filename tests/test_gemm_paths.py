"""The NumPy GEMM and direct paths against the float64 oracle in ``reference.py``.

``xconv.conv`` picks one layout per convolution; these tests force every layout of the
NumPy GEMM engine (stacked axes, batch merging, fused groups, row bands under a small
workspace), its BLAS wrapper and its copy helpers, so that each code path is checked
whatever the cost model prefers today.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_conv
from strategies import examples

import xconv
from xconv.backends.numpy import _blas, _threads
from xconv.backends.numpy._costs import COSTS
from xconv.backends.numpy._gemm import Layout, choose_layout, conv_gemm_layout

TOLERANCE = {"float32": 2e-5, "float64": 1e-12, "complex64": 4e-5, "complex128": 2e-12}


def random(rng: np.random.Generator, shape, dtype: str) -> np.ndarray:
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def assert_close(actual, x, weight, dtype: str, bias=None, **kw):
    """Elementwise error within rounding of sum |x| |w| + |b| (the scale of each output)."""
    expected = reference_conv(x, weight, bias, **kw)
    scale = reference_conv(np.abs(x), np.abs(weight), None if bias is None else np.abs(bias), **kw)
    assert actual.shape == expected.shape
    assert actual.dtype == np.dtype(dtype)
    error = np.abs(actual.astype(expected.dtype) - expected)
    bound = TOLERANCE[dtype] * (scale + scale.max(initial=0.0) * 0.01)
    assert np.all(error <= bound), f"max error {error.max():.3g}"


@st.composite
def engine_problems(draw):
    """Padded input (the engine pads nothing), weight, kernel, stride, dilation, groups."""
    rank = draw(st.sampled_from([1, 2, 3]))
    small = rank == 3
    groups = draw(st.sampled_from([1, 1, 2, 3, 4]))
    cpg, fpg = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 2 if small else 3)) for _ in range(rank))
    stride = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(rank))
    dilation = tuple(draw(st.sampled_from([1, 1, 2])) for _ in range(rank))
    out = tuple(draw(st.integers(1, 3 if small else 5)) for _ in range(rank))
    # padded sizes that give exactly `out`, sometimes with unused trailing samples
    spatial = tuple(
        (o - 1) * s + (k - 1) * d + 1 + draw(st.integers(0, s - 1))
        for o, s, k, d in zip(out, stride, kernel, dilation, strict=True)
    )
    batch = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(sorted(TOLERANCE)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = random(rng, (batch, groups * cpg, *spatial), dtype)
    weight = random(rng, (groups * fpg, cpg, *kernel), dtype)
    return x, weight, kernel, stride, dilation, out, groups, dtype


def layouts(rank: int, groups: int):
    for fused in (f for f in range(1, groups + 1) if groups % f == 0):
        for stacked in range(rank + 1):
            for merge in (False, True):
                yield Layout(stacked, merge, fused)


@given(engine_problems())
@settings(max_examples=examples(60))
def test_every_layout_matches_oracle(problem):
    x, weight, kernel, stride, dilation, out, groups, dtype = problem
    options = {"stride": stride, "dilation": dilation, "groups": groups}
    for layout in layouts(len(kernel), groups):
        y = conv_gemm_layout(x, weight, kernel, stride, dilation, out, groups, layout)
        assert_close(y, x, weight, dtype, **options)


@given(engine_problems(), st.sampled_from([1, 64, 1024]))
@settings(max_examples=examples(30))
def test_row_bands_under_a_tiny_workspace_match_oracle(problem, limit):
    x, weight, kernel, stride, dilation, out, groups, dtype = problem
    options = {"stride": stride, "dilation": dilation, "groups": groups}
    with xconv.workspace_limit(limit):
        for layout in (Layout(0, False), Layout(len(kernel), True), Layout(1, True, groups)):
            y = conv_gemm_layout(x, weight, kernel, stride, dilation, out, groups, layout)
            assert_close(y, x, weight, dtype, **options)


@given(engine_problems())
@settings(max_examples=examples(30))
def test_chosen_layout_matches_oracle(problem):
    x, weight, kernel, stride, dilation, out, groups, dtype = problem
    y = conv_gemm_layout(x, weight, kernel, stride, dilation, out, groups, costs=COSTS)
    assert_close(y, x, weight, dtype, stride=stride, dilation=dilation, groups=groups)


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pointwise_matches_oracle(dtype, rank):
    rng = np.random.default_rng(rank)
    x = random(rng, (3, 5, *(4,) * rank), dtype)
    weight = random(rng, (7, 5, *(1,) * rank), dtype)
    y = conv_gemm_layout(x, weight, (1,) * rank, (1,) * rank, (1,) * rank, (4,) * rank, 1)
    assert_close(y, x, weight, dtype)


# Small versions of the benchmark's GEMM-bound and grouped layers: same channels,
# kernel, stride, dilation and groups, smaller images.
LAYERS = {
    "resnet3x3": dict(c=64, f=64, size=(10, 9), k=3, padding=1),
    "resnet1x1": dict(c=256, f=64, size=(7, 6), k=1),
    "stem7x7s2": dict(c=3, f=64, size=(17, 16), k=7, stride=2, padding=3),
    "s2_3x3": dict(c=128, f=128, size=(9, 10), k=3, stride=2, padding=1),
    "resnext_g32": dict(c=128, f=128, size=(6, 7), k=3, padding=1, groups=32),
    "dilated_d2": dict(c=256, f=256, size=(7, 8), k=3, padding=2, dilation=2),
    "conv3d": dict(c=16, f=16, size=(5, 6, 4), k=3, padding=1),
    "wav1d": dict(c=1, f=512, size=(203,), k=10, stride=5),
    "depthwise3": dict(c=32, f=32, size=(9, 8), k=3, padding=1, groups=32),
}


@pytest.mark.parametrize("algorithm", ["gemm", "direct", "auto"])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_benchmark_layers_match_oracle(name, channels_last, algorithm):
    layer = dict(LAYERS[name])
    c, f, size, k = layer.pop("c"), layer.pop("f"), layer.pop("size"), layer.pop("k")
    groups = layer.get("groups", 1)
    rng = np.random.default_rng(len(name))
    x = random(rng, (2, c, *size), "float32")
    weight = random(rng, (f, c // groups, *(k,) * len(size)), "float32")
    bias = random(rng, (f,), "float32")
    x_in = np.ascontiguousarray(np.moveaxis(x, 1, -1)) if channels_last else x
    y = xconv.conv(x_in, weight, bias, channels_last=channels_last, algorithm=algorithm, **layer)
    if channels_last:
        y = np.moveaxis(y, -1, 1)
    assert_close(y, x, weight, "float32", bias, **layer)


# ---------------------------------------------------------------------------- BLAS wrapper


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128", "float16"])
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("transposed", [(False, False), (True, False), (False, True)])
def test_gemm_on_strided_windows(dtype, accumulate, transposed):
    rng = np.random.default_rng(0)
    m, k, n = 13, 7, 5
    big = random(rng, (m + 4, k + 6), dtype)
    a = big[2 : 2 + m, 3 : 3 + k]  # a window: leading dimension larger than k
    if transposed[0]:
        a = np.ascontiguousarray(a.T).T
    b = random(rng, (n, k), dtype).T if transposed[1] else random(rng, (k, n), dtype)
    out = random(rng, (m, n + 3), dtype)[:, :n]
    start = out.astype(np.complex128)
    _blas.gemm(a, b, out, accumulate=accumulate)
    expected = a.astype(np.complex128) @ b.astype(np.complex128)
    if accumulate:
        expected += start
    tolerance = 1e-2 if dtype == "float16" else 1e-5
    assert np.abs(out - expected).max() <= tolerance * max(1.0, np.abs(expected).max())


def test_gemm_reaches_blas_for_the_four_blas_dtypes():
    assert all(_blas.available(d) for d in ("float32", "float64", "complex64", "complex128"))
    assert not _blas.available("float16")


def test_gemm_on_empty_inner_dimension():
    out = np.ones((3, 2))
    _blas.gemm(np.ones((3, 0)), np.ones((0, 2)), out, accumulate=True)
    assert np.all(out == 1)
    _blas.gemm(np.ones((3, 0)), np.ones((0, 2)), out)
    assert np.all(out == 0)


# ---------------------------------------------------------------------------- threads


def test_split_covers_the_range_without_empty_parts():
    for extent in range(0, 12):
        for parts in range(1, 5):
            slices = _threads.split(extent, parts)
            covered = [i for s in slices for i in range(s.start, s.stop)]
            assert covered == list(range(extent))
            assert all(s.stop > s.start for s in slices)


@pytest.mark.parametrize("shape", [(3, 700, 300), (1, 2048, 257), (700, 3, 1, 300)])
def test_parallel_copy_equals_numpy_copy(shape):
    rng = np.random.default_rng(1)
    src = rng.standard_normal(shape[::-1]).astype(np.float32).T  # a transposed view
    dst = np.empty(shape, dtype=np.float32)
    _threads.copyto(dst, src)
    assert np.array_equal(dst, src)
    assert math.prod(shape) * 4 >= _threads.PARALLEL_BYTES  # the threaded branch ran


def test_layout_choice_is_valid_for_the_benchmark_layers():
    for layer in LAYERS.values():
        rank = len(layer["size"])
        groups = layer.get("groups", 1)
        kernel = (layer["k"],) * rank
        stride = (layer.get("stride", 1),) * rank
        dilation = (layer.get("dilation", 1),) * rank
        out = tuple(
            (n + 2 * layer.get("padding", 0) - (k - 1) * d - 1) // s + 1
            for n, k, s, d in zip(layer["size"], kernel, stride, dilation, strict=True)
        )
        x_shape = (2, layer["c"], *(o * s + k for o, s, k in zip(out, stride, kernel, strict=True)))
        chosen, _ = choose_layout(x_shape, kernel, stride, dilation, out, layer["f"], groups, COSTS)
        assert 0 <= chosen.stacked <= rank
        assert groups % chosen.fused == 0


@pytest.mark.parametrize(
    "x_shape, filters, merged",
    [
        ((4, 64, 58, 58), 64, False),  # resnet3x3: one GEMM per image measured 0.87x
        ((8, 128, 30, 30), 128, False),  # 0.86x
        ((32, 64, 16, 16), 64, True),  # small images: merged measured 0.71x of per image
        ((16, 32, 30, 30), 32, True),  # 0.89x
        ((1, 64, 58, 58), 64, False),  # one image: nothing to merge
    ],
)
def test_merged_gemms_only_where_each_images_product_is_small(x_shape, filters, merged):
    out = tuple(n - 2 for n in x_shape[2:])
    layout, _ = choose_layout(x_shape, (3, 3), (1, 1), (1, 1), out, filters, 1, COSTS)
    assert layout.merge_batch is merged


# ---------------------------------------------------------------------------- depthwise


@st.composite
def depthwise_problems(draw):
    rank = draw(st.sampled_from([1, 2, 3]))
    channels, multiplier = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.sampled_from([1, 2])) for _ in range(rank))
    dilation = tuple(draw(st.sampled_from([1, 2])) for _ in range(rank))
    size = tuple(
        (k - 1) * d + 1 + draw(st.integers(0, 4)) for k, d in zip(kernel, dilation, strict=True)
    )
    dtype = draw(st.sampled_from(sorted(TOLERANCE)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = random(rng, (draw(st.integers(1, 3)), channels, *size), dtype)
    weight = random(rng, (channels * multiplier, 1, *kernel), dtype)
    padding = draw(st.integers(0, 1))
    return x, weight, dtype, {"stride": stride, "dilation": dilation, "padding": padding}


@given(depthwise_problems(), st.booleans())
@settings(max_examples=examples(60))
def test_depthwise_direct_matches_oracle(problem, channels_last):
    x, weight, dtype, options = problem
    groups = x.shape[1]
    x_in = np.ascontiguousarray(np.moveaxis(x, 1, -1)) if channels_last else x
    y = xconv.conv(
        x_in, weight, groups=groups, channels_last=channels_last, algorithm="direct", **options
    )
    if channels_last:
        y = np.moveaxis(y, -1, 1)
    assert_close(y, x, weight, dtype, groups=groups, **options)


@pytest.mark.parametrize("batch", [1, 3])
def test_depthwise_direct_in_parallel_slabs_matches_oracle(batch):
    # large enough for the threaded slabs (images, or row bands of a single image)
    rng = np.random.default_rng(batch)
    x = random(rng, (batch, 96, 40, 36), "float32")
    weight = random(rng, (192, 1, 3, 3), "float32")
    y = xconv.conv(x, weight, groups=96, padding=1, algorithm="direct")
    assert_close(y, x, weight, "float32", groups=96, padding=1)


# ---------------------------------------------------------------------------- padding


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "replicate", "circular"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_numpy_pad_equals_np_pad_and_keeps_the_layout(mode, channels_last):
    from xconv.backends import backend_named

    pad = backend_named("numpy").pad
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    if channels_last:
        x = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)
    pads = ((2, 1), (0, 3))
    got = pad(x, pads, mode, 1.5)
    numpy_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    extra = {"constant_values": 1.5} if mode == "constant" else {}
    assert np.array_equal(got, np.pad(x, ((0, 0), (0, 0), *pads), mode=numpy_mode, **extra))
    assert np.moveaxis(got, 1, -1).flags.c_contiguous == channels_last


# ---------------------------------------------------------------------------- scratch


def test_results_never_share_memory_with_reused_scratch():
    rng = np.random.default_rng(2)
    x = random(rng, (2, 8, 9, 9), "float32")
    weight = random(rng, (8, 8, 3, 3), "float32")
    depthwise = random(rng, (8, 1, 3, 3), "float32")
    first = xconv.conv(x, weight, padding=1, algorithm="gemm")
    first_depthwise = xconv.conv(x, depthwise, padding=1, groups=8, algorithm="direct")
    kept, kept_depthwise = first.copy(), first_depthwise.copy()
    xconv.conv(2 * x, weight, padding=1, algorithm="gemm")  # reuses the scratch buffers
    xconv.conv(2 * x, depthwise, padding=1, groups=8, algorithm="direct")
    assert np.array_equal(first, kept)
    assert np.array_equal(first_depthwise, kept_depthwise)


def test_scratch_is_reused_per_kind_and_bounded():
    from xconv.backends.numpy import _scratch

    _scratch.release()
    a = _scratch.empty("one", (10, 10), np.float32)
    b = _scratch.empty("one", (5, 4), np.float64)
    assert np.shares_memory(a, b)
    assert not np.shares_memory(a, _scratch.empty("other", (10, 10), np.float32))
    with xconv.workspace_limit(100):
        assert not np.shares_memory(a, _scratch.empty("one", (6, 5), np.float32))
    _scratch.release()
    assert not np.shares_memory(a, _scratch.empty("one", (10, 10), np.float32))


def test_gemm_without_blas_falls_back_to_matmul(monkeypatch):
    monkeypatch.setattr(_blas, "_cblas_gemm", lambda dtype: None)
    rng = np.random.default_rng(3)
    a, b = random(rng, (6, 4), "float64"), random(rng, (4, 3), "float64")
    out = np.ones((6, 3))
    _blas.gemm(a, b, out, accumulate=True)
    assert np.allclose(out, a @ b + 1)
    _blas.gemm(a, b, out)
    assert np.allclose(out, a @ b)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_parallel_copies_work_in_a_forked_child():
    import multiprocessing

    src = np.arange(3 * 700 * 300, dtype=np.float32).reshape(3, 700, 300)
    _threads.copyto(np.empty_like(src), src)  # the parent's pool exists before the fork
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        assert pool.apply(_copy_sum, (src,)) == float(src.sum(dtype=np.float64))


def _copy_sum(src: np.ndarray) -> float:
    dst = np.empty_like(src)
    _threads.copyto(dst, src)
    return float(dst.sum(dtype=np.float64))


@pytest.mark.parametrize(
    "layout", [Layout(0, False), Layout(0, True), Layout(1, True), Layout(2, False)]
)
def test_layouts_of_a_threaded_size_match_oracle(layout):
    # large enough that NumPy's BLAS runs each product on several threads
    rng = np.random.default_rng(4)
    x = random(rng, (3, 32, 26, 25), "float32")
    weight = random(rng, (48, 32, 3, 3), "float32")
    y = conv_gemm_layout(x, weight, (3, 3), (1, 1), (1, 1), (24, 23), 1, layout)
    assert_close(y, x, weight, "float32")
