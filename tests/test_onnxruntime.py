"""The ONNX Runtime route (optional): against the float64 oracles with the route forced,
its sessions (one-shot and prepacked), its threads, and the planner without it.

With onnxruntime installed (the test extra installs it) `algorithm="auto"` picks the route
wherever it is modelled fastest, so the oracle suites of `test_conv.py`,
`test_transposed.py` and `test_gradients.py` exercise it too; here every call is forced
onto it. The tests at the end run without it (the package hidden), as a user without
the `cpu` extra has it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from namespaces import NUMPY
from reference import reference_conv
from reference_transposed import reference_conv_transpose
from strategies import conv_problems, examples
from test_conv import check
from test_gradients import check_conv_vjp, check_transpose_vjp
from test_transposed import check as check_transposed
from test_transposed import transposed_problems

import xconv
from xconv import planner
from xconv.backends.numpy import _onnxruntime
from xconv.planner import clear_plans

FLOAT32 = ("float32", "float16")
ROUTE = "onnxruntime"

needs_route = pytest.mark.skipif(
    not _onnxruntime.available(), reason="onnxruntime not installed (or XCONV_ONNXRUNTIME=0)"
)


def _ran(plan) -> set[str]:
    return {node.algorithm for node in plan.walk() if not node.parts}


# ---------------------------------------------------------------------------- vs the oracles


@needs_route
@settings(max_examples=examples(150))
@given(problem=conv_problems(dtypes=FLOAT32))
def test_conv_matches_oracle(problem):
    check(NUMPY, problem, ROUTE)


@needs_route
@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=FLOAT32))
def test_conv_on_one_thread_matches_oracle(problem):
    with xconv.thread_limit(1):
        check(NUMPY, problem, ROUTE)


@needs_route
@settings(max_examples=examples(60))
@given(problem=transposed_problems(dtypes=FLOAT32))
def test_conv_transpose_matches_oracle(problem):
    check_transposed(NUMPY, problem, ROUTE)


@needs_route
@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=FLOAT32))
def test_conv_vjp_matches_oracle(problem):
    check_conv_vjp(NUMPY, problem, ROUTE)


@needs_route
@settings(max_examples=examples(30))
@given(problem=transposed_problems(dtypes=FLOAT32))
def test_conv_transpose_vjp_matches_oracle(problem):
    check_transpose_vjp(NUMPY, problem, ROUTE)


@contextlib.contextmanager
def _phases_on_the_route():
    """Transposed windows by the stride phases, each phase's `Conv` on the route (its
    `ConvTranspose` hidden from the planner)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planner, "ENGINES", ())
        clear_plans()
        try:
            yield
        finally:
            clear_plans()


@needs_route
@settings(max_examples=examples(60))
@given(problem=transposed_problems(dtypes=FLOAT32))
def test_conv_transpose_by_phases_on_the_route_matches_oracle(problem):
    with _phases_on_the_route():
        check_transposed(NUMPY, problem, ROUTE)


@needs_route
@settings(max_examples=examples(30))
@given(problem=conv_problems(dtypes=FLOAT32))
def test_conv_vjp_by_phases_on_the_route_matches_oracle(problem):
    with _phases_on_the_route():
        check_conv_vjp(NUMPY, problem, ROUTE)


@needs_route
def test_a_phase_hands_the_route_its_window_unpadded(monkeypatch):
    rng = np.random.default_rng(9)
    y = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    seen = []
    real = _onnxruntime.run

    def spy(node, x, weight, *args, **kwargs):
        seen.append((node.op, node.pads, x.shape))
        return real(node, x, weight, *args, **kwargs)

    monkeypatch.setattr(_onnxruntime, "run", spy)
    with _phases_on_the_route():
        got = xconv.conv_transpose(y, w, padding=((0, 1), (1, 0)), algorithm=ROUTE)
    # one stride-1 phase: the flipped kernel over y with zeros of k - 1 - crop around it,
    # which ONNX Runtime's Conv pads itself (no padded copy of y)
    assert seen == [("Conv", (2, 0, 1, 1), y.shape)]  # starts (2, 0), ends (1, 1)
    expected = reference_conv_transpose(y, w, padding=((0, 1), (1, 0)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


@needs_route
@pytest.mark.parametrize("operation", ["conv", "conv_transpose", "conv_vjp", "conv_transpose_vjp"])
def test_every_correlation_of_a_forced_plan_runs_on_the_route(operation):
    kwargs = {"stride": 2, "padding": 1, "groups": 2}
    x_shape = (2, 6, 9, 9) if "transpose" in operation else (2, 4, 9, 9)
    plan = xconv.plan(x_shape, (6, 2, 3, 3), operation=operation, algorithm=ROUTE, **kwargs)
    assert _ran(plan) == {ROUTE}, plan


@needs_route
@pytest.mark.parametrize("operation", ["conv", "conv_transpose"])
def test_plans_read_back_from_json_run_the_route(operation):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 9, 9)).astype(np.float32)
    w = rng.standard_normal((6, 3, 4, 4)).astype(np.float32)
    kwargs = {"stride": 2, "padding": 1, "groups": 2}
    plan = xconv.plan(x.shape, w.shape, operation=operation, algorithm=ROUTE, **kwargs)
    again = xconv.load_plan(plan.to_json())
    assert _ran(again) == {ROUTE}
    oracle = reference_conv if operation == "conv" else reference_conv_transpose
    expected = oracle(x, w, **kwargs)
    np.testing.assert_allclose(again(x, w), expected, rtol=1e-5, atol=1e-4)


