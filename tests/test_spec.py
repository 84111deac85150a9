"""``xconv.ConvSpec`` normalisation and output shapes, and ``xconv.output_shape``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import (
    conv_output_size,
    resolve_padding,
    string_padding_pair,
    transposed_output_size,
    transposed_same_crop,
)
from strategies import conv_problems, examples

import xconv
from xconv import ConvSpec

PADDING_STRINGS = ("valid", "same", "same_lower", "full", "causal")


# ---------------------------------------------------------------------------- normalisation


def test_defaults_are_normalised_to_tuples():
    spec = ConvSpec((3, 3))
    assert spec.rank == 2
    assert spec.kernel_size == (3, 3)
    assert spec.stride == (1, 1)
    assert spec.dilation == (1, 1)
    assert spec.output_padding == (0, 0)
    assert spec.padding == ((0, 0), (0, 0))
    assert spec.groups == 1
    assert spec.padding_mode == "constant"
    assert spec.padding_value == 0.0
    assert spec.channels_last is False
    assert spec.transposed is False


def test_ints_broadcast_over_dimensions():
    spec = ConvSpec((3, 2, 1), stride=2, dilation=3, padding=1)
    assert spec.rank == 3
    assert spec.stride == (2, 2, 2)
    assert spec.dilation == (3, 3, 3)
    assert spec.padding == ((1, 1),) * 3
    assert spec.output_padding == (0, 0, 0)
    transposed = ConvSpec((3, 2, 1), stride=2, output_padding=1, transposed=True)
    assert transposed.output_padding == (1, 1, 1)


@pytest.mark.parametrize(
    ("padding", "expected"),
    [
        (0, ((0, 0), (0, 0))),
        (2, ((2, 2), (2, 2))),
        ((1, 2), ((1, 1), (2, 2))),
        (((1, 2), (3, 4)), ((1, 2), (3, 4))),
        (((0, 1), 2), ((0, 1), (2, 2))),
        ([1, 2], ((1, 1), (2, 2))),
        ([[1, 2], [3, 4]], ((1, 2), (3, 4))),
    ],
)
def test_padding_forms(padding, expected):
    assert ConvSpec((3, 3), padding=padding).padding == expected


@pytest.mark.parametrize("name", PADDING_STRINGS)
def test_padding_strings_are_kept(name):
    assert ConvSpec((3, 3), padding=name).padding == name


def test_sequences_and_numpy_integers_become_python_ints():
    spec = ConvSpec(
        [np.int64(3), np.int32(2)],
        stride=[1, np.int64(2)],
        dilation=np.int64(2),
        padding=np.int16(1),
    )
    for attr in ("kernel_size", "stride", "dilation", "output_padding"):
        value = getattr(spec, attr)
        assert isinstance(value, tuple), attr
        assert all(type(v) is int for v in value), (attr, value)
    assert spec.kernel_size == (3, 2)
    assert spec.stride == (1, 2)
    assert spec.dilation == (2, 2)
    assert spec.padding == ((1, 1), (1, 1))
    assert all(type(v) is int for pair in spec.padding for v in pair)


def test_frozen():
    spec = ConvSpec((3,), stride=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.stride = (1,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.padding = "same"


def test_equivalent_inputs_give_equal_hashable_specs():
    a = ConvSpec((3, 3), stride=2, padding=1, dilation=1)
    b = ConvSpec((3, 3), stride=(2, 2), padding=((1, 1), (1, 1)), dilation=[1, 1])
    assert a == b
    assert hash(a) == hash(b)
    assert a != ConvSpec((3, 3), stride=2, padding=0)


def test_replace_renormalises():
    spec = dataclasses.replace(ConvSpec((3, 3)), stride=2)
    assert spec.stride == (2, 2)


# ---------------------------------------------------------------------------- resolve_padding


@pytest.mark.parametrize(
    ("padding", "spatial", "kernel", "stride", "dilation", "expected"),
    [
        ("valid", (5, 6), (3, 3), 1, 1, ((0, 0), (0, 0))),
        ("same", (5, 6), (3, 3), 2, 1, ((1, 1), (0, 1))),
        ("same_lower", (5, 6), (3, 3), 2, 1, ((1, 1), (1, 0))),
        ("same", (7, 4), (4, 2), (3, 1), 1, ((1, 2), (0, 1))),
        ("same_lower", (7, 4), (4, 2), (3, 1), 1, ((2, 1), (1, 0))),
        ("same", (10, 10), (1, 1), 4, 1, ((0, 0), (0, 0))),
        ("same", (8, 8), (3, 3), 1, (2, 3), ((2, 2), (3, 3))),
        ("full", (4, 4), (3, 2), 1, (2, 3), ((4, 4), (3, 3))),
        ("causal", (4, 4), (3, 2), 2, (2, 3), ((4, 0), (3, 0))),
        (1, (4, 4), (3, 2), 2, 1, ((1, 1), (1, 1))),
        (((0, 3), (2, 1)), (4, 4), (3, 2), 2, 1, ((0, 3), (2, 1))),
    ],
)
def test_resolve_padding(padding, spatial, kernel, stride, dilation, expected):
    spec = ConvSpec(kernel, stride=stride, padding=padding, dilation=dilation)
    assert spec.resolve_padding(spatial) == expected
    assert resolve_padding(padding, spatial, kernel, stride, dilation) == expected  # oracle


def test_resolve_padding_with_unknown_sizes():
    spec = ConvSpec((3, 3), stride=(2, 1), padding="same")
    # at stride 2 the split depends on the size; at stride 1 it does not
    assert spec.resolve_padding((None, None)) == (None, (1, 1))
    assert spec.resolve_padding((6, None)) == ((0, 1), (1, 1))
    explicit = ConvSpec((3, 3), padding=((1, 2), (0, 0)))
    assert explicit.resolve_padding((None, None)) == ((1, 2), (0, 0))
    for name in ("valid", "full", "causal"):
        spec = ConvSpec((3, 3), stride=2, padding=name)
        assert spec.resolve_padding((None, None)) == spec.resolve_padding((7, 9))


@settings(max_examples=examples(200))
@given(
    n=st.integers(1, 30),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    name=st.sampled_from(PADDING_STRINGS),
)
def test_resolve_padding_strings_match_oracle(n, k, s, d, name):
    spec = ConvSpec((k,), stride=s, dilation=d, padding=name)
    assert spec.resolve_padding((n,)) == (string_padding_pair(name, n, k, s, d),)


# ---------------------------------------------------------------------------- output shapes


def test_wolfram_example_spec():
    spec = ConvSpec((2, 3), stride=2, dilation=(3, 4), padding=(1, 2))
    assert spec.output_shape((5, 256, 252))[1:] == (128, 124)
    assert spec.output_shape((7, 5, 256, 252))[2:] == (128, 124)


def test_wolfram_example_output_shape():
    out = xconv.output_shape((3, 256, 252), (8, 3, 2, 3), stride=2, dilation=(3, 4), padding=(1, 2))
    assert out == (8, 128, 124)
    out = xconv.output_shape(
        (None, 3, 256, 252), (8, 3, 2, 3), stride=2, dilation=(3, 4), padding=(1, 2)
    )
    assert out == (None, 8, 128, 124)


def test_output_shape_layouts():
    w = (6, 2, 3, 3)
    assert xconv.output_shape((4, 2, 10, 9), w) == (4, 6, 8, 7)
    assert xconv.output_shape((2, 10, 9), w) == (6, 8, 7)
    assert xconv.output_shape((4, 10, 9, 2), w, channels_last=True) == (4, 8, 7, 6)
    assert xconv.output_shape((10, 9, 2), w, channels_last=True) == (8, 7, 6)
    # grouped: C = 4 = 2 groups * 2
    assert xconv.output_shape((1, 4, 10, 9), w, padding="same") == (1, 6, 10, 9)


def test_output_shape_none_propagation():
    w = (6, 2, 3, 3)
    assert xconv.output_shape((None, 2, None, 9), w, padding=1) == (None, 6, None, 9)
    assert xconv.output_shape((2, None, 9), w, padding="same", stride=2) == (6, None, 5)
    assert xconv.output_shape((2, None, 9), w, padding="same") == (6, None, 9)
    assert xconv.output_shape((None, 9, 2), w, channels_last=True) == (None, 7, 6)


@pytest.mark.parametrize(
    ("padding", "stride", "dilation", "expected"),
    [
        ("valid", 1, 1, (8, 5)),
        ("same", 1, 1, (10, 7)),
        ("same", 2, 1, (5, 4)),
        ("same", 3, 2, (4, 3)),
        ("same_lower", 2, 1, (5, 4)),
        ("same_lower", 3, 2, (4, 3)),
        ("full", 1, 1, (12, 9)),
        ("full", 1, 2, (14, 11)),
        ("full", 2, 1, (6, 5)),
        ("causal", 1, 1, (10, 7)),
        ("causal", 1, 3, (10, 7)),
        ("causal", 2, 1, (5, 4)),
    ],
)
def test_string_padding_shapes(padding, stride, dilation, expected):
    shape = xconv.output_shape(
        (1, 1, 10, 7), (1, 1, 3, 3), stride=stride, dilation=dilation, padding=padding
    )
    assert shape == (1, 1, *expected)


@settings(max_examples=examples(200))
@given(
    sizes=st.lists(st.one_of(st.none(), st.integers(1, 20)), min_size=1, max_size=3),
    data=st.data(),
)
def test_output_shape_matches_oracle_formula(sizes, data):
    rank = len(sizes)
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    padding = data.draw(
        st.one_of(
            st.sampled_from(PADDING_STRINGS),
            st.integers(0, 4),
            st.tuples(*[st.tuples(st.integers(0, 4), st.integers(0, 4)) for _ in range(rank)]),
        )
    )
    pairs = resolve_padding(padding, sizes, k, s, d)
    expected = tuple(conv_output_size(sizes[i], k[i], s[i], d[i], pairs[i]) for i in range(rank))
    if any(e is not None and e < 1 for e in expected):
        return  # kernel larger than the padded input: an error case (test_errors.py)
    out = xconv.output_shape((2, 3, *sizes), (5, 3, *k), stride=s, dilation=d, padding=padding)
    assert out == (2, 5, *expected)
    spec = ConvSpec(k, stride=s, dilation=d, padding=padding, out_channels=5)
    assert spec.output_shape((2, 3, *sizes)) == (2, 5, *expected)


@settings(max_examples=examples(60))
@given(problem=conv_problems(dtypes=("float64",)))
def test_output_shape_agrees_with_conv(problem):
    kw = problem.kwargs
    shape_kw = {k: kw[k] for k in ("stride", "padding", "dilation", "channels_last")}
    expected = xconv.output_shape(problem.x.shape, problem.weight.shape, **shape_kw)
    out = xconv.conv(problem.x, problem.weight, problem.bias, **kw)
    assert tuple(out.shape) == tuple(expected)


def test_spec_output_channels():
    spec = ConvSpec((3,), out_channels=4, in_channels=2)
    assert spec.output_shape((5, 2, 10)) == (5, 4, 8)
    assert spec.output_shape((2, 10)) == (4, 8)
    spec_cl = ConvSpec((3,), out_channels=4, channels_last=True)
    assert spec_cl.output_shape((5, 10, 2)) == (5, 8, 4)
    # unknown number of output channels
    assert ConvSpec((3,)).output_shape((5, 2, 10)) == (5, None, 8)


# ---------------------------------------------------------------------------- transposed


@settings(max_examples=examples(200))
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    crop=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    data=st.data(),
)
def test_transposed_output_shape_formula(n, k, s, d, crop, data):
    output_padding = data.draw(st.integers(0, max(s, d) - 1))
    expected = transposed_output_size(n, k, s, d, crop, output_padding)
    if expected < 1:
        return
    spec = ConvSpec(
        (k,),
        stride=s,
        dilation=d,
        padding=(crop,),
        output_padding=output_padding,
        transposed=True,
        out_channels=3,
    )
    assert spec.output_shape((2, 4, n)) == (2, 3, expected)
    assert spec.output_shape((4, n)) == (3, expected)
    assert spec.output_shape((None, 4, None)) == (None, 3, None)


def test_transposed_output_shape_by_hand():
    # (5 - 1) * 2 - 1 - 1 + (3 - 1) * 1 + 1 + 1 = 10
    spec = ConvSpec((3,), stride=2, padding=1, output_padding=1, transposed=True)
    assert spec.output_shape((1, 1, 5))[2:] == (10,)
    spec = ConvSpec((4, 3), stride=(2, 3), transposed=True)  # no cropping: full output
    assert spec.output_shape((1, 1, 5, 4))[2:] == ((5 - 1) * 2 + 4, (4 - 1) * 3 + 3)


@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("d", [1, 2])
def test_transposed_same_gives_in_times_stride(k, s, d):
    if (k - 1) * d + 1 < s:
        pytest.skip("kernel shorter than the stride: covered by the next test")
    spec = ConvSpec((k, k), stride=s, dilation=d, padding="same", transposed=True)
    for n in (1, 4, 7):
        assert spec.output_shape((2, 3, n, n + 1))[2:] == (n * s, (n + 1) * s)
        assert transposed_output_size(n, k, s, d, transposed_same_crop(k, s, d), 0) == n * s


@pytest.mark.parametrize(("k", "s"), [(1, 2), (2, 3), (1, 4)])
def test_transposed_same_kernel_shorter_than_stride(k, s):
    """Keras' Conv*DTranspose 'same' gives in * s here too."""
    spec = ConvSpec((k,), stride=s, padding="same", transposed=True)
    assert spec.output_shape((1, 1, 5))[2:] == (5 * s,)
