"""Issue 14's defects, one regression test each: non-finite data and overflow on the FFT
path, strict arguments, and dtypes that must not be compared with None.

Oracles: a direct sum of the definition (`reference`) and the arithmetic of the inputs.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from reference import reference_conv
from reference_transposed import reference_conv_transpose

import xconv
from xconv._arrays import compute_dtype
from xconv.compat import matlab, wolfram

# ---------------------------------------------------------------------------- numerics


def test_auto_keeps_a_nan_local_where_the_fft_would_spread_it():
    x = np.random.default_rng(0).random((1, 1, 256, 256))
    x[..., 100, 100] = np.nan
    w = np.ones((1, 1, 31, 31))
    assert xconv.plan(x.shape, w.shape, dtype="float64", padding=15).algorithm == "fft"
    y = xconv.conv(x, w, padding=15)
    expected = reference_conv(np.nan_to_num(x, nan=0.0), w, padding=15)
    nan = np.isnan(y)
    assert nan.sum() == 31 * 31  # the outputs whose window holds the NaN, no more
    assert nan[0, 0, 85:116, 85:116].all()
    np.testing.assert_allclose(y[~nan], expected[~nan], rtol=1e-10)
    # an explicit "fft" does what its docstring says: the frame's outputs are all NaN
    assert np.isnan(xconv.conv(x, w, padding=15, algorithm="fft")).all()


def test_auto_keeps_an_infinity_local_in_1d_transposed_and_gradients():
    x = np.random.default_rng(1).random((1, 1, 20000))
    x[..., 500] = np.inf
    assert (~np.isfinite(xconv.conv(x, np.ones((1, 1, 1025))))).sum() == 501
    t = xconv.conv_transpose(x[..., :4000], np.ones((1, 1, 301)))
    assert (~np.isfinite(t)).sum() == 301
    g = np.ones((1, 1, 20000 - 1024))
    _, grad_w, _ = xconv.conv_vjp(g, x, np.ones((1, 1, 1025)))
    # taps 0..500 meet the infinity (output o = 500 - t), the others never: a direct sum
    assert np.isinf(grad_w[..., :501]).all() and np.isfinite(grad_w[..., 501:]).all()
    grad_x, _, _ = xconv.conv_vjp(g, np.where(np.isfinite(x), x, 0), np.ones((1, 1, 1025)))
    assert np.isfinite(grad_x).all()


def test_auto_falls_back_without_the_fft_frames_tail():
    """The FFT plan pads zeros past the input for its last frames; when a NaN sends the
    call to a direct sum, that sum reads the padded input only."""
    x = np.random.default_rng(5).random((1, 1, 100_000))
    x[..., 700] = np.nan
    w = np.ones((1, 1, 2001))
    plan = xconv.plan(x.shape, w.shape, dtype="float64", padding="same")
    assert plan.algorithm == "fft" and plan.estimate.padded_tail[0] > 0
    y = xconv.conv(x, w, padding="same")
    nan = np.isnan(y)
    assert y.shape == x.shape and nan.sum() == 1701  # outputs 0..1700 hold sample 700
    expected = reference_conv(np.nan_to_num(x, nan=0.0), w, padding=1000)
    np.testing.assert_allclose(y[~nan], expected[~nan], rtol=1e-10)


def test_the_fallback_reads_only_what_a_correlation_reads():
    from xconv.executor import _read_part
    from xconv.spec import ConvSpec

    x = np.zeros((1, 1, 30, 12))
    spec = ConvSpec((3, 2), stride=(2, 1), dilation=(2, 1))
    # outputs (10, 11): rows up to 9 * 2 + 2 * 2 = 22, columns up to 10 + 1 = 11
    assert _read_part(x, spec, (10, 11)).shape == (1, 1, 23, 12)
    assert _read_part(x[..., :23, :], spec, (10, 11)).shape == (1, 1, 23, 12)


def test_float32_fft_does_not_overflow_when_the_result_is_finite():
    x = np.full((1, 1, 2048, 2048), 1e34, np.float32)
    w = np.full((1, 1, 31, 31), 1 / 961, np.float32)
    y = xconv.conv(x, w, algorithm="fft")
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, 1e34, rtol=1e-5)
    signal = np.full((1, 1, 200_000), 1e36, np.float32)
    y1 = xconv.conv(signal, np.full((1, 1, 1025), 1 / 1025, np.float32), algorithm="fft")
    np.testing.assert_allclose(y1, 1e36, rtol=1e-5)


def test_the_overflow_guard_changes_no_rounding():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 300)).astype(np.float32), rng.random((3, 2, 9))
    w = w.astype(np.float32)
    small = xconv.conv(x, w, algorithm="fft")
    large = xconv.conv(x * np.float32(2.0**100), w, algorithm="fft")
    np.testing.assert_array_equal(large, small * np.float32(2.0**100))


# ---------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("value", ["False", 1, 0, None, "yes"])
def test_booleans_must_be_booleans(value):
    x, w = np.ones((1, 1, 4)), np.ones((1, 1, 2))
    with pytest.raises(TypeError, match="channels_last must be True or False"):
        xconv.conv(x, w, channels_last=value)
    with pytest.raises(TypeError, match="transposed must be True or False"):
        xconv.ConvSpec((3,), transposed=value)
    assert xconv.conv(x, w, channels_last=np.bool_(False)).shape == (1, 1, 3)


def test_complex_values_are_never_silently_dropped():
    x, w = np.ones((1, 1, 4)), np.ones((1, 1, 2))
    with pytest.raises(TypeError, match="bias is complex"):
        xconv.conv(x, w, np.array([1j]))
    with pytest.raises(TypeError, match="bias is complex"):
        xconv.conv_transpose(x, w, np.array([1j]))
    layer = matlab.convolution1dLayer(2, 1, NumChannels=1)
    with pytest.raises(TypeError, match="real"):
        layer(np.array([[1 + 5j], [2], [3]]))
    with pytest.raises(TypeError, match="Weights must be real"):
        matlab.convolution1dLayer(2, 1, Weights=np.array([[[2j]], [[1]]]))
    with pytest.raises(TypeError, match="Weights must be real"):
        wolfram.ConvolutionLayer(1, 2, Weights=[[[2j, 1]]], Biases=None)
    # complex data with complex weights stay a complex convolution
    z = xconv.conv(x + 1j, w, np.array([1j]))
    np.testing.assert_allclose(z, reference_conv(x + 1j, w, np.array([1j])))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: xconv.conv(None, np.ones((1, 1, 2))), TypeError, "x must be an array"),
        (lambda: xconv.conv(1.0, np.ones((1, 1, 2))), TypeError, "x must be an array"),
        (lambda: xconv.conv(np.ones((1, 1, 4)), [[[1.0]]]), TypeError, "weight must be"),
        (lambda: xconv.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), 1.0), TypeError, "bias"),
        (
            lambda: xconv.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), groups=None),
            ValueError,
            "groups",
        ),
        (
            lambda: xconv.conv(
                np.ones((1, 1, 4)), np.ones((1, 1, 2)), algorithm=np.array(["auto"])
            ),
            ValueError,
            "algorithm",
        ),
        (
            lambda: xconv.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), padding_value=10**400),
            ValueError,
            "padding_value must be finite",
        ),
        (lambda: matlab.convolution2dLayer(3, 2, Stride=float("nan")), ValueError, "'Stride'"),
        (lambda: matlab.convolution2dLayer(3, 2, Stride=float("inf")), ValueError, "'Stride'"),
        (
            lambda: wolfram.NetInitialize(
                wolfram.ConvolutionLayer(2, 3, Input=[1, 8]), Method=("Xavier",)
            ),
            ValueError,
            "Method",
        ),
        (lambda: xconv.plan((1, 3, 8), (4, 3, 3), backend="bogus"), ValueError, "backend"),
        (
            lambda: xconv.plan((1, 1, 4), (1, 1, 3), padding=5, padding_mode="reflect"),
            ValueError,
            "too wide",
        ),
    ],
)
def test_bad_arguments_name_themselves(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ---------------------------------------------------------------------------- dtypes


def test_compute_dtype_never_compares_a_dtype_with_none():
    """A namespace without float16 (Dask's, say): float64 must stay float64."""
    no_half = types.SimpleNamespace(float32=np.float32, float64=np.float64)
    assert compute_dtype(no_half, np.dtype("float64")) == np.dtype("float64")
    assert compute_dtype(no_half, np.dtype("float16")) is np.float32


def test_dask_float64_is_computed_in_float64():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 50)), rng.standard_normal((3, 2, 5))
    y = xconv.conv(da.from_array(x, chunks=25), w, algorithm="direct")
    assert y.dtype == np.float64
    np.testing.assert_allclose(np.asarray(y), reference_conv(x, w), rtol=1e-12, atol=1e-12)