@needs_route
def test_a_transposed_window_runs_in_one_call_with_zeros_past_the_adjoint():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 4, 5, 6)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    kwargs = {"stride": 3, "output_padding": (2, 1), "dilation": (1, 2)}
    plan = xconv.plan(x.shape, w.shape, operation="conv_transpose", algorithm=ROUTE, **kwargs)
    assert plan.parts[0].chunking["engine"] == "onnxruntime ConvTranspose"
    got = xconv.conv_transpose(x, w, algorithm=ROUTE, **kwargs)
    expected = reference_conv_transpose(x, w, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


@needs_route
def test_the_plan_names_the_route_and_keeps_the_weight_prepacked():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    plan = xconv.plan(x.shape, w.shape, dtype="float32", padding=1, algorithm=ROUTE)
    assert plan.chunking["engine"] == "onnxruntime Conv"
    assert plan.chunking["weight"] == "prepacked"
    assert "onnxruntime Conv" in str(plan) and "prepacked" in str(plan)
    one_shot = xconv.conv(x, w, padding=1, algorithm=ROUTE)
    assert xconv.plan(x.shape, w.shape, dtype="float32", padding=1).chunking.get("weight") in (
        None,
        "prepacked",
    )  # whatever auto picks, a plan keeps its weight's form
    expected = reference_conv(x.astype(np.float64), w.astype(np.float64), padding=1)
    np.testing.assert_allclose(plan(x, w), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(one_shot, expected, rtol=1e-5, atol=1e-4)
    assert len(plan.prepared) == 1  # the prepacked session, kept with a copy of w
    w *= -2  # changed in place: the plan sees it and rebuilds the session
    np.testing.assert_allclose(plan(x, w), -2 * expected, rtol=1e-5, atol=1e-4)
    assert len(plan.prepared) == 1


@needs_route
def test_one_shot_sessions_are_kept_per_attributes_and_threads():
    _onnxruntime.forget_sessions()
    x = np.ones((1, 2, 6, 6), np.float32)
    for weight in (np.ones((3, 2, 3, 3), np.float32), np.full((3, 2, 3, 3), 2, np.float32)):
        xconv.conv(x, weight, algorithm=ROUTE)  # one session serves any weight
    xconv.conv(np.ones((2, 2, 9, 9), np.float32), weight, algorithm=ROUTE)  # any shape
    assert len(_onnxruntime._kept) == 1
    with xconv.thread_limit(1):
        xconv.conv(x, weight, algorithm=ROUTE)
    assert len(_onnxruntime._kept) == 2  # one per thread count
    assert [threads for _, threads in _onnxruntime._kept][-1] == 1


@needs_route
def test_a_2d_depthwise_layer_is_prepacked_on_its_first_call():
    _onnxruntime.forget_sessions()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 1, 5, 5)).astype(np.float32)
    plan = xconv.plan(x.shape, w.shape, dtype="float32", groups=8, padding=2, algorithm=ROUTE)
    assert plan.chunking["weight"] == "prepacked"
    y = xconv.conv(x, w, groups=8, padding=2, algorithm=ROUTE)
    assert [seen.session is not None for seen in _onnxruntime._seen.values()] == [True]
    expected = reference_conv(x, w, groups=8, padding=2)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-4)
    w[0] += 1  # a changed weight gets a session of its own
    y = xconv.conv(x, w, groups=8, padding=2, algorithm=ROUTE)
    np.testing.assert_allclose(y, reference_conv(x, w, groups=8, padding=2), atol=1e-4)


@needs_route
def test_concurrent_calls_share_sessions_safely():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 16, 20, 20)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    expected = xconv.conv(x, w, padding=1, algorithm="gemm")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: xconv.conv(x, w, padding=1, algorithm=ROUTE), range(8)))
    for y in results:
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-4)


