"""Dask arrays: every operation block by block, against the float64 loop oracles.

The `dask` namespace (tests/namespaces.py) chunks every axis unevenly (2, 1, 3, ...), so
every window crosses chunk borders and reaches the array edges; the fixed tests below add
large kernels on small chunks, chunked channels with groups, weights from NumPy and from
Dask, the shape of the graph, and a run on a `dask.distributed` cluster of processes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from namespaces import DaskNamespace, get_namespace
from reference import reference_conv
from reference_transposed import reference_conv_transpose
from strategies import conv_problems, examples
from test_conv import check as check_conv
from test_gradients import check_conv_vjp, check_transpose_vjp
from test_transposed import ALGORITHMS, transposed_problems
from test_transposed import check as check_transposed

import xconv

da = pytest.importorskip("dask.array")
MODES = ("constant", "reflect", "symmetric", "circular", "replicate")


@pytest.fixture(scope="module")
def dask_ns() -> DaskNamespace:
    return get_namespace("dask")


# ---------------------------------------------------------------------------- oracles


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(40))
@given(problem=conv_problems(dtypes=DaskNamespace.dtypes))
def test_conv_matches_oracle(dask_ns, algorithm, problem):
    check_conv(dask_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(20))
@given(problem=transposed_problems(dtypes=DaskNamespace.dtypes))
def test_conv_transpose_matches_oracle(dask_ns, algorithm, problem):
    check_transposed(dask_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=conv_problems(dtypes=DaskNamespace.dtypes))
def test_conv_vjp_matches_oracle(dask_ns, algorithm, problem):
    check_conv_vjp(dask_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=transposed_problems(dtypes=DaskNamespace.dtypes))
def test_conv_transpose_vjp_matches_oracle(dask_ns, algorithm, problem):
    check_transpose_vjp(dask_ns, problem, algorithm)


# ---------------------------------------------------------------------------- borders


def chunked(a: np.ndarray, *chunks):
    return da.from_array(a, chunks=chunks)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", [2, ((4, 0), (1, 5)), "same", "same_lower", "full", "causal"])
def test_every_padding_at_the_array_edges(mode, padding):
    """Kernels wider than the chunks: windows span several blocks and the edge samples
    come from the far side of the array (circular) or mirror across a chunk border."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 23, 19)), rng.standard_normal((4, 3, 6, 5))
    if padding == "causal" or (padding == "full" and mode == "reflect"):
        w = w[..., :4, :4]  # reflect takes at most n - 1 samples per side
    kw = dict(padding=padding, padding_mode=mode, padding_value=0.5)
    if padding == "causal":
        x, w, kw["dilation"] = x[..., 0, :], w[..., 0, :], 2
    y = xconv.conv(chunked(x, 1, 2, *(4,) * (x.ndim - 2)), w, **kw)
    np.testing.assert_allclose(y.compute(), reference_conv(x, w, **kw), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride", [1, 2, 3, 7])
@pytest.mark.parametrize("dilation", [1, 3])
def test_stride_and_dilation_across_chunks(stride, dilation):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 41, 30)), rng.standard_normal((3, 2, 4, 3))
    kw = dict(stride=stride, dilation=dilation, padding="same", padding_mode="reflect")
    y = xconv.conv(chunked(x, 1, 1, 5, 7), w, **kw)
    np.testing.assert_allclose(y.compute(), reference_conv(x, w, **kw), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride", [1, 2, 5])
def test_transposed_across_chunks(stride):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 4, 13, 9)), rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(6)
    kw = dict(stride=stride, groups=2, padding=((1, 0), (0, 1)), dilation=(1, 2))
    y = xconv.conv_transpose(chunked(x, 1, 3, 2, 4), w, b, **kw)
    expected = reference_conv_transpose(x, w, b, **kw)
    np.testing.assert_allclose(y.compute(), expected, rtol=1e-12, atol=1e-12)


def test_channels_chunked_with_groups_and_channels_last():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 17, 15, 6)), rng.standard_normal((6, 2, 3, 3))
    kw = dict(groups=3, padding="same", channels_last=True, padding_mode="circular")
    y = xconv.conv(chunked(x, 2, 5, 4, 1), w, **kw)
    assert y.chunks[-1] == (6,)
    np.testing.assert_allclose(y.compute(), reference_conv(x, w, **kw), rtol=1e-12, atol=1e-12)