def test_transposed_reference_still_agrees_after_the_guards():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 9)), rng.standard_normal((2, 3, 4))
    y = xconv.conv_transpose(x, w, stride=3, padding=1, algorithm="fft")
    np.testing.assert_allclose(y, reference_conv_transpose(x, w, stride=3, padding=1), atol=1e-12)


# ---------------------------------------------------------------------------- strides


def test_work_does_not_grow_with_the_stride(monkeypatch):
    """Strides beyond the kernel: the transposed paths spread the kernel copies instead of
    running one correlation per output phase (10**6 phases took minutes)."""
    import xconv.executor

    correlations = []
    original = xconv.executor.run_correlation
    monkeypatch.setattr(
        xconv.executor,
        "run_correlation",
        lambda *a, **k: correlations.append(1) or original(*a, **k),
    )
    y = xconv.conv_transpose(
        np.ones((1, 1, 3)), np.ones((1, 1, 2)), stride=10**6, algorithm="direct"
    )
    assert len(correlations) <= 2
    assert y.shape == (1, 1, 2 * 10**6 + 2) and y.sum() == 6.0
    assert (y[0, 0, [0, 1, 10**6, 10**6 + 1, 2 * 10**6, 2 * 10**6 + 1]] == 1).all()
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 2, 10, 10)), rng.standard_normal((3, 2, 3, 3))
    g = rng.standard_normal((1, 3, 1, 1))
    correlations.clear()
    grad_x, grad_w, _ = xconv.conv_vjp(g, x, w, stride=1000, algorithm="direct")
    assert len(correlations) <= 9  # one per kernel tap at most, never one per phase
    np.testing.assert_allclose(grad_x[..., :3, :3], np.einsum("nf,fcij->ncij", g[:, :, 0, 0], w))
    assert not grad_x[..., 3:, :].any() and not grad_x[..., :, 3:].any()
    np.testing.assert_allclose(grad_w, np.einsum("nf,ncij->fcij", g[:, :, 0, 0], x[..., :3, :3]))


