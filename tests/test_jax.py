"""xconv on JAX arrays: XLA's convolution where exact, xconv's paths inside a custom VJP.

Oracles: `jax.lax.conv_general_dilated` and JAX's own differentiation of it where it
expresses the layer, and the float64 definition (`reference`) for what it cannot.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import reference_conv
from reference_transposed import reference_conv_transpose

import xconv

jax = pytest.importorskip("jax")
jnp = jax.numpy
lax = jax.lax

MODES = ("constant", "reflect", "symmetric", "replicate", "circular")


@pytest.fixture(autouse=True)
def x64():
    switch = getattr(jax, "enable_x64", None)
    if switch is None:  # older JAX
        from jax.experimental import enable_x64 as switch
    with switch(True):
        yield


def array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def lax_conv(x, w, padding, stride=(1, 1)):
    numbers = ("NCHW", "OIHW", "NCHW")
    return lax.conv_general_dilated(x, w, stride, padding, dimension_numbers=numbers)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("algorithm", ["auto", "fft", "gemm"])
def test_forward_matches_the_definition(mode, algorithm):
    x, w, b = array(2, 4, 9, 8), array(6, 2, 3, 2, seed=1), array(6, seed=2)
    kw = dict(padding=((2, 1), (0, 1)), stride=(2, 1), groups=2, padding_mode=mode)
    y = xconv.conv(jnp.asarray(x), jnp.asarray(w), jnp.asarray(b), algorithm=algorithm, **kw)
    np.testing.assert_allclose(np.asarray(y), reference_conv(x, w, b, **kw), atol=1e-10)


@pytest.mark.parametrize("algorithm", ["auto", "fft", "gemm"])
def test_transposed_matches_the_definition(algorithm):
    x, w, b = array(2, 4, 5, 6), array(4, 3, 3, 3, seed=1), array(6, seed=2)
    kw = dict(stride=2, padding="same", groups=2, output_padding=0, dilation=(1, 2))
    y = xconv.conv_transpose(
        jnp.asarray(x), jnp.asarray(w), jnp.asarray(b), algorithm=algorithm, **kw
    )
    expected = reference_conv_transpose(x, w, b, **kw)
    np.testing.assert_allclose(np.asarray(y), expected, atol=1e-10)


@pytest.mark.parametrize("algorithm", ["auto", "fft", "direct"])
def test_grad_under_jit_matches_lax(algorithm):
    x, w = jnp.asarray(array(2, 3, 10, 9)), jnp.asarray(array(4, 3, 3, 3, seed=1))

    def ours(x, w):
        return jnp.sum(xconv.conv(x, w, padding=1, stride=2, algorithm=algorithm) ** 2)

    def theirs(x, w):
        return jnp.sum(lax_conv(x, w, [(1, 1), (1, 1)], (2, 2)) ** 2)

    got = jax.jit(jax.grad(ours, argnums=(0, 1)))(x, w)
    expected = jax.grad(theirs, argnums=(0, 1))(x, w)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-10)


def test_xconv_paths_use_xconv_vjps(monkeypatch):
    from xconv.operations import Own

    seen = []
    original = Own.vjp
    monkeypatch.setattr(
        Own, "vjp", lambda own, call, *a: seen.append(call.algorithm) or original(own, call, *a)
    )
    x, w = jnp.asarray(array(1, 2, 40)), jnp.asarray(array(2, 2, 9, seed=1))
    grad = jax.grad(lambda x: jnp.sum(xconv.conv(x, w, padding=4, algorithm="fft") ** 2))(x)
    assert len(seen) == 1 and grad.shape == x.shape


def test_vmap_and_symmetric_padding_under_jit():
    x, w = array(3, 2, 7, 6), array(2, 2, 3, 3, seed=1)

    def one(xi):
        return xconv.conv(xi, jnp.asarray(w), padding=2, padding_mode="symmetric")

    y = jax.jit(jax.vmap(one))(jnp.asarray(x))
    expected = reference_conv(x, w, padding=2, padding_mode="symmetric")
    np.testing.assert_allclose(np.asarray(y), expected, atol=1e-10)


def test_vjp_functions_on_jax_arrays():
    x, w, g = array(2, 3, 8, 8), array(4, 3, 3, 3, seed=1), array(2, 4, 4, 4, seed=2)
    gx, gw, gb = xconv.conv_vjp(jnp.asarray(g), jnp.asarray(x), jnp.asarray(w), stride=2, padding=1)
    _, pullback = jax.vjp(lambda x, w: lax_conv(x, w, [(1, 1), (1, 1)], (2, 2)), x, w)
    ex, ew = pullback(jnp.asarray(g))
    np.testing.assert_allclose(np.asarray(gx), np.asarray(ex), atol=1e-10)
    np.testing.assert_allclose(np.asarray(gw), np.asarray(ew), atol=1e-10)
    np.testing.assert_allclose(np.asarray(gb), g.sum(axis=(0, 2, 3)), atol=1e-10)


def test_bfloat16_accumulates_in_float32():
    x, w = array(2, 3, 20), array(4, 3, 5, seed=1)
    y = xconv.conv(jnp.asarray(x, jnp.bfloat16), jnp.asarray(w, jnp.bfloat16), padding=2)
    assert y.dtype == jnp.bfloat16
    xr = np.asarray(jnp.asarray(x, jnp.bfloat16).astype(jnp.float32))
    wr = np.asarray(jnp.asarray(w, jnp.bfloat16).astype(jnp.float32))
    expected = reference_conv(xr, wr, padding=2)
    np.testing.assert_allclose(np.asarray(y.astype(jnp.float32)), expected, rtol=2**-7, atol=0.1)


def test_numpy_weights_move_to_the_input_library():
    x = array(1, 2, 6)
    y = xconv.conv(jnp.asarray(x), np.ones((3, 2, 2)), np.arange(3.0))
    assert isinstance(y, jax.Array)
    expected = reference_conv(x, np.ones((3, 2, 2)), np.arange(3.0))
    np.testing.assert_allclose(np.asarray(y), expected, atol=1e-12)
