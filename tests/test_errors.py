"""Invalid arguments raise ValueError or TypeError naming the parameter; never IndexError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from reference import PADDING_MODES, reference_conv
from strategies import examples

import xconv
from xconv import ConvSpec


def arr(*shape, dtype=np.float64):
    return np.ones(shape, dtype=dtype)


# (id, args, kwargs, words: at least one must appear in the message, case-insensitive)
CONV_CASES = [
    # channels / groups
    ("channel-mismatch", (arr(1, 4, 5), arr(2, 3, 3)), {}, ("channels", "groups")),
    (
        "channel-mismatch-grouped",
        (arr(1, 4, 5), arr(2, 1, 3)),
        {"groups": 2},
        ("channels", "groups"),
    ),
    (
        "channel-mismatch-cl",
        (arr(1, 5, 4), arr(2, 3, 3)),
        {"channels_last": True},
        ("channels", "groups"),
    ),
    ("groups-not-dividing-C", (arr(1, 4, 5), arr(3, 1, 3)), {"groups": 3}, ("groups",)),
    ("groups-not-dividing-F", (arr(1, 4, 5), arr(3, 2, 3)), {"groups": 2}, ("groups",)),
    ("groups-zero", (arr(1, 4, 5), arr(2, 4, 3)), {"groups": 0}, ("groups",)),
    ("groups-negative", (arr(1, 4, 5), arr(2, 4, 3)), {"groups": -2}, ("groups",)),
    # kernel larger than the padded input
    ("kernel-too-large", (arr(1, 1, 3), arr(1, 1, 5)), {}, ("kernel",)),
    ("kernel-too-large-2d", (arr(1, 1, 5, 2), arr(1, 1, 3, 3)), {}, ("kernel",)),
    ("dilated-kernel-too-large", (arr(1, 1, 5), arr(1, 1, 3)), {"dilation": 3}, ("kernel",)),
    (
        "dilated-kernel-too-large-padded",
        (arr(1, 1, 5), arr(1, 1, 3)),
        {"dilation": 4, "padding": ((1, 1),)},
        ("kernel",),
    ),
    ("kernel-too-large-unbatched", (arr(1, 3), arr(1, 1, 5)), {}, ("kernel",)),
    # stride / dilation
    ("stride-zero", (arr(1, 1, 5), arr(1, 1, 3)), {"stride": 0}, ("stride",)),
    ("stride-negative", (arr(1, 1, 5), arr(1, 1, 3)), {"stride": -1}, ("stride",)),
    ("stride-per-dim-zero", (arr(1, 1, 5, 5), arr(1, 1, 3, 3)), {"stride": (1, 0)}, ("stride",)),
    ("stride-wrong-length", (arr(1, 1, 5, 5), arr(1, 1, 3, 3)), {"stride": (1, 1, 1)}, ("stride",)),
    ("stride-float", (arr(1, 1, 5), arr(1, 1, 3)), {"stride": 1.5}, ("stride",)),
    ("dilation-zero", (arr(1, 1, 5), arr(1, 1, 3)), {"dilation": 0}, ("dilation",)),
    ("dilation-negative", (arr(1, 1, 5, 5), arr(1, 1, 3, 3)), {"dilation": (1, -1)}, ("dilation",)),
    ("dilation-wrong-length", (arr(1, 1, 5), arr(1, 1, 3)), {"dilation": (1, 1)}, ("dilation",)),
    # padding
    ("padding-negative", (arr(1, 1, 5), arr(1, 1, 3)), {"padding": -1}, ("padding",)),
    (
        "padding-negative-per-dim",
        (arr(1, 1, 5, 5), arr(1, 1, 3, 3)),
        {"padding": (1, -1)},
        ("padding",),
    ),
    (
        "padding-negative-pair",
        (arr(1, 1, 5, 5), arr(1, 1, 3, 3)),
        {"padding": ((0, 1), (-1, 0))},
        ("padding",),
    ),
    ("padding-unknown-string", (arr(1, 1, 5), arr(1, 1, 3)), {"padding": "sam"}, ("padding",)),
    (
        "padding-wrong-length",
        (arr(1, 1, 5, 5), arr(1, 1, 3, 3)),
        {"padding": (1, 1, 1)},
        ("padding",),
    ),
    ("padding-bad-pair", (arr(1, 1, 5), arr(1, 1, 3)), {"padding": ((1, 2, 3),)}, ("padding",)),
    (
        "padding_mode-unknown",
        (arr(1, 1, 5), arr(1, 1, 3)),
        {"padding_mode": "mirror"},
        ("padding_mode",),
    ),
    # padding too wide for the mode
    (
        "reflect-too-wide",
        (arr(1, 1, 3), arr(1, 1, 1)),
        {"padding": 3, "padding_mode": "reflect"},
        ("padding",),
    ),
    (
        "reflect-too-wide-one-side",
        (arr(1, 1, 4, 4), arr(1, 1, 1, 1)),
        {"padding": ((0, 0), (0, 4)), "padding_mode": "reflect"},
        ("padding",),
    ),
    (
        "reflect-size-1",
        (arr(1, 1, 1), arr(1, 1, 1)),
        {"padding": 1, "padding_mode": "reflect"},
        ("padding",),
    ),
    (
        "reflect-same-too-wide",
        (arr(1, 1, 2), arr(1, 1, 5)),
        {"padding": "same", "padding_mode": "reflect"},
        ("padding",),
    ),
    (
        "symmetric-too-wide",
        (arr(1, 1, 3), arr(1, 1, 1)),
        {"padding": 4, "padding_mode": "symmetric"},
        ("padding",),
    ),
    (
        "circular-too-wide",
        (arr(1, 1, 3), arr(1, 1, 1)),
        {"padding": ((0, 4),), "padding_mode": "circular"},
        ("padding",),
    ),
    # ranks
    ("weight-rank-2", (arr(1, 3, 5), arr(2, 3)), {}, ("weight",)),
    ("weight-rank-1", (arr(1, 3, 5), arr(3)), {}, ("weight",)),
    ("x-rank-too-big", (arr(1, 1, 5, 5), arr(1, 1, 3)), {}, ("x", "input")),
    ("x-rank-too-small", (arr(5), arr(1, 1, 3)), {}, ("x", "input")),
    ("x-rank-too-small-2d", (arr(1, 5), arr(1, 1, 3, 3)), {}, ("x", "input")),
    # bias
    ("bias-wrong-length", (arr(1, 3, 5), arr(2, 3, 3), arr(3)), {}, ("bias",)),
    ("bias-2d", (arr(1, 3, 5), arr(2, 3, 3), arr(2, 1)), {}, ("bias",)),
    ("bias-scalar", (arr(1, 3, 5), arr(2, 3, 3), arr()), {}, ("bias",)),
    # algorithm
    (
        "algorithm-unknown",
        (arr(1, 1, 5), arr(1, 1, 3)),
        {"algorithm": "winograd-ish"},
        ("algorithm",),
    ),
]


def _check_message(exc: BaseException, words) -> None:
    message = str(exc).lower()
    assert any(w.lower() in message for w in words), f"{words} not in message {str(exc)!r}"


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [pytest.param(a, k, w, id=i) for i, a, k, w in CONV_CASES],
)
def test_conv_errors(args, kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        xconv.conv(*args, **kwargs)
    _check_message(info.value, words)


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [pytest.param(a, k, w, id=i) for i, a, k, w in CONV_CASES],
)
def test_conv_errors_all_algorithms(args, kwargs, words):
    """The same errors whichever algorithm is asked for (validation happens up front)."""
    if "algorithm" in kwargs:
        pytest.skip("the algorithm itself is the error")
    for algorithm in ("direct", "gemm", "fft"):
        with pytest.raises((ValueError, TypeError)) as info:
            xconv.conv(*args, algorithm=algorithm, **kwargs)
        _check_message(info.value, words)


@pytest.mark.parametrize("which", ["x", "weight", "bias"])
def test_bool_is_type_error(which):
    arrays = {"x": arr(1, 2, 5), "weight": arr(3, 2, 2), "bias": arr(3)}
    arrays[which] = arrays[which].astype(bool)
    with pytest.raises(TypeError) as info:
        xconv.conv(arrays["x"], arrays["weight"], arrays["bias"])
    _check_message(info.value, (which, "bool"))


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "circular", "replicate", "constant"])
def test_padding_limits_are_exact(mode):
    """The widest allowed pad works; one more raises (except unlimited modes)."""
    limit = {"reflect": 2, "symmetric": 3, "circular": 3}.get(mode)
    x, w = arr(1, 1, 3), arr(1, 1, 1)
    widest = limit if limit is not None else 5
    out = xconv.conv(x, w, padding=widest, padding_mode=mode)
    assert out.shape == (1, 1, 3 + 2 * widest)
    if limit is not None:
        with pytest.raises(ValueError) as info:
            xconv.conv(x, w, padding=((0, limit + 1),), padding_mode=mode)
        _check_message(info.value, ("padding",))


# ---------------------------------------------------------------------------- output_shape

SHAPE_CASES = [
    ("weight-rank", ((1, 3, 5), (2, 3)), {}, ("weight",)),
    ("channel-mismatch", ((1, 4, 5), (2, 3, 3)), {}, ("channels", "groups")),
    ("kernel-too-large", ((1, 1, 3), (1, 1, 5)), {}, ("kernel",)),
    ("stride-zero", ((1, 1, 5), (1, 1, 3)), {"stride": 0}, ("stride",)),
    ("dilation-zero", ((1, 1, 5), (1, 1, 3)), {"dilation": 0}, ("dilation",)),
    ("padding-negative", ((1, 1, 5), (1, 1, 3)), {"padding": -2}, ("padding",)),
    ("padding-string", ((1, 1, 5), (1, 1, 3)), {"padding": "half"}, ("padding",)),
    ("x-rank", ((1, 1, 1, 5), (1, 1, 3)), {}, ("x", "input")),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [pytest.param(a, k, w, id=i) for i, a, k, w in SHAPE_CASES],
)
def test_output_shape_errors(args, kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        xconv.output_shape(*args, **kwargs)
    _check_message(info.value, words)


# ---------------------------------------------------------------------------- ConvSpec

SPEC_CASES = [
    ("kernel-zero", ((0, 3),), {}, ("kernel",)),
    ("kernel-negative", ((3, -1),), {}, ("kernel",)),
    ("stride-zero", ((3,),), {"stride": 0}, ("stride",)),
    ("stride-wrong-length", ((3, 3),), {"stride": (1, 2, 3)}, ("stride",)),
    ("dilation-zero", ((3,),), {"dilation": 0}, ("dilation",)),
    ("padding-negative", ((3,),), {"padding": -1}, ("padding",)),
    ("padding-unknown", ((3,),), {"padding": "bogus"}, ("padding",)),
    ("padding-wrong-length", ((3, 3),), {"padding": (1, 2, 3)}, ("padding",)),
    ("padding_mode-unknown", ((3,),), {"padding_mode": "bogus"}, ("padding_mode",)),
    ("groups-zero", ((3,),), {"groups": 0}, ("groups",)),
    ("groups-vs-in-channels", ((3,),), {"groups": 3, "in_channels": 4}, ("groups",)),
    ("groups-vs-out-channels", ((3,),), {"groups": 2, "out_channels": 3}, ("groups",)),
    (
        "output_padding-negative",
        ((3,),),
        {"output_padding": -1, "transposed": True},
        ("output_padding",),
    ),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [pytest.param(a, k, w, id=i) for i, a, k, w in SPEC_CASES],
)
def test_convspec_errors(args, kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        ConvSpec(*args, **kwargs)
    _check_message(info.value, words)


def test_workspace_limit_rejects_non_positive():
    with pytest.raises((ValueError, TypeError)) as info:
        xconv.set_workspace_limit(-1)
    _check_message(info.value, ("limit", "workspace", "nbytes"))


# ---------------------------------------------------------------------------- fuzz

_ANY_PADDING = st.one_of(
    st.integers(-1, 3),
    st.sampled_from(["valid", "same", "same_lower", "full", "causal", "bogus"]),
    st.lists(st.integers(-1, 3), min_size=1, max_size=3).map(tuple),
    st.lists(st.tuples(st.integers(-1, 3), st.integers(-1, 3)), min_size=1, max_size=3).map(tuple),
)


@settings(max_examples=examples(300))
@given(
    x_shape=st.lists(st.integers(0, 4), min_size=1, max_size=5).map(tuple),
    w_shape=st.lists(st.integers(0, 3), min_size=1, max_size=5).map(tuple),
    stride=st.one_of(st.integers(-1, 3), st.lists(st.integers(0, 3), max_size=3).map(tuple)),
    dilation=st.one_of(st.integers(-1, 3), st.lists(st.integers(0, 3), max_size=3).map(tuple)),
    padding=_ANY_PADDING,
    groups=st.integers(-1, 4),
    mode=st.sampled_from([*PADDING_MODES, "bogus"]),
    channels_last=st.booleans(),
    with_bias=st.sampled_from([None, 0, 1, 2, 3]),
)
def test_fuzz_only_value_or_type_errors(
    x_shape, w_shape, stride, dilation, padding, groups, mode, channels_last, with_bias
):
    """Arbitrary (mostly invalid) arguments: a correct result or ValueError/TypeError."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, x_shape)
    w = rng.uniform(-1, 1, w_shape)
    bias = None if with_bias is None else rng.uniform(-1, 1, with_bias)
    kw = dict(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=mode,
        padding_value=0.5,
        channels_last=channels_last,
    )
    try:
        out = xconv.conv(x, w, bias, **kw)
    except (ValueError, TypeError) as e:
        event(f"rejected: {type(e).__name__}")
        return
    event("accepted")
    # accepted: it must have been a valid problem, and the result must be right
    expected = reference_conv(x, w, bias, **kw)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=examples(300))