@pytest.mark.parametrize("algorithm", ["direct", "gemm", "fft", "auto"])
@pytest.mark.parametrize(
    "kw",
    [
        dict(stride=7),
        dict(stride=(9, 4), padding=((2, 3), (1, 0)), output_padding=(3, 2)),
        dict(stride=5, dilation=2),
        dict(stride=4, padding="same"),
    ],
)
def test_strides_wider_than_the_kernel_match_the_definition(algorithm, kw):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 3, 2, 3))
    y = xconv.conv_transpose(x, w, algorithm=algorithm, **kw)
    np.testing.assert_allclose(y, reference_conv_transpose(x, w, **kw), atol=1e-12)


def test_absurd_outputs_are_refused_before_any_work():
    with pytest.raises(ValueError, match="output elements"):
        xconv.conv_transpose(np.ones((1, 1, 3)), np.ones((1, 1, 2)), stride=10**30)


# ---------------------------------------------------------------------------- the CLI


def _cli(*args: str):
    from click.testing import CliRunner
    from xconv_cli.main import main

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("layer", "shape", "words"),
    [
        ("ConvolutionLayer[2, 3, PaddingSize -> 1.5*^999999]", "3x10", "out of range"),
        ("ConvolutionLayer[2, " + "{" * 600 + "3" + "}" * 600 + "]", "3x10", "nested"),
        ("keras.layers.Conv2D(4, " + "(" * 600 + "3" + ")" * 600 + ")", "1x8x8x3", "nested"),
        (
            "convolution2dLayer(3, 2, 'Stride', " + "[" * 600 + "1" + "]" * 600 + ")",
            "8x8x3",
            "nested",
        ),
    ],
)
def test_cli_refuses_numbers_out_of_range_and_deep_nesting_in_one_line(layer, shape, words):
    code, stderr = _cli("shape", layer, "--input-shape", shape)
    assert code != 0 and words in stderr and "internal error" not in stderr
    assert stderr.count("\n") == 1


