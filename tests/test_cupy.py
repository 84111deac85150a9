"""The CuPy backend, against the float64 loop oracles.

With a GPU, the oracle suites run on CuPy arrays (the `cupy` namespace also joins every
namespace-parametrized suite), with the depthwise CUDA kernel, results on the device,
and `measure` timing the stream. Without one (CI), those skip with the reason, and the
backend's own code (padding, strided im2col and frames, transforms, assembly, budgets)
runs on its NumPy stand-in: `CuPyBackend(native=numpy, fft=scipy.fft)` registered for
NumPy arrays, since CuPy mirrors NumPy's and SciPy's APIs.
"""

from __future__ import annotations

import array_api_compat.numpy as np_compat
import numpy as np
import pytest
import scipy.fft
from array_api_compat import is_numpy_namespace
from hypothesis import given, settings
from namespaces import NUMPY, CuPyNamespace, cupy_or_skip
from reference import reference_conv
from strategies import conv_problems, examples
from test_conv import check as check_conv
from test_gradients import check_conv_vjp, check_transpose_vjp
from test_transposed import ALGORITHMS, transposed_problems
from test_transposed import check as check_transposed

import xconv
from xconv.backends import backend_for, register_backend, unregister_backend
from xconv.backends.cupyarray import CuPyBackend

MODES = ("constant", "reflect", "symmetric", "circular", "replicate")


# -------------------------------------------------------------- the stand-in on NumPy


def _standin(xp):
    return CuPyBackend(xp, native=np, fft=scipy.fft)


@pytest.fixture(scope="module")
def standin():
    """NumPy arrays through the CuPy backend's code while this module's tests run (module
    scoped, so it is safe with @given; the GPU tests below use no NumPy xconv call)."""
    register_backend(is_numpy_namespace, _standin)
    try:
        backend = backend_for(np_compat)
        assert isinstance(backend, CuPyBackend) and not backend.on_gpu
        yield backend
    finally:
        unregister_backend(_standin)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(30))
@given(problem=conv_problems(dtypes=("float32", "float64", "complex64")))
def test_standin_conv_matches_oracle(standin, algorithm, problem):
    check_conv(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=transposed_problems(dtypes=("float32", "float64")))
def test_standin_conv_transpose_matches_oracle(standin, algorithm, problem):
    check_transposed(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(10))
@given(problem=conv_problems(dtypes=("float32", "float64")))
def test_standin_conv_vjp_matches_oracle(standin, algorithm, problem):
    check_conv_vjp(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(10))
@given(problem=transposed_problems(dtypes=("float32", "float64")))
def test_standin_conv_transpose_vjp_matches_oracle(standin, algorithm, problem):
    check_transpose_vjp(NUMPY, problem, algorithm)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_standin_padding_modes_strides_and_groups(standin, mode, algorithm):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 11, 9))
    w = rng.standard_normal((6, 2, 3, 4))
    kwargs = {"stride": (2, 1), "dilation": (1, 2), "groups": 2, "padding": ((2, 1), (3, 0))}
    got = xconv.conv(x, w, padding_mode=mode, algorithm=algorithm, **kwargs)
    expected = reference_conv(x, w, padding_mode=mode, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_standin_plans_on_the_cupy_backend_and_its_costs(standin):
    plan = xconv.plan((1, 1, 512, 512), (1, 1, 31, 31), dtype="float32")
    assert plan.backend_name == "cupy" and plan.algorithm == "fft"
    assert standin.memory_budget() == xconv.get_workspace_limit()  # no device to ask


def test_standin_frames_and_columns_are_the_generic_ones(standin):
    from xconv.backends.generic import Backend

    generic = Backend(np_compat)
    spec = xconv.ConvSpec((3, 2), stride=(2, 1), dilation=(1, 3), groups=2)
    x = np.arange(2 * 4 * 9 * 10, dtype=np.float32).reshape(2, 4, 9, 10)
    out = spec.output_spatial((9, 10))
    np.testing.assert_array_equal(standin.im2col(x, spec, out), generic.im2col(x, spec, out))
    frames = standin.overlap_frames(x, (3, 2), (4, 5), (6, 7))
    np.testing.assert_array_equal(frames, generic.overlap_frames(x, (3, 2), (4, 5), (6, 7)))


# -------------------------------------------------------------------------- the GPU


@pytest.fixture(scope="module")
def cupy_ns() -> CuPyNamespace:
    return CuPyNamespace(cupy_or_skip())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=CuPyNamespace.dtypes))
def test_gpu_conv_matches_oracle(cupy_ns, algorithm, problem):
    check_conv(cupy_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(20))
@given(problem=transposed_problems(dtypes=CuPyNamespace.dtypes))
def test_gpu_conv_transpose_matches_oracle(cupy_ns, algorithm, problem):
    check_transposed(cupy_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=conv_problems(dtypes=CuPyNamespace.dtypes))
def test_gpu_conv_vjp_matches_oracle(cupy_ns, algorithm, problem):
    check_conv_vjp(cupy_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=transposed_problems(dtypes=CuPyNamespace.dtypes))
def test_gpu_conv_transpose_vjp_matches_oracle(cupy_ns, algorithm, problem):
    check_transpose_vjp(cupy_ns, problem, algorithm)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_gpu_depthwise_kernel(cupy_ns, dtype, rank):
    cupy = cupy_ns.cupy
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2, 3, *[9] * rank)).astype(dtype)
    w = rng.standard_normal((6, 1, *[3] * rank)).astype(dtype)
    kwargs = {"stride": 2, "dilation": 2, "groups": 3, "padding": 3, "padding_mode": "reflect"}
    got = xconv.conv(cupy.asarray(x), cupy.asarray(w), algorithm="direct", **kwargs)
    assert isinstance(got, cupy.ndarray)
    expected = reference_conv(x.astype(np.float64), w.astype(np.float64), **kwargs)
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(cupy.asnumpy(got), expected, rtol=tolerance, atol=tolerance)
    plan = xconv.plan(x.shape, w.shape, dtype=dtype, backend="cupy", **kwargs)
    assert plan.estimates["direct"] < plan.estimates["gemm"]  # the kernel is costed as one


def test_gpu_results_stay_on_the_device_and_measure_times_the_stream(cupy_ns):
    cupy = cupy_ns.cupy
    x = cupy.random.standard_normal((2, 8, 64, 64), dtype=cupy.float32)
    w = cupy.random.standard_normal((16, 8, 5, 5), dtype=cupy.float32)
    for algorithm in ("gemm", "fft", "direct", "measure"):
        y = xconv.conv(x, w, padding="same", algorithm=algorithm)
        assert isinstance(y, cupy.ndarray) and y.device == x.device
    plan = xconv.plan(x.shape, w.shape, dtype="float32", padding="same", backend="cupy")
    assert plan.backend_name == "cupy"
    assert 0 < backend_for(cupy_namespace()).memory_budget() <= xconv.get_workspace_limit()


def cupy_namespace():
    import array_api_compat.cupy

    return array_api_compat.cupy


def test_the_readme_gpu_example_runs(cupy_ns, capsys):
    from readme import run_block

    namespace, _, _ = run_block("NVIDIA GPUs (CuPy)", capsys)
    y = namespace["y"]
    assert isinstance(y, cupy_ns.cupy.ndarray) and y.shape == (8, 64, 128, 128)


def test_the_gpu_check_script_is_valid_bash():
    import subprocess
    from pathlib import Path

    script = Path(__file__).parent.parent / "benchmarks" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