@given(
    data=st.data(),
    rank=st.integers(1, 2),
    n=st.integers(0, 2),
    groups=st.integers(1, 3),
    cpg=st.integers(0, 2),
    fpg=st.integers(0, 2),
    mode=st.sampled_from(PADDING_MODES),
    padding=_ANY_PADDING,
    batched=st.booleans(),
)
def test_fuzz_edge_sizes(data, rank, n, groups, cpg, fpg, mode, padding, batched):
    """Consistent shapes with empty and tiny sizes: a correct result or ValueError/TypeError."""
    sizes = tuple(data.draw(st.integers(0, 4)) for _ in range(rank))
    kernel = tuple(data.draw(st.integers(0, 4)) for _ in range(rank))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(rank))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (n, groups * cpg, *sizes))
    if not batched and n:
        x = x[0]
    w = rng.uniform(-1, 1, (groups * fpg, cpg, *kernel))
    kw = dict(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=mode,
        padding_value=0.5,
    )
    try:
        out = xconv.conv(x, w, **kw)
    except (ValueError, TypeError) as e:
        event(f"rejected: {type(e).__name__}")
        return
    event("accepted")
    expected = reference_conv(x, w, **kw)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_unknown_dask_sizes_name_the_fix():
    da = pytest.importorskip("dask.array")
    from xconv import ndimage, signal

    d = da.from_array(np.arange(400.0).reshape(20, 20), chunks=5)
    unknown = d[d[:, 0] > 100]
    with pytest.raises(ValueError, match=r"x has unknown sizes .* x.compute_chunk_sizes\(\)"):
        xconv.conv(unknown[None, None], np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"input has unknown sizes"):
        ndimage.correlate(unknown, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"in1 has unknown sizes"):
        signal.fftconvolve(unknown, np.ones((3, 3)))
