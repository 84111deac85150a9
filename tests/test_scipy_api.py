"""`xconv.signal` and `xconv.ndimage` against SciPy itself, the functions they mirror.

Random shapes (1-D to 3-D, kernels larger than the input too), every mode, axes, dtypes
(integers, float32, float64, complex), methods and origins; results must have SciPy's
shape and dtype and agree to rounding (integers exactly on the direct method).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples

from xconv import ndimage, signal

DTYPES = ("int32", "int64", "float32", "float64", "complex64", "complex128")
TOL = {"float32": 2e-5, "complex64": 2e-5, "float64": 1e-11, "complex128": 1e-11}


def random(rng, shape, dtype: str):
    if dtype.startswith("int"):
        return rng.integers(-9, 10, shape).astype(dtype)
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def assert_like(got, expected, exact: bool = False, inputs=()):
    """SciPy's shape and dtype, and its values to the rounding of the least precise input
    (SciPy's FFT of float32 data rounds to float32 even where the result is float64)."""
    got = np.asarray(got)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    if exact or expected.dtype.kind in "iu":
        np.testing.assert_array_equal(got, expected)
        return
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    single = any(np.dtype(a.dtype) in (np.float32, np.complex64) for a in inputs)
    tol = (2e-5 if single else TOL[str(expected.dtype)]) * scale
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol)


@st.composite
def pairs(draw, min_size: int = 1):
    ndim = draw(st.integers(1, 3))
    top = (12, 8, 5)[ndim - 1]
    s1 = draw(st.lists(st.integers(min_size, top), min_size=ndim, max_size=ndim))
    s2 = draw(st.lists(st.integers(min_size, top), min_size=ndim, max_size=ndim))
    dtypes = draw(st.tuples(st.sampled_from(DTYPES), st.sampled_from(DTYPES)))
    return tuple(s1), tuple(s2), dtypes, draw(st.integers(0, 2**16))


# ---------------------------------------------------------------------------- signal


@pytest.mark.parametrize("function", ["convolve", "correlate"])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
@settings(max_examples=examples(60))
@given(case=pairs(), mode=st.sampled_from(["full", "same", "valid"]))
def test_signal_matches_scipy(function, method, case, mode):
    s1, s2, (d1, d2), seed = case
    rng = np.random.default_rng(seed)
    a, b = random(rng, s1, d1), random(rng, s2, d2)
    ours, theirs = getattr(signal, function), getattr(scipy.signal, function)
    try:
        expected = theirs(a, b, mode=mode, method=method)
    except ValueError:
        with pytest.raises(ValueError):
            ours(a, b, mode=mode, method=method)
        return
    assert_like(ours(a, b, mode=mode, method=method), expected, inputs=(a, b))


@pytest.mark.parametrize("function", ["fftconvolve", "oaconvolve"])
@settings(max_examples=examples(60))
@given(case=pairs(), mode=st.sampled_from(["full", "same", "valid"]), data=st.data())
def test_fft_functions_match_scipy_over_axes(function, case, mode, data):
    s1, s2, (d1, d2), seed = case
    d1, d2 = (d if not d.startswith("int") else "float64" for d in (d1, d2))
    ndim = len(s1)
    axes = data.draw(
        st.none() | st.lists(st.integers(-ndim, ndim - 1), min_size=1, unique_by=lambda a: a % ndim)
    )
    s2 = list(s2)
    if axes is not None:  # the other axes broadcast: equal sizes or 1
        for i in set(range(ndim)) - {a % ndim for a in axes}:
            s2[i] = data.draw(st.sampled_from([1, s1[i]]))
    rng = np.random.default_rng(seed)
    a, b = random(rng, s1, d1), random(rng, tuple(s2), d2)
    try:
        expected = getattr(scipy.signal, function)(a, b, mode=mode, axes=axes)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(signal, function)(a, b, mode=mode, axes=axes)
        return
    assert_like(getattr(signal, function)(a, b, mode=mode, axes=axes), expected, inputs=(a, b))


