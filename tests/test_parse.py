"""`xconv.compat.parse`: layer text in each dialect becomes that dialect's layer, safely."""

import numpy as np
import pytest

from xconv.compat import keras, matlab, wolfram
from xconv.compat.parse import LayerSyntaxError, detect_dialect, parse


def test_wolfram_layer_with_options():
    layer = parse(
        'ConvolutionLayer[16, {3, 3}, "Stride" -> 2, PaddingSize -> {{1, 0}, {2, 2}}, '
        '"Biases" -> None, Interleaving -> True, "Input" -> {32, 32, 3}]'
    )
    assert isinstance(layer, wolfram.ConvolutionLayer)
    assert layer.output_shape() == (16, 17, 16)  # (32 + 1 - 3) // 2 + 1, (32 + 4 - 3) // 2 + 1
    assert layer.spec.stride == (2, 2)
    assert layer.spec.resolve_padding((32, 32)) == ((1, 0), (2, 2))
    assert layer.spec.channels_last


def test_wolfram_learning_rate_rules_become_a_mapping():
    layer = parse('ConvolutionLayer[2, 4, LearningRateMultipliers -> {"Weights" -> 0}]')
    assert isinstance(layer, wolfram.ConvolutionLayer)


def test_matlab_layers_fold_option_case():
    layer = parse(
        "convolution2dLayer([3 5], 16, 'stride', 2, 'PADDING', 'same', 'PaddingValue', 'replicate')"
    )
    assert isinstance(layer, matlab.Convolution2DLayer)
    assert tuple(layer.FilterSize) == (3, 5)
    assert tuple(layer.Stride) == (2, 2)
    assert layer.PaddingMode == "same"


def test_matlab_grouped_takes_three_positional_arguments():
    layer = parse("groupedConvolution2dLayer(5, 128, 'channelwise', 'Padding', 'same')")
    assert isinstance(layer, matlab.GroupedConvolution2DLayer)
    assert layer.NumGroups == "channelwise"


@pytest.mark.parametrize(
    "text",
    [
        'Conv2D(32, 3, activation="relu")',
        'layers.Conv2D(32, 3, activation="relu")',
        'keras.layers.Conv2D(32, 3, activation="relu")',
        'tf.keras.layers.Conv2D(32, 3, activation="relu")',
        'keras.layers.Convolution2D(32, 3, activation="relu")',
    ],
)
def test_keras_prefixes_and_aliases(text):
    layer = parse(text)
    assert isinstance(layer, keras.Conv2D)
    y = layer(np.ones((4, 10, 10, 2), dtype=np.float32))
    assert y.shape == (4, 8, 8, 32)


def test_dialect_errors_pass_through():
    with pytest.raises(ValueError, match="dilation_rate"):
        parse("Conv2D(32, 3, strides=2, dilation_rate=2)")


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch /tmp/xconv-pwned')",
        "eval('1')",
        "Dense(3)",
        "numpy.layers.Conv2D(1, 1)",
        "Conv2D(1, __import__('os').getcwd())",
        'ConvolutionLayer[16, 3, Run["touch /tmp/xconv-pwned"]]',
        "convolution2dLayer(3, 16, 'WeightsInitializer', @(sz) system('touch /tmp/xconv-pwned'))",
    ],
)
def test_text_is_never_evaluated(text, tmp_path):
    with pytest.raises(LayerSyntaxError, match="at column"):
        parse(text)


def test_detect_dialect():
    assert detect_dialect("ConvolutionLayer[1, 2]") == "wolfram"
    assert detect_dialect("transposedConv2dLayer(4, 8)") == "matlab"
    assert detect_dialect("DepthwiseConv2D(3)") == "keras"
