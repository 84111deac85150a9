"""`xconv.compat.wolfram.ConvolutionLayer` against the float64 oracle and the page's examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_conv, string_padding_pair
from strategies import examples

from xconv.compat import wolfram
from xconv.compat.wolfram import (
    Automatic,
    ConvolutionLayer,
    Information,
    NetExtract,
    NetInitialize,
    Options,
)

RNG = np.random.default_rng(20240601)


def rand(*shape):
    return RNG.uniform(-1, 1, size=shape)


# -- the reference page's examples ----------------------------------------------------------


def test_output_size_example_256_by_252():
    layer = ConvolutionLayer(
        8, [2, 3], Stride=2, Dilation=[3, 4], PaddingSize=[1, 2], Input=[3, 256, 252]
    )
    assert layer.output_shape() == (8, 128, 124)
    assert Information(layer, "OutputPorts") == {"Output": (8, 128, 124)}
    w = rand(8, 3, 2, 3)
    layer = ConvolutionLayer(8, [2, 3], Weights=w, Stride=2, Dilation=[3, 4], PaddingSize=[1, 2])
    x = rand(3, 40, 36)  # the same arithmetic on a size the loop oracle runs quickly
    out = layer(x, WorkingPrecision="Real64")
    expected = reference_conv(x, w, np.zeros(8), stride=2, dilation=(3, 4), padding=(1, 2))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # the page's formula: floor((d + p_b + p_a - dilation * (k - 1) - 1) / s) + 1
    assert [
        math.floor((d + 2 * p - dil * (k - 1) - 1) / 2) + 1
        for d, p, dil, k in ((256, 1, 3, 2), (252, 2, 4, 3))
    ] == [128, 124]


def test_basic_one_dimensional_layer():
    layer = ConvolutionLayer(2, 4)
    assert not layer.initialized
    layer = ConvolutionLayer(2, [4], Weights=rand(2, 1, 4), Biases=[0.5, -0.5])
    x = rand(1, 10)
    out = layer(x)
    assert out.shape == (2, 7) and out.dtype == np.float32
    expected = reference_conv(x, layer.Weights, layer.Biases)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_averaging_pairs_stride_and_padding():
    average = {"Weights": [[[0.5, 0.5]]], "Biases": None}
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])
    np.testing.assert_allclose(
        ConvolutionLayer(1, [2], **average)(x), [[1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]]
    )
    # stride 2: non-overlapping pairs; stride 4: every other pair
    np.testing.assert_allclose(
        ConvolutionLayer(1, [2], Stride=2, **average)(x), [[1.5, 3.5, 5.5, 7.5]]
    )
    np.testing.assert_allclose(ConvolutionLayer(1, [2], Stride=4, **average)(x), [[1.5, 5.5]])
    # four zeros on each side
    padded = ConvolutionLayer(1, [2], PaddingSize=4, **average)(x)
    np.testing.assert_allclose(
        padded, [[0, 0, 0, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 4.0, 0, 0, 0]]
    )


def test_identity_kernel_adds_the_bias():
    one_channel = ConvolutionLayer(1, [1], Weights=[[[1.0]]], Biases=[3.0])
    np.testing.assert_allclose(one_channel(np.array([[1.0, 2.0, 3.0]])), [[4.0, 5.0, 6.0]])
    rgb = ConvolutionLayer(3, [1, 1], Weights=np.eye(3).reshape(3, 3, 1, 1), Biases=[1, 2, 3])
    image = rand(3, 5, 4)
    np.testing.assert_allclose(rgb(image), image + np.array([1, 2, 3])[:, None, None], rtol=1e-6)


def test_gaussian_blur_three_channels_to_one():
    g = np.exp(-((np.arange(5) - 2.0) ** 2) / 2)
    kernel = np.outer(g, g) / np.outer(g, g).sum()
    layer = ConvolutionLayer(1, [5, 5], Weights=np.stack([kernel / 3] * 3)[None], Biases=None)
    image = rand(3, 12, 10)
    expected = scipy.signal.correlate(image.mean(axis=0), kernel, mode="valid")
    np.testing.assert_allclose(layer(image)[0], expected, rtol=1e-5, atol=1e-6)


def test_three_dimensional_layer_kernel_2():
    layer = ConvolutionLayer(2, [2, 2, 2], Weights=rand(2, 3, 2, 2, 2), Biases=rand(2))
    x = rand(3, 4, 5, 3)
    np.testing.assert_allclose(
        layer(x), reference_conv(x, layer.Weights, layer.Biases), rtol=1e-5, atol=1e-5
    )


def test_channel_groups_weight_counts():
    grouped = ConvolutionLayer(12, [3, 3], ChannelGroups=3, Input=[6, 16, 16])
    plain = ConvolutionLayer(12, [3, 3], Input=[6, 16, 16])
    assert Information(grouped, "ArraysDimensions")[("Weights",)] == (12, 2, 3, 3)
    assert Information(plain, "ArraysDimensions")[("Weights",)] == (12, 6, 3, 3)
    count = Information(grouped, "ArraysElementCounts")[("Weights",)]
    assert count * 3 == Information(plain, "ArraysElementCounts")[("Weights",)] == 648
    assert Information(grouped, "ArraysTotalElementCount") == 216 + 12


def test_channel_groups_compute_grouped_convolution():
    w, b = rand(6, 2, 3, 3), rand(6)
    layer = ConvolutionLayer(6, [3, 3], ChannelGroups=3, Weights=w, Biases=b)
    x = rand(6, 8, 7)
    expected = reference_conv(x, w, b, groups=3)
    np.testing.assert_allclose(
        layer(x, WorkingPrecision="Real64"), expected, rtol=1e-12, atol=1e-13
    )


def test_dilation_one_dimensional():
    layer = ConvolutionLayer(1, [2], Weights=[[[1.0, 10.0]]], Biases=None, Dilation=2)
    np.testing.assert_allclose(layer(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])), [[31, 42, 53]])


def test_interleaving_moves_the_channel_dimension():
    w = rand(4, 1, 3, 3)
    first = ConvolutionLayer(4, [3, 3], Weights=w, Input=[1, 28, 28])
    last = ConvolutionLayer(4, [3, 3], Weights=w, Interleaving=True, Input=[28, 28, 1])
    assert first.output_shape() == (4, 26, 26)
    assert last.output_shape() == (26, 26, 4)
    x = rand(1, 28, 28)
    np.testing.assert_allclose(last(np.moveaxis(x, 0, -1)), np.moveaxis(first(x), 0, -1))


def test_equivalent_to_list_convolve_after_reversing_the_kernel():
    kernel, data = rand(3, 4), rand(9, 8)
    layer = ConvolutionLayer(1, [3, 4], Weights=kernel[None, None], Biases=None)
    out = layer(data[None], WorkingPrecision="Real64")[0]
    # ListConvolve[ker, list] is the true convolution over the overlap
    np.testing.assert_allclose(out, scipy.signal.convolve(data, kernel[::-1, ::-1], "valid"))


def test_same_padding_keeps_size_and_puts_the_odd_padding_at_the_end():
    w = rand(2, 3, 4, 4)
    layer = ConvolutionLayer(2, [4, 4], Weights=w, PaddingSize="Same", Stride=[1, 2])
    x = rand(3, 9, 9)
    out = layer(x, WorkingPrecision="Real64")
    assert out.shape == (2, 9, 5)
    pairs = [string_padding_pair("same", 9, 4, s, 1) for s in (1, 2)]
    assert pairs == [(1, 2), (1, 2)]  # the larger half at the end
    np.testing.assert_allclose(
        out, reference_conv(x, w, layer.Biases, stride=(1, 2), padding=pairs)
    )


def test_threads_over_batches_and_lists():
    w = rand(3, 2, 3)
    layer = ConvolutionLayer(3, [3], Weights=w, Biases=rand(3))
    batch = rand(4, 2, 10)
    out = layer(batch)
    assert out.shape == (4, 3, 8)
    for i in range(4):  # float32: one image may take another route than the batch
        np.testing.assert_allclose(out[i], layer(batch[i]), rtol=1e-5, atol=1e-6)
    varying = [rand(2, 5), rand(2, 9)]
    results = layer(varying)
    assert [r.shape for r in results] == [(3, 3), (3, 7)]
    np.testing.assert_allclose(layer(batch, BatchSize=3), out, rtol=1e-5, atol=1e-6)


def test_varying_dimensions_in_output_shape():
    layer = ConvolutionLayer(4, [3, 3], Stride=2, PaddingSize="Same", Input=[3, "Varying", 10])
    assert layer.output_shape() == (4, None, 5)
    assert layer.output_shape([3, 7, None]) == (4, 4, None)
    assert Information(layer, "InputPorts") == {"Input": (3, None, 10)}


# -- possible issues ---------------------------------------------------------------------------


def test_cannot_run_before_the_weights_are_known():
    with pytest.raises(ValueError, match="not initialized"):
        ConvolutionLayer(2, [3])(rand(1, 8))
    with pytest.raises(ValueError, match="cannot be initialized until all its input and output"):
        NetInitialize(ConvolutionLayer(2, [3]))
    with pytest.raises(ValueError, match="dimensionality"):
        ConvolutionLayer(2, 3)(rand(1, 8))


def test_symbolic_input_is_rejected():
    layer = ConvolutionLayer(1, [2], Weights=[[[1.0, 1.0]]])
    with pytest.raises(TypeError, match="cannot accept symbolic inputs"):
        layer([["x", "y", "z"]])


def test_kernel_larger_than_input():
    layer = ConvolutionLayer(1, [5], Weights=np.ones((1, 1, 5)))
    with pytest.raises(ValueError, match="cannot be larger than the input dimension 3"):
        layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match="cannot be larger"):
        layer.output_shape([1, 4])
    assert layer.output_shape([1, 3 + 2 * 0 + 2]) == (1, 1)


def test_channel_group_errors_speak_wolfram():
    with pytest.raises(
        ValueError, match="'ChannelGroups' -> 3 does not divide the 4 input channels"
    ):
        ConvolutionLayer(6, [3], ChannelGroups=3, Input=[4, 10])
    with pytest.raises(ValueError, match="'ChannelGroups' -> 4 does not divide the 6 output"):
        ConvolutionLayer(6, [3], ChannelGroups=4)
    layer = ConvolutionLayer(3, [3], ChannelGroups=3, Weights=rand(3, 1, 3))
    with pytest.raises(ValueError, match="'ChannelGroups' -> 3 does not divide the 4 input"):
        layer(rand(4, 9))


def test_weights_dimensions_are_checked():
    with pytest.raises(ValueError, match=r'"Weights" should have dimensions \{2, m/g, 3\}'):
        ConvolutionLayer(2, [3], Weights=rand(2, 1, 4))
    with pytest.raises(ValueError, match="inconsistent dimensionality"):
        ConvolutionLayer(2, [3, 3], Input=[1, 5])


# -- NetExtract, Information, Options, NetInitialize --------------------------------------


def test_net_extract():
    w = rand(2, 1, 3)
    layer = ConvolutionLayer(2, 3, Weights=w, Stride=2)
    assert NetExtract(layer, "Weights") is w
    np.testing.assert_array_equal(NetExtract(layer, "Biases"), np.zeros(2))
    assert NetExtract(layer, "Stride") == (2,)
    assert NetExtract(layer, "KernelSize") == (3,)
    assert NetExtract(ConvolutionLayer(2, [3], Biases=None, Input=[1, 5]), "Biases") is None
    assert NetExtract(ConvolutionLayer(2, [3]), "Weights") is Automatic
    with pytest.raises(ValueError, match="not an array or parameter"):
        NetExtract(layer, "Kernel")


def test_information():
    layer = ConvolutionLayer(4, [3, 3], Input=[2, 10, 12], PaddingSize=1)
    info = Information(layer)
    assert info["InputPorts"] == {"Input": (2, 10, 12)}
    assert info["OutputPorts"] == {"Output": (4, 10, 12)}
    assert info["ArraysCount"] == 2
    assert info["ArraysTotalElementCount"] == 4 * 2 * 9 + 4
    assert info["ArraysPositionList"] == [("Weights",), ("Biases",)]
    assert info["LayerTypeCounts"] == {"ConvolutionLayer": 1}
    assert info["Options"]["PaddingSize"] == ((1, 1), (1, 1))
    initialized = NetInitialize(layer, RandomSeeding=3)
    assert Information(initialized, "ArraysTotalSize") == 4 * (4 * 2 * 9 + 4)
    with pytest.raises(ValueError, match="not a known property"):
        Information(layer, "Colors")


def test_options():
    defaults = Options(ConvolutionLayer)
    assert defaults["ChannelGroups"] == 1 and defaults["Stride"] == 1
    assert defaults["Biases"] is Automatic and defaults["Interleaving"] is False
    evaluation = Options(ConvolutionLayer(1, [1], Weights=[[[1.0]]]))
    assert evaluation["WorkingPrecision"] == "Real32" and evaluation["TargetDevice"] == "CPU"


def test_net_initialize_statistics():
    layer = ConvolutionLayer(64, [3, 3], ChannelGroups=2, Input=[32, 20, 20])
    xavier = NetExtract(NetInitialize(layer, RandomSeeding=0), "Weights")
    fan_in, fan_out = 9 * 16, 9 * 32
    assert xavier.shape == (64, 16, 3, 3)
    assert abs(xavier.var() / (2 / (fan_in + fan_out)) - 1) < 0.05
    assert abs(xavier.mean()) < 0.01
    kaiming = NetExtract(NetInitialize(layer, Method="Kaiming", RandomSeeding=0), "Weights")
    assert abs(kaiming.var() / (2 / fan_in) - 1) < 0.05
    uniform = NetInitialize(layer, Method=("Xavier", {"Distribution": "Uniform"}), RandomSeeding=0)
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(NetExtract(uniform, "Weights")).max() <= limit
    np.testing.assert_array_equal(NetExtract(uniform, "Biases"), 0)
    again = NetExtract(NetInitialize(layer, RandomSeeding=0), "Weights")
    np.testing.assert_array_equal(again, xavier)


def test_text_reader_values_are_accepted():
    # the CLI's reader gives Automatic as a string and lists for vectors
    layer = ConvolutionLayer(
        2, [3, 3], Biases="Automatic", Stride=[2, 1], PaddingSize=[[1, 0], [0, 1]]
    )
    assert layer.PaddingSize == ((1, 0), (0, 1)) and layer.Biases is Automatic


# -- every option against the oracles -----------------------------------------------------------


@st.composite
def wolfram_layers(draw):
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    m, n = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3 if rank < 3 else 2)) for _ in range(rank)]
    stride = [draw(st.integers(1, 2)) for _ in range(rank)]
    dilation = [draw(st.integers(1, 2)) for _ in range(rank)]
    kind = draw(st.sampled_from(["int", "list", "pairs", "Same"]))
    pads = {
        "int": draw(st.integers(0, 2)),
        "list": [draw(st.integers(0, 2)) for _ in range(rank)],
        "pairs": [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(rank)],
        "Same": "Same",
    }[kind]
    sizes = [draw(st.integers((k - 1) * d + 1, 7)) for k, d in zip(kernel, dilation, strict=True)]
    options = {
        "ChannelGroups": groups,
        "Stride": stride if draw(st.booleans()) else stride[0],
        "Dilation": dilation,
        "PaddingSize": pads,
        "Interleaving": draw(st.booleans()),
    }
    return rank, m, n, kernel, sizes, options, draw(st.integers(1, 2)), draw(st.booleans())


@settings(max_examples=examples(40))
@given(wolfram_layers())
def test_every_option_against_the_float64_oracle(case):
    _, m, n, kernel, sizes, options, batch, use_bias = case
    groups = options["ChannelGroups"]
    w = rand(n, m // groups, *kernel)
    b = rand(n) if use_bias else None
    layer = ConvolutionLayer(n, kernel, Weights=w, Biases=b, **options)
    x = rand(batch, m, *sizes)
    interleaved = options["Interleaving"]
    feed = np.moveaxis(x, 1, -1) if interleaved else x
    out = layer(feed, WorkingPrecision="Real64")
    pads = options["PaddingSize"]
    padding = (
        "same"
        if pads == "Same"
        else (
            [tuple(p) for p in pads]
            if isinstance(pads, list) and isinstance(pads[0], list)
            else pads
        )
    )
    expected = reference_conv(
        x,
        w,
        b,
        stride=options["Stride"],
        dilation=options["Dilation"],
        padding=padding,
        groups=groups,
    )
    if interleaved:
        expected = np.moveaxis(expected, 1, -1)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    one = layer(feed[0])  # Real32 by default, one example
    assert one.dtype == np.float32 and one.shape == layer.output_shape(feed[0].shape)
    np.testing.assert_allclose(one, expected[0], rtol=1e-4, atol=1e-5)


def test_against_torch_on_an_image():
    w, b = rand(6, 2, 3, 5), rand(6)
    layer = ConvolutionLayer(
        6,
        [3, 5],
        Weights=w,
        Biases=b,
        ChannelGroups=2,
        Stride=[2, 1],
        Dilation=[1, 2],
        PaddingSize=[[2, 1], [0, 3]],
    )
    x = rand(3, 4, 17, 15)
    padded = torch.nn.functional.pad(torch.from_numpy(x), (0, 3, 2, 1))
    expected = torch.nn.functional.conv2d(
        padded, torch.from_numpy(w), torch.from_numpy(b), stride=(2, 1), dilation=(1, 2), groups=2
    ).numpy()
    np.testing.assert_allclose(
        layer(x, WorkingPrecision="Real64"), expected, rtol=1e-12, atol=1e-13
    )


def test_torch_tensors_stay_torch():
    layer = ConvolutionLayer(2, [3], Weights=rand(2, 1, 3))
    out = layer(torch.ones(1, 6))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32


def test_module_exports():
    assert set(wolfram.__all__) >= {"ConvolutionLayer", "NetExtract", "Information", "Options"}
