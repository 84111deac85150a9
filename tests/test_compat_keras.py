"""`xconv.compat.keras` against the real Keras 3 (JAX backend), output for output."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples

os.environ.setdefault("KERAS_BACKEND", "jax")
pytest.importorskip("jax")
K = pytest.importorskip("keras")

from xconv.compat import keras as X  # noqa: E402

RNG = np.random.default_rng(3)


def rand(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def twins(layer, /, *args, **kwargs):
    """The real Keras layer and xconv's, from the same arguments."""
    return getattr(K.layers, layer)(*args, **kwargs), getattr(X, layer)(*args, **kwargs)


def assert_same_output(real, ours, x, rtol=2e-5, atol=2e-5):
    expected = np.asarray(real(x))
    ours.build(x.shape)
    ours.set_weights(real.get_weights())
    out = ours(x)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol)
    return out


def keras_error(make):
    with pytest.raises(ValueError) as info:
        make()
    return str(info.value)


# -- the page's example -----------------------------------------------------------------------


def test_conv2d_page_example():
    x = np.random.rand(4, 10, 10, 128)
    y = X.Conv2D(32, 3, activation="relu")(x)
    assert y.shape == (4, 8, 8, 32)
    real, ours = twins("Conv2D", 32, 3, activation="relu")
    assert_same_output(real, ours, x.astype("float32"))


# -- output for output ----------------------------------------------------------------------------


@st.composite
def conv_cases(draw):
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    channels, filters = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    strided = draw(st.booleans())
    strides = [draw(st.integers(1, 2)) if strided else 1 for _ in range(rank)]
    dilation = [1 if strided else draw(st.integers(1, 2)) for _ in range(rank)]
    padding = draw(st.sampled_from(["valid", "same", "causal"] if rank == 1 else ["valid", "same"]))
    kwargs = dict(
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
        groups=groups,
        data_format=draw(st.sampled_from(["channels_last", "channels_first"])),
        activation=draw(st.sampled_from([None, "relu", "tanh", "softmax", "gelu"])),
        use_bias=draw(st.booleans()),
    )
    sizes = [draw(st.integers((k - 1) * d + 1, 7)) for k, d in zip(kernel, dilation, strict=True)]
    return rank, channels, filters, kernel, sizes, kwargs


@settings(max_examples=examples(12))
@given(conv_cases())
def test_conv_layers_match_keras(case):
    rank, channels, filters, kernel, sizes, kwargs = case
    real, ours = twins(f"Conv{rank}D", filters, kernel, bias_initializer="random_normal", **kwargs)
    shape = (
        (2, *sizes, channels) if kwargs["data_format"] == "channels_last" else (2, channels, *sizes)
    )
    x = rand(*shape)
    out = assert_same_output(real, ours, x)
    assert ours.compute_output_shape(shape) == tuple(real.compute_output_shape(shape)) == out.shape


def test_transposed_layers_match_keras_for_every_padding_and_output_padding():
    x = rand(2, 6, 3)
    for kernel in (1, 2, 3, 5):
        for stride in (1, 2, 3):
            for padding in ("valid", "same"):
                for output_padding in (None, *range(stride)):
                    real, ours = twins(
                        "Conv1DTranspose",
                        2,
                        kernel,
                        strides=stride,
                        padding=padding,
                        output_padding=output_padding,
                    )
                    assert_same_output(real, ours, x)
                    assert ours.compute_output_shape((None, 6, 3)) == tuple(
                        real.compute_output_shape((None, 6, 3))
                    )


