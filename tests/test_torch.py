"""xconv on torch tensors: torch's own kernels where exact, xconv's paths with analytic
autograd elsewhere, and `xconv.torch.Conv`.

Oracles: torch's own `nn.functional` convolutions and autograd where they express the
layer, `torch.autograd.gradcheck` (finite differences) for gradients, and the float64
definition (`reference`) for what torch cannot express.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import reference_conv
from reference_transposed import reference_conv_transpose

import xconv

torch = pytest.importorskip("torch")
F = torch.nn.functional
gradcheck = torch.autograd.gradcheck

ALGORITHMS = ("auto", "direct", "gemm", "fft")
MODES = ("constant", "reflect", "symmetric", "replicate", "circular")


def tensor(*shape, dtype=torch.float64, seed=0, grad=False):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=generator).requires_grad_(grad)


# ---------------------------------------------------------------------------- forward


@pytest.mark.parametrize(
    "kw",
    [
        dict(padding=1),
        dict(padding=2, stride=2, dilation=2, groups=3),
        dict(padding=((1, 0), (2, 1))),
        dict(padding="same", stride=2),
        dict(padding=1, padding_value=-1.5),
        *(dict(padding=2, padding_mode=mode) for mode in MODES),
    ],
)
def test_forward_matches_the_definition(kw):
    x, w = tensor(2, 6, 9, 8), tensor(3, 2 if kw.get("groups") else 6, 3, 3, seed=1)
    b = tensor(3, seed=2)
    y = xconv.conv(x, w, b, **kw)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64
    expected = reference_conv(x.numpy(), w.numpy(), b.numpy(), **kw)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_auto_runs_torch_kernels_for_small_kernels_and_fft_for_large(monkeypatch):
    calls = []
    original = F.conv2d
    monkeypatch.setattr(F, "conv2d", lambda *a, **k: calls.append(1) or original(*a, **k))
    import xconv.backends.pytorch as backend

    monkeypatch.setitem(backend._CONV, 2, F.conv2d)
    small = xconv.conv(tensor(2, 8, 16, 16), tensor(8, 8, 3, 3), padding=1)
    assert calls == [1]
    large = xconv.conv(tensor(1, 4, 64, 64), tensor(4, 1, 31, 31), padding=15, groups=4)
    assert calls == [1]  # the FFT path, not torch's kernel
    assert small.shape == (2, 8, 16, 16) and large.shape == (1, 4, 64, 64)


@pytest.mark.parametrize(
    "kw",
    [
        dict(stride=2),
        dict(stride=2, padding="same"),
        dict(stride=3, padding=1, output_padding=2, dilation=2),
        dict(stride=2, padding=((0, 1), (2, 0)), groups=2),
    ],
)
def test_transposed_matches_the_definition(kw):
    x, w, b = tensor(2, 4, 5, 6), tensor(4, 3, 3, 3, seed=1), tensor(6 if kw.get("groups") else 3)
    y = xconv.conv_transpose(x, w, b, **kw)
    expected = reference_conv_transpose(x.numpy(), w.numpy(), b.numpy(), **kw)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_rank_four_runs_xconv_paths():
    x, w = tensor(1, 2, 5, 4, 4, 3), tensor(3, 2, 2, 2, 2, 2, seed=1)
    y = xconv.conv(x, w, padding=1)
    np.testing.assert_allclose(y.numpy(), reference_conv(x.numpy(), w.numpy(), padding=1))


# ---------------------------------------------------------------------------- autograd


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_forward(algorithm, mode):
    x, w = tensor(2, 4, 7, 6, grad=True), tensor(4, 2, 3, 2, seed=1, grad=True)
    b = tensor(4, seed=2, grad=True)
    options = dict(padding=((2, 1), (1, 1)), stride=(2, 1), groups=2, padding_mode=mode)
    assert gradcheck(lambda x, w, b: xconv.conv(x, w, b, algorithm=algorithm, **options), (x, w, b))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_gradcheck_transposed(algorithm):
    x, w = tensor(2, 4, 5, 4, grad=True), tensor(4, 3, 3, 2, seed=1, grad=True)
    b = tensor(6, seed=2, grad=True)
    options = dict(stride=2, padding="same", groups=2, dilation=(1, 2))
    run = lambda x, w, b: xconv.conv_transpose(x, w, b, algorithm=algorithm, **options)  # noqa: E731
    assert gradcheck(run, (x, w, b))


def test_gradcheck_channels_last_unbatched_1d_and_3d():
    x1, w1 = tensor(11, 3, grad=True), tensor(2, 3, 4, seed=1, grad=True)
    run = lambda x, w: xconv.conv(x, w, padding="same", channels_last=True, algorithm="fft")  # noqa: E731
    assert gradcheck(run, (x1, w1))
    x3, w3 = tensor(1, 2, 4, 5, 3, grad=True), tensor(2, 2, 2, 3, 2, seed=1, grad=True)
    assert gradcheck(lambda x, w: xconv.conv(x, w, padding=1, padding_mode="symmetric"), (x3, w3))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("transposed", [False, True])
def test_complex_gradients_follow_torch_conventions(algorithm, transposed):
    """torch's complex autograd passes dL/d(conj y) and wants dL/d(conj x): xconv's plain
    transposes must be conjugated around (found by the conformance suite on torch)."""
    rng = np.random.default_rng(4)

    def complex_tensor(*shape):
        data = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        return torch.from_numpy(data).requires_grad_(True)

    x, w, b = complex_tensor(2, 4, 9), complex_tensor(4, 2, 3), complex_tensor(4)
    options = dict(stride=2, padding=1, groups=2)
    ours = xconv.conv_transpose if transposed else xconv.conv
    theirs = F.conv_transpose1d if transposed else F.conv1d
    assert gradcheck(lambda x, w, b: ours(x, w, b, algorithm=algorithm, **options), (x, w, b))
    grad = complex_tensor(*ours(x, w, b, **options).shape).detach()
    ours(x, w, b, algorithm=algorithm, **options).backward(grad)
    mine = x.grad.clone(), w.grad.clone(), b.grad.clone()
    x.grad = w.grad = b.grad = None
    theirs(x, w, b, **options).backward(grad)
    torch.testing.assert_close(mine, (x.grad, w.grad, b.grad))


def test_gradients_match_torch_autograd_on_torch_kernels():
    x, w = tensor(2, 4, 9, 9, grad=True), tensor(6, 2, 3, 3, seed=1, grad=True)
    (xconv.conv(x, w, stride=2, padding=1, groups=2) ** 2).sum().backward()
    ours = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    (F.conv2d(x, w, stride=2, padding=1, groups=2) ** 2).sum().backward()
    torch.testing.assert_close(ours, (x.grad, w.grad))


def test_xconv_paths_are_differentiated_by_xconv_vjps(monkeypatch):
    from xconv.operations import Own

    seen = []
    original = Own.vjp
    monkeypatch.setattr(
        Own, "vjp", lambda own, call, *a: seen.append(call.algorithm) or original(own, call, *a)
    )
    x, w = tensor(1, 2, 40, grad=True), tensor(2, 2, 9, seed=1, grad=True)
    xconv.conv(x, w, padding=4, algorithm="fft").sum().backward()
    assert seen == ["fft"]
    expected = reference_conv(x.detach().numpy(), w.detach().numpy(), padding=4)
    assert x.grad is not None and expected.shape == (1, 2, 40)


def test_double_backward():
    x, w = tensor(1, 2, 12, grad=True), tensor(2, 2, 3, seed=1, grad=True)
    # torch's own kernel: as in torch
    (gx,) = torch.autograd.grad(xconv.conv(x, w).square().sum(), x, create_graph=True)
    gx.sum().backward()
    assert w.grad is not None
    # xconv's own path: a clear error, never a wrong number
    (gx,) = torch.autograd.grad(
        xconv.conv(x, w, algorithm="gemm").square().sum(), x, create_graph=True
    )
    with pytest.raises(RuntimeError, match="twice"):
        gx.sum().backward()


@pytest.mark.filterwarnings("ignore::UserWarning")  # dynamo on array-api-compat's caches
def test_torch_compile_gives_the_same_numbers():
    x, w = tensor(1, 2, 30), tensor(3, 2, 5, seed=1)
    compiled = torch.compile(
        lambda x, w: xconv.conv(x, w, padding=2, algorithm="fft"), backend="aot_eager"
    )
    torch.testing.assert_close(compiled(x, w), xconv.conv(x, w, padding=2, algorithm="fft"))


# ---------------------------------------------------------------------------- tensors


def test_channels_last_memory_format_is_kept():
    x = tensor(2, 3, 8, 8, dtype=torch.float32).to(memory_format=torch.channels_last)
    y = xconv.conv(x, tensor(4, 3, 3, 3, dtype=torch.float32), padding=1)
    assert y.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_bfloat16_accumulates_in_float32(algorithm):
    x, w = tensor(2, 3, 20, dtype=torch.bfloat16), tensor(4, 3, 5, seed=1, dtype=torch.bfloat16)
    y = xconv.conv(x, w, padding=2, algorithm=algorithm)
    assert y.dtype == torch.bfloat16
    expected = reference_conv(x.float().numpy(), w.float().numpy(), padding=2)
    np.testing.assert_allclose(y.float().numpy(), expected, rtol=2**-7, atol=2**-7 * 10)


def test_numpy_weights_move_to_the_input_library():
    x = tensor(1, 2, 6)
    y = xconv.conv(x, np.ones((3, 2, 2)), np.arange(3.0))
    assert isinstance(y, torch.Tensor)
    expected = reference_conv(x.numpy(), np.ones((3, 2, 2)), np.arange(3.0))
    np.testing.assert_allclose(y.numpy(), expected)


def test_other_library_mixes_name_the_parameters():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"x \(torch\), weight .* different array libraries"):
        xconv.conv(tensor(1, 2, 6), strict.ones((3, 2, 2)))


# ---------------------------------------------------------------------------- the module


def test_module_from_a_matlab_layer_trains_one_step():
    from xconv.compat import matlab
    from xconv.torch import Conv

    layer = matlab.groupedConvolution2dLayer(
        3, 2, 2, Padding="same", Stride=2, NumChannelsPerGroup=2
    )
    layer.initialize()
    module = Conv.from_layer(layer)
    data = np.random.default_rng(0).random((7, 6, 4, 2)).astype(np.float32)  # H W C N
    x = torch.from_numpy(np.ascontiguousarray(data.transpose(3, 2, 0, 1)))
    ours = module(x).detach().numpy().transpose(2, 3, 1, 0)
    np.testing.assert_allclose(ours, np.asarray(layer(data)), rtol=1e-5, atol=1e-6)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    before = module(x).square().mean()
    before.backward()
    optimizer.step()
    assert module(x).square().mean().item() < before.item()


@pytest.mark.parametrize("dialect", ["keras", "wolfram"])
def test_module_from_keras_and_wolfram_layers(dialect):
    from xconv.compat import keras, wolfram
    from xconv.torch import Conv

    rng = np.random.default_rng(1)
    if dialect == "keras":
        layer = keras.Conv1D(3, 4, strides=2, padding="same", dilation_rate=1)
        layer.build((None, 12, 2))
        x = rng.random((2, 12, 2)).astype(np.float32)  # channels last, as Keras
    else:
        layer = wolfram.NetInitialize(wolfram.ConvolutionLayer(3, 4, Stride=2, Input=[2, 12]))
        x = rng.random((2, 12)).astype(np.float32)  # one example, channels first
    module = Conv.from_layer(layer)
    ours = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, np.asarray(layer(x)), rtol=1e-5, atol=1e-6)


def test_module_state_dict_round_trip_and_transposed_and_rank_four():
    from xconv.torch import Conv

    spec = xconv.ConvSpec.from_weight_shape((4, 3, 2, 2), transposed=True, stride=2, padding="same")
    module = Conv(spec)
    copy = Conv(spec, bias=True)
    copy.load_state_dict(module.state_dict())
    x = tensor(1, 4, 5, 5, dtype=torch.float32)
    torch.testing.assert_close(copy(x), module(x))
    expected = reference_conv_transpose(
        x.numpy(),
        module.weight.detach().numpy(),
        module.bias.detach().numpy(),
        stride=2,
        padding="same",
    )
    np.testing.assert_allclose(copy(x).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    deep = Conv(xconv.ConvSpec.from_weight_shape((2, 1, 2, 2, 2, 2), padding=1), bias=False)
    assert deep(tensor(1, 1, 3, 3, 3, 3, dtype=torch.float32)).shape == (1, 2, 4, 4, 4, 4)
    with pytest.raises(ValueError, match="weight must have shape"):
        Conv(spec, torch.ones(2, 2, 2, 2))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_readme_example_runs(capsys):
    """The README's "PyTorch and JAX" block, run as written; its printed line is checked."""
    pytest.importorskip("jax")
    from readme import run_block

    _, printed, expected = run_block("PyTorch and JAX", capsys)
    assert printed == expected