def test_unbatched_1d_and_3d():
    rng = np.random.default_rng(4)
    x1, w1 = rng.standard_normal((2, 50)), rng.standard_normal((3, 2, 9))
    y1 = xconv.conv(chunked(x1, 2, 7), w1, padding="same")
    np.testing.assert_allclose(y1.compute(), reference_conv(x1, w1, padding="same"), atol=1e-12)
    x3, w3 = rng.standard_normal((1, 11, 10, 9)), rng.standard_normal((2, 1, 3, 2, 4))
    kw = dict(padding="same", stride=2, padding_mode="symmetric")
    y3 = xconv.conv(chunked(x3, 1, 4, 3, 5), w3, **kw)
    np.testing.assert_allclose(y3.compute(), reference_conv(x3, w3, **kw), atol=1e-12)


# ---------------------------------------------------------------------------- weights


def test_weight_and_bias_from_numpy_or_dask():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((1, 2, 20, 20)), rng.standard_normal((3, 2, 3, 3)), np.ones(3)
    expected = reference_conv(x, w, b, padding="same")
    for weight, bias in [(w, b), (chunked(w, 2, 1, 2, 2), chunked(b, 2))]:
        y = xconv.conv(chunked(x, 1, 1, 6, 6), weight, bias, padding="same")
        assert isinstance(y, da.Array)
        np.testing.assert_allclose(y.compute(), expected, atol=1e-12)


def test_another_library_beside_dask_is_refused():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="different array libraries"):
        xconv.conv(da.ones((1, 1, 8)), torch.ones((1, 1, 3)))


def test_float32_stays_float32_and_float64_float64():
    x = da.ones((1, 1, 30), chunks=7)
    w = np.ones((1, 1, 3), dtype=np.float32)
    assert xconv.conv(x.astype(np.float32), w).dtype == np.float32
    assert xconv.conv(x, w.astype(np.float64)).dtype == np.float64


# ---------------------------------------------------------------------------- the graph


def test_graph_grows_with_blocks_not_with_the_kernel():
    x = da.zeros((1, 1, 4000, 4000), chunks=(1, 1, 1000, 1000))
    sizes = {
        k: len(xconv.conv(x, np.ones((1, 1, k, k)), padding="same").__dask_graph__())
        for k in (3, 31, 301)
    }
    assert sizes[3] == sizes[31] == sizes[301], sizes
    assert sizes[3] < 10 * 16, sizes  # a few tasks per block


def test_output_chunks_follow_the_input():
    x = da.zeros((2, 3, 100, 60), chunks=(1, 3, 25, 20))
    w = np.ones((4, 3, 5, 5))
    assert xconv.conv(x, w, padding="same").chunks == ((1, 1), (4,), (25,) * 4, (20,) * 3)
    assert xconv.conv(x, w, padding="same", stride=5).chunks[2:] == ((5,) * 4, (4,) * 3)
    assert xconv.conv_transpose(x, np.ones((3, 2, 3, 3)), stride=2).chunks[2:] == (
        (50, 50, 50, 51),
        (40, 40, 41),
    )


def test_a_slice_computes_only_its_blocks():
    import dask

    x = da.random.random((1, 1, 4000, 4000), chunks=(1, 1, 500, 500))
    y = xconv.conv(x, np.ones((1, 1, 15, 15)), padding="same", padding_mode="replicate")
    (corner,) = dask.optimize(y[..., :100, :100])
    assert len(corner.__dask_graph__()) < len(y.__dask_graph__()) / 10


def test_results_stay_lazy_until_computed():
    calls = []

    def count(block):
        calls.append(block.shape)
        return block

    x = da.ones((1, 1, 64, 64), chunks=32).map_blocks(count, meta=np.empty((0,) * 4))
    y = xconv.conv_vjp(da.ones((1, 1, 64, 64), chunks=32), x, np.ones((1, 1, 3, 3)), padding=1)
    assert calls == [] and all(isinstance(g, da.Array) for g in y)


# ---------------------------------------------------------------------------- distributed


def test_runs_on_a_cluster_of_worker_processes():
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 2, 60, 50)), rng.standard_normal((3, 2, 5, 5))
    gy = rng.standard_normal((2, 3, 30, 25))
    kw = dict(stride=2, padding="same", padding_mode="reflect")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        xd = chunked(x, 1, 2, 16, 16)
        y = client.compute(xconv.conv(xd, w, **kw)).result()
        grads = client.gather(client.compute(xconv.conv_vjp(chunked(gy, 1, 3, 8, 8), xd, w, **kw)))
    np.testing.assert_allclose(y, reference_conv(x, w, **kw), atol=1e-12)
    expected = xconv.conv_vjp(gy, x, w, **kw)
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-11)