def test_cli_refuses_random_input_that_cannot_fit_before_allocating():
    code, stderr = _cli(
        "run", "convolution2dLayer(3, 2)", "--input-shape", "300000x300000x3", "--output", "y.npy"
    )
    assert code != 0 and "memory are available" in stderr and stderr.count("\n") == 1


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_terminated_cli_leaves_no_temporary_file(tmp_path, name):
    """A write interrupted by SIGTERM or SIGHUP removes its temporary (SIGINT already did)."""
    import signal
    import subprocess
    import sys
    import time

    if not hasattr(signal, name):
        pytest.skip(f"no {name} here")
    script = (
        "import time, numpy as np\n"
        "from xconv_cli import _files, main\n"
        "main.exit_on_termination()\n"
        "def slow(handle, suffix, array, name):\n"
        "    handle.write(b'partial'); handle.flush(); time.sleep(60)\n"
        "_files._write = slow\n"
        f"_files.write_array({str(tmp_path / 'y.npy')!r}, np.ones(3))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.iterdir()), "the writer never started"
    child.send_signal(getattr(signal, name))
    assert child.wait(60) == 128 + getattr(signal, name)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- gradients


def _weight_gradient_oracle(x, g, kernel, stride, dilation, groups):
    """grad_w[f, c, t] = sum over n, o of g[n, f, o] * x[n, c, o * s + t * d], in float64."""
    from numpy.lib.stride_tricks import sliding_window_view

    rank = len(kernel)
    extent = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True))
    windows = sliding_window_view(x.astype(np.float64), extent, axis=tuple(range(2, 2 + rank)))
    take = tuple(slice(0, o * s, s) for o, s in zip(g.shape[2:], stride, strict=True))
    taps = tuple(slice(None, None, d) for d in dilation)
    windows = windows[(slice(None), slice(None), *take, *taps)]  # (n, C, *O, *k)
    windows = windows[(slice(None), slice(None), *(slice(0, o) for o in g.shape[2:]))]
    channels, filters = x.shape[1], g.shape[1]
    cg, fg = channels // groups, filters // groups
    out = np.zeros((filters, cg, *kernel))
    letters = "abcdefgh"[:rank]
    for j in range(groups):
        gj = g[:, j * fg : (j + 1) * fg].astype(np.float64)
        wj = windows[:, j * cg : (j + 1) * cg]
        out[j * fg : (j + 1) * fg] = np.einsum(f"nf{letters},nc{letters}...->fc...", gj, wj)
    return out


