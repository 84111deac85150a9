"""Prepared weights (a plan's or a layer's kept FFT spectrum) and padding into a run's
own layout: results against the float64 oracle, reuse only while the weight is equal."""

from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest
from reference import reference_conv

import xconv
from xconv.algorithms.prepared import MAX_FORMS, PreparedWeights
from xconv.backends.numpy import _arrays
from xconv.compat import keras, pytorch

# a multi-channel 21 x 21 layer: the planner runs it by FFT
X_SHAPE, W_SHAPE, PADDING = (1, 4, 60, 60), (4, 4, 21, 21), 10


def _arrays_for(seed: int):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(X_SHAPE), rng.standard_normal(W_SHAPE)


def _counting(monkeypatch) -> list[int]:
    """Count the kernel spectra the FFT path makes."""
    from xconv.algorithms import fft

    made = []
    spectrum = fft._kernel_spectrum

    def counted(*args, **kwargs):
        made.append(1)
        return spectrum(*args, **kwargs)

    monkeypatch.setattr(fft, "_kernel_spectrum", counted)
    return made


def _close(y, x, w):
    expected = reference_conv(x, w, padding=PADDING)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


# -- the holder ------------------------------------------------------------------------------


def test_a_form_is_reused_only_for_an_equal_weight():
    prepared, made = PreparedWeights(), []

    def make(w):
        made.append(w.copy())
        return w.sum()

    w = np.arange(6.0).reshape(2, 3)
    assert prepared.form(np, "k", w, make) == 15
    assert prepared.form(np, "k", w.copy(), make) == 15  # equal values: reused
    assert len(made) == 1
    w[0, 0] = 10.0  # changed in place: seen
    assert prepared.form(np, "k", w, make) == 25
    assert prepared.form(np, "k", w.astype(np.float32), make) == 25  # another dtype
    assert prepared.form(np, "k", w.reshape(3, 2), make) == 25  # another shape
    assert len(made) == 4
    nan = np.full((2, 3), np.nan)
    prepared.form(np, "k", nan, make)
    prepared.form(np, "k", nan, make)  # NaN equals nothing: made again, never stale
    assert len(made) == 6


def test_forms_are_kept_per_key_and_the_oldest_goes_first():
    prepared, w = PreparedWeights(), np.ones(3)
    for key in range(MAX_FORMS + 2):
        prepared.form(np, key, w, lambda a, key=key: key)
    assert len(prepared) == MAX_FORMS
    assert prepared.form(np, 0, w, lambda a: "made again") == "made again"
    assert prepared.form(np, MAX_FORMS + 1, w, lambda a: "made again") == MAX_FORMS + 1
    prepared.clear()
    assert len(prepared) == 0


def test_a_form_used_again_is_kept_longest():
    """The least recently used form goes first: a hit counts as a use."""
    prepared, w = PreparedWeights(), np.ones(3)
    for key in range(MAX_FORMS):
        prepared.form(np, key, w, lambda a, key=key: key)
    assert prepared.form(np, 0, w, lambda a: "made again") == 0  # a hit
    prepared.form(np, MAX_FORMS, w, lambda a: MAX_FORMS)  # evicts key 1, not key 0
    assert prepared.form(np, 0, w, lambda a: "made again") == 0
    assert prepared.form(np, 1, w, lambda a: "made again") == "made again"


# -- plans -----------------------------------------------------------------------------------


def test_a_plan_keeps_the_spectrum_and_remakes_it_when_the_weight_changes(monkeypatch):
    made = _counting(monkeypatch)
    x, w = _arrays_for(0)
    plan = xconv.plan(X_SHAPE, W_SHAPE, dtype="float64", padding=PADDING)
    assert plan.algorithm == "fft"
    for _ in range(3):
        _close(plan(x, w), x, w)
    assert len(made) == 1
    w *= -0.5  # in place
    _close(plan(x, w), x, w)
    other = _arrays_for(1)[1]
    _close(plan(x, other), x, other)
    assert len(made) == 3


