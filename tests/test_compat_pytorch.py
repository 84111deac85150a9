"""`xconv.compat.pytorch`: PyTorch's convolution modules and functions, against torch itself
(same weights, same data), with torch's own error messages, read from text without being
evaluated, and translated into the other dialects."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples
from xconv_cli.main import main

from xconv.compat import pytorch, translate
from xconv.compat.parse import LayerSyntaxError, parse

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(5)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def torch_twin(layer, name: str, args: tuple, kwargs: dict):
    """torch's module built from the same arguments, holding the layer's weights."""
    twin = getattr(torch.nn, name)(*args, **kwargs)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight))
        if layer.bias is not None:
            twin.bias.copy_(torch.from_numpy(layer.bias))
    return twin


@settings(max_examples=examples(40), deadline=None)
@given(
    rank=st.integers(1, 3),
    transposed=st.booleans(),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.integers(0, 2),
    groups=st.sampled_from([1, 2]),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    same=st.booleans(),
    bias=st.booleans(),
    batched=st.booleans(),
)
def test_modules_match_torch(
    rank, transposed, kernel, stride, dilation, padding, groups, mode, same, bias, batched
):
    channels, filters, size = 2 * groups, 3 * groups, 6
    kwargs = {"stride": stride, "dilation": dilation, "groups": groups, "bias": bias}
    if transposed:
        name = f"ConvTranspose{rank}d"
        kwargs["padding"] = min(padding, dilation * (kernel - 1))
        kwargs["output_padding"] = max(stride, dilation) - 1
    else:
        name = f"Conv{rank}d"
        kwargs["padding"] = "same" if same and stride == 1 else padding
        kwargs["padding_mode"] = mode
    layer = getattr(pytorch, name)(channels, filters, kernel, **kwargs)
    twin = torch_twin(layer, name, (channels, filters, kernel), kwargs)
    x = rand(*([2] if batched else []), channels, *[size] * rank)
    expected = twin(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(layer(x), expected, rtol=2e-5, atol=2e-5)


def test_lazy_modules_and_functions_match_torch():
    x = rand(2, 4, 7, 8)
    lazy = pytorch.LazyConv2d(6, 3, stride=2, padding=1, groups=2)
    assert lazy.weight is None and lazy.in_channels is None
    y = lazy(x)
    assert lazy.weight.shape == (6, 2, 3, 3)
    expected = F.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(lazy.weight),
        torch.from_numpy(lazy.bias),
        stride=2,
        padding=1,
        groups=2,
    )
    np.testing.assert_allclose(y, expected.numpy(), rtol=2e-5, atol=2e-5)

    w, b = rand(4, 3, 4, 3), rand(3)
    got = pytorch.conv_transpose2d(x, w, b, stride=(2, 1), padding=1, output_padding=(1, 0))
    expected = F.conv_transpose2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        torch.from_numpy(b),
        stride=(2, 1),
        padding=1,
        output_padding=(1, 0),
    )
    np.testing.assert_allclose(got, expected.numpy(), rtol=2e-5, atol=2e-5)
    w = rand(6, 2, 3)
    got = pytorch.conv1d(x[0, :, 0], w, None, 1, "same", 2, 2)  # unbatched, dilated, grouped
    expected = F.conv1d(torch.from_numpy(x[0, :, 0]), torch.from_numpy(w), None, 1, "same", 2, 2)
    np.testing.assert_allclose(got, expected.numpy(), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("Conv2d", (3, 8, 3), {"groups": 2}),
        ("Conv2d", (4, 6, 3), {"groups": 4}),
        ("Conv2d", (4, 8, 3), {"groups": 0}),
        ("Conv2d", (4, 8, 3), {"padding_mode": "mirror"}),
        ("Conv2d", (4, 8, 3), {"padding": "full"}),
        ("Conv2d", (4, 8, 3), {"padding": "same", "stride": 2}),
        ("ConvTranspose2d", (4, 8, 3), {"padding_mode": "reflect"}),
    ],
)
def test_constructor_errors_are_torch_messages(name, args, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn, name)(*args, **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(pytorch, name)(*args, **kwargs)
    assert _sorted_sets(str(ours.value)) == _sorted_sets(str(theirs.value))


def _sorted_sets(message: str) -> str:
    """torch prints sets of strings in hash order: compare them sorted."""
    return re.sub(r"\{([^}]*)\}", lambda m: str(sorted(m.group(1).split(", "))), message)


def test_call_errors_name_the_problem():
    conv = pytorch.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match="expected input\\[1, 4, 9, 9\\] to have 3 channels"):
        conv(rand(1, 4, 9, 9))
    with pytest.raises(ValueError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\)"):
        conv(rand(9, 9))
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of 2 ints"):
        pytorch.Conv2d(3, 8, (3, 3, 3))
    with pytest.raises(ValueError, match="weight must have shape \\(8, 3, 3, 3\\)"):
        conv.set_weights(rand(8, 3, 3, 2), rand(8))
    with pytest.raises(ValueError, match="bias=False: it has no bias"):
        pytorch.Conv2d(3, 8, 3, bias=False).set_weights(rand(8, 3, 3, 3), rand(8))
    with pytest.raises(ValueError, match="has a bias: give it with the weight"):
        conv.set_weights(rand(8, 3, 3, 3))
    with pytest.raises(ValueError, match="output padding must be smaller"):
        pytorch.ConvTranspose2d(4, 8, 3, stride=2, output_padding=2)  # torch: at the call


@pytest.mark.parametrize(
    ("text", "kind", "spec"),
    [
        ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", "Conv2d", {"in_channels": 3}),
        ("torch.nn.Conv1d(2, 4, 5, 1, 'same', 2)", "Conv1d", {"padding": "same"}),
        ("Conv3d(2, 4, (1, 2, 3), padding_mode='circular', padding=1)", "Conv3d", {}),
        ("nn.LazyConvTranspose2d(4, 3, stride=2, output_padding=1)", "LazyConvTranspose2d", {}),
        ("nn.ConvTranspose2d(4, 2, 3, 2, 1, 1, 1, False, 1)", "ConvTranspose2d", {}),
        ("nn.Conv2d(3, 8, 3, device='cuda', dtype=torch.float64)", "Conv2d", {}),
        (
            "F.conv2d(x, torch.randn(8, 3, 3, 3), torch.zeros(8), padding=1)",
            "conv2d",
            {"out_channels": 8},
        ),
        (
            "torch.nn.functional.conv_transpose1d(inp, torch.empty((4, 2, 5)), None, 2)",
            "conv_transpose1d",
            {"out_channels": 2},
        ),
        ("torch.conv3d(x, weight, stride=2)", "conv3d", None),
    ],
)
def test_text_is_read_not_evaluated(text, kind, spec):
    layer = parse(text)
    assert type(layer).__name__ == kind and layer.dialect == "pytorch"
    if spec is None:
        with pytest.raises(ValueError, match="--weights FILE"):
            layer.spec  # noqa: B018 - the weight is only a name
        return
    for key, value in spec.items():
        assert getattr(layer.spec, key) == value


@pytest.mark.parametrize(
    "text",
    [
        "F.conv2d(x, __import__('os').system('true'))",
        "F.conv2d(x, w.cuda())",
        "nn.Conv2d(3, 8, eval('3'))",
        "F.conv2d(x, torch.load('w.pt'))",
    ],
)
def test_calls_other_than_tensor_creators_are_refused(text):
    with pytest.raises(LayerSyntaxError):
        parse(text)


def test_pytorch_layers_translate_to_every_dialect():
    layer = pytorch.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), dilation=1, groups=2)
    x = rand(2, 4, 9, 8)
    expected = layer(x)
    wolfram_layer = translate(layer, "wolfram")
    np.testing.assert_allclose(wolfram_layer(x), expected, rtol=1e-5, atol=1e-5)
    matlab_layer = translate(layer, "matlab")
    y = matlab_layer(np.moveaxis(np.moveaxis(x, 0, -1), 0, -2))
    np.testing.assert_allclose(np.moveaxis(np.moveaxis(y, -1, 0), -1, 1), expected, atol=1e-5)
    same = pytorch.Conv1d(3, 2, 4, padding="same", dilation=2)
    keras_layer = translate(same, "keras")
    assert keras_layer.padding == "same" and keras_layer.data_format == "channels_first"
    x = rand(2, 3, 11)
    np.testing.assert_allclose(np.asarray(keras_layer(x)), same(x), rtol=1e-5, atol=1e-5)


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_runs_pytorch_text_with_given_weights(tmp_path):
    x, w, b = rand(2, 4, 9, 10), rand(6, 2, 3, 3), rand(6)
    for name, array in (("x", x), ("w", w), ("b", b)):
        np.save(tmp_path / f"{name}.npy", array)
    expected = F.conv2d(*map(torch.from_numpy, (x, w, b)), stride=2, padding=1, groups=2)
    for text in (
        "nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)",
        "F.conv2d(x, w, b, stride=2, padding=1, groups=2)",
    ):
        out = tmp_path / "y.npy"
        invoke(
            "run",
            text,
            "--input",
            str(tmp_path / "x.npy"),
            "--weights",
            str(tmp_path / "w.npy"),
            "--bias",
            str(tmp_path / "b.npy"),
            "--output",
            str(out),
        )
        np.testing.assert_allclose(np.load(out), expected.numpy(), rtol=2e-5, atol=2e-5)
    summary = json.loads(
        invoke("shape", "nn.LazyConv2d(8, 3, padding=1)", "--input-shape", "3x32x?", "--json")
    )
    assert summary["output_shape"] == [8, 32, None]
    rows = json.loads(invoke("translate", "nn.Conv2d(2, 4, 3, padding='same')", "--json"))
    assert [row["target"] for row in rows] == ["wolfram", "matlab", "keras"]
    assert rows[1]["text"].startswith("convolution2dLayer([3 3], 4, 'Padding', 'same'")
