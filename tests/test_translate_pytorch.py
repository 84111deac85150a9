"""Every PyTorch translation `xconv translate` prints runs in torch and computes what
`xconv run` computes on the same weights: strides, dilations, asymmetric and "same"
padding, every padding mode, groups, transposed layers, channels first and last.

The printed code is executed as printed (it defines `conv` and `layer(x)` and ends with
`y = layer(x)`); the layer's weights, made by `xconv run --seed`, are then loaded into
`conv` and `layer` is called again. The oracle is `xconv run` itself, whose results the
dialect tests check against the float64 definition.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from xconv_cli import _layers
from xconv_cli.main import main

torch = pytest.importorskip("torch")

SEED = 3

# (layer text, input shape in the dialect's order, whether it translates without the shape)
CASES = [
    ('ConvolutionLayer[6, {3, 3}, "Stride" -> 2, PaddingSize -> 1]', "4x9x10", True),
    (
        'ConvolutionLayer[4, {3, 2}, "Dilation" -> {2, 1}, PaddingSize -> {{1, 2}, {0, 1}}, '
        '"ChannelGroups" -> 2]',
        "4x8x9",
        True,
    ),
    ('ConvolutionLayer[3, {2, 3}, "Stride" -> {1, 2}, Interleaving -> True]', "7x9x2", True),
    (
        "groupedConvolution2dLayer(3, 4, 2, 'Stride', 2, 'Padding', 'same', "
        "'PaddingValue', 'replicate')",
        "9x10x4x2",
        True,
    ),
    (
        "convolution2dLayer([3 2], 5, 'Padding', [1 2 0 1], "
        "'PaddingValue', 'symmetric-exclude-edge')",
        "8x9x3",
        True,
    ),
    (
        "convolution2dLayer(3, 4, 'Padding', 2, 'PaddingValue', 'symmetric-include-edge', "
        "'DilationFactor', 2)",
        "8x9x3x2",
        True,
    ),
    (
        "convolution2dLayer(3, 4, 'Padding', 'same', 'PaddingValue', 'symmetric-include-edge', "
        "'Stride', [2 3])",
        "11x10x2",
        True,
    ),
    (
        "convolution2dLayer(3, 4, 'Padding', [0 1 1 0], 'PaddingValue', 2.5, 'Stride', [2 1])",
        "8x9x3",
        True,
    ),
    ("convolution2dLayer(3, 4, 'Padding', 1, 'PaddingValue', 'replicate')", "6x7x2", True),
    ("convolution1dLayer(5, 3, 'Padding', 'causal', 'Stride', 2)", "20x2x3", True),
    (
        "convolution3dLayer(3, 2, 'Padding', 'same', 'Stride', 2, 'PaddingValue', 'replicate')",
        "7x8x5x2",
        True,
    ),
    ("groupedConvolution2dLayer(3, 2, 'channelwise', 'Padding', 'same')", "7x8x3", False),
    ("transposedConv2dLayer(4, 3, 'Stride', 2, 'Cropping', [1 2 0 1])", "5x6x2", True),
    ("transposedConv2dLayer(3, 3, 'Stride', 2, 'Cropping', 'same')", "5x6x2x2", True),
    ("transposedConv1dLayer(5, 2, 'Stride', 3, 'Cropping', [1 3])", "7x3", True),
    ('keras.layers.Conv2D(4, 3, strides=2, padding="same")', "2x9x10x3", True),
    (
        'keras.layers.Conv2D(4, (3, 2), dilation_rate=(2, 1), padding="same", groups=2)',
        "1x9x8x4",
        True,
    ),
    (
        'keras.layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)',
        "2x9x8x3",
        False,
    ),
    ('keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2)', "2x12x3", True),
    ('keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")', "1x5x6x3", True),
    ('keras.layers.Conv2DTranspose(4, 1, strides=3, padding="same")', "1x4x5x2", True),
    (
        'keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1)',
        "1x4x5x2",
        True,
    ),
    (
        'keras.layers.Conv3D(2, 3, strides=(2, 1, 2), padding="same", '
        'data_format="channels_first")',
        "1x2x7x6x9",
        True,
    ),
    (
        'keras.layers.Conv2D(3, 2, strides=3, padding="same", data_format="channels_first", '
        "use_bias=False)",
        "2x2x10x11",
        True,
    ),
]


CASES += [  # PyTorch's own layers: circular padding, and the same layer printed back
    ('nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular")', "2x2x7x8", True),
    ("nn.Conv1d(2, 4, 4, padding='same', padding_mode='reflect', dilation=2)", "2x9", True),
    ("nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1)", "1x2x4x5", True),
]


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _to_torch(dialect: str, x: np.ndarray, rank: int):
    """The dialect's data in the order the printed code takes (MATLAB's `S.. x C x N` as
    `N x C x S..`; the other dialects' own order is the layer's canonical one)."""
    if dialect == "matlab":
        x = (
            np.moveaxis(x, rank, 0)
            if x.ndim == rank + 1
            else x.transpose(rank + 1, rank, *range(rank))
        )
    return torch.from_numpy(np.ascontiguousarray(x))


def _from_torch(dialect: str, y, rank: int) -> np.ndarray:
    y = y.detach().numpy()
    if dialect == "matlab":
        y = (
            np.moveaxis(y, 0, rank)
            if y.ndim == rank + 1
            else y.transpose(*range(2, rank + 2), 1, 0)
        )
    return y


def _run_printed(text: str, x, weight, bias):
    namespace = {"x": x}
    exec(text, namespace)  # the code as printed, with the module's own initial weights
    conv = namespace["conv"]
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(np.asarray(weight)))
        assert (conv.bias is None) == (bias is None)
        if bias is not None:
            conv.bias.copy_(torch.from_numpy(np.asarray(bias)))
        return namespace["layer"](x)


@pytest.mark.parametrize(("layer", "shape", "shapeless"), CASES)
def test_printed_pytorch_code_computes_what_xconv_run_computes(layer, shape, shapeless, tmp_path):
    dims = tuple(int(n) for n in shape.split("x"))
    x = np.random.default_rng(0).standard_normal(dims, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    invoke(
        "run",
        layer,
        "--input",
        str(tmp_path / "x.npy"),
        "--output",
        str(tmp_path / "y.npy"),
        "--seed",
        str(SEED),
    )
    expected = np.load(tmp_path / "y.npy")

    built = _layers.prepare(_layers.build(layer), x, SEED)  # the run's weights, again
    np.testing.assert_array_equal(_layers.run(built, x), expected)
    weight, bias = built.obj.canonical_weights()
    rank = built.rank

    forms = [["--input-shape", shape]] + ([[]] if shapeless else [])
    for extra in forms:
        rows = json.loads(invoke("translate", layer, "--to", "pytorch", "--json", *extra))
        text = rows[0]["text"]
        assert rows[0]["notes"] == [], rows[0]["notes"]
        y = _run_printed(text, _to_torch(built.dialect, x, rank), weight, bias)
        got = _from_torch(built.dialect, y, rank)
        assert got.shape == expected.shape, text
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=text)


def test_shapeless_depthwise_layers_ask_for_the_input_shape():
    result = CliRunner().invoke(main, ["translate", "keras.layers.DepthwiseConv2D(3)"])
    assert result.exit_code != 0
    assert "known once the layer is built" in result.output + result.stderr
