"""The compiled direct kernel (numba, optional): against the float64 loop oracle, in every
thread setting, and the NumPy paths it replaces when numba is absent.

With numba installed (the test extra installs it) every NumPy `algorithm="direct"` call
runs the kernel, so the whole NumPy oracle suite of `test_conv.py` exercises it too; the
tests here add what that suite cannot see: that the kernel really ran, its serial build
(other threads, `thread_limit(1)`), and the planner without numba.
"""

from __future__ import annotations

import concurrent.futures
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from namespaces import NUMPY
from reference import reference_conv
from strategies import conv_problems, examples
from test_conv import check
from test_transposed import check as check_transposed
from test_transposed import transposed_problems

import xconv
from xconv.backends.numpy import _numba

pytest.importorskip("numba")
if not _numba.available():
    pytest.skip("the compiled kernel is switched off (XCONV_NUMBA=0)", allow_module_level=True)


def _route(x_shape, w_shape, dtype, **kwargs) -> str:
    plan = xconv.plan(x_shape, w_shape, dtype=dtype, algorithm="direct", **kwargs)
    return plan.chunking.get("engine", "")


@settings(max_examples=examples(150))
@given(problem=conv_problems(dtypes=("float32", "float64", "complex64", "complex128")))
def test_kernel_matches_oracle(problem):
    check(NUMPY, problem, "direct")


@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=("float32", "float64")))
def test_serial_build_matches_oracle(problem):
    with xconv.thread_limit(1):
        check(NUMPY, problem, "direct")


def test_the_kernel_runs_for_direct_and_for_auto_on_filters_and_depthwise_layers():
    assert _route((1, 3, 30, 30), (8, 3, 3, 3), "float32") == "numba rows"
    depthwise = xconv.plan((4, 256, 56, 56), (256, 1, 3, 3), dtype="float32", padding=1, groups=256)
    image = xconv.plan((1, 1, 1030, 1030), (1, 1, 7, 7), dtype="float64")
    assert image.algorithm == "direct"
    assert depthwise.algorithm in ("direct", "onnxruntime")  # ONNX Runtime's, where installed
    if depthwise.algorithm == "direct":
        assert depthwise.chunking["engine"] == "numba planes"  # many planes: one per task
    assert image.chunking["engine"] == "numba rows"  # one plane: its rows share the threads
    resnet = xconv.plan((4, 64, 56, 56), (64, 64, 3, 3), dtype="float32", padding=1)
    assert resnet.algorithm in ("gemm", "onnxruntime")  # many channels: BLAS or MLAS
    # float16 computes in float32, where the kernel is built: the plan says what runs
    assert _route((1, 3, 30, 30), (8, 3, 3, 3), "float16") == "numba rows"
    assert xconv.plan((1, 3, 30, 30), (8, 3, 3, 3), dtype="float16").dtype == "float32"


def test_worker_threads_run_the_serial_build_concurrently():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 40, 37))
    w = rng.standard_normal((6, 2, 5, 3))
    kwargs = {"groups": 3, "stride": (1, 2), "padding": "same", "padding_mode": "circular"}
    expected = reference_conv(x, w, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: xconv.conv(x, w, algorithm="direct", **kwargs), range(8)))
    for y in results:
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_long_rows_split_into_blocks():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 1, 3 * _numba.BLOCK + 17)).astype(np.float32)
    w = rng.standard_normal((2, 1, 31)).astype(np.float32)
    y = xconv.conv(x, w, algorithm="direct", padding=15, dilation=1)
    expected = reference_conv(x.astype(np.float64), w.astype(np.float64), padding=15)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-4)


@pytest.fixture
def without_numba(monkeypatch):
    from xconv.planner import clear_plans

    monkeypatch.setattr(_numba, "available", lambda: False)
    clear_plans()  # plans made with numba must not answer
    yield
    clear_plans()


def test_without_numba_the_planner_keeps_the_numpy_kernels(without_numba):
    assert _route((4, 16, 20, 20), (16, 1, 3, 3), "float32", groups=16) == "depthwise windows"
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 4, 9, 9)), rng.standard_normal((4, 1, 3, 3))
    np.testing.assert_allclose(
        xconv.conv(x, w, groups=4, algorithm="direct"),
        reference_conv(x, w, groups=4),
        rtol=1e-12,
        atol=1e-12,
    )


# -- the FFT path's channel mixing ---------------------------------------------------------


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize(
    ("frames", "groups", "per_group", "filters", "bins"),
    [
        (1, 1, 8, 8, 3 * _numba.MIX_BLOCK + 5),  # several bin blocks and a partial one
        (3, 4, 2, 3, 17),
        (2, 1, 1, 5, 40),
    ],
)
def test_mixing_kernel_matches_the_sum_of_products(dtype, frames, groups, per_group, filters, bins):
    rng = np.random.default_rng(3)

    def spectra(*shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)

    x, w = spectra(frames, groups, per_group, bins), spectra(groups, filters, per_group, bins)
    expected = np.einsum("ngck,gfck->ngfk", x.astype(np.complex128), w.astype(np.complex128))
    tolerance = 1e-5 if dtype == "complex64" else 1e-12
    for y in (_numba.mix_spectra(x, w), _serially(_numba.mix_spectra, x, w)):
        assert y.shape == (frames, groups, filters, bins) and y.dtype == dtype
        np.testing.assert_allclose(y, expected, rtol=tolerance, atol=tolerance * per_group)