@pytest.mark.parametrize(
    "module",
    [
        lambda: torch.nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3, padding_mode="reflect"),
        lambda: torch.nn.Conv1d(2, 4, 5, dilation=2, bias=False),
        lambda: torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
    ],
)
def test_module_from_a_torch_module_computes_what_it_computes(module):
    from xconv.torch import Conv

    torch.manual_seed(0)
    original = module().double()
    ported = Conv.from_layer(original)
    x = torch.randn(2, original.in_channels, *(9,) * (original.weight.ndim - 2)).double()
    torch.testing.assert_close(ported(x), original(x))


def test_module_keeps_a_keras_activation():
    from xconv.compat import keras
    from xconv.torch import Conv

    layer = keras.Conv2D(4, 3, activation="relu")
    layer.build((None, 8, 8, 3))
    ported = Conv.from_layer(layer)
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 3)).astype(np.float32)
    y = ported(torch.from_numpy(x)).detach().numpy()
    assert y.min() == 0.0  # relu ran
    np.testing.assert_allclose(y, np.asarray(layer(x)), atol=1e-5)


def test_module_keeps_complex_parameters_and_refuses_bool():
    from xconv.torch import Conv

    spec = xconv.ConvSpec.from_weight_shape((4, 2, 3), padding=1)
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((4, 2, 3)) + 1j * rng.standard_normal((4, 2, 3))
    bias = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    module = Conv(spec, weight, bias)
    assert module.weight.dtype == module.bias.dtype == torch.complex128
    x = rng.standard_normal((1, 2, 7)) + 1j * rng.standard_normal((1, 2, 7))
    expected = reference_conv(x, weight, bias, padding=[(1, 1)])
    np.testing.assert_allclose(module(torch.from_numpy(x)).detach().numpy(), expected, atol=1e-12)
    with pytest.raises(TypeError, match="complex dtype"):
        Conv(spec, weight, dtype=torch.float32)
    with pytest.raises(TypeError, match="weight must be floating or complex"):
        Conv(spec, np.ones((4, 2, 3), bool))
