"""``xconv.conv`` against the independent oracle in ``reference.py``."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import NUMPY, Namespace, NumpyNamespace, StrictNamespace, TorchNamespace
from reference import MATLAB_MAGIC, MATLAB_PADDING_PICTURES, reference_conv
from strategies import ConvProblem, conv_problems, examples, random_array, result_dtype

import xconv

ALGORITHMS = ("direct", "gemm", "fft", "auto")

# relative tolerance against sum |x| * |w| + |bias| for each element (see assert_matches)
RTOL = {
    "float16": 1e-2,
    "float32": 1e-5,
    "float64": 1e-12,
    "complex64": 2e-5,
    "complex128": 2e-12,
}


# ---------------------------------------------------------------------------- helpers


def oracle_and_bound(problem: ConvProblem):
    """The oracle's result and, per element, sum |x|*|w| + |bias| (the scale of rounding)."""
    kw = problem.kwargs
    ref = reference_conv(problem.x, problem.weight, problem.bias, **kw)
    abs_kw = dict(kw, padding_value=abs(kw.get("padding_value", 0.0)))
    bound = reference_conv(
        np.abs(problem.x),
        np.abs(problem.weight),
        None if problem.bias is None else np.abs(problem.bias),
        **abs_kw,
    )
    return ref, np.abs(bound)


def assert_matches(actual: np.ndarray, problem: ConvProblem, dtype: str | None = None):
    dtype = dtype or problem.out_dtype
    ref, bound = oracle_and_bound(problem)
    assert actual.shape == ref.shape, f"shape {actual.shape} != oracle {ref.shape}"
    rtol = RTOL[dtype]
    scale = bound.max() if bound.size else 0.0
    # elementwise rounding scale, plus a little of the global scale (FFT-style error)
    tol = rtol * (bound + 0.1 * scale) + 1e-300
    err = np.abs(actual.astype(ref.dtype) - ref)
    bad = ~(err <= tol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{int(bad.sum())}/{bad.size} elements differ (dtype {dtype}, rtol {rtol}); "
            f"first at {idx}: got {actual[idx]!r}, oracle {ref[idx]!r}, tol {tol[idx]:.3g}; "
            f"max err {err.max():.3g}"
        )


def run_conv(ns: Namespace, problem: ConvProblem, algorithm: str = "auto") -> np.ndarray:
    """Run xconv.conv in ``ns``; check the result's array type and dtype; return NumPy."""
    x = ns.asarray(problem.x)
    w = ns.asarray(problem.weight)
    b = None if problem.bias is None else ns.asarray(problem.bias)
    out = xconv.conv(x, w, b, algorithm=algorithm, **problem.kwargs)
    # the inputs are left alone
    np.testing.assert_array_equal(ns.to_numpy(x), problem.x)
    np.testing.assert_array_equal(ns.to_numpy(w), problem.weight)
    assert ns.is_array(out), f"{ns.name}: result is a {type(out)}"
    assert out.dtype == ns.dtype(problem.out_dtype), (
        f"{ns.name}: result dtype {out.dtype}, expected {problem.out_dtype}"
    )
    return ns.to_numpy(out)


def check(ns: Namespace, problem: ConvProblem, algorithm: str):
    assert_matches(run_conv(ns, problem, algorithm), problem)


def assert_exact(actual, expected, algorithm: str = "auto"):
    """Bit-exact for the algorithms that only add products of small integers (direct, gemm);
    within 1e-12 of the largest value where an FFT may be involved (fft, auto)."""
    actual = np.asarray(actual)
    if algorithm in ("direct", "gemm"):
        np.testing.assert_array_equal(actual, expected)
    else:
        assert actual.shape == np.shape(expected)
        scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12 * scale)


# ---------------------------------------------------------------------------- vs oracle


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(300))
@given(problem=conv_problems(dtypes=NumpyNamespace.dtypes))
def test_numpy_matches_oracle(algorithm, problem):
    check(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(80))
