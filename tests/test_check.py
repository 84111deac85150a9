"""`xconv check`: a user's layer in every framework installed, one verdict per framework.

The verdicts are checked against computations made here, independently of the check: the
frameworks' own layers built by hand with the layer's weights, on the same data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from xconv_cli.main import main

from conformance import check as check_module
from xconv.compat import keras, matlab
from xconv.compat.text import pytorch_text

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run_check(*args: str):
    result = CliRunner().invoke(main, ["check", *args, "--json"])
    return result.exit_code, result.output


def verdicts(output: str) -> dict[tuple[str, str], dict]:
    return {(row["framework"], row["quantity"]): row for row in json.loads(output)["rows"]}


# one layer of each kind the issue names, in each dialect, with its input in its order
LAYERS = [
    # 'same' at stride 2 with a padding mode, grouped (channelwise), MATLAB H x W x C
    ("groupedConvolution2dLayer(3, 1, 'channelwise', 'Stride', 2, 'Padding', 'same', "
     "'PaddingValue', 'symmetric-include-edge')", "12x11x4"),
    # grouped, Wolfram C x H x W
    ('ConvolutionLayer[6, {3, 3}, "ChannelGroups" -> 3, "Stride" -> 2, PaddingSize -> 1]',
     "6x10x10"),
    # transposed with cropping, 1-D, MATLAB S x C
    ("transposedConv1dLayer(5, 4, 'Stride', 3, 'Cropping', 'same')", "10x2"),
    # 3-D with circular padding, PyTorch N x C x D x H x W
    ('nn.Conv3d(2, 4, 3, padding="same", padding_mode="circular")', "1x2x6x6x6"),
    # depthwise, channels first, Keras
    ('keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", '
     'data_format="channels_first")', "1x3x8x8"),
    # channels-last transposed, Keras N x H x W x C
    ('keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")', "1x8x8x3"),
    # an activation: outputs with it, gradients of the convolution
    ('keras.layers.Conv2D(4, 3, activation="relu", padding="same")', "1x8x8x2"),
    # channels last in Wolfram, one-channel 1-D for SciPy
    ('ConvolutionLayer[4, {3, 3}, "Interleaving" -> True, PaddingSize -> 1]', "8x8x2"),
    ('ConvolutionLayer[1, {5}, "Dilation" -> 2, PaddingSize -> {{4, 0}}]', "1x20"),
]  # fmt: skip


@pytest.mark.parametrize(("layer", "shape"), LAYERS)
def test_every_framework_agrees_or_says_why_not(layer, shape):
    code, out = run_check(layer, "--input-shape", shape, "--grad")
    assert code == 0, out
    rows = verdicts(out)
    assert {q for _, q in rows} == {"output", "gradients"}
    for (framework, quantity), row in rows.items():
        if row["status"] == "agrees":
            assert row["max_abs_diff"] <= row["tolerance"]
            assert row["expressed"]
        else:
            assert row["status"] in ("cannot express", "not installed"), row
            assert row["reason"], f"{framework} {quantity}: no reason"
    # PyTorch and JAX express every one of these layers, outputs and gradients
    for framework in ("pytorch", "jax"):
        assert rows[(framework, "output")]["status"] == "agrees"
        assert rows[(framework, "gradients")]["status"] == "agrees"
    assert rows[("onnxruntime", "gradients")]["status"] == "cannot express"


def test_the_verdicts_match_an_independent_computation():
    """The Keras row's numbers, recomputed here with Keras itself and xconv's layer."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    real_keras = pytest.importorskip("keras")
    text = 'keras.layers.Conv2D(8, 3, strides=2, padding="same")'
    code, out = run_check(text, "--input-shape", "1x9x9x3", "--seed", "7")
    assert code == 0, out
    reported = verdicts(out)[("keras", "output")]
    # the same layer as the check makes it: Keras' initializer seeded with 7, data seeded 7
    x = np.random.default_rng(7).standard_normal((1, 9, 9, 3), dtype=np.float32)
    ours = keras.Conv2D(8, 3, strides=2, padding="same")
    ours.kernel_initializer.seed = 7
    ours.build(x.shape)
    y = np.asarray(ours(x))
    theirs = real_keras.layers.Conv2D(8, 3, strides=2, padding="same")
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    expected = np.asarray(theirs(x))
    difference = float(np.max(np.abs(y - expected)))
    assert reported["status"] == "agrees"
    assert reported["max_abs_diff"] == pytest.approx(difference, rel=1e-6, abs=1e-12)
    assert reported["max_rel_diff"] == pytest.approx(difference / np.max(np.abs(expected)),
                                                     rel=1e-6, abs=1e-12)  # fmt: skip


