"""``xconv.conv_vjp`` and ``xconv.conv_transpose_vjp`` against independent oracles.

Three oracles, none of them xconv: the loop references (a gradient is exact when its
inner product with any direction equals the derivative of the reference along that
direction, which for these (bi)linear maps is the reference applied to the direction),
PyTorch autograd, and central finite differences of the reference.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import NUMPY, Namespace, NumpyNamespace, StrictNamespace, TorchNamespace
from reference import reference_conv, resolve_padding
from reference_transposed import reference_conv_transpose
from strategies import ConvProblem, conv_problems, examples
from test_transposed import ALGORITHMS, TransposedProblem, transposed_problems

import xconv

RTOL = {
    "float16": 2e-2,
    "float32": 2e-5,
    "float64": 1e-11,
    "complex64": 4e-5,
    "complex128": 2e-11,
}
TORCH_MODES = ("constant", "reflect", "replicate", "circular")  # torch has no "symmetric"


# ---------------------------------------------------------------------------- helpers


def spatial_axes(x: np.ndarray, rank: int, channels_last: bool) -> tuple[int, ...]:
    first = x.ndim - rank - (1 if channels_last else 0)
    return tuple(range(first, first + rank))


def channel_axis(x: np.ndarray, rank: int, channels_last: bool) -> int:
    return x.ndim - 1 if channels_last else x.ndim - rank - 1


def bias_grad_oracle(gy: np.ndarray, rank: int, channels_last: bool) -> np.ndarray:
    c = channel_axis(gy, rank, channels_last)
    return np.sum(gy, axis=tuple(a for a in range(gy.ndim) if a != c))


def random_like(rng, shape, dtype: str):
    a = rng.uniform(-1, 1, shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.uniform(-1, 1, shape)
    return a.astype(dtype)


def spread(g, operand, direction) -> float:
    """FFT rounding spreads over the output: a bound that does not follow the sparsity."""
    return 0.1 * np.sum(np.abs(g)) * np.max(np.abs(operand), initial=0) * np.sum(np.abs(direction))


def assert_directional(lhs, rhs, bound, dtype: str, what: str):
    tol = RTOL[dtype] * bound + 1e-300
    assert abs(lhs - rhs) <= tol, f"{what}: {lhs!r} != {rhs!r} (tol {tol:.3g}, {dtype})"


def check_conv_vjp(ns: Namespace, problem: ConvProblem, algorithm: str):
    """<gx, dx> = <gy, conv'(dx)>, <gw, dw> = <gy, conv(x, dw)>, gb = sum of gy."""
    kw = problem.kwargs
    rank = problem.weight.ndim - 2
    cl = kw["channels_last"]
    out_dtype = problem.out_dtype
    y = reference_conv(problem.x, problem.weight, **kw)
    rng = np.random.default_rng(5)
    gy = random_like(rng, y.shape, out_dtype)
    grads = xconv.conv_vjp(
        ns.asarray(gy), ns.asarray(problem.x), ns.asarray(problem.weight), algorithm=algorithm, **kw
    )
    assert all(ns.is_array(g) for g in grads), [type(g) for g in grads]
    gx, gw, gb = (ns.to_numpy(g) for g in grads)
    assert gx.shape == problem.x.shape and gw.shape == problem.weight.shape
    assert gx.dtype == gw.dtype == gb.dtype == np.dtype(out_dtype)
    linear = dict(kw, padding_value=0.0)  # the part of conv that is linear in x
    dx = rng.uniform(-1, 1, problem.x.shape)
    dw = rng.uniform(-1, 1, problem.weight.shape)
    conv_dx = reference_conv(dx, problem.weight, **linear)
    bound_x = np.sum(np.abs(gy) * reference_conv(np.abs(dx), np.abs(problem.weight), **linear))
    bound_x += spread(gy, problem.weight, dx)
    assert_directional(np.sum(gx * dx), np.sum(gy * conv_dx), bound_x, out_dtype, "grad_input")
    conv_dw = reference_conv(problem.x, dw, **kw)
    abs_kw = dict(kw, padding_value=abs(kw["padding_value"]))
    bound_w = np.sum(np.abs(gy) * reference_conv(np.abs(problem.x), np.abs(dw), **abs_kw))
    bound_w += spread(gy, np.abs(problem.x) + abs(kw["padding_value"]), dw)
    assert_directional(np.sum(gw * dw), np.sum(gy * conv_dw), bound_w, out_dtype, "grad_weight")
    expected_b = bias_grad_oracle(gy.astype(np.complex128), rank, cl)
    np.testing.assert_allclose(
        gb, expected_b, rtol=0, atol=RTOL[out_dtype] * (np.sum(np.abs(gy)) + 1)
    )


