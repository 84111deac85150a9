"""``xconv.conv_transpose`` against the scatter oracle in ``reference_transposed.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from namespaces import (
    NUMPY,
    Namespace,
    NumpyNamespace,
    StrictNamespace,
    TorchNamespace,
    get_namespace,
)
from reference import reference_conv
from reference_transposed import (
    reference_conv_transpose,
    transposed_crop,
    transposed_full_size,
)
from strategies import ALL_DTYPES, examples, random_array, result_dtype

import xconv
from xconv.backends import backend_named, generic_backend
from xconv.planner import ALGORITHMS as PLANNER_ALGORITHMS

ALGORITHMS = tuple(a for a in ("direct", "gemm", "fft", "auto") if a in PLANNER_ALGORITHMS)
CROP_KINDS = ("int", "per_dim", "pairs", "valid", "same")
RTOL = {
    "float16": 1e-2,
    "float32": 1e-5,
    "float64": 1e-12,
    "complex64": 2e-5,
    "complex128": 2e-12,
}


@dataclass
class TransposedProblem:
    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    x_dtype: str = "float64"
    w_dtype: str = "float64"

    @property
    def out_dtype(self) -> str:
        return result_dtype(self.x_dtype, self.w_dtype)


@st.composite
def transposed_problems(
    draw,
    dtypes: tuple[str, ...] = ALL_DTYPES,
    ranks: tuple[int, ...] = (1, 2, 3),
    crop_kinds: tuple[str, ...] = CROP_KINDS,
    channels_last: bool | None = None,
    batched: bool | None = None,
    allow_output_padding: bool = True,
):
    """A valid ``xconv.conv_transpose`` problem (NumPy arrays plus keyword arguments)."""
    rank = draw(st.sampled_from(ranks))
    small = rank == 3
    max_k, max_n = (2, 3) if small else (4, 6)
    layout = draw(st.sampled_from(["plain", "grouped", "depthwise"]))
    groups = 1 if layout == "plain" else draw(st.integers(2, 3))
    c_per = 1 if layout == "depthwise" else draw(st.integers(1, 6 // max(groups, 2)))
    f_per = draw(st.integers(1, 6 // max(groups, 2)))
    kernel = tuple(draw(st.integers(1, max_k)) for _ in range(rank))
    stride = tuple(draw(st.sampled_from([1, 2, 2, 3])) for _ in range(rank))
    dilation = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(rank))
    sizes = tuple(draw(st.integers(1, max_n)) for _ in range(rank))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) if allow_output_padding else 0
        for s, d in zip(stride, dilation, strict=True)
    )
    full = [
        transposed_full_size(n, k, s, d, op)
        for n, k, s, d, op in zip(sizes, kernel, stride, dilation, output_padding, strict=True)
    ]
    kind = draw(st.sampled_from(crop_kinds))
    if kind == "int":
        padding: Any = draw(st.integers(0, (min(full) - 1) // 2))
    elif kind == "per_dim":
        padding = tuple(draw(st.integers(0, (m - 1) // 2)) for m in full)
    elif kind == "pairs":
        pairs = []
        for m in full:
            before = draw(st.integers(0, m - 1))
            pairs.append((before, draw(st.integers(0, m - 1 - before))))
        padding = tuple(pairs)
    else:
        padding = kind
    if kind == "same":
        output_padding = (0,) * rank  # "same" fixes the output size
    cl = draw(st.booleans()) if channels_last is None else channels_last
    is_batched = draw(st.booleans()) if batched is None else batched
    x_dtype = draw(st.sampled_from(dtypes))
    w_dtype = draw(st.sampled_from(dtypes)) if draw(st.integers(0, 4)) == 0 else x_dtype
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    integer_valued = draw(st.booleans())
    c_in, f_out = groups * c_per, groups * f_per
    x = random_array(rng, (draw(st.integers(1, 2)), c_in, *sizes), x_dtype, integer_valued)
    if cl:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    if not is_batched:
        x = x[0]
    weight = random_array(rng, (c_in, f_per, *kernel), w_dtype, integer_valued)
    out_dtype = result_dtype(x_dtype, w_dtype)
    bias = random_array(rng, (f_out,), out_dtype, integer_valued) if draw(st.booleans()) else None
    kwargs = {
        "stride": stride[0] if len(set(stride)) == 1 and draw(st.booleans()) else stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
        "channels_last": cl,
    }
    return TransposedProblem(x, weight, bias, kwargs, x_dtype, w_dtype)


def oracle_and_bound(problem: TransposedProblem):
    ref = reference_conv_transpose(problem.x, problem.weight, problem.bias, **problem.kwargs)
    bound = reference_conv_transpose(
        np.abs(problem.x),
        np.abs(problem.weight),
        None if problem.bias is None else np.abs(problem.bias),
        **problem.kwargs,
    )
    return ref, np.abs(bound)


def assert_close_to(actual: np.ndarray, ref: np.ndarray, bound: np.ndarray, dtype: str):
    """Elementwise error within rtol of the rounding scale (plus a little of its maximum)."""
    assert actual.shape == ref.shape, f"shape {actual.shape} != oracle {ref.shape}"
    scale = bound.max() if bound.size else 0.0
    tol = RTOL[dtype] * (bound + 0.1 * scale) + 1e-300
    err = np.abs(actual.astype(ref.dtype) - ref)
    bad = ~(err <= tol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{int(bad.sum())}/{bad.size} elements differ ({dtype}); first at {idx}: got "
            f"{actual[idx]!r}, oracle {ref[idx]!r}; max err {err.max():.3g}"
        )


def run(ns: Namespace, problem: TransposedProblem, algorithm: str = "auto") -> np.ndarray:
    b = None if problem.bias is None else ns.asarray(problem.bias)
    out = xconv.conv_transpose(
        ns.asarray(problem.x), ns.asarray(problem.weight), b, algorithm=algorithm, **problem.kwargs
    )
    assert ns.is_array(out), f"{ns.name}: result is a {type(out)}"
    assert out.dtype == ns.dtype(problem.out_dtype), f"{ns.name}: dtype {out.dtype}"
    return ns.to_numpy(out)


def check(ns: Namespace, problem: TransposedProblem, algorithm: str):
    ref, bound = oracle_and_bound(problem)
    assert_close_to(run(ns, problem, algorithm), ref, bound, problem.out_dtype)


# ---------------------------------------------------------------------------- the oracle


@settings(max_examples=examples(40))
@given(
    problem=transposed_problems(
        dtypes=("float64",), crop_kinds=("int", "per_dim", "valid"), channels_last=False
    )
)
def test_oracle_matches_torch(problem):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rank = problem.weight.ndim - 2
    transpose = {
        1: functional.conv_transpose1d,
        2: functional.conv_transpose2d,
        3: functional.conv_transpose3d,
    }[rank]
    kw = dict(problem.kwargs)
    padding = 0 if kw["padding"] == "valid" else kw["padding"]
    x = torch.from_numpy(problem.x)
    b = None if problem.bias is None else torch.from_numpy(problem.bias)
    try:
        expected = transpose(
            x,
            torch.from_numpy(problem.weight),
            b,
            stride=kw["stride"],
            padding=padding,
            output_padding=kw["output_padding"],
            groups=kw["groups"],
            dilation=kw["dilation"],
        ).numpy()
    except RuntimeError:  # torch wants output_padding < stride or dilation *per pair*
        return
    np.testing.assert_allclose(
        reference_conv_transpose(problem.x, problem.weight, problem.bias, **kw),
        expected,
        rtol=1e-10,
        atol=1e-10,
    )


def test_oracle_scatter_by_hand():
    x = np.array([[[1.0, 2.0, 3.0]]])
    w = np.array([[[1.0, 10.0, 100.0]]])
    out = reference_conv_transpose(x, w, stride=2)
    np.testing.assert_array_equal(out[0, 0], [1, 10, 102, 20, 203, 30, 300])
    out = reference_conv_transpose(x, w, stride=2, padding=((1, 2),), output_padding=1)
    np.testing.assert_array_equal(out[0, 0], [10, 102, 20, 203, 30])


def test_oracle_same_crops_matlab_style():
    # k 4, s 2: crop 4 - 2 = 2 in total, one each side; k 3, s 2: crop 1, at the end
    assert transposed_crop("same", (5,), (4,), 2, 1) == ((1, 1),)
    assert transposed_crop("same", (5,), (3,), 2, 1) == ((0, 1),)
    assert transposed_crop("same", (5,), (1,), 3, 1) == ((0, -2),)


# ---------------------------------------------------------------------------- vs the oracle


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(60))
@given(problem=transposed_problems(dtypes=NumpyNamespace.dtypes))
def test_numpy_matches_oracle(algorithm, problem):
    check(NUMPY, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=transposed_problems(dtypes=StrictNamespace.dtypes))
def test_array_api_strict_matches_oracle(strict_ns, algorithm, problem):
    check(strict_ns, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@settings(max_examples=examples(15))
@given(problem=transposed_problems(dtypes=TorchNamespace.dtypes))
def test_torch_matches_oracle(torch_ns, algorithm, problem):
    check(torch_ns, problem, algorithm)


@settings(max_examples=examples(30))
@given(problem=transposed_problems(dtypes=("float64", "complex128")))
def test_adjoint_of_the_forward_oracle(problem):
    """<conv(y), x> == <y, conv_transpose(x)> with conv the independent forward oracle."""
    kw = problem.kwargs
    x = problem.x
    out = xconv.conv_transpose(x, problem.weight, **kw)
    rank = problem.weight.ndim - 2
    c_axis = -1 if kw["channels_last"] else (1 if x.ndim == rank + 2 else 0)
    spatial = x.shape[-rank - 1 : -1] if kw["channels_last"] else x.shape[x.ndim - rank :]
    crops = transposed_crop(
        kw["padding"], spatial, problem.weight.shape[2:], kw["stride"], kw["dilation"]
    )
    y = np.random.default_rng(0).standard_normal(out.shape)
    # the forward convolution that conv_transpose is the adjoint of: crop becomes padding,
    # and any output beyond the full scatter (output_padding, negative crop) is read too
    forward = reference_conv(
        y,
        problem.weight,
        stride=kw["stride"],
        padding=[(b, a) for b, a in crops],
        dilation=kw["dilation"],
        groups=kw["groups"],
        channels_last=kw["channels_last"],
        check_limits=False,
    )
    slices = [slice(None)] * forward.ndim
    first_spatial = forward.ndim - rank - (1 if kw["channels_last"] else 0)
    for a, n in enumerate(spatial):
        slices[first_spatial + a] = slice(0, n)
    forward = forward[tuple(slices)]
    assert forward.shape == x.shape, (forward.shape, x.shape, c_axis)
    lhs = np.sum(forward * x)
    rhs = np.sum(y * out)
    assert abs(lhs - rhs) <= 1e-9 * (np.sum(np.abs(y) * np.abs(out)) + 1.0)


# ---------------------------------------------------------------------------- fixed cases


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_simple_2d_example(namespace, algorithm):
    rng = np.random.default_rng(0)
    problem = TransposedProblem(
        x=rng.standard_normal((2, 4, 5, 6)),
        weight=rng.standard_normal((4, 3, 3, 4)),
        bias=rng.standard_normal(6),
        kwargs=dict(
            stride=(2, 3),
            padding=((1, 0), (2, 1)),
            output_padding=(1, 2),
            dilation=(1, 2),
            groups=2,
            channels_last=False,
        ),
    )
    check(namespace, problem, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_4d(algorithm):
    rng = np.random.default_rng(4)
    problem = TransposedProblem(
        x=rng.standard_normal((2, 2, 3, 2, 2, 3)),  # channels last: (N, *S, C)
        weight=rng.standard_normal((3, 2, 2, 1, 3, 2)),
        bias=None,
        kwargs=dict(
            stride=(2, 1, 3, 1),
            padding="same",
            output_padding=0,
            dilation=(1, 2, 1, 1),
            groups=1,
            channels_last=True,
        ),
    )
    check(NUMPY, problem, algorithm)


@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_same_output_is_input_times_stride(kernel, stride):
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 4))
    w = np.random.default_rng(2).standard_normal((2, 3, kernel, kernel))
    out = xconv.conv_transpose(x, w, stride=stride, padding="same")
    assert out.shape == (1, 3, 5 * stride, 4 * stride)
    expected = reference_conv_transpose(x, w, stride=stride, padding="same")
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_matlab_cropping_vector_t_b_l_r():
    """MATLAB CroppingSize [t b l r] is ((t, b), (l, r)) here; weights h x w x F x C."""
    rng = np.random.default_rng(3)
    x_sscb = rng.standard_normal((4, 5, 2, 1))  # H x W x C x N
    w_matlab = rng.standard_normal((3, 3, 3, 2))  # h x w x NumFilters x NumChannels
    weight = np.transpose(w_matlab, (3, 2, 0, 1))  # (C, F, h, w)
    x = np.transpose(x_sscb, (3, 2, 0, 1))
    out = xconv.conv_transpose(x, weight, stride=2, padding=((0, 1), (0, 1)))
    assert out.shape == (1, 3, (4 - 1) * 2 + 3 - 1, (5 - 1) * 2 + 3 - 1)
    expected = reference_conv_transpose(x, weight, stride=2, padding=((0, 1), (0, 1)))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=examples(20))
@given(problem=transposed_problems(channels_last=False, dtypes=("float64", "complex128")))
def test_channels_last_is_permuted_channel_first(problem):
    kw = problem.kwargs
    c_axis = 1 if problem.x.ndim == problem.weight.ndim else 0
    out_cf = xconv.conv_transpose(problem.x, problem.weight, problem.bias, **kw)
    x_cl = np.moveaxis(problem.x, c_axis, -1)
    out_cl = xconv.conv_transpose(
        x_cl, problem.weight, problem.bias, **dict(kw, channels_last=True)
    )
    np.testing.assert_allclose(np.moveaxis(out_cl, -1, c_axis), out_cf, rtol=1e-12, atol=1e-12)


@settings(max_examples=examples(20))
@given(problem=transposed_problems(batched=False, dtypes=("float64",)))
def test_unbatched_equals_batched_first(problem):
    out_u = xconv.conv_transpose(problem.x, problem.weight, problem.bias, **problem.kwargs)
    out_b = xconv.conv_transpose(problem.x[None], problem.weight, problem.bias, **problem.kwargs)
    assert out_b.shape == (1, *out_u.shape)
    np.testing.assert_allclose(out_b[0], out_u, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_algorithms_on_small_integers(algorithm):
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, size=(2, 6, 5, 4)).astype(np.float64)
    w = rng.integers(-3, 4, size=(6, 2, 3, 4)).astype(np.float64)
    kw = dict(
        stride=(3, 2), padding=((2, 1), (0, 3)), output_padding=(2, 1), dilation=(2, 1), groups=3
    )
    out = xconv.conv_transpose(x, w, algorithm=algorithm, **kw)
    expected = reference_conv_transpose(x, w, **kw)
    if algorithm == "fft":  # transforms round even integer data
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    else:
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    ("x_dtype", "w_dtype"),
    [
        ("float32", "float32"),
        ("float16", "float16"),
        ("float32", "float64"),
        ("complex64", "float32"),
    ],
)
def test_dtypes(namespace, x_dtype, w_dtype):
    if x_dtype not in namespace.dtypes or w_dtype not in namespace.dtypes:
        pytest.skip(f"{namespace.name} has no {x_dtype}")
    rng = np.random.default_rng(1)
    out_dtype = result_dtype(x_dtype, w_dtype)
    problem = TransposedProblem(
        x=rng.uniform(-1, 1, (2, 3, 6)).astype(x_dtype),
        weight=rng.uniform(-1, 1, (3, 2, 3)).astype(w_dtype),
        bias=rng.uniform(-1, 1, 2).astype("complex128" if "complex" in out_dtype else "float64"),
        kwargs=dict(stride=2, padding=1, output_padding=1),
        x_dtype=x_dtype,
        w_dtype=w_dtype,
    )
    for algorithm in ALGORITHMS:
        check(namespace, problem, algorithm)


def test_integer_input_takes_the_weight_dtype():
    x = np.arange(6, dtype=np.int32).reshape(1, 2, 3)
    w = np.ones((2, 1, 2), dtype=np.float32)
    out = xconv.conv_transpose(x, w, stride=2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, reference_conv_transpose(x, w, stride=2))


# ---------------------------------------------------------------------------- errors


def _x():
    return np.ones((1, 2, 4, 4))


def _w():
    return np.ones((2, 3, 3, 3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(padding=5), "padding"),  # full output is 3 * 1 + 3 = 6: cropping 10 > 6
        (dict(padding=((0, 0), (6, 0))), "padding"),
        (dict(output_padding=1), "output_padding"),  # stride 1, dilation 1
        (dict(stride=2, output_padding=2), "output_padding"),
        (dict(padding="full"), "padding"),
        (dict(padding="causal"), "padding"),
        (dict(padding=-1), "padding"),
        (dict(stride=0), "stride"),
        (dict(dilation=(1, 2, 3)), "dilation"),
        (dict(groups=4), "groups"),
        (dict(algorithm="winograd-ish"), "algorithm"),
    ],
)
def test_errors_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        xconv.conv_transpose(_x(), _w(), **kwargs)


def test_channel_and_shape_errors():
    with pytest.raises(ValueError, match="channels"):
        xconv.conv_transpose(np.ones((1, 3, 4, 4)), _w())
    with pytest.raises(ValueError, match="bias"):
        xconv.conv_transpose(_x(), _w(), np.ones(2))
    with pytest.raises(ValueError, match="weight"):
        xconv.conv_transpose(_x(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="x must be"):
        xconv.conv_transpose(np.ones((4, 4)), _w())
    with pytest.raises(TypeError, match="bias"):
        xconv.conv_transpose(_x(), _w(), np.ones(3, dtype=bool))
    with pytest.raises(TypeError):
        xconv.conv_transpose(_x().astype(bool), _w())


def test_measure_runs_and_matches():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    kw = dict(stride=2, padding=1, output_padding=1)
    expected = reference_conv_transpose(x, w, **kw)
    for _ in range(2):  # timed on the first call, remembered on the second
        out = xconv.conv_transpose(x, w, algorithm="measure", **kw)
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("limit", [2**12, 2**14, 2**16])
@settings(max_examples=examples(10))
@given(problem=transposed_problems(dtypes=("float64", "complex128")))
def test_gemm_under_small_workspaces(limit, problem):
    """Columns per batch chunk, or the polyphase route when one image does not fit."""
    with xconv.workspace_limit(limit):
        check(NUMPY, problem, "gemm")


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
@pytest.mark.parametrize(
    "stride, size, terms",
    [
        ((2,), (9,), (1, 2)),
        ((2, 3), (7, 9), (1, 2, 3, 1, 1, 4)),
        ((3, 2), (5, 4), (2, 1, 1, 3, 1, 1)),
    ],
)
def test_assemble_phases_sums_each_phase_into_its_place(backend_name, stride, size, terms):
    """Output `i` (per dimension) is row `i // s` of the sum of phase `i % s`'s terms; the
    last rows of a phase are cut where the region ends. Two regions along the batch."""
    ns = get_namespace(backend_name)
    rng = np.random.default_rng(5)
    rows = tuple(-(-m // s) for m, s in zip(size, stride, strict=True))
    phases = [
        [[rng.standard_normal((1, 2, *rows)) for _ in range(count)] for count in terms]
        for _ in range(2)
    ]
    regions = [(slice(i, i + 1), slice(None), *(slice(0, m) for m in size)) for i in range(2)]
    backend = backend_named("numpy") if backend_name == "numpy" else generic_backend(ns.xp)
    tiles = (
        (region, [[ns.asarray(t) for t in phase] for phase in tile])
        for region, tile in zip(regions, phases, strict=True)
    )
    out = ns.to_numpy(backend.assemble_phases((2, 2, *size), ns.dtype("float64"), tiles, stride))
    assert out.shape == (2, 2, *size)
    for batch, tile in enumerate(phases):
        for index in np.ndindex(*size):
            phase = np.ravel_multi_index(
                [i % s for i, s in zip(index, stride, strict=True)], stride
            )
            row = tuple(i // s for i, s in zip(index, stride, strict=True))
            expected = sum(t[(0, slice(None), *row)] for t in tile[phase])
            np.testing.assert_allclose(out[(batch, slice(None), *index)], expected, rtol=1e-15)
