"""`xconv.compat.translate`: the same outputs from the same inputs in every dialect."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_conv
from strategies import examples

from xconv.compat import TranslationError, TranslationWarning, keras, matlab, translate, wolfram

RNG = np.random.default_rng(11)
TARGETS = ("wolfram", "matlab", "keras")


def rand(*shape):
    return RNG.uniform(-1, 1, size=shape)


def run(layer, x):
    """Apply a dialect layer to canonical `(N, C, *S)` data; the result in that layout too."""
    rank = x.ndim - 2
    if layer.dialect == "matlab":
        y = layer(np.moveaxis(np.moveaxis(x, 0, -1), 0, -2))  # (*S, C, N)
        return np.moveaxis(np.moveaxis(y, -1, 0), -1, 1)
    last = layer.spec.channels_last
    feed = np.moveaxis(x, 1, -1) if last else x
    y = layer(feed, WorkingPrecision="Real64") if layer.dialect == "wolfram" else layer(feed)
    y = np.asarray(y)
    assert y.ndim == rank + 2
    return np.moveaxis(y, -1, 1) if last else y


def assert_translations_agree(layer, x, targets=TARGETS, rtol=2e-5):
    expected = run(layer, x)
    for target in targets:
        other = translate(layer, target)
        assert other.dialect == target
        np.testing.assert_allclose(run(other, x), expected, rtol=rtol, atol=rtol)
    return expected


# -- every dialect to every other ---------------------------------------------------------------


def test_wolfram_layer_everywhere():
    layer = wolfram.ConvolutionLayer(
        4,
        [3, 3],
        Weights=rand(4, 1, 3, 3),
        Biases=rand(4),
        ChannelGroups=2,
        Stride=2,
        PaddingSize="Same",
    )
    x = rand(2, 2, 9, 8)
    out = assert_translations_agree(layer, x)
    assert out.shape == (2, 4, 5, 4)
    assert translate(layer, "matlab").NumGroups == 2
    keras_layer = translate(layer, "keras")
    assert keras_layer.padding == "same" and keras_layer.data_format == "channels_first"
    assert translate(layer, "matlab").dialect == "matlab"


def test_matlab_layers_everywhere():
    conv = matlab.convolution2dLayer(
        [3, 2], 5, NumChannels=3, Padding=[1, 0, 1, 0], BiasInitializer="narrow-normal"
    )
    assert_translations_agree(conv, rand(2, 3, 7, 6), targets=("wolfram", "matlab"))
    same = matlab.convolution1dLayer(4, 2, NumChannels=3, Padding="same", DilationFactor=2)
    assert_translations_agree(same, rand(2, 3, 11))
    causal = matlab.convolution1dLayer(3, 2, NumChannels=2, Padding="causal")
    assert_translations_agree(causal, rand(1, 2, 8))
    assert translate(causal, "keras").padding == "causal"
    volume = matlab.convolution3dLayer(2, 3, NumChannels=2, Stride=[1, 2, 1])
    assert_translations_agree(volume, rand(1, 2, 5, 6, 4))


def test_keras_layers_everywhere():
    conv = keras.Conv2D(4, 3, strides=2, padding="same", groups=2, use_bias=False)
    conv.build((None, 9, 9, 2))
    assert_translations_agree(conv, rand(2, 2, 9, 9))
    assert translate(conv, "wolfram").Biases is None
    m = translate(conv, "matlab")
    assert m.BiasLearnRateFactor == 0
    np.testing.assert_array_equal(m.Bias, 0)
    back = translate(m, "keras")  # a frozen zero bias is no bias; groups == channels: depthwise
    assert back.padding == "same" and not back.use_bias
    assert type(back).__name__ == "DepthwiseConv2D" and back.depth_multiplier == 2


def test_depthwise_and_channelwise():
    depthwise = keras.DepthwiseConv2D(
        3, depth_multiplier=2, padding="same", bias_initializer="random_normal"
    )
    depthwise.build((None, 6, 6, 3))
    m = translate(depthwise, "matlab")
    assert type(m).__name__ == "GroupedConvolution2DLayer"
    assert m.NumGroups == 3 and m.NumFiltersPerGroup == 2
    assert_translations_agree(depthwise, rand(2, 3, 6, 6))
    channelwise = matlab.groupedConvolution2dLayer(3, 2, "channelwise", Stride=2)
    x = rand(1, 4, 7, 7)
    run(channelwise, x)  # the channel count, and so NumGroups, is known once it has run
    k = translate(channelwise, "keras")
    assert type(k).__name__ == "DepthwiseConv2D" and k.depth_multiplier == 2
    assert_translations_agree(channelwise, x)


def test_transposed_between_matlab_and_keras():
    for kwargs in (
        dict(strides=2, padding="same"),
        dict(strides=2, padding="same", output_padding=0),
        dict(strides=(2, 1), padding="valid"),
    ):
        layer = keras.Conv2DTranspose(3, 3, bias_initializer="random_normal", **kwargs)
        layer.build((None, 4, 5, 2))
        assert_translations_agree(layer, rand(2, 2, 4, 5), targets=("matlab", "keras"))
    extended = keras.Conv2DTranspose(3, 3, strides=3, output_padding=1)
    extended.build((None, 4, 5, 2))
    with pytest.raises(TranslationError, match="cannot extend the output with zeros"):
        translate(extended, "matlab")
    short = keras.Conv1DTranspose(2, 2, strides=3)  # k < s: Keras extends the output
    short.build((None, 4, 2))
    assert translate(short, "matlab").CroppingMode == "same"
    assert_translations_agree(short, rand(1, 2, 4), targets=("matlab",))
    cropped = matlab.transposedConv2dLayer(4, 2, Stride=2, Cropping=1, NumChannels=3)
    k = translate(cropped, "keras")
    assert k.padding == "same"
    assert_translations_agree(cropped, rand(1, 3, 4, 4), targets=("keras",))


def test_translation_keeps_learning_rates_and_names():
    w = wolfram.ConvolutionLayer(
        2, [3], Weights=rand(2, 1, 3), LearningRateMultipliers={"Weights": 0.5, "Biases": 0}
    )
    m = translate(w, "matlab")
    assert (m.WeightLearnRateFactor, m.BiasLearnRateFactor) == (0.5, 0)
    back = translate(m, "wolfram")
    assert back.LearningRateMultipliers == {"Weights": 0.5, "Biases": 0}
    named = matlab.convolution2dLayer(3, 2, NumChannels=1, Name="conv_a")
    with pytest.warns(TranslationWarning, match="bias_learn_rate"):
        k = translate(
            matlab.convolution2dLayer(3, 2, NumChannels=1, BiasLearnRateFactor=2), "keras"
        )
    assert k.name != "conv_a"
    assert translate(named, "keras").name == "conv_a"


def test_keras_extras_survive_within_keras_and_warn_elsewhere():
    layer = keras.Conv1D(2, 3, kernel_regularizer="l2", kernel_constraint="non_neg")
    layer.build((None, 8, 1))
    again = translate(layer, "keras")
    assert type(again.kernel_regularizer).__name__ == "L2"
    with pytest.warns(TranslationWarning, match="kernel_regularizer"):
        translate(layer, "matlab")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        translate(keras.Conv1D(2, 3), "wolfram")  # a name alone is not worth a warning


def test_an_unbuilt_layer_translates_without_weights():
    m = translate(keras.Conv2D(8, 3, padding="same"), "matlab")
    assert m.NumChannels == "auto" and m.Weights is None and m.PaddingMode == "same"
    w = translate(matlab.convolution2dLayer(5, 4), "wolfram")
    assert not w.initialized and w.KernelSize == (5, 5)


# -- what a target cannot express --------------------------------------------------------------


def test_keras_has_no_explicit_padding():
    layer = wolfram.ConvolutionLayer(
        2, [3, 3], Weights=rand(2, 1, 3, 3), PaddingSize=[[1, 2], [0, 0]]
    )
    with pytest.raises(TranslationError, match=r"ZeroPadding2D\(padding=\(\(1, 2\), \(0, 0\)\)\)"):
        translate(layer, "keras")
    symmetric = wolfram.ConvolutionLayer(2, [3, 3], Weights=rand(2, 1, 3, 3), PaddingSize=1)
    assert translate(symmetric, "keras").padding == "same"


def test_matlab_has_no_grouped_3d_layer():
    layer = keras.Conv3D(4, 2, groups=2)
    layer.build((None, 5, 5, 5, 4))
    with pytest.raises(TranslationError, match="no grouped 3-D convolution layer"):
        translate(layer, "matlab")


def test_activations_padding_modes_and_transposed_have_no_equivalent():
    relu = keras.Conv2D(2, 3, activation="relu")
    relu.build((None, 5, 5, 1))
    with pytest.raises(TranslationError, match="ElementwiseLayer"):
        translate(relu, "wolfram")
    with pytest.raises(TranslationError, match="reluLayer"):
        translate(relu, "matlab")
    mirrored = matlab.convolution2dLayer(3, 2, NumChannels=1, PaddingValue="replicate", Padding=1)
    with pytest.raises(TranslationError, match="zeros only"):
        translate(mirrored, "keras")
    with pytest.raises(TranslationError, match="PaddingLayer"):
        translate(mirrored, "wolfram")
    transposed = matlab.transposedConv2dLayer(3, 2, NumChannels=1)
    with pytest.raises(TranslationError, match="DeconvolutionLayer"):
        translate(transposed, "wolfram")
    dilated = keras.Conv2DTranspose(2, 3, dilation_rate=2)
    dilated.build((None, 5, 5, 1))
    with pytest.raises(TranslationError, match="DilationFactor"):
        translate(dilated, "matlab")
    strided_dilated = wolfram.ConvolutionLayer(2, [3], Weights=rand(2, 1, 3), Stride=2, Dilation=2)
    with pytest.raises(TranslationError, match="strides > 1 with dilation_rate > 1"):
        translate(strided_dilated, "keras")
    with pytest.raises(ValueError, match="target must be one of"):
        translate(relu, "onnx")


# -- hypothesis: Keras layers through every dialect ----------------------------------------


@settings(max_examples=examples(15))
@given(
    rank=st.integers(1, 3),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same"]),
    groups=st.sampled_from([1, 2]),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_keras_layers_translate_faithfully(rank, kernel, stride, padding, groups, data_format):
    layer = getattr(keras, f"Conv{rank}D")(
        2 * groups,
        kernel,
        strides=stride,
        padding=padding,
        groups=groups,
        data_format=data_format,
        bias_initializer="random_normal",
    )
    channels = 2 * groups
    shape = (
        (None, *[6] * rank, channels)
        if data_format == "channels_last"
        else (None, channels, *[6] * rank)
    )
    layer.build(shape)
    x = rand(2, channels, *[6] * rank)
    targets = ["wolfram"] + (["matlab"] if groups == 1 or rank == 2 else [])
    expected = assert_translations_agree(layer, x, targets=targets)
    weight, bias = layer.canonical_weights()
    oracle = reference_conv(x, weight, bias, stride=stride, padding=padding, groups=groups)
    np.testing.assert_allclose(expected, oracle, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("cropping", "padding", "output_padding"),
    [([1, 2], "same", None), ([2, 2], "same", (0,)), ([0, 0], "valid", None)],
)
def test_transposed_translation_against_torch(cropping, padding, output_padding):
    layer = matlab.transposedConv1dLayer(5, 2, Stride=2, Cropping=cropping, NumChannels=3)
    x = rand(2, 3, 6)
    k = translate(layer, "keras")
    assert (k.padding, k.output_padding) == (padding, output_padding)
    w, b = layer.canonical_weights()
    full = F.conv_transpose1d(
        torch.from_numpy(x).float(), torch.from_numpy(w), torch.from_numpy(b), stride=2
    ).numpy()
    expected = full[:, :, cropping[0] : full.shape[-1] - cropping[1]]
    np.testing.assert_allclose(run(k, x), expected, rtol=1e-5, atol=1e-5)


def test_keras_transposed_cannot_crop_arbitrarily():
    layer = matlab.transposedConv1dLayer(5, 2, Stride=2, Cropping=[1, 3], NumChannels=3)
    with pytest.raises(TranslationError, match="Cropping1D"):
        translate(layer, "keras")


def test_matlab_data_stay_channels_last_in_keras_and_wolfram():
    layer = matlab.convolution2dLayer(3, 4, NumChannels=2, Padding="same", Stride=2)
    assert translate(layer, "keras").data_format == "channels_last"
    assert translate(layer, "wolfram").Interleaving
    assert_translations_agree(layer, rand(2, 2, 7, 8))


@pytest.mark.parametrize(
    ("padding_value", "keras_pad"),
    [
        ("replicate", "mode='edge'"),
        ("symmetric-exclude-edge", "mode='reflect'"),
        ("symmetric-include-edge", "mode='symmetric'"),
        (2.5, "mode='constant', constant_values=2.5"),
    ],
)
def test_keras_refusal_names_the_exact_padding(padding_value, keras_pad):
    layer = matlab.convolution2dLayer(
        3, 4, NumChannels=2, Padding=[1, 2, 0, 1], PaddingValue=padding_value
    )
    with pytest.raises(TranslationError) as refusal:
        translate(layer, "keras")
    construction = f"keras.ops.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0)), {keras_pad})"
    assert construction in str(refusal.value)
    # the construction is exact: padded by keras.ops.pad, then the zero-padding layer
    os.environ.setdefault("KERAS_BACKEND", "jax")
    real_keras = pytest.importorskip("keras")
    x = rand(2, 7, 8, 2).astype("float32")  # MATLAB's H x W x C x N as Keras' N x H x W x C
    width = ((0, 0), (1, 2), (0, 1), (0, 0))
    mode = keras_pad.split("'")[1]
    extra = {"constant_values": 2.5} if mode == "constant" else {}
    padded = np.asarray(real_keras.ops.pad(x, width, mode=mode, **extra))
    valid = matlab.convolution2dLayer(3, 4, Weights=layer.Weights, Bias=layer.Bias)
    expected = np.moveaxis(layer(np.moveaxis(x, 0, -1)), -1, 0)
    np.testing.assert_allclose(
        np.moveaxis(valid(np.moveaxis(padded, 0, -1)), -1, 0), expected, rtol=1e-5, atol=1e-5
    )


def test_the_readme_dialects_example_runs(capsys):
    from readme import python_block

    namespace: dict = {}
    os.environ.setdefault("KERAS_BACKEND", "jax")
    exec(
        compile(python_block("Dialects: Wolfram, MATLAB, Keras, PyTorch"), "README", "exec"),
        namespace,
    )
    assert namespace["layer"].output_shape() == (16, 128, 124)
    rng = np.random.default_rng(0)
    assert namespace["dw"](rng.random((227, 227, 3, 8), dtype=np.float32)).shape == (114, 114, 3, 8)
    assert namespace["conv"](rng.random((4, 10, 10, 128))).shape == (4, 8, 8, 32)
    assert namespace["conv2d"](rng.random((2, 3, 9, 9), dtype=np.float32)).shape == (2, 8, 5, 5)
    assert type(translate(namespace["dw"], "keras")).__name__ == "DepthwiseConv2D"


# -- to PyTorch's own modules ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.convolution2dLayer(3, 16, NumChannels=3, Padding=1, Stride=2),
        lambda m: m.convolution2dLayer([3, 5], 4, NumChannels=6, Padding="same",
                                       DilationFactor=2),
        lambda m: m.groupedConvolution2dLayer(3, 2, 3, NumChannelsPerGroup=2, Stride=2),
        lambda m: m.transposedConv2dLayer(4, 8, NumChannels=3, Stride=2, Cropping="same"),
        lambda m: m.convolution2dLayer(3, 5, NumChannels=2, Padding=2,
                                       PaddingValue="symmetric-exclude-edge"),
    ],
)  # fmt: skip
def test_matlab_layers_translate_to_torch_modules_that_compute_them(make):
    torch = pytest.importorskip("torch")
    source = make(matlab)
    source.initialize(source.spec.in_channels)
    try:
        target = translate(source, "pytorch")
    except TranslationError as error:  # MATLAB's symmetric padding: said, with the way out
        assert "F.pad" in str(error) and "xconv.torch.Conv" in str(error)
        return
    module_type = getattr(torch.nn, type(target).__name__)
    spec = target.spec
    options = dict(stride=spec.stride, dilation=spec.dilation, groups=spec.groups,
                   padding=target.padding, padding_mode=target.padding_mode)  # fmt: skip
    if spec.transposed:
        options["output_padding"] = target.output_padding
    module = module_type(spec.in_channels, spec.out_channels, spec.kernel_size, **options)
    module.weight.data = torch.from_numpy(np.asarray(target.weight, np.float32))
    module.bias.data = torch.from_numpy(np.asarray(target.bias, np.float32))
    x = np.random.default_rng(3).standard_normal((11, 12, spec.in_channels)).astype(np.float32)
    expected = np.moveaxis(np.asarray(source(x)), -1, 0)  # MATLAB H x W x C -> C x H x W
    got = module(torch.from_numpy(np.moveaxis(x, -1, 0))).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
