"""`xconv.compat.matlab` layers against the float64 oracle, PyTorch and the reference pages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import MATLAB_MAGIC, MATLAB_PADDING_PICTURES, reference_conv
from strategies import examples

from xconv.compat import matlab
from xconv.compat.matlab import MatlabError

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.uniform(-1, 1, size=shape)


def to_sscb(x_nchw):
    """Canonical (N, C, *S) -> MATLAB (*S, C, N)."""
    return np.moveaxis(np.moveaxis(x_nchw, 0, -1), 0, -2)


def from_sscb(x):
    return np.moveaxis(np.moveaxis(x, -1, 0), -1, 1)


# -- the grouped page: PaddingValue pictures, display, examples ------------------------------


@pytest.mark.parametrize(
    ("padding_value", "mode"),
    [
        (0, "constant"),
        ("symmetric-include-edge", "symmetric"),
        ("symmetric-exclude-edge", "reflect"),
        ("replicate", "replicate"),
    ],
)
def test_padding_value_pictures(padding_value, mode):
    layer = matlab.convolution2dLayer(
        1, 1, Padding=2, PaddingValue=padding_value, Weights=np.ones((1, 1)), Bias=0
    )
    out = layer(MATLAB_MAGIC)  # H x W, one channel, no batch
    assert out.shape == (7, 7, 1)
    np.testing.assert_array_equal(out[:, :, 0], MATLAB_PADDING_PICTURES[mode])


def test_padding_value_scalar_other_than_zero():
    layer = matlab.groupedConvolution2dLayer(
        1, 1, 1, Padding=[1, 0, 0, 2], PaddingValue=-4, Weights=np.ones((1, 1)), Bias=0
    )
    out = layer(MATLAB_MAGIC)[:, :, 0]
    expected = np.pad(MATLAB_MAGIC, ((1, 0), (0, 2)), constant_values=-4)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_padding_value_not_finite_names_padding_value(value):
    with pytest.raises(ValueError, match=r"PaddingValue .* is not finite"):
        matlab.convolution2dLayer(3, 8, PaddingValue=value)


def test_grouped_layer_display_example():
    layer = matlab.groupedConvolution2dLayer(11, 10, 3, Name="gconv1")
    assert layer.Name == "gconv1"
    assert layer.FilterSize == (11, 11)
    assert layer.NumGroups == 3 and layer.NumChannelsPerGroup == "auto"
    assert layer.NumFiltersPerGroup == 10
    assert layer.Stride == (1, 1) and layer.DilationFactor == (1, 1)
    assert layer.PaddingMode == "manual" and layer.PaddingSize == (0, 0, 0, 0)
    assert layer.PaddingValue == 0
    assert layer.Weights is None and layer.Bias is None
    assert layer.NumInputs == 1 and layer.InputNames == ("in",)
    assert layer.NumOutputs == 1 and layer.OutputNames == ("out",)
    assert layer.WeightLearnRateFactor == 1 and layer.BiasL2Factor == 0
    assert "NumFiltersPerGroup: 10" in repr(layer)


def test_channelwise_example_and_training_time_groups():
    layer = matlab.groupedConvolution2dLayer(11, 10, "channelwise", Name="cwconv1")
    assert layer.NumGroups == "channelwise" and layer.NumChannelsPerGroup == "auto"
    with pytest.raises(MatlabError, match="channelwise"):
        _ = layer.spec
    out = layer(rand(12, 12, 3, 2))
    assert out.shape == (2, 2, 30, 2)
    assert layer.Weights.shape == (11, 11, 1, 10, 3) and layer.Bias.shape == (1, 1, 10, 3)
    assert layer.spec.groups == 3 and layer.NumChannelsPerGroup == 1


def test_channelwise_separable_block_against_torch():
    x = rand(2, 3, 15, 16)
    depthwise = matlab.groupedConvolution2dLayer(3, 1, "channelwise", Stride=2, Padding="same")
    pointwise = matlab.convolution2dLayer(1, 16, Padding="same")
    y = pointwise(depthwise(to_sscb(x)))
    assert y.shape == (8, 8, 16, 2)
    w1, b1 = depthwise.canonical_weights()
    w2, b2 = pointwise.canonical_weights()
    # 'same' at stride 2: ceil(15/2) = 8 needs 2 rows (1 + 1), ceil(16/2) = 8 needs 1 column
    # (at the right)
    t = F.pad(torch.from_numpy(x).float(), (0, 1, 1, 1))
    t = F.conv2d(
        t, torch.from_numpy(np.asarray(w1)), torch.from_numpy(np.asarray(b1)), stride=2, groups=3
    )
    t = F.conv2d(t, torch.from_numpy(np.asarray(w2)), torch.from_numpy(np.asarray(b2)))
    np.testing.assert_allclose(from_sscb(y), t.numpy(), rtol=1e-5, atol=1e-5)


def test_grouped_same_example_shapes():
    layer = matlab.groupedConvolution2dLayer(5, 128, 2, Padding="same")
    out = layer(rand(9, 7, 4))
    assert out.shape == (9, 7, 256)
    assert layer.Weights.shape == (5, 5, 2, 128, 2) and layer.PaddingSize == (2, 2, 2, 2)


def test_transposed_page_example_against_torch():
    layer = matlab.transposedConv2dLayer(11, 96, Stride=4)
    x = rand(6, 5, 3, 2)
    out = layer(x)
    assert out.shape == ((6 - 1) * 4 + 11, (5 - 1) * 4 + 11, 96, 2)
    assert layer.Weights.shape == (11, 11, 96, 3) and layer.Bias.shape == (1, 1, 96)
    expected = F.conv_transpose2d(
        torch.from_numpy(from_sscb(x)).float(),
        torch.from_numpy(np.transpose(layer.Weights, (3, 2, 0, 1))),
        torch.from_numpy(layer.Bias.reshape(-1)),
        stride=4,
    ).numpy()
    np.testing.assert_allclose(from_sscb(out), expected, rtol=1e-5, atol=1e-5)
    assert layer.CroppingMode == "manual" and layer.CroppingSize == (0, 0, 0, 0)


# -- weight layouts, against PyTorch ---------------------------------------------------------


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_convolution_weight_layout(rank):
    kernel = (3, 2, 2)[:rank]
    w = rand(*kernel, 4, 5)  # k x C x F
    b = rand(*(1,) * max(rank, 1), 5) if rank > 1 else rand(1, 5)
    make = {
        1: matlab.convolution1dLayer,
        2: matlab.convolution2dLayer,
        3: matlab.convolution3dLayer,
    }[rank]
    layer = make(list(kernel), 5, Weights=w, Bias=b, Stride=2)
    x = rand(2, 4, *(7,) * rank)
    out = layer(to_sscb(x))
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
    torch_w = np.transpose(w, (rank + 1, rank, *range(rank)))
    expected = conv(
        torch.from_numpy(x), torch.from_numpy(torch_w), torch.from_numpy(b.ravel()), stride=2
    ).numpy()
    assert out.dtype == np.float64  # double data and double weights stay double
    np.testing.assert_allclose(from_sscb(out), expected, rtol=1e-12, atol=1e-12)


def test_grouped_weight_and_bias_layout():
    w = rand(3, 2, 2, 4, 3)  # h x w x C/g x F/g x g
    b = rand(1, 1, 4, 3)
    layer = matlab.groupedConvolution2dLayer([3, 2], 4, 3, Weights=w, Bias=b)
    x = rand(2, 6, 7, 8)
    torch_w = np.transpose(w, (4, 3, 2, 0, 1)).reshape(12, 2, 3, 2)
    torch_b = np.transpose(b[0, 0]).reshape(12)  # group-major: g * F/g + f
    expected = F.conv2d(
        torch.from_numpy(x), torch.from_numpy(torch_w), torch.from_numpy(torch_b), groups=3
    ).numpy()
    np.testing.assert_allclose(from_sscb(layer(to_sscb(x))), expected, rtol=1e-12)
    assert layer.NumChannelsPerGroup == 2 and layer.NumFilters == 12


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_transposed_weight_layout_and_cropping(rank):
    kernel = (4, 3, 2)[:rank]
    w = rand(*kernel, 5, 3)  # k x F x C
    b = rand(5)
    make = {
        1: matlab.transposedConv1dLayer,
        2: matlab.transposedConv2dLayer,
        3: matlab.transposedConv3dLayer,
    }[rank]
    cropping = {1: [1, 2], 2: [0, 1, 2, 1], 3: [[1, 0, 1], [0, 1, 0]]}[rank]
    pairs = {1: [(1, 2)], 2: [(0, 1), (2, 1)], 3: [(1, 0), (0, 1), (1, 0)]}[rank]
    layer = make(list(kernel), 5, Weights=w, Bias=b, Stride=2, Cropping=cropping)
    x = rand(2, 3, *(4,) * rank)
    out = from_sscb(layer(to_sscb(x)))
    conv_t = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[rank]
    full = conv_t(
        torch.from_numpy(x),
        torch.from_numpy(np.transpose(w, (rank + 1, rank, *range(rank)))),
        torch.from_numpy(b),
        stride=2,
    ).numpy()
    crop = tuple(slice(a, n - c) for (a, c), n in zip(pairs, full.shape[2:], strict=True))
    np.testing.assert_allclose(out, full[(slice(None), slice(None), *crop)], rtol=1e-12)


def test_transposed_same_cropping():
    layer = matlab.transposedConv2dLayer([5, 4], 2, Stride=[2, 3], Cropping="same", NumChannels=3)
    assert layer.CroppingMode == "same"
    assert layer.CroppingSize == (1, 2, 0, 1)  # 5 - 2 = 3 -> 1 + 2; 4 - 3 = 1 -> 0 + 1
    x = rand(1, 3, 4, 5)
    out = from_sscb(layer(to_sscb(x)))
    assert out.shape == (1, 2, 8, 15)  # input size .* Stride
    w, b = layer.canonical_weights()
    full = F.conv_transpose2d(
        torch.from_numpy(x).float(), torch.from_numpy(w), torch.from_numpy(b), stride=(2, 3)
    ).numpy()
    np.testing.assert_allclose(out, full[:, :, 1:-2, 0:-1], rtol=1e-5, atol=1e-6)


# -- padding forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("padding", "pairs", "size"),
    [
        (1, ((1, 1), (1, 1)), (1, 1, 1, 1)),
        ([1, 2], ((1, 1), (2, 2)), (1, 1, 2, 2)),
        ([0, 1, 2, 3], ((0, 1), (2, 3)), (0, 1, 2, 3)),
    ],
)
def test_padding_forms_2d(padding, pairs, size):
    w = rand(3, 2, 2, 3)
    layer = matlab.convolution2dLayer([3, 2], 3, Padding=padding, Weights=w, Bias=np.zeros(3))
    assert layer.PaddingSize == size and layer.PaddingMode == "manual"
    x = rand(1, 2, 6, 5)
    expected = reference_conv(x, np.transpose(w, (3, 2, 0, 1)), None, padding=pairs)
    np.testing.assert_allclose(from_sscb(layer(to_sscb(x))), expected, rtol=1e-12)


def test_same_padding_puts_the_odd_row_at_the_bottom():
    w = rand(4, 4, 1, 1)
    layer = matlab.convolution2dLayer(4, 1, Padding="same", Stride=[3, 1], Weights=w, Bias=0)
    x = rand(10, 7)
    out = layer(x)[:, :, 0]
    assert out.shape == (4, 7)  # ceil(10 / 3), 7
    assert layer.PaddingSize == (1, 2, 1, 2)  # odd padding at the bottom and the right
    expected = reference_conv(
        x[None], w[:, :, 0, 0][None, None], None, stride=(3, 1), padding=((1, 2), (1, 2))
    )[0]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_same_padding_size_before_any_input():
    layer = matlab.convolution2dLayer(3, 4, Padding="same", Stride=2)
    assert layer.PaddingSize == (0, 0, 0, 0)  # as MATLAB displays it before training
    layer(rand(8, 8, 1))
    assert layer.PaddingSize == (0, 1, 0, 1)
    assert matlab.convolution2dLayer(5, 4, Padding="same").PaddingSize == (2, 2, 2, 2)


def test_padding_forms_1d_and_3d():
    one = matlab.convolution1dLayer(3, 2, Padding=[2, 1], NumChannels=1)
    assert one.PaddingSize == (2, 1) and one(rand(6, 1)).shape == (7, 2)
    causal = matlab.convolution1dLayer(
        3, 1, Padding="causal", DilationFactor=2, Weights=rand(3, 1, 1), Bias=0
    )
    x = rand(9)
    out = causal(x)
    expected = reference_conv(
        x[None], causal.canonical_weights()[0], None, dilation=2, padding=((4, 0),)
    )
    np.testing.assert_allclose(out[:, 0], expected[0], rtol=1e-12)
    three = matlab.convolution3dLayer(2, 1, Padding=[1, 0, 2], NumChannels=1)
    assert three.PaddingSize == ((1, 0, 2), (1, 0, 2))
    matrix = matlab.convolution3dLayer(2, 1, Padding=[[1, 0, 2], [0, 3, 0]], NumChannels=1)
    assert matrix(rand(4, 4, 4)).shape == (4, 6, 5, 1)


def test_data_formats_and_missing_trailing_dimensions():
    layer = matlab.convolution1dLayer(3, 2, NumChannels=4)
    x = rand(4, 5, 10)  # C x B x T
    out = layer(x, DataFormat="CBT")
    assert out.shape == (2, 5, 8)
    np.testing.assert_allclose(
        out, np.transpose(layer(np.transpose(x, (2, 0, 1))), (1, 2, 0)), rtol=1e-6
    )
    image = matlab.convolution2dLayer(3, 1, Weights=np.ones((3, 3)), Bias=0)  # 3x3x1x1 as 3x3
    assert image.NumChannels == 1
    assert image(np.ones((5, 5))).shape == (3, 3, 1)
    np.testing.assert_allclose(image(np.ones((5, 5))), 9.0)


def test_single_wins_over_double():
    layer = matlab.convolution2dLayer(2, 3, NumChannels=1)  # single-precision weights
    assert layer.Weights.dtype == np.float32
    assert layer(rand(4, 4)).dtype == np.float32
    assert layer(np.arange(16, dtype=np.uint8).reshape(4, 4)).dtype == np.float32


# -- initializers ------------------------------------------------------------------------------


def test_glorot_uses_the_per_group_counts():
    matlab.rng(1)
    layer = matlab.groupedConvolution2dLayer(3, 40, 2, NumChannelsPerGroup=24)
    w = layer.Weights
    assert w.shape == (3, 3, 24, 40, 2)
    num_in, num_out = 9 * 24, 9 * 40
    limit = math.sqrt(6 / (num_in + num_out))
    assert np.abs(w).max() <= limit
    assert abs(w.var() / (2 / (num_in + num_out)) - 1) < 0.03
    assert scipy.stats.kstest(w.ravel(), scipy.stats.uniform(-limit, 2 * limit).cdf).pvalue > 1e-3
    np.testing.assert_array_equal(layer.Bias, 0)


def test_he_narrow_normal_zeros_ones_and_function_handles():
    matlab.rng(2)
    he = matlab.convolution2dLayer(3, 64, NumChannels=32, WeightsInitializer="he").Weights
    assert abs(he.var() / (2 / (9 * 32)) - 1) < 0.03
    assert scipy.stats.kstest(he.ravel(), scipy.stats.norm(0, math.sqrt(2 / 288)).cdf).pvalue > 1e-3
    narrow = matlab.convolution2dLayer(
        3, 64, NumChannels=32, WeightsInitializer="narrow-normal", BiasInitializer="narrow-normal"
    )
    assert abs(narrow.Weights.std() / 0.01 - 1) < 0.02 and narrow.Bias.shape == (1, 1, 64)
    ones = matlab.transposedConv2dLayer(
        2, 3, NumChannels=2, WeightsInitializer="ones", BiasInitializer="ones"
    )
    np.testing.assert_array_equal(ones.Weights, 1)
    np.testing.assert_array_equal(ones.Bias, 1)
    seen = []

    def custom(sz):
        seen.append(sz)
        return np.full(sz, 0.5, dtype=np.float32)

    layer = matlab.groupedConvolution2dLayer(
        3, 4, 2, NumChannelsPerGroup=3, WeightsInitializer=custom, BiasInitializer=custom
    )
    assert seen == [(3, 3, 3, 4, 2), (1, 1, 4, 2)]
    assert layer.Weights.shape == (3, 3, 3, 4, 2)


def test_transposed_glorot_counts_from_the_page():
    matlab.rng(3)
    layer = matlab.transposedConv2dLayer(3, 48, NumChannels=16)
    num_in, num_out = 9 * 16, 9 * 48
    assert abs(layer.Weights.var() / (2 / (num_in + num_out)) - 1) < 0.05


def test_rng_makes_initialization_reproducible():
    matlab.rng(11)
    first = matlab.convolution2dLayer(3, 4, NumChannels=2).Weights
    matlab.rng(11)
    np.testing.assert_array_equal(matlab.convolution2dLayer(3, 4, NumChannels=2).Weights, first)
    matlab.rng("default")


def test_weights_are_only_initialized_when_empty():
    w = rand(3, 3, 2, 4)
    layer = matlab.convolution2dLayer(3, 4, Weights=w)
    assert layer.NumChannels == 2 and layer.Weights is w
    assert layer.Bias.shape == (1, 1, 4)


# -- errors that speak MATLAB ----------------------------------------------------------------------


def test_errors():
    with pytest.raises(MatlabError, match="PaddingValue 'mirror' is not one of"):
        matlab.convolution2dLayer(3, 4, PaddingValue="mirror")
    with pytest.raises(MatlabError, match="'Foo' is not a recognized parameter"):
        matlab.convolution2dLayer(3, 4, Foo=1)
    with pytest.raises(MatlabError, match="'DilationFactor' is not a recognized"):
        matlab.transposedConv2dLayer(3, 4, DilationFactor=2)
    with pytest.raises(MatlabError, match=r"number of groups \(3\) must evenly divide .* \(4\)"):
        matlab.groupedConvolution2dLayer(3, 2, 3)(rand(5, 5, 4))
    with pytest.raises(MatlabError, match=r"channels of the input \(3\) does not match .* \(2\)"):
        matlab.convolution2dLayer(3, 4, NumChannels=2)(rand(5, 5, 3))
    with pytest.raises(MatlabError, match="Weights must be a 3-by-3-by-2-by-4 array"):
        matlab.convolution2dLayer(3, 4, NumChannels=2, Weights=rand(3, 3, 2, 5))
    with pytest.raises(MatlabError, match="Invalid value for 'Stride'"):
        matlab.convolution2dLayer(3, 4, Stride=[1, 2, 3])
    with pytest.raises(MatlabError, match="'symmetric-exclude-edge'"):
        matlab.convolution2dLayer(3, 1, Padding=3, PaddingValue="symmetric-exclude-edge")(
            rand(3, 3)
        )
    assert matlab.convolution2dLayer(3, 4, padding="SAME").PaddingMode == "same"


# -- every option against the float64 oracle -------------------------------------------------------


@st.composite
def matlab_layers(draw):
    kind = draw(st.sampled_from(["conv1d", "conv2d", "conv3d", "grouped"]))
    rank = {"conv1d": 1, "conv2d": 2, "conv3d": 3, "grouped": 2}[kind]
    groups = draw(st.integers(1, 3)) if kind == "grouped" else 1
    cpg, fpg = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3 if rank < 3 else 2)) for _ in range(rank)]
    stride = [draw(st.integers(1, 2)) for _ in range(rank)]
    dilation = [draw(st.integers(1, 2)) for _ in range(rank)]
    value = draw(
        st.sampled_from([0, 1.5, "symmetric-include-edge", "symmetric-exclude-edge", "replicate"])
    )
    pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(rank)]
    same = draw(st.booleans())
    sizes = [
        draw(st.integers(max((k - 1) * d + 1, 3), 6)) for k, d in zip(kernel, dilation, strict=True)
    ]
    return kind, rank, groups, cpg, fpg, kernel, stride, dilation, value, pads, same, sizes


@settings(max_examples=examples(40))
@given(matlab_layers())
def test_every_option_against_the_float64_oracle(case):
    kind, rank, groups, cpg, fpg, kernel, stride, dilation, value, pads, same, sizes = case
    if same:
        padding, resolved = "same", "same"
    else:
        if rank == 3:
            padding = [[p[0] for p in pads], [p[1] for p in pads]]
        else:
            padding = [p for pair in pads for p in pair]
        resolved = pads
    options = dict(Stride=stride, DilationFactor=dilation, Padding=padding, PaddingValue=value)
    w_canonical = rand(groups * fpg, cpg, *kernel)
    b = rand(groups * fpg)
    if kind == "grouped":
        w = np.transpose(w_canonical.reshape(groups, fpg, cpg, *kernel), (3, 4, 2, 1, 0))
        layer = matlab.groupedConvolution2dLayer(
            kernel, fpg, groups, Weights=w, Bias=b.reshape(groups, fpg).T[None, None], **options
        )
    else:
        w = np.transpose(w_canonical, (*range(2, rank + 2), 1, 0))
        make = getattr(matlab, f"convolution{rank}dLayer")
        layer = make(kernel, fpg, Weights=w, Bias=b, **options)
    x = rand(2, groups * cpg, *sizes)
    mode, pad_value = {
        "symmetric-include-edge": ("symmetric", 0.0),
        "symmetric-exclude-edge": ("reflect", 0.0),
        "replicate": ("replicate", 0.0),
    }.get(value, ("constant", value))
    try:
        expected = reference_conv(
            x,
            w_canonical,
            b,
            stride=stride,
            dilation=dilation,
            padding=resolved,
            groups=groups,
            padding_mode=mode,
            padding_value=pad_value,
        )
    except (ValueError, AssertionError):
        with pytest.raises(MatlabError):
            layer(to_sscb(x))
        return
    np.testing.assert_allclose(from_sscb(layer(to_sscb(x))), expected, rtol=1e-10, atol=1e-12)


def test_torch_and_strict_arrays_stay_in_their_namespace():
    import array_api_strict as xps

    layer = matlab.convolution2dLayer(3, 2, Padding="same", PaddingValue="replicate", NumChannels=3)
    x = rand(5, 6, 3, 2).astype(np.float32)
    expected = layer(x)
    out = layer(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor)
    # float32 sums run in another order on each namespace: an absolute floor near zero
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    strict = layer(xps.asarray(x))
    assert type(strict).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(strict), expected, rtol=1e-5, atol=1e-6)