@pytest.mark.parametrize(
    ("shape", "kernel", "kw"),
    [
        ((1, 2, 150_000), (5,), dict(stride=2, dilation=3, groups=2)),
        ((2, 2, 700, 60), (3, 2), dict(stride=(1, 2), dilation=(2, 1))),
    ],
)
def test_segmented_fft_weight_gradient_matches_the_definition(shape, kernel, kw):
    rng = np.random.default_rng(7)
    groups = kw.get("groups", 1)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((4, shape[1] // groups, *kernel))
    y = xconv.conv(x, w, **kw)
    g = rng.standard_normal(y.shape)
    _, grad_w, _ = xconv.conv_vjp(g, x, w, algorithm="fft", **kw)
    stride = kw.get("stride", 1)
    stride = (stride,) * len(kernel) if isinstance(stride, int) else stride
    dilation = kw.get("dilation", 1)
    dilation = (dilation,) * len(kernel) if isinstance(dilation, int) else dilation
    expected = _weight_gradient_oracle(x, g, kernel, stride, dilation, groups)
    np.testing.assert_allclose(grad_w, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_gradient_work_stays_within_a_few_forward_passes(monkeypatch):
    """Samples transformed by the VJP against the forward pass, under a small workspace
    (where the weight gradient used to run thousands of full-length frames)."""
    from xconv.backends import backend_named

    backend = backend_named("numpy")
    work = []
    original = backend.rfftn

    def counting(x, shape, axes):
        work.append(x.size // math.prod(x.shape[a] for a in axes) * math.prod(shape))
        return original(x, shape, axes)

    monkeypatch.setattr(backend, "rfftn", counting)
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((1, 1, 400_000)), rng.standard_normal((1, 1, 2049))
    with xconv.workspace_limit(2 * 2**20):
        y = xconv.conv(x, w, algorithm="fft")
        forward = sum(work)
        work.clear()
        xconv.conv_vjp(np.ones_like(y), x, w, algorithm="fft")
    assert sum(work) <= 6 * forward, (sum(work), forward)


@pytest.mark.parametrize("algorithm", ["gemm", "fft", "direct"])
def test_peak_memory_is_input_padded_copy_output_and_the_workspace(algorithm):
    """The documented bound (`xconv.get_workspace_limit`): tracemalloc sees NumPy's buffers."""
    import tracemalloc

    x = np.random.default_rng(9).standard_normal((1, 4, 512, 512)).astype(np.float32)
    w = np.ones((4, 4, 5, 5), np.float32)
    limit = 4 * 2**20
    padded = x.nbytes * (516 * 516) / (512 * 512)
    with xconv.workspace_limit(limit):
        xconv.conv(x[:, :, :8, :8], w, padding=2, padding_mode="reflect", algorithm=algorithm)
        tracemalloc.start()
        try:
            y = xconv.conv(x, w, padding=2, padding_mode="reflect", algorithm=algorithm)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    scratch = limit
    if algorithm == "direct":  # per-tap temporaries, as its plan says, not the limit
        plan = xconv.plan(x.shape, w.shape, padding=2, algorithm="direct", backend="generic")
        scratch = plan.workspace_bytes
    assert peak <= padded + y.nbytes + scratch + 2**20, (peak, padded + y.nbytes + scratch)


@pytest.mark.parametrize("library", ["array_api_strict", "torch", "jax"])
def test_a_nan_stays_local_on_every_array_library(library):
    """The guard needs a finiteness check that every library answers: XLA's vectorised
    max, for one, drops a NaN from a large array."""
    module = pytest.importorskip(library)
    x = np.random.default_rng(10).random((1, 1, 256, 256)).astype(np.float32)
    x[..., 100, 100] = np.nan
    w = np.ones((1, 1, 31, 31), np.float32)
    if library == "torch":
        data, kernel = module.from_numpy(x), module.from_numpy(w)
    else:
        xp = module.numpy if library == "jax" else module
        data, kernel = xp.asarray(x), xp.asarray(w)
    y = np.asarray(xconv.conv(data, kernel, padding=15))
    assert np.isnan(y).sum() == 31 * 31
