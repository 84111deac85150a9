"""The backend seam: a backend written outside the core plugs in and is used everywhere.

`CountingBackend` is the README's "Writing a backend" example: about thirty lines that
count the primitives xconv calls on `array_api_strict` arrays and offer a delegate for
one case. Results are compared with the float64 definition (`reference`), never with
xconv itself.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
from readme import run_block
from reference import reference_conv
from reference_transposed import reference_conv_transpose

import xconv
from xconv.backends import Backend, Declined, backend_for, register_backend, unregister_backend

strict = pytest.importorskip("array_api_strict")


class CountingBackend(Backend):
    """The generic backend, counting each primitive call; delegates 1x1 convolutions."""

    name = "counting"

    def __init__(self, xp):
        super().__init__(xp)
        self.calls = collections.Counter()

    def pad(self, x, pads, mode="constant", value=0):
        self.calls["pad"] += 1
        return super().pad(x, pads, mode, value)

    def im2col(self, x, spec, out_spatial):
        self.calls["im2col"] += 1
        return super().im2col(x, spec, out_spatial)

    def rfftn(self, x, shape, axes):
        self.calls["rfftn"] += 1
        return super().rfftn(x, shape, axes)

    def delegate(self, operation, call, own):
        if operation != "conv" or call.spec.kernel_size != (1,) * call.spec.rank:
            return Declined("only 1x1 forward convolutions")
        self.calls["delegate"] += 1
        xp, x = self.xp, call.in_work_dtype(call.x)
        weight = xp.reshape(call.in_work_dtype(call.weight), call.weight.shape[:2])
        flat = xp.reshape(x, (x.shape[0], x.shape[1], -1))
        y = xp.reshape(xp.matmul(weight, flat), (x.shape[0], -1, *x.shape[2:]))
        return call.finish(call.add_bias(y))


@pytest.fixture
def counting():
    register_backend(lambda xp: xp is strict, CountingBackend)
    try:
        backend = backend_for(strict)
        assert isinstance(backend, CountingBackend)
        yield backend
    finally:
        unregister_backend(CountingBackend)


def test_a_registered_backend_runs_every_path(counting):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3))
    for algorithm in ("direct", "gemm", "fft"):
        y = xconv.conv(strict.asarray(x), strict.asarray(w), padding=1, algorithm=algorithm)
        np.testing.assert_allclose(np.asarray(y), reference_conv(x, w, padding=1), atol=1e-10)
    assert counting.calls["pad"] == 3
    assert counting.calls["im2col"] >= 1 and counting.calls["rfftn"] >= 1
    assert counting.calls["delegate"] == 0


def test_a_delegate_takes_whole_operations_it_accepts(counting):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 5, 7)), rng.standard_normal((3, 5, 1)), np.arange(3.0)
    y = xconv.conv(strict.asarray(x), strict.asarray(w), strict.asarray(b))
    assert counting.calls["delegate"] == 1 and counting.calls["pad"] == 0
    np.testing.assert_allclose(np.asarray(y), reference_conv(x, w, b), atol=1e-12)


def test_declined_operations_fall_back_to_xconv(counting):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 6)), rng.standard_normal((2, 3, 3))
    y = xconv.conv_transpose(strict.asarray(x), strict.asarray(w), stride=2)
    expected = reference_conv_transpose(x, w, stride=2)
    np.testing.assert_allclose(np.asarray(y), expected, atol=1e-12)
    assert counting.calls["delegate"] == 0


def test_unregistering_restores_the_generic_backend():
    register_backend(lambda xp: xp is strict, CountingBackend)
    unregister_backend(CountingBackend)
    assert type(backend_for(strict)) is Backend


def test_backends_are_found_lazily_per_namespace():
    import array_api_compat.numpy as np_compat

    assert backend_for(np_compat).name == "numpy"
    assert backend_for(np_compat) is backend_for(np_compat)
    assert backend_for(strict).name == "generic"


def test_the_readme_example_runs(capsys):
    """The README's "Writing a backend" block, run as written; its printed line is checked."""
    try:
        _, printed, expected = run_block("Writing a backend", capsys)
    finally:
        unregister_backend(_registered_counting_backend())
    assert printed == expected


def _registered_counting_backend():
    """The factory the README example registered (the README's own class)."""
    from xconv.backends import _REGISTRY

    return next((f for _, f in _REGISTRY if getattr(f, "__name__", "") == "CountingBackend"), None)