@pytest.mark.parametrize(
    ("rank", "kwargs"),
    [
        (1, dict(dilation_rate=2, padding="same")),
        (2, dict(strides=(2, 3), padding="same", output_padding=(1, 0))),
        (2, dict(strides=2, data_format="channels_first", activation="sigmoid")),
        (3, dict(strides=2, padding="same")),
        (3, dict(dilation_rate=(1, 2, 1), use_bias=False)),
    ],
)
def test_transposed_layers_match_keras(rank, kwargs):
    real, ours = twins(
        f"Conv{rank}DTranspose", 3, (3, 2, 3)[:rank], bias_initializer="random_normal", **kwargs
    )
    first = kwargs.get("data_format") == "channels_first"
    spatial = (5, 4, 3)[:rank]
    x = rand(2, 2, *spatial) if first else rand(2, *spatial, 2)
    assert_same_output(real, ours, x)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("DepthwiseConv1D", dict(depth_multiplier=3, padding="same", strides=2)),
        ("DepthwiseConv1D", dict(dilation_rate=2, data_format="channels_first")),
        ("DepthwiseConv2D", dict(depth_multiplier=2, padding="same")),
        ("DepthwiseConv2D", dict(strides=2, dilation_rate=2, activation="relu6")),
    ],
)
def test_depthwise_layers_match_keras(name, kwargs):
    real, ours = twins(name, 3, bias_initializer="random_normal", **kwargs)
    rank = int(name[-2])
    first = kwargs.get("data_format") == "channels_first"
    x = rand(2, 3, *(9,) * rank) if first else rand(2, *(9,) * rank, 3)
    assert_same_output(real, ours, x)
    assert ours.kernel.shape == real.kernel.shape


ACTIVATIONS = [
    "linear",
    "relu",
    "leaky_relu",
    "relu6",
    "elu",
    "selu",
    "celu",
    "softplus",
    "softsign",
    "sigmoid",
    "silu",
    "swish",
    "gelu",
    "tanh",
    "exponential",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "tanh_shrink",
    "soft_shrink",
    "hard_shrink",
    "squareplus",
    "sparse_plus",
    "sparse_sigmoid",
    "mish",
    "log_sigmoid",
    "softmax",
    "log_softmax",
    "glu",
]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_match_keras(name):
    x = rand(3, 4, 6) * 3
    expected = np.asarray(K.activations.get(name)(x))
    np.testing.assert_allclose(X.activations.get(name)(x), expected, rtol=1e-5, atol=1e-6)


def test_activation_callable_and_errors():
    layer = X.Conv1D(2, 1, activation=lambda t: t * 0 + 7)
    np.testing.assert_array_equal(layer(rand(1, 3, 2)), 7)
    assert keras_error(lambda: X.Conv1D(2, 1, activation="bogus")) == keras_error(
        lambda: K.layers.Conv1D(2, 1, activation="bogus")
    )


def test_float64_dtype_policy():
    real, ours = twins("Conv2D", 2, 3, dtype="float64")
    x = rand(1, 6, 6, 2, dtype="float64")
    # JAX without jax_enable_x64 computes Keras' float64 layer in float32
    out = assert_same_output(real, ours, x, rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float64 and ours.kernel.dtype == np.float64


# -- initializers: Keras' distributions ---------------------------------------------------------

SHAPE = (3, 3, 48, 64)


@pytest.mark.parametrize(
    "name",
    [
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        "random_normal",
        "random_uniform",
        "truncated_normal",
        "orthogonal",
    ],
)
def test_random_initializers_follow_keras_distributions(name):
    ours = np.asarray(X.initializers.get({"class_name": name, "config": {"seed": 1}})(SHAPE))
    theirs = np.asarray(K.initializers.get({"class_name": name, "config": {"seed": 1}})(SHAPE))
    assert ours.shape == theirs.shape == SHAPE and ours.dtype == np.float32
    assert abs(ours.std() / theirs.std() - 1) < 0.03
    assert abs(ours.mean()) < 4 * theirs.std() / np.sqrt(ours.size)
    assert np.abs(ours).max() <= np.abs(theirs).max() * 1.05 or "normal" in name
    assert scipy.stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 1e-4
    again = np.asarray(X.initializers.get({"class_name": name, "config": {"seed": 1}})(SHAPE))
    np.testing.assert_array_equal(again, ours)  # a seeded initializer repeats itself


def test_truncated_normals_are_cut_at_two_standard_deviations():
    he = X.initializers.HeNormal(seed=0)(SHAPE)
    std = np.sqrt(2 / (9 * 48)) / 0.87962566103423978
    assert np.abs(he).max() <= 2 * std
    assert abs(he.std() / np.sqrt(2 / (9 * 48)) - 1) < 0.02


def test_fans_of_transposed_and_depthwise_kernels_follow_keras():
    # Keras counts fans on its own kernel layout: (*k, in, out) = (*k, F, C) when transposed,
    # (*k, C, multiplier) for depthwise kernels
    for name, args, kwargs in (
        ("Conv2DTranspose", (8, 3), {}),
        ("DepthwiseConv2D", (3,), {"depth_multiplier": 4}),
    ):
        real, ours = twins(name, *args, **kwargs)
        real.build((None, 9, 9, 16))
        ours.build((None, 9, 9, 16))
        kernel, theirs = ours.kernel, np.asarray(real.kernel)
        assert kernel.shape == theirs.shape
        field, fan_in, fan_out = 9, kernel.shape[-2] * 9, kernel.shape[-1] * 9
        limit = np.sqrt(6 / (fan_in + fan_out))
        for values in (kernel, theirs):
            assert 0.95 * limit < np.abs(values).max() <= limit * (1 + 1e-6)
        assert field == 9


def test_orthogonal_and_constant_initializers():
    q = X.initializers.Orthogonal(gain=2.0, seed=4)((3, 3, 4, 16)).reshape(-1, 16)
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(16), atol=1e-4)
    for name, config in (("Zeros", {}), ("Ones", {}), ("Constant", {"value": 0.3})):
        ours = X.initializers.get({"class_name": name, "config": config})((2, 3))
        theirs = K.initializers.get({"class_name": name, "config": config})((2, 3))
        np.testing.assert_array_equal(ours, np.asarray(theirs))


