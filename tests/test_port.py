"""`xconv translate --weights ... --save-weights`: weights that port, loaded by the target
framework itself into the layer xconv prints, reproduce `xconv run` on the source layer.

Oracles: PyTorch runs the printed module with `load_state_dict(torch.load(...))`; Keras 3
runs the printed layer with `set_weights` from the `.npz`; the source layer's output is
`xconv run`'s.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from xconv_cli.main import main

RNG = np.random.default_rng(21)


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output, result.stderr


MATLAB_LAYERS = [
    ("convolution2dLayer(3, 8, 'Padding', 'same', 'Stride', 2)", (3, 3, 3, 8), (1, 1, 8)),
    ("groupedConvolution2dLayer([3 2], 2, 2, 'Padding', 1)", (3, 2, 2, 2, 2), (1, 1, 2, 2)),
    ("transposedConv2dLayer(4, 5, 'Stride', 2, 'Cropping', 'same')", (4, 4, 5, 4), (1, 1, 5)),
]


def _matlab_files(tmp_path, weights_shape, bias_shape, channels):
    np.save(tmp_path / "w.npy", RNG.standard_normal(weights_shape).astype(np.float32))
    np.save(tmp_path / "b.npy", RNG.standard_normal(bias_shape).astype(np.float32))
    np.save(tmp_path / "x.npy", RNG.standard_normal((9, 11, channels)).astype(np.float32))
    return [str(tmp_path / name) for name in ("w.npy", "b.npy", "x.npy")]


@pytest.mark.parametrize(("layer", "weights_shape", "bias_shape"), MATLAB_LAYERS)
def test_matlab_weights_ported_to_pytorch_reproduce_the_run(
    tmp_path, layer, weights_shape, bias_shape
):
    torch = pytest.importorskip("torch")
    channels = 4 if "grouped" in layer or "transposed" in layer else 3
    w, b, x = _matlab_files(tmp_path, weights_shape, bias_shape, channels)
    code, out, err = invoke("run", layer, "--weights", w, "--bias", b, "--input", x,
                            "--output", str(tmp_path / "y.npy"))  # fmt: skip
    assert code == 0, out + err
    saved = str(tmp_path / "w.pt")
    code, out, err = invoke("translate", layer, "--to", "pytorch", "--weights", w, "--bias", b,
                            "--save-weights", saved, "--input-shape", f"9x11x{channels}",
                            "--json")  # fmt: skip
    assert code == 0, out + err
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(json.loads(out)[0]["text"].replace("y = layer(x)", ""), namespace)
    namespace["conv"].load_state_dict(torch.load(saved))  # PyTorch's own loader
    data = torch.from_numpy(np.moveaxis(np.load(x), -1, 0)[None].copy())
    y = namespace["layer"](data).detach().numpy()[0]
    np.testing.assert_allclose(np.moveaxis(y, 0, -1), np.load(tmp_path / "y.npy"), atol=1e-5)


def test_matlab_weights_ported_to_keras_reproduce_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    layer, weights_shape, bias_shape = MATLAB_LAYERS[0]
    w, b, x = _matlab_files(tmp_path, weights_shape, bias_shape, 3)
    code, out, err = invoke("run", layer, "--weights", w, "--bias", b, "--input", x,
                            "--output", str(tmp_path / "y.npy"))  # fmt: skip
    assert code == 0, out + err
    saved = str(tmp_path / "w.npz")
    code, out, err = invoke("translate", layer, "--to", "keras", "--weights", w, "--bias", b,
                            "--save-weights", saved, "--json")  # fmt: skip
    assert code == 0, out + err
    target = eval(json.loads(out)[0]["text"], {"keras": keras})  # Keras' own layer, as printed
    target.build((1, 9, 11, 3))
    with np.load(saved) as arrays:
        target.set_weights([arrays["kernel"], arrays["bias"]])
    y = np.asarray(target(np.load(x)[None]))[0]
    np.testing.assert_allclose(y, np.load(tmp_path / "y.npy"), atol=1e-5)


def test_pytorch_weights_ported_to_matlab_names_and_layout(tmp_path):
    torch = pytest.importorskip("torch")
    from scipy.io import loadmat

    module = torch.nn.Conv2d(3, 6, (3, 2), groups=3)
    np.save(tmp_path / "w.npy", module.weight.detach().numpy())
    np.save(tmp_path / "b.npy", module.bias.detach().numpy())
    saved = tmp_path / "w.mat"
    code, out, err = invoke("translate", "nn.Conv2d(3, 6, (3, 2), groups=3)", "--to", "matlab",
                            "--weights", str(tmp_path / "w.npy"), "--bias",
                            str(tmp_path / "b.npy"), "--save-weights", str(saved))  # fmt: skip
    assert code == 0, out + err
    ported = loadmat(saved)
    # MATLAB's grouped layout: h x w x C/g x F/g x g, and its Bias 1 x 1 x F/g x g
    assert ported["Weights"].shape == (3, 2, 1, 2, 3)
    expected = module.weight.detach().numpy().reshape(3, 2, 1, 3, 2).transpose(3, 4, 2, 1, 0)
    np.testing.assert_array_equal(ported["Weights"], expected)
    assert ported["Bias"].size == 6


def test_save_weights_refuses_random_weights_and_several_targets(tmp_path):
    out = str(tmp_path / "w.pt")
    code, _, err = invoke("translate", "nn.Conv2d(3, 8, 3)", "--to", "matlab", "--save-weights",
                          str(tmp_path / "w.mat"))  # fmt: skip
    assert code != 0 and "give them with --weights" in err
    np.save(tmp_path / "w.npy", np.ones((8, 3, 3, 3), np.float32))
    code, _, err = invoke("translate", "nn.Conv2d(3, 8, 3, bias=False)", "--weights",
                          str(tmp_path / "w.npy"), "--save-weights", out)  # fmt: skip
    assert code != 0 and "--to" in err


def test_the_layout_table():
    """Each permutation of the README's layout table, against the dialects' own layers."""
    from xconv.compat import keras, matlab, wolfram

    def canonical(layer):
        return np.asarray(layer.canonical_weights()[0])

    h, w, c, f, g, m = 3, 2, 4, 6, 2, 3

    def draw(*shape):  # float32: Keras keeps its weights so
        return RNG.standard_normal(shape).astype(np.float32)

    weights = draw(h, w, c, f)
    layer = matlab.convolution2dLayer([h, w], f, Weights=weights, Bias=np.zeros((1, 1, f)))
    np.testing.assert_array_equal(canonical(layer), weights.transpose(3, 2, 0, 1))
    grouped = draw(h, w, c // g, f // g, g)
    layer = matlab.groupedConvolution2dLayer([h, w], f // g, g, Weights=grouped,
                                             Bias=np.zeros((1, 1, f // g, g)))  # fmt: skip
    expected = grouped.transpose(4, 3, 2, 0, 1).reshape(f, c // g, h, w)
    np.testing.assert_array_equal(canonical(layer), expected)
    transposed = draw(h, w, f, c)
    layer = matlab.transposedConv2dLayer([h, w], f, Weights=transposed, Bias=np.zeros((1, 1, f)))
    np.testing.assert_array_equal(canonical(layer), transposed.transpose(3, 2, 0, 1))

    kernel = draw(h, w, c, f)
    layer = keras.Conv2D(f, (h, w))
    layer.build((None, 8, 8, c))
    layer.set_weights([kernel, np.zeros(f)])
    np.testing.assert_array_equal(canonical(layer), kernel.transpose(3, 2, 0, 1))
    depthwise = draw(h, w, c, m)
    layer = keras.DepthwiseConv2D((h, w), depth_multiplier=m)
    layer.build((None, 8, 8, c))
    layer.set_weights([depthwise, np.zeros(c * m)])
    expected = depthwise.transpose(2, 3, 0, 1).reshape(c * m, 1, h, w)
    np.testing.assert_array_equal(canonical(layer), expected)
    transposed = draw(h, w, f, c)
    layer = keras.Conv2DTranspose(f, (h, w))
    layer.build((None, 8, 8, c))
    layer.set_weights([transposed, np.zeros(f)])
    np.testing.assert_array_equal(canonical(layer), transposed.transpose(3, 2, 0, 1))

    same = draw(f, c, h, w)
    layer = wolfram.ConvolutionLayer(f, [h, w], Weights=same, Biases=np.zeros(f))
    np.testing.assert_array_equal(canonical(layer), same)