def check_transpose_vjp(ns: Namespace, problem: TransposedProblem, algorithm: str):
    kw = problem.kwargs
    rank = problem.weight.ndim - 2
    out_dtype = problem.out_dtype
    z = reference_conv_transpose(problem.x, problem.weight, **kw)
    rng = np.random.default_rng(6)
    gz = random_like(rng, z.shape, out_dtype)
    grads = xconv.conv_transpose_vjp(
        ns.asarray(gz), ns.asarray(problem.x), ns.asarray(problem.weight), algorithm=algorithm, **kw
    )
    assert all(ns.is_array(g) for g in grads), [type(g) for g in grads]
    gx, gw, gb = (ns.to_numpy(g) for g in grads)
    assert gx.shape == problem.x.shape and gw.shape == problem.weight.shape
    assert gx.dtype == gw.dtype == gb.dtype == np.dtype(out_dtype)
    dx = rng.uniform(-1, 1, problem.x.shape)
    dw = rng.uniform(-1, 1, problem.weight.shape)
    w_abs = np.abs(problem.weight)
    bound_x = np.sum(np.abs(gz) * reference_conv_transpose(np.abs(dx), w_abs, **kw))
    bound_x += spread(gz, problem.weight, dx)
    lhs = np.sum(gx * dx)
    rhs = np.sum(gz * reference_conv_transpose(dx, problem.weight, **kw))
    assert_directional(lhs, rhs, bound_x, out_dtype, "grad_input")
    bound_w = np.sum(np.abs(gz) * reference_conv_transpose(np.abs(problem.x), np.abs(dw), **kw))
    bound_w += spread(gz, problem.x, dw)
    rhs = np.sum(gz * reference_conv_transpose(problem.x, dw, **kw))
    assert_directional(np.sum(gw * dw), rhs, bound_w, out_dtype, "grad_weight")
    expected_b = bias_grad_oracle(gz.astype(np.complex128), rank, kw["channels_last"])
    np.testing.assert_allclose(
        gb, expected_b, rtol=0, atol=RTOL[out_dtype] * (np.sum(np.abs(gz)) + 1)
    )


# ---------------------------------------------------------------------------- conv_vjp


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=NumpyNamespace.dtypes))
def test_conv_vjp_numpy(algorithm, problem):
    check_conv_vjp(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(10))
@given(problem=conv_problems(dtypes=StrictNamespace.dtypes))
def test_conv_vjp_array_api_strict(strict_ns, algorithm, problem):
    check_conv_vjp(strict_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(10))
@given(problem=conv_problems(dtypes=TorchNamespace.dtypes))
def test_conv_vjp_torch(torch_ns, algorithm, problem):
    check_conv_vjp(torch_ns, problem, algorithm)