# -- build, weights, shapes, config -------------------------------------------------------------


def test_lazy_build_kernel_bias_and_weights():
    layer = X.Conv2D(4, 3, kernel_initializer=X.initializers.GlorotUniform(seed=1))
    assert not layer.built and layer.weights == []
    with pytest.raises(AttributeError, match="build the layer before accessing `kernel`"):
        _ = layer.kernel
    layer(rand(1, 5, 5, 2))
    assert layer.built and layer.kernel.shape == (3, 3, 2, 4) and layer.bias.shape == (4,)
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 2, 4), (4,)]
    assert layer.count_params() == 3 * 3 * 2 * 4 + 4
    real = K.layers.Conv2D(4, 3)
    real.build((None, 5, 5, 2))
    assert keras_error(lambda: layer.set_weights([np.zeros((3, 3, 2, 5)), np.zeros(4)])).replace(
        layer.name, "L"
    ) == keras_error(lambda: real.set_weights([np.zeros((3, 3, 2, 5)), np.zeros(4)])).replace(
        real.name, "L"
    )
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        layer(rand(1, 5, 5, 3))
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=3"):
        layer(rand(5, 5, 2))


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "shape"),
    [
        ("Conv1D", (4, 3), dict(padding="causal", strides=2), (None, None, 3)),
        ("Conv2D", (4, (3, 2)), dict(strides=(2, 1), padding="same"), (8, 9, None, 2)),
        ("Conv3D", (2, 2), dict(dilation_rate=2, data_format="channels_first"), (1, 3, 8, 7, 6)),
        ("Conv2DTranspose", (3, 3), dict(strides=2, padding="same"), (None, 4, None, 2)),
        ("Conv3DTranspose", (3, 2), dict(strides=(1, 2, 3)), (2, 3, 4, 5, 1)),
        ("DepthwiseConv2D", (3,), dict(depth_multiplier=2), (2, 7, 8, 3)),
    ],
)
def test_compute_output_shape_matches_keras(name, args, kwargs, shape):
    real, ours = twins(name, *args, **kwargs)
    assert ours.compute_output_shape(shape) == tuple(real.compute_output_shape(shape))


def test_config_round_trips_both_ways():
    kwargs = dict(
        strides=2,
        padding="same",
        groups=2,
        activation="swish",
        kernel_initializer=K.initializers.HeNormal(seed=3),
        bias_initializer="ones",
        kernel_regularizer="l2",
        bias_regularizer=K.regularizers.L1L2(l1=0.1, l2=0.2),
        activity_regularizer="l1",
        kernel_constraint="max_norm",
        bias_constraint=K.constraints.MinMaxNorm(0.5, 2.0),
        name="c",
    )
    real = K.layers.Conv2D(8, 3, **kwargs)
    theirs = real.get_config()
    ours = X.Conv2D.from_config(theirs)
    assert ours.get_config() == theirs
    back = K.layers.Conv2D.from_config(ours.get_config())
    assert back.get_config() == theirs
    for name, args in (("Conv1DTranspose", (2, 3)), ("DepthwiseConv2D", (3,))):
        real, mine = twins(name, *args, name="t", dtype="float64")
        assert mine.get_config() == real.get_config()