@needs_route
def test_padding_it_does_not_take_is_applied_before_it():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 3, 7, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    for options in (
        {"padding": ((2, 0), (1, 3)), "padding_mode": "reflect"},
        {"padding": ((2, 0), (1, 3)), "padding_value": 1.5},
        {"padding": "same", "padding_mode": "circular"},
    ):
        got = xconv.conv(x, w, algorithm=ROUTE, **options)
        expected = reference_conv(x.astype(np.float64), w.astype(np.float64), **options)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4, err_msg=str(options))


@needs_route
def test_non_finite_values_propagate_as_in_the_definition():
    x = np.ones((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = np.nan
    y = xconv.conv(x, np.ones((1, 1, 3, 3), np.float32), algorithm=ROUTE)
    expected = reference_conv(x.astype(np.float64), np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))


@needs_route
def test_dtypes_it_does_not_take_are_a_clear_error_when_forced_and_never_chosen():
    with pytest.raises(TypeError, match=r'algorithm="onnxruntime" computes in float32.*float64'):
        xconv.conv(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), algorithm=ROUTE)
    with pytest.raises(TypeError, match="complex64"):
        xconv.plan((1, 1, 5, 5), (1, 1, 3, 3), dtype="complex64", algorithm=ROUTE)
    plan = xconv.plan((4, 64, 56, 56), (64, 64, 3, 3), dtype="float64", padding=1)
    assert ROUTE not in plan.estimates


@needs_route
def test_other_backends_name_the_arrays_it_runs_on():
    torch = pytest.importorskip("torch")
    x, w = torch.ones((1, 1, 5, 5)), torch.ones((1, 1, 3, 3))
    with pytest.raises(ValueError, match="NumPy arrays only, not on torch arrays"):
        xconv.conv(x, w, algorithm=ROUTE)


@needs_route
def test_dask_blocks_run_it_on_one_thread(monkeypatch):
    da = pytest.importorskip("dask.array")
    seen = []
    real = _onnxruntime.run

    def spy(node, x, weight, prepared=None, prepack=False):
        from xconv.backends.numpy._threads import workers

        seen.append(workers())
        return real(node, x, weight, prepared, prepack)

    monkeypatch.setattr(_onnxruntime, "run", spy)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 32, 40, 40)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    with xconv.default_algorithm(ROUTE):
        y = xconv.conv(da.from_array(x, chunks=(1, 32, 20, 40)), w, padding=1).compute()
    np.testing.assert_allclose(y, xconv.conv(x, w, padding=1, algorithm="gemm"), atol=1e-4)
    assert seen and set(seen) == {1}


@needs_route
def test_measure_times_it_beside_xconv_own_routes():
    clear_plans()  # and the measurements
    plan = xconv.plan((2, 32, 20, 20), (32, 32, 3, 3), dtype="float32", padding=1,
                      algorithm="measure")  # fmt: skip
    assert ROUTE in plan.measured and "gemm" in plan.measured
    assert plan.algorithm == min(plan.measured, key=plan.measured.get)


@needs_route
def test_auto_picks_it_for_gemm_bound_layers_only_where_modelled_faster():
    resnet = xconv.plan((4, 64, 56, 56), (64, 64, 3, 3), dtype="float32", padding=1)
    # measured 2.2x faster than xconv's GEMM engine (benchmarks.choices): priced so
    assert resnet.algorithm == ROUTE
    assert resnet.estimates[ROUTE] < resnet.estimates["gemm"] / 1.5
    blur = xconv.plan((1, 1, 2048, 2048), (1, 1, 25, 25), dtype="float32", padding=12)
    assert blur.algorithm == "fft"  # large kernels stay on the transforms


# ---------------------------------------------------------------------------- without it


@contextlib.contextmanager
def without_route():
    """The route as on a machine without the `cpu` extra."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_onnxruntime, "available", lambda: False)
        clear_plans()
        try:
            yield
        finally:
            clear_plans()


def test_without_it_forcing_it_says_how_to_install_it():
    x, w = np.ones((1, 1, 5, 5), np.float32), np.ones((1, 1, 3, 3), np.float32)
    with without_route(), pytest.raises(ImportError, match=r'pip install "xconv\[cpu\]"'):
        xconv.conv(x, w, algorithm=ROUTE)


@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=("float32",)))
def test_without_it_auto_runs_xconv_own_routes(problem):
    with without_route():
        check(NUMPY, problem, "auto")
        shape, kwargs = problem.x.shape, problem.kwargs
        plan = xconv.plan(shape, problem.weight.shape, dtype="float32", **kwargs)
        assert ROUTE not in plan.estimates and ROUTE not in _ran(plan)