def _torch_conv_grads(problem: ConvProblem, gy: np.ndarray):
    """PyTorch autograd of pad-then-convolve, in float64, channel-first batched."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    kw = problem.kwargs
    rank = problem.weight.ndim - 2
    x = problem.x
    if x.ndim == rank + 1:
        x, gy = x[None], gy[None]
    if kw["channels_last"]:
        x, gy = np.moveaxis(x, -1, 1), np.moveaxis(gy, -1, 1)
    pairs = resolve_padding(
        kw["padding"], x.shape[2:], problem.weight.shape[2:], kw["stride"], kw["dilation"]
    )
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(problem.weight, requires_grad=True)
    tb = torch.zeros(problem.weight.shape[0], dtype=torch.float64, requires_grad=True)
    flat = [p for pair in reversed(pairs) for p in pair]
    mode = kw["padding_mode"]
    if mode == "constant":
        padded = functional.pad(tx, flat, mode="constant", value=kw["padding_value"])
    else:
        padded = functional.pad(tx, flat, mode=mode)
    conv = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}[rank]
    out = conv(padded, tw, tb, stride=kw["stride"], dilation=kw["dilation"], groups=kw["groups"])
    gx, gw, gb = torch.autograd.grad(out, (tx, tw, tb), torch.tensor(gy))
    gx = gx.numpy()
    if kw["channels_last"]:
        gx = np.moveaxis(gx, 1, -1)
    return (gx if problem.x.ndim == rank + 2 else gx[0]), gw.numpy(), gb.numpy()


@settings(max_examples=examples(60))
@given(
    problem=conv_problems(dtypes=("float64",), padding_modes=TORCH_MODES),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_conv_vjp_matches_torch_autograd(problem, algorithm):
    y = reference_conv(problem.x, problem.weight, **problem.kwargs)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    expected = _torch_conv_grads(problem, gy)
    got = xconv.conv_vjp(gy, problem.x, problem.weight, algorithm=algorithm, **problem.kwargs)
    for name, a, b in zip(("grad_input", "grad_weight", "grad_bias"), got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "replicate", "circular"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_conv_vjp_finite_differences(mode, algorithm):
    """Every gradient element against a central difference of the reference."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 5, 4))
    w = rng.standard_normal((2, 2, 2, 3))
    b = rng.standard_normal(2)
    kw = dict(stride=(2, 1), padding=((2, 1), (1, 3)), dilation=(1, 2), groups=2)
    kw |= dict(padding_mode=mode, padding_value=0.75)
    gy = rng.standard_normal(reference_conv(x, w, b, **kw).shape)

    def loss(x_, w_, b_):
        return np.sum(gy * reference_conv(x_, w_, b_, **kw))

    def numeric(arr, f):
        grad = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            step = np.zeros_like(arr)
            step[i] = 1e-4
            grad[i] = (f(arr + step) - f(arr - step)) / 2e-4
        return grad

    gx, gw, gb = xconv.conv_vjp(gy, x, w, algorithm=algorithm, **kw)
    np.testing.assert_allclose(gx, numeric(x, lambda a: loss(a, w, b)), atol=1e-7)
    np.testing.assert_allclose(gw, numeric(w, lambda a: loss(x, a, b)), atol=1e-7)
    np.testing.assert_allclose(gb, numeric(b, lambda a: loss(x, w, a)), atol=1e-7)


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "replicate", "circular"])
def test_padding_folds_back_by_hand(mode):
    """1-d, 1x1 identity kernel: grad_input counts how often each sample is copied."""
    x = np.arange(4.0)[None, None]
    w = np.ones((1, 1, 1))
    gy = np.ones((1, 1, 4 + 3 + 2))
    gx, _, _ = xconv.conv_vjp(gy, x, w, padding=((3, 2),), padding_mode=mode)
    expected = {
        # padded: reflect 3 2 1 | 0 1 2 3 | 2 1; symmetric 2 1 0 | 0 1 2 3 | 3 2
        "reflect": [1, 3, 3, 2],
        "symmetric": [2, 2, 3, 2],
        "replicate": [4, 1, 1, 3],
        "circular": [2, 3, 2, 2],  # 1 2 3 | 0 1 2 3 | 0 1
    }[mode]
    np.testing.assert_array_equal(gx[0, 0], expected)


def test_padding_value_reaches_only_the_weight_gradient():
    x = np.zeros((1, 1, 3))
    w = np.ones((1, 1, 3))
    gy = np.ones((1, 1, 3))
    gx, gw, _ = xconv.conv_vjp(gy, x, w, padding=1, padding_value=2.0)
    np.testing.assert_array_equal(gx[0, 0], [2, 3, 2])
    np.testing.assert_array_equal(gw[0, 0], [2, 0, 2])  # the padded 2s meet taps 0 and 2


@settings(max_examples=examples(15))
@given(problem=conv_problems(dtypes=("float64", "complex128")))
def test_conv_vjp_gemm_under_tiny_workspace(problem):
    with xconv.workspace_limit(4096):
        check_conv_vjp(NUMPY, problem, "gemm")


# ---------------------------------------------------------------------------- conv_transpose_vjp


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(30))
@given(problem=transposed_problems(dtypes=NumpyNamespace.dtypes))
def test_conv_transpose_vjp_numpy(algorithm, problem):
    check_transpose_vjp(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(8))