def test_the_pytorch_verdict_matches_torch_itself():
    """The PyTorch row's numbers, recomputed with a real `torch.nn.Conv2d` and gradients."""
    torch = pytest.importorskip("torch")
    from xconv.compat import pytorch

    text = 'nn.Conv2d(3, 4, 3, stride=2, padding=1, padding_mode="reflect")'
    code, out = run_check(text, "--input-shape", "1x3x9x9", "--seed", "3", "--grad")
    assert code == 0, out
    rows = verdicts(out)
    pytorch.manual_seed(3)  # the check seeds the dialect's stream with --seed
    ours = pytorch.Conv2d(3, 4, 3, stride=2, padding=1, padding_mode="reflect")
    x = np.random.default_rng(3).standard_normal((1, 3, 9, 9), dtype=np.float32)
    module = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, padding_mode="reflect")
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(ours.weight))
        module.bias.copy_(torch.from_numpy(ours.bias))
    expected = module(torch.from_numpy(x)).detach().numpy()
    difference = float(np.max(np.abs(np.asarray(ours(x)) - expected)))
    assert rows[("pytorch", "output")]["max_abs_diff"] == pytest.approx(difference, abs=1e-12)
    assert rows[("pytorch", "gradients")]["status"] == "agrees"


def test_a_wrong_translation_is_a_disagreement_and_a_failing_exit(monkeypatch):
    """If the printed PyTorch code computed something else, the check says so (exit 1)."""

    def off_by_a_stride(layer, spatial=None):
        code, notes = pytorch_text(layer, spatial)
        return code.replace("stride=2", "stride=1"), notes

    monkeypatch.setattr("xconv.compat.text.pytorch_text", off_by_a_stride)
    code, out = run_check("convolution2dLayer(3, 4, 'Stride', 2)", "--input-shape", "9x9x2")
    assert code == 1
    row = verdicts(out)[("pytorch", "output")]
    assert row["status"] == "differs" and "shape" in row["reason"]
    assert verdicts(out)[("jax", "output")]["status"] == "agrees"


def test_a_framework_that_fails_is_reported_not_raised(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the framework fell over")

    monkeypatch.setattr(check_module, "_keras", broken)
    code, out = run_check("keras.layers.Conv1D(2, 3)", "--input-shape", "1x10x1")
    assert code == 1
    row = verdicts(out)[("keras", "output")]
    assert row["status"] == "failed" and "fell over" in row["reason"]


def test_the_table_and_bad_input():
    result = CliRunner().invoke(main, ["check", "convolution2dLayer(3, 4)", "--input-shape",
                                       "8x8x2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    for word in ("pytorch", "keras", "jax", "onnxrunt", "scipy", "agrees", "cannot"):
        assert word in result.output
    result = CliRunner().invoke(main, ["check", "convolution2dLayer(3, 4)", "--input-shape",
                                       "?x8x2"])  # fmt: skip
    assert result.exit_code == 1 and "every size" in result.output
    result = CliRunner().invoke(main, ["check", "Conv2D(", "--input-shape", "1x8x8x2"])
    assert result.exit_code == 1 and "xconv: error:" in result.output


def test_given_weights_are_used():
    weights = np.zeros((3, 3, 2, 4), np.float32)  # MATLAB h x w x C x F: an all-zero layer
    layer = matlab.convolution2dLayer(3, 4, NumChannels=2, Weights=weights,
                                      Bias=np.zeros((1, 1, 4), np.float32))  # fmt: skip
    x = np.ones((8, 8, 2), np.float32)
    rows = check_module.check_layer(layer, x)
    assert all(row.max_abs_diff == 0 for row in rows if row.status == "agrees")