def test_plans_keep_their_own_forms_and_one_shot_calls_keep_none(monkeypatch):
    made = _counting(monkeypatch)
    x, w = _arrays_for(2)
    first = xconv.plan(X_SHAPE, W_SHAPE, dtype="float64", padding=PADDING)
    second = xconv.plan(X_SHAPE, W_SHAPE, dtype="float64", padding=PADDING)
    assert first == second and first.prepared is not second.prepared
    first(x, w)
    second(x, w)
    assert len(first.prepared) == len(second.prepared) == 1
    for _ in range(2):
        _close(xconv.conv(x, w, padding=PADDING), x, w)
    assert len(made) == 4  # one per plan, one per functional call


def test_a_plan_shared_between_threads_gives_each_the_right_result():
    rng = np.random.default_rng(9)
    x = rng.standard_normal(X_SHAPE)
    weights = [rng.standard_normal(W_SHAPE) for _ in range(3)]
    plan = xconv.plan(X_SHAPE, W_SHAPE, dtype="float64", padding=PADDING)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: (i, plan(x, weights[i % 3])), range(12)))
    for i, y in results:
        _close(y, x, weights[i % 3])


def test_non_fft_plans_prepare_nothing():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 8, 12, 12)), rng.standard_normal((8, 8, 3, 3))
    plan = xconv.plan(x.shape, w.shape, dtype="float64", padding=1)
    assert plan.algorithm != "fft"
    np.testing.assert_allclose(plan(x, w), reference_conv(x, w, padding=1), rtol=1e-10, atol=1e-10)
    assert len(plan.prepared) == 0


# -- layers ----------------------------------------------------------------------------------


def test_a_keras_layer_keeps_its_spectrum_until_set_weights(monkeypatch):
    made = _counting(monkeypatch)
    rng = np.random.default_rng(4)
    layer = keras.Conv2D(4, 21, padding="same", dtype="float64", data_format="channels_first")
    x = rng.standard_normal(X_SHAPE)
    first = layer(x)
    np.testing.assert_allclose(layer(x), first)
    assert len(made) == 1
    kernel, bias = layer.get_weights()
    layer.set_weights([rng.standard_normal(kernel.shape), bias])
    weight = np.transpose(layer.get_weights()[0], (3, 2, 0, 1))  # (k, k, C, F) -> (F, C, k, k)
    _close(layer(x), x, weight)
    assert len(made) == 2


def test_a_pytorch_module_sees_its_weight_changed_in_place(monkeypatch):
    made = _counting(monkeypatch)
    rng = np.random.default_rng(5)
    module = pytorch.Conv2d(4, 4, 21, padding=PADDING, bias=False, dtype="float64")
    x = rng.standard_normal(X_SHAPE)
    module(x)
    weight = np.asarray(module.weight)
    weight[...] = rng.standard_normal(weight.shape)  # the module's own array, in place
    _close(module(x), x, weight)
    assert len(made) == 2


# -- padding into the run's layout -------------------------------------------------------------


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_padding_for_a_run_lands_in_its_layout(layout):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    pads = ((1, 2), (0, 3))
    padded = _arrays.pad_for_run(x, pads, "constant", 1.5, layout)
    expected = np.pad(x, ((0, 0), (0, 0), *pads), constant_values=1.5)
    np.testing.assert_array_equal(padded, expected)
    memory = padded if layout == "channels_first" else np.moveaxis(padded, 1, -1)
    assert memory.flags.c_contiguous
    again = _arrays.pad_for_run(x + 1, pads, "constant", 1.5, layout)  # the buffer, reused
    np.testing.assert_array_equal(again, expected + np.pad(np.ones_like(x), [(0, 0)] * 2 + [*pads]))


def test_padding_for_a_run_copies_only_what_it_must():
    x = np.ones((2, 3, 5, 4), np.float32)
    assert _arrays.pad_for_run(x, ((0, 0), (0, 0)), "constant", 0, "channels_first") is x
    moved = _arrays.pad_for_run(x, ((0, 0), (0, 0)), "constant", 0, "channels_last")
    assert np.moveaxis(moved, 1, -1).flags.c_contiguous and np.array_equal(moved, x)
    assert _arrays.pad_for_run(x, ((1, 1), (1, 1)), "reflect", 0, "channels_last") is None
