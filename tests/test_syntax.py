"""Reading layer text: literals only, one-line errors with the column."""

import pytest

from xconv.compat._syntax import (
    LayerSyntaxError,
    read_keras,
    read_matlab,
    read_pytorch,
    read_wolfram,
)


def test_wolfram_lists_rules_and_symbols():
    call = read_wolfram(
        'ConvolutionLayer[16, {3, 3}, "Stride" -> 2, PaddingSize -> {{1, 0}, {2, 2}}, '
        '"Biases" -> None, Interleaving -> True, "Dilation" :> 2, "Weights" -> Automatic]'
    )
    assert call.name == "ConvolutionLayer"
    assert call.args == (16, [3, 3])
    assert call.options == {
        "Stride": 2,
        "PaddingSize": [[1, 0], [2, 2]],
        "Biases": None,
        "Interleaving": True,
        "Dilation": 2,
        "Weights": "Automatic",
    }


def test_wolfram_numbers():
    call = read_wolfram('ConvolutionLayer[1, 2, "Biases" -> {-1.5, 2.5*^-3, 3}]')
    assert call.options["Biases"] == [-1.5, pytest.approx(2.5e-3), 3]


def test_matlab_vectors_strings_and_pairs():
    call = read_matlab(
        "convolution2dLayer([3 5], 16, 'Stride', [2, 1], \"Padding\", 'same', "
        "'PaddingValue', 'replicate', Name='it''s');"
    )
    assert call.args == ([3, 5], 16)
    assert call.options == {
        "Stride": [2, 1],
        "Padding": "same",
        "PaddingValue": "replicate",
        "Name": "it's",
    }


def test_matlab_positional_count_and_matrices():
    call = read_matlab("groupedConvolution2dLayer(5, 128, 'channelwise', 'Padding', [1 2; 3 4])", 3)
    assert call.args == (5, 128, "channelwise")
    assert call.options == {"Padding": [[1, 2], [3, 4]]}


def test_keras_call():
    call = read_keras("tf.keras.layers.Conv2D(32, (3, 3), strides=[2, 2], use_bias=False)")
    assert call.name == "Conv2D"
    assert call.args == (32, (3, 3))
    assert call.options == {"strides": [2, 2], "use_bias": False}


@pytest.mark.parametrize(
    ("reader", "text", "column"),
    [
        (read_wolfram, "ConvolutionLayer[16, {3, 3]", 27),
        (read_wolfram, "ConvolutionLayer[16, 3, Print[1]]", 25),
        (read_wolfram, "ConvolutionLayer[16, 3", 23),
        (read_matlab, "convolution2dLayer(3, 16, 'Stride')", 27),
        (read_matlab, "convolution2dLayer(3, 16, 'W', @(sz) rand(sz))", 32),
        (read_keras, "Conv2D(32, x)", 12),
        (read_keras, "Conv2D(32, 3, a=1, a=2)", 20),
        (read_keras, "Conv2D(32, 3) + 1", 15),
        (read_keras, "__import__('os').system('echo hacked')", 17),
        (read_keras, "Conv2D(32, 3, activation=print('x'))", 26),
        (read_keras, "Conv2D(32, 3, name='a' 'b')", 24),
        (read_keras, "Conv2D(32, 3) ` ", 15),
    ],
)
def test_errors_name_the_column(reader, text, column):
    with pytest.raises(LayerSyntaxError, match=f"at column {column}$") as info:
        reader(text)
    assert info.value.column == column
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "nn.Conv2d(3, 8, \u09ea)",  # a Bengali four, drawn like an 8
        "nn.Conv2d(3, 8, \uff18)",  # a fullwidth 8
        "nn.Conv2d(3, 8, \u0663)",  # an Arabic-Indic three
        "nn.Conv2d(3,\u20038, 3)",  # an em space
    ],
)
def test_digits_and_spaces_are_ascii_only(text):
    with pytest.raises(LayerSyntaxError, match="unexpected character"):
        read_pytorch(text)


def test_strings_follow_each_dialects_rules():
    # Python: \f is a form feed, so this is not 'reflect'; an unknown escape stays
    assert read_pytorch("f(x, padding_mode='re\\flect')").options["padding_mode"] == "re\flect"
    assert read_pytorch("f(x, a='\\q', b=\"\\x41\")").options == {"a": "\\q", "b": "A"}
    # MATLAB: a doubled quote is one quote, a backslash is a backslash
    assert read_matlab("f(1, 2, 'Name', 'it''s\\n')").options["Name"] == "it's\\n"


def test_numbers_too_long_are_refused():
    with pytest.raises(LayerSyntaxError, match="too long"):
        read_pytorch(f"nn.Conv2d(3, 8, {'9' * 5000})")