@given(problem=conv_problems(dtypes=StrictNamespace.dtypes))
def test_array_api_strict_matches_oracle(strict_ns, algorithm, problem):
    check(strict_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(80))
@given(problem=conv_problems(dtypes=TorchNamespace.dtypes))
def test_torch_matches_oracle(torch_ns, algorithm, problem):
    check(torch_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_simple_2d_example(namespace, algorithm):
    """A fixed example, so that a broken namespace fails in a readable way."""
    rng = np.random.default_rng(0)
    problem = ConvProblem(
        x=rng.standard_normal((2, 4, 7, 6)),
        weight=rng.standard_normal((6, 2, 3, 2)),
        bias=rng.standard_normal(6),
        kwargs=dict(stride=(2, 1), padding="same", dilation=(1, 2), groups=2),
    )
    check(namespace, problem, algorithm)


# ---------------------------------------------------------------------------- 4-D


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "replicate", "circular"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_4d(algorithm, mode, channels_last):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 4, 3, 5, 4))
    if channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    problem = ConvProblem(
        x=x,
        weight=rng.standard_normal((6, 2, 2, 1, 2, 3)),
        bias=rng.standard_normal(6),
        kwargs=dict(
            stride=(1, 2, 1, 2),
            padding=((1, 0), (1, 2), (0, 2), (2, 1)),
            dilation=(1, 1, 2, 1),
            groups=2,
            padding_mode=mode,
            padding_value=0.5,
            channels_last=channels_last,
        ),
    )
    check(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_4d_same_stride_2_unbatched(algorithm):
    rng = np.random.default_rng(5)
    problem = ConvProblem(
        x=rng.standard_normal((3, 5, 4, 3, 6)),
        weight=rng.standard_normal((2, 3, 3, 2, 1, 2)),
        bias=None,
        kwargs=dict(stride=2, padding="same", padding_mode="replicate"),
    )
    check(NUMPY, problem, algorithm)


# ---------------------------------------------------------------------------- larger


LARGER = {
    "1d-long-kernel": ((2, 2, 700), (3, 2, 65), dict(padding="same")),
    "1d-stride-dilation": ((1, 3, 500), (3, 1, 17), dict(stride=2, dilation=3, groups=3)),
    "2d-big-kernel": ((1, 2, 48, 40), (2, 2, 13, 11), dict(padding="full")),
    "2d-reflect": ((2, 1, 40, 33), (2, 1, 9, 9), dict(padding="same", padding_mode="reflect")),
    "3d": ((1, 2, 12, 11, 10), (2, 2, 5, 4, 3), dict(padding=2, padding_mode="circular")),
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("case", list(LARGER))
def test_larger_problems(case, dtype, algorithm):
    """Sizes where 'auto' may prefer another algorithm (an FFT, say) over gemm/direct."""
    x_shape, w_shape, kw = LARGER[case]
    rng = np.random.default_rng(11)
    problem = ConvProblem(
        x=random_array(rng, x_shape, dtype, integer_valued=False),
        weight=random_array(rng, w_shape, dtype, integer_valued=False),
        bias=random_array(rng, w_shape[:1], dtype, integer_valued=False),
        kwargs=kw,
        x_dtype=dtype,
        w_dtype=dtype,
    )
    check(NUMPY, problem, algorithm)


# ---------------------------------------------------------------------------- layouts


@settings(max_examples=examples(40))
@given(problem=conv_problems(channels_last=False, dtypes=("float64", "complex128")))
def test_channels_last_is_permuted_channel_first(problem):
    kw = problem.kwargs
    c_axis = 1 if problem.x.ndim == problem.weight.ndim else 0
    out_cf = xconv.conv(problem.x, problem.weight, problem.bias, **kw)
    x_cl = np.moveaxis(problem.x, c_axis, -1)  # a non-contiguous view on purpose
    out_cl = xconv.conv(x_cl, problem.weight, problem.bias, **dict(kw, channels_last=True))
    assert out_cl.shape == np.moveaxis(out_cf, c_axis, -1).shape
    np.testing.assert_allclose(np.moveaxis(out_cl, -1, c_axis), out_cf, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_strided_views(namespace, algorithm):
    """Channels-last data given as a permuted view of channel-first storage, and a weight
    that is a strided slice of a larger array."""
    rng = np.random.default_rng(12)
    x_cf = rng.standard_normal((2, 3, 7, 6))
    w_big = rng.standard_normal((4, 3, 6, 3))
    x = namespace.asarray(x_cf)
    w = namespace.asarray(w_big)
    if namespace.name == "torch":
        x_view, w_view = x.permute(0, 2, 3, 1), w[:, :, ::2, :]
    elif namespace.name == "numpy":
        x_view, w_view = np.moveaxis(x, 1, -1), w[:, :, ::2, :]
    else:
        xp = namespace.xp
        x_view, w_view = xp.permute_dims(x, (0, 2, 3, 1)), w[:, :, ::2, :]
    kw = dict(padding="same", stride=(2, 1), padding_mode="symmetric")
    out = xconv.conv(x_view, w_view, channels_last=True, algorithm=algorithm, **kw)
    expected = reference_conv(x_cf, w_big[:, :, ::2, :], **kw)
    np.testing.assert_allclose(
        np.moveaxis(namespace.to_numpy(out), -1, 1), expected, rtol=1e-12, atol=1e-12
    )


@settings(max_examples=examples(40))
@given(problem=conv_problems(batched=False, dtypes=("float64", "complex128")))
def test_unbatched_equals_batched_first(problem):
    out_u = xconv.conv(problem.x, problem.weight, problem.bias, **problem.kwargs)
    out_b = xconv.conv(problem.x[None], problem.weight, problem.bias, **problem.kwargs)
    assert out_u.ndim == problem.x.ndim
    assert out_b.shape == (1, *out_u.shape)
    np.testing.assert_allclose(out_b[0], out_u, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_small_integers_exact(algorithm):
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, size=(2, 6, 9, 8)).astype(np.float64)
    w = rng.integers(-3, 4, size=(4, 3, 3, 3)).astype(np.float64)
    kw = dict(stride=(1, 2), padding="full", dilation=(2, 1), groups=2)
    out = xconv.conv(x, w, algorithm=algorithm, **kw)
    assert_exact(out, reference_conv(x, w, **kw), algorithm)


# ---------------------------------------------------------------------------- dtypes

PROMOTIONS = [
    ("float32", "float32"),
    ("float64", "float64"),
    ("float32", "float64"),
    ("float64", "float32"),
    ("float32", "complex64"),
    ("complex64", "float32"),
    ("complex64", "float64"),
    ("float64", "complex64"),
    ("complex128", "float32"),
    ("complex64", "complex128"),
    ("float16", "float16"),
    ("float16", "float32"),
    ("float16", "complex64"),
]


@pytest.mark.parametrize(("x_dtype", "w_dtype"), PROMOTIONS)
def test_dtype_promotion(namespace, x_dtype, w_dtype):
    if x_dtype not in namespace.dtypes or w_dtype not in namespace.dtypes:
        pytest.skip(f"{namespace.name} has no float16")
    rng = np.random.default_rng(1)
    out_dtype = result_dtype(x_dtype, w_dtype)
    problem = ConvProblem(
        x=rng.uniform(-1, 1, (2, 3, 6)).astype(x_dtype),
        weight=rng.uniform(-1, 1, (2, 3, 3)).astype(w_dtype),
        # a float64 bias is cast to the result dtype (never promotes float32 to float64)
        bias=rng.uniform(-1, 1, 2).astype("complex128" if "complex" in out_dtype else "float64"),
        kwargs=dict(padding=1),
        x_dtype=x_dtype,
        w_dtype=w_dtype,
    )
    for algorithm in ALGORITHMS:
        assert_matches(run_conv(namespace, problem, algorithm), problem, out_dtype)


def test_float32_stays_float32_numpy():
    x = np.ones((1, 2, 5), dtype=np.float32)
    w = np.ones((3, 2, 2), dtype=np.float32)
    b = np.ones(3, dtype=np.float64)
    for algorithm in ALGORITHMS:
        assert xconv.conv(x, w, b, algorithm=algorithm).dtype == np.float32


@pytest.mark.parametrize("int_dtype", ["int8", "int32", "int64", "uint8"])
@pytest.mark.parametrize("w_dtype", ["float32", "float64", "complex64", "int64"])
def test_integer_input_promotion(namespace, int_dtype, w_dtype):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, size=(2, 2, 6)).astype(int_dtype)
    w_np = rng.integers(-2, 3, size=(3, 2, 2))
    w = w_np.astype(w_dtype)
    out = xconv.conv(namespace.asarray(x), namespace.asarray(w), padding=((1, 0),))
    if w_dtype.startswith("int"):
        expected_dtype = namespace.default_float()
    else:
        expected_dtype = namespace.dtype(w_dtype)
    assert namespace.is_array(out)
    assert out.dtype == expected_dtype
    expected = reference_conv(x, w_np, padding=((1, 0),))
    assert_exact(namespace.to_numpy(out), expected, "auto")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_integer_input_keeps_fractional_padding_value(namespace, algorithm):
    """The padding value is not truncated to the input's integer dtype."""
    x = np.arange(1, 7, dtype=np.int32).reshape(1, 2, 3)
    w = np.ones((1, 2, 2), dtype=np.float64)
    out = xconv.conv(
        namespace.asarray(x),
        namespace.asarray(w),
        padding=1,
        padding_value=0.25,
        algorithm=algorithm,
    )
    expected = reference_conv(x, w, padding=1, padding_value=0.25)
    assert_exact(namespace.to_numpy(out), expected, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_complex_padding_value(namespace, algorithm):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5))).astype(np.complex128)
    w = (rng.standard_normal((3, 2, 3)) + 1j * rng.standard_normal((3, 2, 3))).astype(np.complex128)
    out = xconv.conv(
        namespace.asarray(x),
        namespace.asarray(w),
        padding=2,
        padding_value=1.5 - 2j,
        algorithm=algorithm,
    )
    expected = reference_conv(x, w, padding=2, padding_value=1.5 - 2j)
    np.testing.assert_allclose(namespace.to_numpy(out), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("which", ["x", "weight", "bias"])
def test_bool_arrays_rejected(namespace, which):
    arrays = {
        "x": np.ones((1, 2, 5)),
        "weight": np.ones((3, 2, 2)),
        "bias": np.ones(3),
    }
    arrays[which] = arrays[which].astype(bool)
    args = [namespace.asarray(arrays[k]) for k in ("x", "weight", "bias")]
    with pytest.raises(TypeError):
        xconv.conv(*args)


# ---------------------------------------------------------------------------- workspace


def current_workspace_limit() -> int:
    prev = xconv.set_workspace_limit(1 << 20)
    xconv.set_workspace_limit(prev)
    return prev


def test_default_workspace_limit_is_256_mib():
    assert current_workspace_limit() == 256 * 2**20


def test_set_workspace_limit_returns_previous():
    prev = xconv.set_workspace_limit(12345)
    try:
        assert xconv.set_workspace_limit(54321) == 12345
    finally:
        xconv.set_workspace_limit(prev)
    assert current_workspace_limit() == prev


def test_workspace_limit_context_manager_restores():
    before = current_workspace_limit()
    with xconv.workspace_limit(4096):
        assert current_workspace_limit() == 4096
    assert current_workspace_limit() == before
    with pytest.raises(RuntimeError, match="boom"), xconv.workspace_limit(8192):
        raise RuntimeError("boom")
    assert current_workspace_limit() == before


@settings(max_examples=examples(30))
@given(problem=conv_problems(dtypes=("float64", "complex128", "float32")))
def test_gemm_correct_under_tiny_workspace(problem):
    with xconv.workspace_limit(4096):
        check(NUMPY, problem, "gemm")


@settings(max_examples=examples(40))
@given(
    problem=conv_problems(ranks=(1, 2), max_size=16, dtypes=("float64", "complex128")),
    limit=st.sampled_from([4096, 5000, 12345, 40000]),
)
def test_gemm_tiles_join_correctly(problem, limit):
    """Medium problems under limits that cut the output into many irregular tiles."""
    with xconv.workspace_limit(limit):
        check(NUMPY, problem, "gemm")


@pytest.mark.parametrize("algorithm", ["gemm", "auto"])
def test_gemm_correct_under_4kib_larger_problem(algorithm):
    rng = np.random.default_rng(3)
    problem = ConvProblem(
        x=rng.standard_normal((2, 3, 20, 17)),
        weight=rng.standard_normal((4, 3, 3, 3)),
        bias=rng.standard_normal(4),
        kwargs=dict(padding="same", stride=(1, 2), padding_mode="reflect"),
    )
    with xconv.workspace_limit(4096):
        check(NUMPY, problem, algorithm)


def test_workspace_limit_bounds_peak_memory():
    # full im2col buffer: C * kh * kw * H_out * W_out * 8 bytes = 10 * 49 * 128 * 128 * 8
    n, c, h, w, f, k = 1, 10, 128, 128, 4, 7
    full_columns = n * c * k * k * h * w * 8
    assert full_columns > 60 * 2**20
    rng = np.random.default_rng(8)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, k, k))
    xconv.conv(x[:, :, :16, :16], weight, padding="same", algorithm="gemm")  # warm up imports
    tracemalloc.start()
    try:
        with xconv.workspace_limit(2**20):
            out = xconv.conv(x, weight, padding="same", algorithm="gemm")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # input 1.25 MiB, padded input ~1.5 MiB, output 0.5 MiB, workspace 1 MiB
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB with a 1 MiB workspace"
    expected = reference_conv(x, weight, padding="same")
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------- MATLAB


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("mode", list(MATLAB_PADDING_PICTURES))
def test_matlab_padding_value_pictures(namespace, mode, algorithm):
    """groupedConvolution2dLayer's PaddingValue pictures, via a 1x1 identity kernel."""
    x = namespace.asarray(MATLAB_MAGIC[None, None])
    w = namespace.asarray(np.ones((1, 1, 1, 1)))
    out = xconv.conv(x, w, padding=2, padding_mode=mode, padding_value=0.0, algorithm=algorithm)
    assert_exact(namespace.to_numpy(out)[0, 0], MATLAB_PADDING_PICTURES[mode], algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("mode", list(MATLAB_PADDING_PICTURES))
def test_matlab_pictures_channels_last_unbatched(mode, algorithm):
    x = MATLAB_MAGIC[:, :, None]  # H x W x C, as MATLAB stores an image
    w = np.ones((1, 1, 1, 1))
    out = xconv.conv(x, w, padding=2, padding_mode=mode, channels_last=True, algorithm=algorithm)
    assert out.shape == (7, 7, 1)
    assert_exact(out[:, :, 0], MATLAB_PADDING_PICTURES[mode], algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_matlab_scalar_padding_value(algorithm):
    out = xconv.conv(
        MATLAB_MAGIC[None, None],
        np.ones((1, 1, 1, 1)),
        padding=2,
        padding_value=7.0,
        algorithm=algorithm,
    )
    picture = MATLAB_PADDING_PICTURES["constant"]
    assert_exact(out[0, 0], np.where(picture == 0, 7.0, picture), algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_padding_value_ignored_for_non_constant_modes(algorithm):
    out = xconv.conv(
        MATLAB_MAGIC[None, None],
        np.ones((1, 1, 1, 1)),
        padding=2,
        padding_mode="replicate",
        padding_value=7.0,
        algorithm=algorithm,
    )
    assert_exact(out[0, 0], MATLAB_PADDING_PICTURES["replicate"], algorithm)
