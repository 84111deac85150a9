"""A call repeated with arrays of the same shapes, dtypes and keywords skips its checks
and plan lookup (`xconv._recent_calls`): its results follow the new arrays, anything
that changes the plan is seen, and no user array is kept alive."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from reference import reference_conv
from reference_transposed import reference_conv_transpose

import xconv
from xconv import _recent_calls, operations
from xconv.planner import clear_plans


@pytest.fixture
def planned(monkeypatch):
    """The number of calls planned so far (each one checked and planned afresh)."""
    clear_plans()
    count = [0]
    real = operations.plan_call

    def counting(call):
        count[0] += 1
        return real(call)

    monkeypatch.setattr(operations, "plan_call", counting)
    yield count
    clear_plans()


def _arrays(seed: int, x_shape=(2, 3, 9, 8), w_shape=(4, 3, 3, 2)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape), rng.standard_normal(w_shape)


def test_a_repeated_call_runs_on_its_own_arrays(planned):
    for seed in range(3):
        x, w = _arrays(seed)
        got = xconv.conv(x, w, padding=((1, 0), (2, 1)), stride=(1, 2))
        expected = reference_conv(x, w, padding=((1, 0), (2, 1)), stride=(1, 2))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert planned[0] == 1
    bias = np.arange(3.0)
    y, w = _arrays(3, (2, 4, 5, 5), (4, 3, 3, 3))
    for scale in (1.0, -2.0):
        got = xconv.conv_transpose(scale * y, w, bias, stride=2, output_padding=1)
        expected = reference_conv_transpose(scale * y, w, stride=2, output_padding=1)
        np.testing.assert_allclose(got, expected + bias[:, None, None], atol=1e-12)
    assert planned[0] == 2


def test_gradients_follow_the_new_output_gradient(planned):
    x, w = _arrays(4)
    grad = np.ones((2, 4, 7, 7))
    first = xconv.conv_vjp(grad, x, w)
    second = xconv.conv_vjp(3 * grad, x, w)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose(b, 3 * a, rtol=1e-12, atol=1e-12)
    assert planned[0] == 1


def test_whatever_changes_the_plan_plans_again(planned):
    x, w = _arrays(5)
    xconv.conv(x, w)
    xconv.conv(x, w, padding=1)  # another keyword value
    xconv.conv(x, w, padding=int("1"))  # the same value, the same plan
    assert planned[0] == 2
    xconv.conv(x.astype(np.float32), w.astype(np.float32), padding=1)  # another dtype
    xconv.conv(x[:1], w, padding=1)  # another shape
    assert planned[0] == 4
    with xconv.thread_limit(1):
        xconv.conv(x, w, padding=1)
    with xconv.default_algorithm("direct"):
        xconv.conv(x, w, padding=1)
    with xconv.workspace_limit(2**20):
        xconv.conv(x, w, padding=1)
    assert planned[0] == 7
    xconv.conv(x, w, padding=1, algorithm="measure")  # timed afresh every time
    xconv.conv(x, w, padding=1, algorithm="measure")
    assert planned[0] == 9


def test_values_python_tells_apart_are_checked_apart(planned):
    x, w = _arrays(6)
    xconv.conv(x, w, stride=1)
    for bad in (True, 1.0):  # equal to 1 as keys, but not ints
        with pytest.raises((TypeError, ValueError), match="stride"):
            xconv.conv(x, w, stride=bad)
    with pytest.raises(ValueError, match="channels"):  # a kept call's mistake is still seen
        xconv.conv(x[:, :2], w, stride=1)


def test_no_user_array_is_kept_alive():
    x, w = _arrays(7)
    kept = weakref.ref(x), weakref.ref(w)
    xconv.conv(x, w, padding=1)
    assert _recent_calls._kept  # the call is remembered ...
    del x, w
    gc.collect()
    assert all(ref() is None for ref in kept)  # ... without its arrays


def test_other_array_libraries_are_checked_every_time():
    strict = pytest.importorskip("array_api_strict")
    _recent_calls.forget()
    x, w = _arrays(8)
    xconv.conv(strict.asarray(x), strict.asarray(w))
    assert not _recent_calls._kept
