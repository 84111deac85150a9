"""Tests of the oracle itself (``tests/reference.py``), against hand-computed numbers,
``numpy.pad`` and ``numpy.correlate``.  Nothing here touches ``xconv``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import (
    MATLAB_MAGIC,
    MATLAB_PADDING_PICTURES,
    PADDING_MODES,
    conv_output_size,
    naive_conv,
    pad,
    reference_conv,
    resolve_padding,
    string_padding_pair,
    transposed_output_size,
    transposed_same_crop,
)
from strategies import conv_problems, mode_limit

NUMPY_PAD_MODE = {
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}


# ---------------------------------------------------------------- hand-computed examples


def test_1d_valid_is_correlation_not_convolution():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    w = np.array([[[1.0, 2.0, 3.0]]])
    out = reference_conv(x, w)
    # correlation: 1*1+2*2+3*3, 1*2+2*3+3*4 ; a flipped kernel would give 10, 16
    np.testing.assert_array_equal(out, [[[14.0, 20.0]]])


def test_1d_bias_stride_padding():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    w = np.array([[[1.0, 2.0, 3.0]]])
    # xpad = [0, 1, 2, 3, 4, 0]; o=0 reads 0, 1, 2 and o=1 (start 2) reads 2, 3, 4
    out = reference_conv(x, w, np.array([0.5]), stride=2, padding=1)
    np.testing.assert_array_equal(out, [[[8.5, 20.5]]])


def test_1d_dilation():
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    w = np.array([[[1.0, 10.0]]])
    np.testing.assert_array_equal(reference_conv(x, w, dilation=2), [[[31.0, 42.0, 53.0]]])


def test_padding_value_and_pairs():
    x = np.array([[1.0, 2.0]])  # unbatched (C=1, W=2)
    w = np.array([[[1.0, 1.0]]])
    # xpad = [7, 1, 2, 7, 7]
    out = reference_conv(x, w, padding=[(1, 2)], padding_value=7.0)
    np.testing.assert_array_equal(out, [[8.0, 3.0, 9.0, 14.0]])


def test_groups_by_hand():
    x = np.array([[[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]])
    w = np.array([[[2.0]], [[3.0]]])  # (F=2, C/g=1, 1)
    out = reference_conv(x, w, groups=2)
    np.testing.assert_array_equal(out, [[[2.0, 4.0, 6.0], [30.0, 60.0, 90.0]]])


def test_groups_depth_multiplier_by_hand():
    x = np.array([[[1.0, 2.0], [10.0, 20.0]]])
    w = np.array([[[1.0]], [[-1.0]], [[2.0]], [[-2.0]]])  # F=4, groups=2: two filters each
    out = reference_conv(x, w, groups=2)
    np.testing.assert_array_equal(out, [[[1.0, 2.0], [-1.0, -2.0], [20.0, 40.0], [-20.0, -40.0]]])


def test_complex_is_not_conjugated():
    x = np.array([[[1j, 2.0]]])
    w = np.array([[[1j]]])
    np.testing.assert_array_equal(reference_conv(x, w), [[[-1.0 + 0j, 2j]]])


def test_2d_by_hand_with_channels_last():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    expected = x[0, 0, :2, :2] - x[0, 0, 1:, 1:]  # all -4
    np.testing.assert_array_equal(reference_conv(x, w)[0, 0], expected)
    out_cl = reference_conv(np.moveaxis(x, 1, -1), w, channels_last=True)
    np.testing.assert_array_equal(out_cl[0, :, :, 0], expected)


def test_matlab_pictures_by_padding():
    for mode, picture in MATLAB_PADDING_PICTURES.items():
        np.testing.assert_array_equal(pad(MATLAB_MAGIC, [(2, 2), (2, 2)], mode), picture)


@pytest.mark.parametrize("mode", list(MATLAB_PADDING_PICTURES))
def test_matlab_pictures_by_identity_convolution(mode):
    out = reference_conv(
        MATLAB_MAGIC[None, None], np.ones((1, 1, 1, 1)), padding=2, padding_mode=mode
    )
    np.testing.assert_array_equal(out[0, 0], MATLAB_PADDING_PICTURES[mode])


# ---------------------------------------------------------------- string paddings


@pytest.mark.parametrize(
    ("mode", "n", "k", "s", "d", "expected"),
    [
        ("same", 5, 3, 1, 1, (1, 1)),
        ("same", 5, 3, 2, 1, (1, 1)),  # out 3, total 2*2+3-5 = 2
        ("same", 6, 3, 2, 1, (0, 1)),  # out 3, total 4+3-6 = 1, odd one at the end
        ("same_lower", 6, 3, 2, 1, (1, 0)),
        ("same", 7, 4, 3, 1, (1, 2)),  # out 3, total 6+4-7 = 3
        ("same_lower", 7, 4, 3, 1, (2, 1)),
        ("same", 10, 1, 4, 1, (0, 0)),  # out 3, 8+1-10 < 0 -> 0
        ("same", 4, 2, 1, 1, (0, 1)),
        ("same", 4, 3, 1, 2, (2, 2)),
        ("full", 4, 3, 1, 2, (4, 4)),
        ("causal", 4, 3, 1, 2, (4, 0)),
        ("causal", 4, 3, 2, 1, (2, 0)),
        ("valid", 4, 3, 2, 2, (0, 0)),
    ],
)
def test_string_padding_by_hand(mode, n, k, s, d, expected):
    assert string_padding_pair(mode, n, k, s, d) == expected


@given(
    n=st.integers(1, 40),
    k=st.integers(1, 6),
    s=st.integers(1, 5),
    d=st.integers(1, 4),
    mode=st.sampled_from(["same", "same_lower"]),
)
def test_same_gives_ceil(n, k, s, d, mode):
    pair = string_padding_pair(mode, n, k, s, d)
    assert conv_output_size(n, k, s, d, pair) == -(-n // s)


def test_wolfram_output_size_example():
    pairs = resolve_padding((1, 2), (256, 252), (2, 3))
    args = zip((256, 252), (2, 3), (3, 4), pairs, strict=True)
    sizes = [conv_output_size(n, k, 2, d, p) for n, k, d, p in args]
    assert sizes == [128, 124]


def test_transposed_formulas():
    assert transposed_output_size(5, 3, 2, 1, (1, 1), 1) == (5 - 1) * 2 - 2 + 3 + 1
    for n in range(1, 8):
        for k in range(1, 5):
            for s in range(1, 4):
                for d in range(1, 3):
                    crop = transposed_same_crop(k, s, d)
                    if (k - 1) * d + 1 >= s:
                        assert transposed_output_size(n, k, s, d, crop, 0) == n * s


def test_resolve_padding_forms():
    assert resolve_padding(1, (5, 5), (3, 3)) == ((1, 1), (1, 1))
    assert resolve_padding((1, 2), (5, 5), (3, 3)) == ((1, 1), (2, 2))
    assert resolve_padding(((1, 2), (3, 4)), (5, 5), (3, 3)) == ((1, 2), (3, 4))
    assert resolve_padding("same", (None, 6), (3, 3), stride=(2, 2)) == (None, (0, 1))
    assert resolve_padding("same", (None,), (3,), stride=1) == ((1, 1),)


# ---------------------------------------------------------------- padding vs numpy.pad


@settings(max_examples=200)
@given(
    data=st.data(),
    mode=st.sampled_from(PADDING_MODES),
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
)
def test_pad_matches_numpy_pad(data, mode, shape):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 1.5 - 3.0
    limit = [min(mode_limit(mode, n), 7) for n in shape]
    pairs = [(data.draw(st.integers(0, lim)), data.draw(st.integers(0, lim))) for lim in limit]
    value = data.draw(st.sampled_from([0.0, -1.25, 9.0]))
    ours = pad(x, pairs, mode, value)
    kwargs = {"constant_values": value} if mode == "constant" else {}
    theirs = np.pad(x, pairs, mode=NUMPY_PAD_MODE[mode], **kwargs)
    np.testing.assert_array_equal(ours, theirs)


# ---------------------------------------------------------------- vs numpy.correlate


@settings(max_examples=50)
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    complex_=st.booleans(),
    full=st.booleans(),
)
def test_single_channel_1d_matches_numpy_correlate(n, k, seed, complex_, full):
    if not full and k > n:
        k = n
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    w = rng.standard_normal(k)
    if complex_:
        x = x + 1j * rng.standard_normal(n)
        w = w + 1j * rng.standard_normal(k)
    ours = reference_conv(x[None, None], w[None, None], padding="full" if full else "valid")
    # numpy.correlate conjugates its second argument; conv does not
    theirs = np.correlate(x, np.conj(w), "full" if full else "valid")
    np.testing.assert_allclose(ours[0, 0], theirs, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- vs scalar loops


@settings(max_examples=40)
@given(problem=conv_problems(ranks=(1, 2), channels_last=False, batched=True))
def test_vectorised_oracle_matches_scalar_loops(problem):
    kw = problem.kwargs
    rank = problem.weight.ndim - 2
    spatial = problem.x.shape[2:]
    kernel = problem.weight.shape[2:]
    stride = kw["stride"] if not isinstance(kw["stride"], int) else (kw["stride"],) * rank
    dilation = kw["dilation"] if not isinstance(kw["dilation"], int) else (kw["dilation"],) * rank
    pairs = resolve_padding(kw["padding"], spatial, kernel, stride, dilation)
    fast = reference_conv(problem.x, problem.weight, problem.bias, **kw)
    slow = naive_conv(
        problem.x.astype(np.complex128),
        problem.weight.astype(np.complex128),
        None if problem.bias is None else problem.bias.astype(np.complex128),
        stride=stride,
        pads=pairs,
        dilation=dilation,
        groups=kw["groups"],
        mode=kw["padding_mode"],
        value=kw["padding_value"],
    )
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