@given(problem=transposed_problems(dtypes=StrictNamespace.dtypes))
def test_conv_transpose_vjp_array_api_strict(strict_ns, algorithm, problem):
    check_transpose_vjp(strict_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(8))
@given(problem=transposed_problems(dtypes=TorchNamespace.dtypes))
def test_conv_transpose_vjp_torch(torch_ns, algorithm, problem):
    check_transpose_vjp(torch_ns, problem, algorithm)


@settings(max_examples=examples(40))
@given(
    problem=transposed_problems(
        dtypes=("float64",),
        crop_kinds=("int", "per_dim", "valid"),
        channels_last=False,
        batched=True,
    ),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_conv_transpose_vjp_matches_torch_autograd(problem, algorithm):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    kw = problem.kwargs
    rank = problem.weight.ndim - 2
    transpose = {
        1: functional.conv_transpose1d,
        2: functional.conv_transpose2d,
        3: functional.conv_transpose3d,
    }[rank]
    tx = torch.tensor(problem.x, requires_grad=True)
    tw = torch.tensor(problem.weight, requires_grad=True)
    tb = torch.zeros(
        problem.weight.shape[1] * kw["groups"], dtype=torch.float64, requires_grad=True
    )
    try:
        out = transpose(
            tx,
            tw,
            tb,
            stride=kw["stride"],
            padding=0 if kw["padding"] == "valid" else kw["padding"],
            output_padding=kw["output_padding"],
            groups=kw["groups"],
            dilation=kw["dilation"],
        )
    except RuntimeError:  # torch wants output_padding < stride or dilation per pair
        return
    gz = np.random.default_rng(2).standard_normal(tuple(out.shape))
    expected = torch.autograd.grad(out, (tx, tw, tb), torch.tensor(gz))
    got = xconv.conv_transpose_vjp(gz, problem.x, problem.weight, algorithm=algorithm, **kw)
    for name, a, b in zip(("grad_input", "grad_weight", "grad_bias"), got, expected, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_conv_transpose_vjp_finite_differences(algorithm):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 4, 3, 4))
    w = rng.standard_normal((4, 1, 3, 2))
    b = rng.standard_normal(2)
    kw = dict(
        stride=(2, 3), padding=((1, 2), (0, 1)), output_padding=(1, 2), dilation=(2, 1), groups=2
    )
    gz = rng.standard_normal(reference_conv_transpose(x, w, b, **kw).shape)

    def loss(x_, w_, b_):
        return np.sum(gz * reference_conv_transpose(x_, w_, b_, **kw))

    def numeric(arr, f):
        grad = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            step = np.zeros_like(arr)
            step[i] = 1e-4
            grad[i] = (f(arr + step) - f(arr - step)) / 2e-4
        return grad

    gx, gw, gb = xconv.conv_transpose_vjp(gz, x, w, algorithm=algorithm, **kw)
    np.testing.assert_allclose(gx, numeric(x, lambda a: loss(a, w, b)), atol=1e-7)
    np.testing.assert_allclose(gw, numeric(w, lambda a: loss(x, a, b)), atol=1e-7)
    np.testing.assert_allclose(gb, numeric(b, lambda a: loss(x, w, a)), atol=1e-7)


# ---------------------------------------------------------------------------- errors


