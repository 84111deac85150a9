"""One plan per operation: what `xconv.plan` shows is what every operation runs.

The oracle for values is the float64 definition (`reference.py`); for what runs, the
algorithm runs a spy records, compared with the plan's nodes.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from reference import reference_conv
from reference_transposed import reference_conv_transpose

import xconv
from xconv import planner
from xconv.backends import Backend, backend_for, backend_named
from xconv.plans import NON_FINITE

OPERATIONS = ("conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp")


def spy_on_runs(monkeypatch, backend_name: str = "numpy") -> list:
    """Record `(algorithm, input shape)` of every forward correlation the backend runs."""
    backend = backend_named(backend_name)
    calls = []

    def spied(algorithm):
        def run(backend, x, *args, **kwargs):
            calls.append((algorithm.name, tuple(x.shape)))
            return algorithm.run(backend, x, *args, **kwargs)

        return type(algorithm)(algorithm.name, algorithm.estimate, run, algorithm.prepares)

    table = {name: spied(a) for name, a in backend.algorithms.items()}
    monkeypatch.setattr(backend, "algorithms", table)
    planner.clear_plans()
    yield_calls = calls
    return yield_calls


def _leaves(plan):
    """The correlation nodes a plan runs (those with an algorithm's estimate), with how
    often each runs."""
    if plan.estimate is not None:
        return [(plan, 1)]
    return [(leaf, n * part.repeat) for part in plan.parts for leaf, n in _leaves(part)]


def _arrays(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


CASES = {
    "conv": ((2, 6, 20, 20), (4, 6, 3, 3), {"padding": 1}),
    "conv_transpose": ((2, 6, 10, 10), (6, 4, 3, 3), {"stride": 2, "padding": 1}),
    "conv_vjp": ((2, 6, 20, 20), (4, 6, 3, 3), {"padding": 1, "stride": 2}),
    "conv_transpose_vjp": ((2, 6, 10, 10), (6, 4, 3, 3), {"stride": 2, "padding": 1}),
}


@pytest.mark.parametrize("algorithm", ["auto", "direct", "fft"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_each_operation_runs_the_correlations_its_plan_shows(monkeypatch, operation, algorithm):
    x_shape, w_shape, options = CASES[operation]
    rng = np.random.default_rng(0)
    x, w = _arrays(rng, x_shape, w_shape)
    forward = getattr(xconv, operation.removesuffix("_vjp"))
    grad = rng.standard_normal(forward(x, w, **options).shape)
    calls = spy_on_runs(monkeypatch)
    plan = xconv.plan(
        x_shape, w_shape, operation=operation, dtype="float64", algorithm=algorithm, **options
    )
    public = getattr(xconv, operation)
    if operation.endswith("_vjp"):
        public(grad, x, w, algorithm=algorithm, **options)
    else:
        public(x, w, algorithm=algorithm, **options)
    expected = sorted(
        (leaf.algorithm, tuple(leaf.input_shape)) for leaf, n in _leaves(plan) for _ in range(n)
    )
    # the runs receive padded inputs: compare algorithms and counts, shapes where unpadded
    assert sorted(a for a, _ in calls) == sorted(a for a, _ in expected)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_plan_of_each_operation_runs_as_the_operation(operation):
    x_shape, w_shape, options = CASES[operation]
    rng = np.random.default_rng(1)
    x, w = _arrays(rng, x_shape, w_shape)
    plan = xconv.plan(x_shape, w_shape, operation=operation, dtype="float64", **options)
    public = getattr(xconv, operation)
    if operation.endswith("_vjp"):
        forward = getattr(xconv, operation.removesuffix("_vjp"))
        grad = rng.standard_normal(forward(x, w, **options).shape)
        got, expected = plan(grad, x, w), public(grad, x, w, **options)
    else:
        got, expected = (plan(x, w),), (public(x, w, **options),)
        oracle = reference_conv if operation == "conv" else reference_conv_transpose
        np.testing.assert_allclose(got[0], oracle(x, w, **options), atol=1e-10)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_plans_state_their_parts():
    grads = xconv.plan((8, 16, 32, 32), (16, 16, 3, 3), operation="conv_vjp", padding=1)
    assert [p.operation for p in grads.parts] == ["input gradient", "weight gradient"]
    transposed = xconv.plan(
        (2, 16, 16, 16), (16, 8, 4, 4), operation="conv_transpose", stride=2, algorithm="fft"
    )
    (window,) = transposed.parts
    assert window.algorithm == "phases" and sum(p.repeat for p in window.parts) == 4
    assert all(p.algorithm == "fft" for p in window.parts)
    assert transposed.seconds == pytest.approx(sum(p.seconds * p.repeat for p in window.parts))
    text = str(transposed)
    assert "transposed window: phases" in text and "phase (x" in text


def test_a_stride_wider_than_the_kernel_is_spread():
    plan = xconv.plan((1, 2, 8), (2, 3, 2), operation="conv_transpose", stride=5)
    (window,) = plan.parts
    assert window.algorithm == "spread" and window.parts[0].spec.stride == (2,)


def test_the_workspace_decides_the_transposed_route_at_plan_time():
    shapes = ((4, 64, 32, 32), (64, 32, 4, 4))
    options = {"operation": "conv_transpose", "stride": 2, "algorithm": "gemm"}
    assert xconv.plan(*shapes, **options).parts[0].algorithm == "transposed gemm"
    with xconv.workspace_limit(2**16):
        small = xconv.plan(*shapes, **options).parts[0]
    assert small.algorithm == "phases" and "exceed the workspace" in small.reason
    rng = np.random.default_rng(2)
    x, w = _arrays(rng, *shapes)
    with xconv.workspace_limit(2**16):
        y = xconv.conv_transpose(x, w, stride=2, algorithm="gemm")
    np.testing.assert_allclose(y, reference_conv_transpose(x, w, stride=2), atol=1e-9)


def test_auto_fft_states_its_non_finite_fallback():
    plan = xconv.plan((1, 1, 2**16), (1, 1, 1025), padding="same")
    assert plan.algorithm == "fft" and plan.fallback is not None
    assert plan.fallback.algorithm != "fft" and plan.fallback_when == NON_FINITE
    assert "if the data are not all finite" in str(plan)
    forced = xconv.plan((1, 1, 2**16), (1, 1, 1025), padding="same", algorithm="fft")
    assert forced.fallback is None  # an explicit "fft" does what it says


# ---------------------------------------------------------------------------- measure, JSON


def test_measure_is_recorded_in_the_plan():
    planner.clear_measurements()
    plan = xconv.plan((2, 8, 48, 48), (8, 8, 5, 5), padding=2, algorithm="measure")
    assert plan.reason.startswith("measured: ") and len(plan.measured) >= 2
    assert plan.algorithm == min(plan.measured, key=plan.measured.get)
    assert "measured" in str(plan)
    planner.clear_measurements()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_plans_travel_as_json(operation):
    x_shape, w_shape, options = CASES[operation]
    plan = xconv.plan(x_shape, w_shape, operation=operation, **options)
    text = plan.to_json()
    json.loads(text)  # plain JSON
    again = xconv.load_plan(text)
    assert again == plan and str(again) == str(plan)
    rng = np.random.default_rng(3)
    x, w = (a.astype(np.float32) for a in _arrays(rng, x_shape, w_shape))
    if operation.endswith("_vjp"):
        forward = getattr(xconv, operation.removesuffix("_vjp"))
        grad = rng.standard_normal(forward(x, w, **options).shape).astype(np.float32)
        for a, b in zip(again(grad, x, w), plan(grad, x, w), strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(again(x, w), plan(x, w))


def test_a_measured_plan_keeps_its_timings_in_json():
    tuned = xconv.plan((1, 4, 40, 40), (4, 4, 7, 7), padding=3, algorithm="measure")
    again = xconv.load_plan(tuned.to_json())
    assert again.measured == tuned.measured and again.algorithm == tuned.algorithm


def test_a_complex_padding_value_survives_json():
    plan = xconv.plan((1, 2, 9), (2, 2, 3), dtype="complex128", padding=1, padding_value=1 + 2j)
    assert xconv.load_plan(plan.to_json()).spec.padding_value == 1 + 2j


def test_load_plan_refuses_other_text():
    with pytest.raises(ValueError, match=r"Plan\.to_json"):
        xconv.load_plan('{"not": "a plan"}')
    with pytest.raises(ValueError, match=r"Plan\.to_json"):
        xconv.load_plan("not json")


# ---------------------------------------------------------------------------- backends


def test_every_backend_can_be_planned_and_shown():
    shapes = ((2, 16, 32, 32), (16, 16, 3, 3))
    torch_plan = xconv.plan(*shapes, padding=1, backend="torch")
    assert torch_plan.algorithm == "delegated"
    assert torch_plan.chunking["route"] == "torch.nn.functional.conv2d"
    assert torch_plan.parts[0].algorithm in ("direct", "gemm")  # xconv's own, for later
    jax_plan = xconv.plan(*shapes, padding=1, backend="jax")
    assert jax_plan.chunking["route"] == "jax.lax.conv_general_dilated"
    dask_plan = xconv.plan(*shapes, padding=1, backend="dask")
    assert dask_plan.chunking["route"] == "dask blocks"
    big = xconv.plan((1, 1, 512, 512), (1, 1, 41, 41), backend="torch")
    assert big.algorithm == "fft"  # xconv's FFT beats torch's kernel: no delegation
    for plan in (torch_plan, jax_plan, dask_plan, big):
        assert plan.backend_name in str(plan)


def test_a_registered_backend_is_planned_with_its_own_costs():
    import dataclasses

    import array_api_strict as xps

    from xconv.backends import register_backend, unregister_backend

    class Slow(Backend):
        name = "slow-transforms"
        costs = dataclasses.replace(
            Backend.costs,
            fft=dataclasses.replace(Backend.costs.fft, transform=1e3, axis_pass=1e3),
        )

    register_backend(lambda xp: xp is xps, Slow)
    try:
        backend = backend_for(xps)
        plan = xconv.plan((1, 1, 512, 512), (1, 1, 41, 41), backend=backend)
        assert plan.backend is backend and plan.algorithm != "fft"
        assert "slow-transforms" in str(plan)
    finally:
        unregister_backend(Slow)


def test_gpu_devices_are_priced_with_gpu_constants():
    shapes = ((8, 64, 56, 56), (64, 64, 3, 3))
    cpu = xconv.plan(*shapes, padding=1, backend="torch")
    gpu = xconv.plan(*shapes, padding=1, backend="torch", device="cuda")
    assert gpu.seconds < cpu.seconds / 10
    assert gpu.parts[0].backend.costs.source != cpu.parts[0].backend.costs.source


def test_the_backends_import_nothing_from_above():
    """The seam runs one way: what a delegate needs arrives with the call."""
    above = {"planner", "plans", "executor", "operations", "forward", "transposed",
             "gradients", "_front", "signal", "ndimage", "torch", "compat"}  # fmt: skip
    root = Path(xconv.__file__).parent / "backends"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                module = (node.module or "").split(".")[0]
                names = {alias.name for alias in node.names}
                assert module not in above, f"{path.name} imports xconv.{module}"
                assert not (module == "" and names & above), f"{path.name} imports {names}"


# ---------------------------------------------------------------------------- autograd


def _signal_with_a_nan():
    """A signal long enough, and a kernel large enough, that xconv plans the FFT; one NaN,
    and how many outputs the definition's sums make NaN."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 1, 65536)), rng.standard_normal((1, 1, 1025))
    x[0, 0, 100] = np.nan
    return x, w, int(np.isnan(reference_conv(x, w, padding=512)).sum())


def test_torch_autograd_through_an_fft_plan_settles_its_fallback():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 1, 65536)), rng.standard_normal((1, 1, 1025))
    assert xconv.plan(x.shape, w.shape, dtype="float64", backend="torch").algorithm == "fft"
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    xconv.conv(xt, wt).sum().backward()  # finite: the FFT plan, its fallback dropped
    ones = np.ones((2, 1, 65536 - 1024))
    np.testing.assert_allclose(wt.grad.numpy(), xconv.conv_vjp(ones, x, w)[1], rtol=1e-9)
    assert xt.grad.shape == x.shape
    x, w, nans = _signal_with_a_nan()
    xt = torch.tensor(x, requires_grad=True)
    y = xconv.conv(xt, torch.tensor(w), padding=512)  # not finite: the direct sums
    assert int(torch.isnan(y).sum()) == nans < 1000  # only the windows that hold the NaN
    y.nansum().backward()
    assert xt.grad.shape == x.shape


def test_jax_gradients_under_jit_with_a_constant_output_gradient():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, w = jnp.ones((2, 8, 40, 40)), jnp.ones((8, 1, 21, 21))
    g = jnp.ones((2, 8, 40, 40))  # a constant inside the trace: its values are traced too

    def pullback(x, w):
        return jax.vjp(lambda x, w: xconv.conv(x, w, padding=10, groups=8), x, w)[1](g)

    grad_x, grad_w = jax.jit(pullback)(x, w)
    assert grad_x.shape == x.shape and grad_w.shape == w.shape
    x, w, nans = _signal_with_a_nan()
    y = xconv.conv(jnp.asarray(x), jnp.asarray(w), padding=512)
    assert int(jnp.isnan(y).sum()) == nans < 1000