def _serially(function, *args):
    with xconv.thread_limit(1):
        return function(*args)


def test_mixing_kernel_declines_what_it_was_not_built_for():
    real = np.ones((1, 1, 2, 4), np.float32)
    assert _numba.mix_spectra(real, np.ones((1, 3, 2, 4), np.float32)) is None
    mixed = np.ones((1, 1, 2, 4), np.complex64)
    assert _numba.mix_spectra(mixed, np.ones((1, 3, 2, 4), np.complex128)) is None


def test_multichannel_large_kernels_mix_by_the_kernel_and_match_the_oracle():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 8, 96, 96)).astype(np.float32)
    w = rng.standard_normal((8, 8, 21, 21)).astype(np.float32)
    plan = xconv.plan(x.shape, w.shape, dtype="float32", padding=10)
    assert plan.algorithm == "fft" and plan.estimate.detail.route == "kernel"
    expected = reference_conv(x.astype(np.float64), w.astype(np.float64), padding=10)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(xconv.conv(x, w, padding=10), expected, atol=2e-6 * scale)


def test_without_numba_the_fft_path_mixes_as_before(without_numba):
    plan = xconv.plan((1, 8, 96, 96), (8, 8, 21, 21), dtype="float32", padding=10)
    assert plan.estimate.detail.route in ("product", "matmul")


# -- the plane kernel (stride 1: each task pads its group's planes and runs them wide) -------


def _planes_whenever_stride_one(spec, *args) -> bool:
    return all(s == 1 for s in spec.stride)


@contextlib.contextmanager
def _planes_at_stride_one():
    """The plane kernel for every stride-1 correlation (whatever its task count)."""
    from xconv.planner import clear_plans

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_numba, "uses_planes", _planes_whenever_stride_one)
        clear_plans()
        try:
            yield
        finally:
            clear_plans()


@settings(max_examples=examples(120))
@given(problem=conv_problems(dtypes=("float32", "float64", "complex64", "complex128")))
def test_plane_kernel_matches_oracle(problem):
    with _planes_at_stride_one():
        check(NUMPY, problem, "direct")
        with xconv.thread_limit(1):
            check(NUMPY, problem, "direct")


@settings(max_examples=examples(60))
@given(problem=transposed_problems(dtypes=("float32", "float64")))
def test_plane_kernel_pads_the_windows_of_transposed_phases(problem):
    # each stride phase hands the kernel its window of the input and the zeros around it
    with _planes_at_stride_one():
        check_transposed(NUMPY, problem, "direct")


def test_plane_kernel_runs_on_depthwise_and_grouped_layers_and_pads_itself():
    direct = {"dtype": "float32", "algorithm": "direct"}  # whatever auto picks beside it
    depthwise = xconv.plan((4, 256, 56, 56), (256, 1, 3, 3), padding=1, groups=256, **direct)
    grouped = xconv.plan((4, 128, 28, 28), (128, 4, 3, 3), padding=1, groups=32, **direct)
    for plan in (depthwise, grouped):
        assert plan.chunking["engine"] == "numba planes"
        assert plan.estimate.padded_layout == "unpadded"
    reflect = xconv.plan(
        (4, 8, 20, 20), (8, 1, 3, 3), padding=1, groups=8, padding_mode="reflect", **direct
    )
    assert reflect.estimate.padded_layout == "channels_first"  # padded first, as before
    strided = xconv.plan((4, 8, 20, 20), (8, 1, 3, 3), stride=2, groups=8, **direct)
    assert strided.chunking["engine"] == "numba rows"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"padding": ((2, 0), (1, 3)), "padding_value": -1.5, "groups": 4},
        {"padding": "same", "dilation": (2, 3), "groups": 8},
        {"padding": 1, "groups": 2, "padding_mode": "circular"},
    ],
)
def test_plane_kernel_pads_with_the_layers_value_and_mode(kwargs):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 8, 17, 11))
    w = rng.standard_normal((8, 8 // kwargs["groups"], 3, 2))
    plan = xconv.plan(x.shape, w.shape, dtype="float64", algorithm="direct", **kwargs)
    assert plan.chunking["engine"] == "numba planes"
    np.testing.assert_allclose(plan(x, w), reference_conv(x, w, **kwargs), rtol=1e-12, atol=1e-12)


def test_an_unpadded_input_is_padded_when_the_kernel_declines(monkeypatch):
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((4, 6, 9, 9)), rng.standard_normal((6, 3, 3, 3))
    kwargs = {"padding": 2, "groups": 2, "padding_value": 0.5}
    plan = xconv.plan(x.shape, w.shape, dtype="float64", algorithm="direct", **kwargs)
    assert plan.estimate.padded_layout == "unpadded"
    monkeypatch.setattr(_numba, "conv_numba", lambda *args: None)  # e.g. a dtype it lacks
    np.testing.assert_allclose(plan(x, w), reference_conv(x, w, **kwargs), rtol=1e-12, atol=1e-12)