def test_conv_vjp_errors():
    x, w = np.ones((2, 3, 6, 6)), np.ones((4, 3, 3, 3))
    good = np.ones((2, 4, 4, 4))
    with pytest.raises(ValueError, match="grad_output"):
        xconv.conv_vjp(np.ones((2, 4, 5, 4)), x, w)
    with pytest.raises(ValueError, match="grad_output"):
        xconv.conv_vjp(np.ones((2, 3, 4, 4)), x, w)
    with pytest.raises(ValueError, match="grad_output"):
        xconv.conv_vjp(good[0], x, w)  # unbatched gradient of a batched forward
    with pytest.raises(TypeError, match="grad_output"):
        xconv.conv_vjp(good.astype(np.complex128), x, w)
    with pytest.raises(TypeError, match="grad_output"):
        xconv.conv_vjp(good.astype(bool), x, w)
    with pytest.raises(ValueError, match="channels"):
        xconv.conv_vjp(good, np.ones((2, 2, 6, 6)), w)
    with pytest.raises(ValueError, match="padding"):
        xconv.conv_vjp(np.ones((2, 4, 8, 8)), x, w, padding=6, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode"):
        xconv.conv_vjp(good, x, w, padding_mode="mirror")
    with pytest.raises(ValueError, match="algorithm"):
        xconv.conv_vjp(good, x, w, algorithm="winograd")
    with pytest.raises(ValueError, match="weight"):
        xconv.conv_vjp(good, x, np.ones((4, 3)))


def test_conv_transpose_vjp_errors():
    x, w = np.ones((1, 2, 4, 4)), np.ones((2, 3, 3, 3))
    good = np.ones((1, 3, 6, 6))
    xconv.conv_transpose_vjp(good, x, w)
    with pytest.raises(ValueError, match="grad_output"):
        xconv.conv_transpose_vjp(np.ones((1, 3, 6, 5)), x, w)
    with pytest.raises(ValueError, match="padding"):
        xconv.conv_transpose_vjp(good, x, w, padding=4)
    with pytest.raises(ValueError, match="output_padding"):
        xconv.conv_transpose_vjp(good, x, w, output_padding=1)
    with pytest.raises(ValueError, match="channels"):
        xconv.conv_transpose_vjp(good, np.ones((1, 3, 4, 4)), w)


def _stride_one_problem(rng, x_shape, weight_shape, padding, dilation, groups):
    """A float64 stride-1 problem with zero padding, and an output gradient for it."""
    problem = ConvProblem(
        x=rng.standard_normal(x_shape),
        weight=rng.standard_normal(weight_shape),
        bias=None,
        kwargs=dict(
            stride=1,
            padding=padding,
            dilation=dilation,
            groups=groups,
            padding_mode="constant",
            padding_value=0.0,
            channels_last=False,
        ),
    )
    y = reference_conv(problem.x, problem.weight, **problem.kwargs)
    return problem, rng.standard_normal(y.shape)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("size", [(9, 8), (24, 30)])
@pytest.mark.parametrize("call_ns", [0.0, 1e9])
def test_conv_vjp_wide_channels_match_torch(monkeypatch, algorithm, groups, size, call_ns):
    """Enough channels per group for the matmul routes of channel mixing; the larger size
    takes the weight gradient's flattened-grid GEMM (few margin samples), the smaller its
    im2col GEMM. A free BLAS call gives the grid one product per image, a costly one lays
    the images side by side in one grid."""
    from xconv.backends.numpy import NumPyBackend

    costs = dataclasses.replace(NumPyBackend.costs, gemm_call_ns=call_ns)
    monkeypatch.setattr(NumPyBackend, "costs", costs)
    rng = np.random.default_rng(13)
    problem, gy = _stride_one_problem(
        rng, (3, 12, *size), (10, 12 // groups, 3, 4), ((2, 1), (3, 0)), (1, 2), groups
    )
    expected = _torch_conv_grads(problem, gy)
    got = xconv.conv_vjp(gy, problem.x, problem.weight, algorithm=algorithm, **problem.kwargs)
    for name, a, b in zip(("grad_input", "grad_weight", "grad_bias"), got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize(
    ("x_shape", "kernel", "dilation", "groups"),
    [
        ((2, 6, 40), (5,), (2,), 1),
        ((3, 6, 30, 32), (3, 4), (2, 1), 2),
        ((2, 4, 14, 15, 16), (2, 3, 2), (1, 1, 2), 1),
    ],
)
@pytest.mark.parametrize("call_ns", [0.0, 1e9])
def test_weight_gradient_grid_products_match_torch(
    monkeypatch, x_shape, kernel, dilation, groups, call_ns
):
    """The stride-1 weight gradient's flattened-grid GEMM (few margin samples), per image
    or side by side, ranks 1-3, dilated, grouped."""
    from xconv.backends.numpy import NumPyBackend

    costs = dataclasses.replace(NumPyBackend.costs, gemm_call_ns=call_ns)
    monkeypatch.setattr(NumPyBackend, "costs", costs)
    rng = np.random.default_rng(17)
    weight_shape = (6, x_shape[1] // groups, *kernel)
    problem, gy = _stride_one_problem(rng, x_shape, weight_shape, 1, dilation, groups)
    expected = _torch_conv_grads(problem, gy)[1]
    _, got, _ = xconv.conv_vjp(gy, problem.x, problem.weight, algorithm="gemm", **problem.kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_measure_runs_and_matches():
    rng = np.random.default_rng(10)
    kw = dict(
        stride=1,
        padding=1,
        dilation=1,
        groups=2,
        padding_mode="circular",
        padding_value=0.0,
        channels_last=False,
    )
    problem = ConvProblem(
        rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((4, 2, 3, 2)), None, kw
    )
    for _ in range(2):  # timed on the first call, remembered on the second
        check_conv_vjp(NUMPY, problem, "measure")
    transposed = TransposedProblem(
        rng.standard_normal((2, 4, 5, 3)),
        rng.standard_normal((4, 1, 2, 2)),
        None,
        dict(stride=2, padding=0, output_padding=1, dilation=1, groups=2, channels_last=False),
    )
    for _ in range(2):
        check_transpose_vjp(NUMPY, transposed, "measure")


@pytest.mark.parametrize(
    "module", ["xconv.transposed", "xconv.gradients", "xconv.algorithms.transposed"]
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_batch(namespace, algorithm):
    xp_x = namespace.asarray(np.ones((0, 4, 5)))
    gx, gw, gb = xconv.conv_vjp(
        namespace.asarray(np.ones((0, 6, 3))),
        xp_x,
        namespace.asarray(np.ones((6, 2, 3))),
        groups=2,
        algorithm=algorithm,
    )
    assert gx.shape == (0, 4, 5) and gw.shape == (6, 2, 3) and gb.shape == (6,)
    assert not np.any(namespace.to_numpy(gw)) and not np.any(namespace.to_numpy(gb))
    z = xconv.conv_transpose(
        xp_x, namespace.asarray(np.ones((4, 3, 2))), stride=2, algorithm=algorithm
    )
    assert z.shape == (0, 3, 10)
    gx, gw, gb = xconv.conv_transpose_vjp(
        namespace.asarray(np.ones((0, 3, 10))),
        xp_x,
        namespace.asarray(np.ones((4, 3, 2))),
        stride=2,
    )
    assert gx.shape == (0, 4, 5) and gw.shape == (4, 3, 2) and gb.shape == (3,)


@pytest.mark.parametrize("forced", ["direct", "gemm", "fft"])
def test_default_algorithm_context(forced):
    """`xconv.default_algorithm` decides what "auto" runs inside every gradient."""
    rng = np.random.default_rng(14)
    kw = dict(stride=2, padding=1, dilation=1, groups=1, padding_mode="reflect", padding_value=0.0)
    problem = ConvProblem(
        rng.standard_normal((2, 3, 7, 6)),
        rng.standard_normal((4, 3, 3, 2)),
        None,
        dict(kw, channels_last=False),
    )
    transposed = TransposedProblem(
        rng.standard_normal((2, 4, 5, 3)),
        rng.standard_normal((4, 2, 3, 3)),
        None,
        dict(stride=2, padding=1, output_padding=1, dilation=1, groups=1, channels_last=False),
    )
    with xconv.default_algorithm(forced):
        check_conv_vjp(NUMPY, problem, "auto")
        check_transpose_vjp(NUMPY, transposed, "auto")


@pytest.mark.parametrize("algorithm", ["gemm", "auto"])
def test_gradients_keep_their_values_after_the_next_call(algorithm):
    """The padded input, the padded gradient and the windows of the input gradient live in
    buffers the NumPy backend reuses: gradients returned earlier must not change when the
    next call fills those buffers with other data."""
    rng = np.random.default_rng(21)
    kw = dict(
        stride=1,
        padding=1,
        dilation=1,
        groups=1,
        padding_mode="constant",
        padding_value=0.0,
        channels_last=False,
    )
    problems, results = [], []
    for _ in range(2):
        x, w = rng.standard_normal((2, 8, 20, 20)), rng.standard_normal((6, 8, 3, 3))
        problem = ConvProblem(x=x, weight=w, bias=None, kwargs=kw)
        gy = rng.standard_normal(reference_conv(x, w, **kw).shape)
        problems.append((problem, gy))
        results.append(xconv.conv_vjp(gy, x, w, algorithm=algorithm, **kw))
    for (problem, gy), got in zip(problems, results, strict=True):
        for a, b in zip(got, _torch_conv_grads(problem, gy), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