@pytest.mark.parametrize("function", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@settings(max_examples=examples(30))
@given(
    s1=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    s2=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    mode=st.sampled_from(["full", "same", "valid"]),
    dtype=st.sampled_from(["int64", "float64", "complex128"]),
    seed=st.integers(0, 2**16),
)
def test_2d_functions_match_scipy(function, boundary, s1, s2, mode, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = random(rng, s1, dtype), random(rng, s2, dtype)
    args = dict(mode=mode, boundary=boundary, fillvalue=2)
    try:
        expected = getattr(scipy.signal, function)(a, b, **args)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(signal, function)(a, b, **args)
        return
    assert_like(getattr(signal, function)(a, b, **args), expected)


def test_choose_conv_method_follows_the_planner():
    assert signal.choose_conv_method(np.ones(10**5), np.ones(999)) == "fft"
    assert signal.choose_conv_method(np.ones(100), np.ones(3)) == "direct"
    big = np.full(10**5, 2**40, dtype=np.int64)  # an FFT could not give these sums exactly
    assert signal.choose_conv_method(big, big[:999]) == "direct"
    method, times = signal.choose_conv_method(np.ones(500), np.ones(50), measure=True)
    assert method in ("fft", "direct") and set(times) == {"fft", "direct"}


def test_integers_are_exact_where_float_sums_would_round():
    rng = np.random.default_rng(1)
    a, b = rng.integers(-(2**20), 2**20, 3000), rng.integers(-(2**20), 2**20, 200)
    assert_like(
        signal.convolve(a, b, method="direct"),
        scipy.signal.convolve(a, b, method="direct"),
        exact=True,
    )


def test_signal_errors_name_the_parameter():
    with pytest.raises(ValueError, match="mode"):
        signal.convolve(np.ones(3), np.ones(2), mode="middle")
    with pytest.raises(ValueError, match="method"):
        signal.convolve(np.ones(3), np.ones(2), method="winograd")
    with pytest.raises(ValueError, match="dimensionality"):
        signal.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least as large"):
        signal.convolve(np.ones((3, 1)), np.ones((1, 3)), mode="valid")
    with pytest.raises(ValueError, match="boundary"):
        signal.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="reflect")


def test_scipy_documented_examples():
    """The examples of SciPy's own pages, run through xconv."""
    rng = np.random.default_rng(0)
    sig = np.repeat([0.0, 1.0, 0.0], 100)
    win = scipy.signal.windows.hann(50)
    assert_like(
        signal.convolve(sig, win, mode="same") / win.sum(),
        scipy.signal.convolve(sig, win, mode="same") / win.sum(),
    )
    face = rng.standard_normal((64, 48))
    kernel = np.outer(scipy.signal.windows.gaussian(70, 8), scipy.signal.windows.gaussian(70, 8))
    assert_like(
        signal.fftconvolve(face, kernel, mode="same"),
        scipy.signal.fftconvolve(face, kernel, mode="same"),
    )
    scharr = np.array(
        [[-3 - 3j, 0 - 10j, +3 - 3j], [-10 + 0j, 0 + 0j, +10 + 0j], [-3 + 3j, 0 + 10j, +3 + 3j]]
    )
    args = dict(boundary="symm", mode="same")
    assert_like(
        signal.convolve2d(face, scharr, **args), scipy.signal.convolve2d(face, scharr, **args)
    )


# ---------------------------------------------------------------------------- ndimage

NDIMAGE_MODES = (
    "reflect",
    "mirror",
    "nearest",
    "wrap",
    "constant",
    "grid-mirror",
    "grid-wrap",
    "grid-constant",
)


@pytest.mark.parametrize("function", ["convolve", "correlate"])
@settings(max_examples=examples(80))
@given(case=pairs(), mode=st.sampled_from(NDIMAGE_MODES), data=st.data())
def test_ndimage_matches_scipy(function, case, mode, data):
    s1, s2, (d1, d2), seed = case
    if d1.startswith("complex") != d2.startswith("complex"):
        d2 = d1  # ndimage wants both complex or both real
    origin = [data.draw(st.integers(-(n // 2), (n - 1) // 2)) for n in s2]
    rng = np.random.default_rng(seed)
    a, w = random(rng, s1, d1), random(rng, s2, d2)
    args = dict(mode=mode, cval=1.5, origin=origin)
    expected = getattr(scipy.ndimage, function)(a, w, **args)
    assert_like(getattr(ndimage, function)(a, w, **args), expected, inputs=(a, w))


@pytest.mark.parametrize("function", ["convolve1d", "correlate1d"])
@settings(max_examples=examples(60))
@given(
    shape=st.lists(st.integers(1, 10), min_size=1, max_size=3),
    taps=st.integers(1, 12),
    mode=st.sampled_from(NDIMAGE_MODES),
    dtype=st.sampled_from(["int32", "float32", "float64"]),
    data=st.data(),
)
def test_ndimage_1d_matches_scipy(function, shape, taps, mode, dtype, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    origin = data.draw(st.integers(-(taps // 2), (taps - 1) // 2))
    rng = np.random.default_rng(taps)
    a, w = random(rng, tuple(shape), dtype), random(rng, (taps,), "float64")
    args = dict(axis=axis, mode=mode, cval=-2.0, origin=origin)
    expected = getattr(scipy.ndimage, function)(a, w, **args)
    assert_like(getattr(ndimage, function)(a, w, **args), expected, inputs=(a, w))


def test_ndimage_output_argument():
    rng = np.random.default_rng(2)
    a, w = rng.standard_normal((9, 7)), rng.standard_normal((3, 3))
    out = np.empty((9, 7), np.float32)
    assert ndimage.correlate(a, w, output=out) is out
    np.testing.assert_allclose(out, scipy.ndimage.correlate(a, w), rtol=1e-6, atol=1e-6)
    assert_like(
        ndimage.correlate(a, w, output=np.float32), scipy.ndimage.correlate(a, w, output=np.float32)
    )


def test_ndimage_axes():
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal((6, 5, 4)), rng.standard_normal((2, 3))
    for axes, origin in [((2, 0), 0), ((2, 0), (1, 0)), ((0, -1), (0, -1))]:
        args = dict(axes=axes, mode="wrap", origin=origin)
        assert_like(ndimage.correlate(a, w, **args), scipy.ndimage.correlate(a, w, **args))


def test_ndimage_errors():
    with pytest.raises(ValueError, match="mode"):
        ndimage.correlate(np.ones((3, 3)), np.ones((2, 2)), mode="edge")
    with pytest.raises(ValueError, match="origin"):
        ndimage.correlate(np.ones((3, 3)), np.ones((2, 2)), origin=2)
    with pytest.raises(ValueError, match=r"weights.ndim \(1\) must match len\(axes\) \(2\)"):
        ndimage.correlate(np.ones((3, 3)), np.ones(2))


# ---------------------------------------------------------------------------- other libraries


@pytest.mark.parametrize("library", ["torch", "array_api_strict", "dask"])
def test_caller_array_type_comes_back(library):
    from namespaces import get_namespace

    ns = get_namespace(library)
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((20, 16)), rng.standard_normal((5, 3))
    for ours, theirs in [
        (
            lambda x, y: signal.fftconvolve(x, y, mode="same"),
            lambda x, y: scipy.signal.fftconvolve(x, y, mode="same"),
        ),
        (lambda x, y: signal.correlate(x, y), lambda x, y: scipy.signal.correlate(x, y)),
        (
            lambda x, y: ndimage.convolve(x, y, mode="mirror"),
            lambda x, y: scipy.ndimage.convolve(x, y, mode="mirror"),
        ),
    ]:
        got = ours(ns.asarray(a), ns.asarray(b))
        assert ns.is_array(got), type(got)
        assert_like(ns.to_numpy(got), theirs(a, b))


def test_the_readme_example_runs(capsys):
    from readme import run_block

    _, printed, expected = run_block("For SciPy users", capsys)
    assert printed == expected == "True True True"


# ---------------------------------------------------------------------------- fidelity


@pytest.mark.parametrize("dtype", ["int64", "uint64", "int32", "uint32"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_integer_sums_are_exact_past_float64(dtype, mode):
    """SciPy's direct sums are C integer sums (wrapping modulo 2**64); float64 rounds past
    2**53, so xconv joins exact limb sums there."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(5)
    a = rng.integers(info.min, info.max, 300, dtype=dtype, endpoint=True)
    b = rng.integers(info.min, info.max, 17, dtype=dtype, endpoint=True)
    for function in ("convolve", "correlate"):
        expected = getattr(scipy.signal, function)(a, b, mode=mode, method="direct")
        got = getattr(signal, function)(a, b, mode=mode, method="direct")
        assert_like(got, expected, exact=True)
    big = rng.integers(-(2**62), 2**62, (12, 9))
    for boundary in ("fill", "wrap", "symm"):
        args = dict(boundary=boundary, fillvalue=2**61 + 5)
        expected = scipy.signal.convolve2d(big, big[:4, :3], **args)
        assert_like(signal.convolve2d(big, big[:4, :3], **args), expected, exact=True)


def test_auto_never_spreads_a_nan_and_fft_warns_as_scipy():
    x = np.ones((60, 60))
    x[7, 9] = np.nan
    y = signal.convolve(x, np.ones((41, 41)), mode="same")  # xconv's NaN-safe auto
    direct = scipy.signal.convolve(x, np.ones((41, 41)), mode="same", method="direct")
    np.testing.assert_array_equal(np.isnan(y), np.isnan(direct))  # only windows over it
    assert np.isnan(y).sum() == 28 * 30
    with pytest.warns(RuntimeWarning, match="Use of fft convolution"):
        signal.convolve(x, np.ones((41, 41)), mode="same", method="fft")
    assert signal.choose_conv_method(np.r_[np.inf, np.ones(10**5)], np.ones(999)) == "direct"


@pytest.mark.parametrize("library", ["torch", "dask", "jax"])
def test_numpy_weights_beside_other_libraries_data(library):
    if library == "jax":
        jnp = pytest.importorskip("jax.numpy")
        make, back, kind = jnp.asarray, np.asarray, type(jnp.asarray(0.0))
    else:
        from namespaces import get_namespace

        ns = get_namespace(library)
        make, back, kind = ns.asarray, ns.to_numpy, type(ns.asarray(np.zeros(1)))
    rng = np.random.default_rng(6)
    a, w = rng.standard_normal((12, 10)), rng.standard_normal((3, 4))
    x = make(a)  # float32 in JAX without x64
    got = ndimage.correlate(x, w, mode="mirror")
    assert isinstance(got, kind), type(got)
    single = np.asarray(back(x)).dtype == np.float32
    expected = scipy.ndimage.correlate(np.asarray(back(x)), w, mode="mirror")
    assert_like(back(got), expected.astype(np.float32) if single else expected, inputs=(back(x),))
    expected = scipy.signal.fftconvolve(np.asarray(back(x)), w)
    got = back(signal.fftconvolve(x, w))
    assert_like(got, expected.astype(got.dtype), inputs=(back(x),))


def test_two_other_libraries_are_a_type_error_naming_both():
    torch = pytest.importorskip("torch")
    import dask.array as da

    with pytest.raises(TypeError, match=r"in1 \(torch\).*in2 \(dask"):
        signal.convolve(torch.ones(5), da.ones(3))


def test_integer_auto_under_jit_is_direct_and_exact():
    """Under `jax.jit` the values are not at hand: integers go direct, in exact limbs
    (int32 here: JAX without x64 has no int64), wrapping as SciPy's C sums do."""
    jax = pytest.importorskip("jax")
    a = (np.arange(-50, 50, dtype=np.int32) * 2**24).astype(np.int32)
    run = jax.jit(lambda p, q: signal.convolve(p, q))
    got = np.asarray(run(jax.numpy.asarray(a), jax.numpy.asarray(a[:9])))
    assert_like(got, scipy.signal.convolve(a, a[:9], method="direct"), exact=True)


def test_ndimage_complex_output_promotes_with_ndimages_warning():
    a, w = np.arange(12.0).reshape(3, 4), np.ones((2, 2)) * (1 + 1j)
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        got = ndimage.correlate(a, w, output=np.float32)
    assert_like(got, scipy.ndimage.correlate(a, w, output=np.complex64))
    with pytest.raises(ValueError, match="complex-valued cval"):  # ndimage's complex path
        ndimage.correlate(a, w, cval=1j)
    with pytest.raises(TypeError, match="not complex"):  # ndimage's real path
        ndimage.correlate(a, w.real, cval=1j)


def test_ndimage_leaves_zero_weights_out_as_ndimage_does():
    """ndimage sums over the non-zero weights only: a NaN or infinity under a zero weight
    stays out of the output (0 * NaN would be NaN)."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        a = rng.standard_normal((6, 7))
        a.flat[rng.integers(0, 42, 3)] = rng.choice([np.nan, np.inf, -np.inf], 3)
        w = rng.integers(-2, 3, (3, 3)).astype(float)
        for mode, cval in [("reflect", 0.0), ("constant", np.nan), ("wrap", 0.0)]:
            for function in ("correlate", "convolve"):
                expected = getattr(scipy.ndimage, function)(a, w, mode=mode, cval=cval)
                got = getattr(ndimage, function)(a, w, mode=mode, cval=cval)
                np.testing.assert_allclose(got, expected, atol=1e-12, equal_nan=True)


def test_fillvalue_is_cast_to_the_result_as_scipy_casts_it():
    zeros, ones = np.zeros((1, 1), np.int64), np.ones((2, 2), np.int64)
    for fill in (1.5, -1.7, True, np.array([2])):
        expected = scipy.signal.convolve2d(zeros, ones, fillvalue=fill)
        assert_like(signal.convolve2d(zeros, ones, fillvalue=fill), expected, exact=True)
    for fill in (np.nan, 1j, 2**70):
        with pytest.raises(ValueError, match="could not cast `fillvalue`"):
            signal.convolve2d(zeros, ones, fillvalue=fill)
    # other boundaries never read it
    assert_like(
        signal.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="wrap", fillvalue=1j),
        scipy.signal.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="wrap"),
    )


def test_odd_dtypes_and_shapes_as_scipy():
    rng = np.random.default_rng(8)
    half, small = rng.standard_normal(5).astype(np.float16), rng.integers(0, 9, 5, np.uint8)
    for function in ("fftconvolve", "oaconvolve"):  # each operand's own FFT type
        expected = getattr(scipy.signal, function)(small, half)  # float16 FFT'd in float32
        got = getattr(signal, function)(small, half)
        assert got.dtype == expected.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-6)
    flags, big = rng.random(6) > 0.5, rng.integers(0, 2**40, 6, dtype=np.uint64)
    assert_like(signal.convolve(flags, big), scipy.signal.convolve(flags, big), exact=True)
    empty = np.ones((0, 3))  # a valid correlation with an empty kernel: zeros, as SciPy
    for function in ("convolve", "correlate"):
        expected = getattr(scipy.signal, function)(np.ones((3, 4)), empty, "valid", "direct")
        assert_like(getattr(signal, function)(np.ones((3, 4)), empty, "valid"), expected)