def test_regularizer_losses_match_keras():
    kwargs = dict(
        kernel_regularizer="l1",
        bias_regularizer=K.regularizers.L2(0.3),
        activity_regularizer=K.regularizers.L1L2(l1=0.01, l2=0.02),
        bias_initializer="random_normal",
    )
    real = K.layers.Conv1D(3, 2, **kwargs)
    ours = X.Conv1D.from_config(real.get_config())
    x = rand(4, 6, 2)
    assert_same_output(real, ours, x)
    theirs = [float(v) for v in real.losses]
    mine = [float(v) for v in ours.losses]
    assert len(mine) == len(theirs) == 3
    np.testing.assert_allclose(mine, theirs, rtol=1e-5)


def test_constraints_match_keras():
    w = rand(3, 3, 4, 5)
    for name, config in (
        ("MaxNorm", {"max_value": 1.5, "axis": [0, 1, 2]}),
        ("NonNeg", {}),
        ("UnitNorm", {"axis": 0}),
        ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "rate": 0.7, "axis": [0, 1, 2]}),
    ):
        ours = X.constraints.get({"class_name": name, "config": config})(w)
        theirs = K.constraints.get({"class_name": name, "config": config})(w)
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, atol=1e-6)
    layer = X.Conv2D(
        5, 3, kernel_constraint="non_neg", bias_constraint="unit_norm", bias_initializer="ones"
    )
    layer.build((None, 8, 8, 4))
    layer.apply_constraints()
    assert (layer.kernel >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(layer.bias), 1.0, rtol=1e-6)


def test_regularizer_and_constraint_names_follow_keras():
    for name in ("l1", "l2", "l1l2", "L1L2"):
        assert type(X.regularizers.get(name)).__name__ == type(K.regularizers.get(name)).__name__
    assert keras_error(lambda: X.regularizers.get("l1_l2")) == keras_error(
        lambda: K.regularizers.get("l1_l2")
    )
    assert X.regularizers.l1_l2(l1=0.1).get_config() == K.regularizers.l1_l2(l1=0.1).get_config()
    for name in ("max_norm", "non_neg", "unit_norm", "min_max_norm"):
        assert X.constraints.get(name).get_config() == K.constraints.get(name).get_config()


# -- Keras' documented errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("Conv2D", (4, 3), dict(strides=2, dilation_rate=2)),
        ("Conv1DTranspose", (4, 3), dict(strides=(2,), dilation_rate=(3,))),
        ("Conv2D", (5, 3), dict(groups=2)),
        ("Conv2D", (0, 3), {}),
        ("Conv2DTranspose", (4, 3), dict(strides=2, output_padding=2)),
        ("Conv2D", (4, 3), dict(data_format="channels_middle")),
        ("Conv2D", (4, 3), dict(foo=1)),
        ("DepthwiseConv2D", (3,), dict(depth_multiplier=0)),
    ],
)
def test_construction_errors_are_keras_own(name, args, kwargs):
    assert keras_error(lambda: getattr(X, name)(*args, **kwargs)) == keras_error(
        lambda: getattr(K.layers, name)(*args, **kwargs)
    )


def test_causal_only_for_conv1d():
    with pytest.raises(ValueError, match="The `padding` argument must be a list/tuple or one of"):
        X.Conv2D(2, 3, padding="causal")


def test_groups_must_divide_channels_at_build():
    real, ours = twins("Conv2D", 4, 3, groups=2, name="g")
    assert keras_error(lambda: ours.build((None, 8, 8, 3))) == keras_error(
        lambda: real.build((None, 8, 8, 3))
    )


def test_torch_and_strict_arrays_and_aliases():
    import array_api_strict as xps
    import torch

    initializer = X.initializers.GlorotUniform(seed=7)
    layer = X.Convolution2D(3, 3, activation="gelu", padding="same", kernel_initializer=initializer)
    x = rand(2, 5, 5, 2)
    expected = layer(x)
    out = layer(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor)
    # float32 sums in another order: a few units in the last place of the outputs' scale
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    strict = layer(xps.asarray(x))
    np.testing.assert_allclose(np.asarray(strict), expected, rtol=1e-5, atol=1e-6)
    assert X.Convolution2DTranspose is X.Conv2DTranspose
