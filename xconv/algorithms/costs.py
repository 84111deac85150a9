"""The parameters of the cost model: what one unit of each kind of work costs on a backend.

The algorithms count the work of a problem from its shapes (elements copied, multiply-adds,
transform samples, calls); a backend says what each unit costs on its library and machine
(`Backend.costs`, measured where the backend lives, with where the numbers came from).
The planner multiplies the two. Only ratios between algorithms matter: the model has to
rank algorithms whose times differ by large factors, and `algorithm="measure"` decides
near ties by timing.

Units: nanoseconds of one core unless a speedup says otherwise; flops two per
multiply-add, x4 for complex; float64 and complex128 run at half the rates.

`REFERENCE_COSTS` are the numbers measured with the NumPy backend; backends without
measurements of their own start from them.

Calibration (reference machine: 2 cores of a shared x86-64 VM; NumPy 2.4 + OpenBLAS,
SciPy 1.17 pocketfft, Python 3.11). The machine was shared with other jobs (load 2-5 on
2 cores), so wall-clock times were unusable; every constant is single-thread CPU time
(`time.process_time`, OpenBLAS and `scipy.fft` on one thread, best of 3-7 runs):

- `gemm_peak = 167e9`: numpy.matmul of two 2048 x 2048 float32 matrices on one thread
  (the issue quotes 420 GFLOP/s on both cores of an idle machine).
- `matmul_stream_ns = 0.25`: fit of nine conv-shaped products (m x k x p from
  64 x 576 x 12544 to 1 x 9 x 3136) to flops/peak + (k + m) * p * this.
- `copy_ns = 0.5`, `elementwise_ns = 0.6` per element: `sliding_window_view` windows
  copied to C order (0.24 alone), a broadcast multiply into a fresh array (0.46), raised
  to match whole `conv_gemm` / `conv_direct` runs (fresh arrays, page faults).
- `in_cache = 0.25` below `cache_bytes = 2 MiB`: direct 1-d filters of 100k samples.
- `direct_call_ns = 10 us` per tap, `gemm_call_ns = 60 us` per tile, FFT `call = 100 us`
  per chunk: the time of problems of a few dozen outputs.
- FFT: `axis_pass = 1.25`, `transform = 0.085` per sample (a fit of pocketfft r2c + c2r
  on 1-d sizes 16..16384, 2-d 8..2048 and 3-d 16..128 per side, raised by 1.4 to match
  whole `conv_fft` runs); `long_line = 1.05` per doubling of a line beyond 128 KiB (1-d
  sizes 64 Ki to 1 Mi); `large_frame = 1.0` beyond 12 MiB (2-d 2048 x 2048);
  `mix_product = 1.3` and `mix_matmul = 0.5` per complex multiply-add (seven spectral
  mixing shapes from 1 x 2 x 2 to 64 x 64 x 64 channels).
- `blas_speedup = 2.0` and `transform_speedup = 1.4` turn one core into two: not
  measurable on the shared machine; 2.0 is the flop ratio of the issue's 420 GFLOP/s to
  a core's peak, 1.4 what pocketfft's `workers=2` gained on batched transforms here.

Checked on 24 problems (the issue's 13 benchmark layers and 11 others), the model named
the fastest single-thread algorithm in 22 to 23 of them from run to run; the misses were
near ties (within 1.3x, for example conv3d: GEMM or FFT).

The model only has to rank algorithms whose times differ by large factors (GEMM for
small kernels and many channels, direct for depthwise layers, FFT for large kernels);
where it is unsure, `algorithm="measure"` decides by timing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FFTCosts:
    """Nanoseconds per unit of FFT-path work, and the speedup of the transforms on all cores.

    A transform of `size` real samples costs, per sample, `axis_pass` per axis (each axis
    is a pass of 1-d transforms over the data), plus `transform * log2(size)` (the
    butterflies), plus `long_line` per doubling of an axis beyond `line_cache_bytes` (its
    1-d transforms leave the cache), plus `large_frame` for a multi-axis frame of more than
    `frame_cache_bytes` (its strided passes miss the cache); complex samples count as two
    real ones; `transform_speedup` is the gain from running on all cores. Channel mixing
    costs `mix_product` per complex multiply-add as a sum of broadcast products (one core),
    or, as a batched matmul per frequency bin, `mix_matmul * (1 + 16 / c) * (1 + 4 / f) /
    blas_speedup` per multiply-add for `c` input and `f` output channels per group (BLAS is
    slow on thin matrices), plus `copy` per element of both spectra transposed; with a
    compiled mixing kernel (`Backend.mix_channels`), `mix_kernel` per multiply-add on all
    cores plus `copy` per element of the three spectra. `copy` is also per element moved by
    framing and zero padding; `call` per chunk (Python and allocation overhead).
    """

    axis_pass: float
    transform: float
    long_line: float
    line_cache_bytes: int
    large_frame: float
    frame_cache_bytes: int
    transform_speedup: float
    mix_product: float
    mix_matmul: float
    blas_speedup: float
    copy: float
    call: float
    mix_kernel: float | None = None


@dataclass(frozen=True)
class CostModel:
    """What a backend's primitives cost (see the module docstring for the units).

    - GEMM: `N*C*T*P` column elements copied at `copy_ns`, then the matmul at
      `flops / (gemm_peak * blas_speedup) + (columns + outputs) * matmul_stream_ns` (the
      operands streamed through memory, which more cores do not speed up), plus
      `gemm_call_ns` per tile.
    - direct: per tap, `N*C*P` patch elements copied (`copy_ns`) and `N*F*P` accumulated
      (`elementwise_ns`); with one channel per group also a broadcast multiply of `N*F*P`
      (`elementwise_ns`), all times `in_cache` when one tap's arrays fit `cache_bytes`;
      otherwise a matmul of depth `C/g` (the formula above); plus `direct_call_ns` per tap.
    - FFT: `fft` (`FFTCosts`).

    Parameters
    ----------
    gemm_peak : float
        Flop/s of one core on a large square product.
    blas_speedup : float
        The matmul's gain from all cores.
    matmul_stream_ns : float
        Per operand element streamed through memory by a product.
    copy_ns : float
        Per element copied (windows, padding).
    elementwise_ns : float
        Per element of a broadcast multiply or an accumulation.
    direct_call_ns : float
        Per kernel tap of the direct path (call overhead).
    gemm_call_ns : float
        Per GEMM tile (call overhead).
    cache_bytes : int
        Below this, one tap's arrays stay in the cache.
    in_cache : float
        The factor on elementwise costs in the cache.
    fft : FFTCosts
        The FFT path's costs.
    source : str, optional
        Where the numbers were measured.

    Examples
    --------
    >>> import xconv
    >>> costs = xconv.backends.backend_named("numpy").costs
    >>> costs.gemm_peak > 1e9, bool(costs.source)
    (True, True)
    """

    gemm_peak: float
    blas_speedup: float
    matmul_stream_ns: float
    copy_ns: float
    elementwise_ns: float
    direct_call_ns: float
    gemm_call_ns: float
    cache_bytes: int
    in_cache: float
    fft: FFTCosts
    source: str = ""

    @property
    def call_flops(self) -> float:
        """FLOPs a product does on all cores in the time of one call's overhead: products
        smaller than this gain from sharing one call with others."""
        return self.gemm_peak * self.blas_speedup * self.gemm_call_ns * 1e-9


REFERENCE_COSTS = CostModel(
    gemm_peak=167e9,
    blas_speedup=2.0,
    matmul_stream_ns=0.25,
    copy_ns=0.5,
    elementwise_ns=0.6,
    direct_call_ns=10_000.0,
    gemm_call_ns=60_000.0,
    cache_bytes=2 * 2**20,
    in_cache=0.25,
    fft=FFTCosts(
        axis_pass=1.25,
        transform=0.085,
        long_line=1.05,
        line_cache_bytes=128 * 2**10,
        large_frame=1.0,
        frame_cache_bytes=12 * 2**20,
        transform_speedup=1.4,
        mix_product=1.3,
        mix_matmul=0.5,
        blas_speedup=2.0,
        copy=0.25,
        call=100_000.0,
        mix_kernel=0.5,  # the numba kernel on 2 threads, 4-64 channels (2026-12-02)
    ),
    source="NumPy 2.4 + OpenBLAS and SciPy 1.17 on 2 cores of a shared x86-64 VM",
)

# Unmeasured: H100 SXM data-sheet rates (67 TFLOP/s float32 FMA without tensor cores,
# 3.35 TB/s of memory), a kernel launch of ~10 us from Python, cuFFT passes at memory
# speed. The planner only ranks algorithms whose times differ by large factors;
# `benchmarks/gpu_check.sh` measures, and `algorithm="measure"` decides near ties.
GPU_REFERENCE_COSTS = CostModel(
    gemm_peak=40e12,  # cuBLAS float32 on conv-shaped (thin) products, below the peak
    blas_speedup=1.0,  # the whole device is one "core" here
    matmul_stream_ns=0.0025,  # 8 bytes per operand element at ~3.3 TB/s
    copy_ns=0.0025,
    elementwise_ns=0.004,
    direct_call_ns=15_000.0,  # per tap of the generic direct sums: a few launches
    gemm_call_ns=30_000.0,
    cache_bytes=50 * 2**20,  # L2
    in_cache=0.5,
    fft=FFTCosts(
        axis_pass=0.005,  # one read and write of the frame per axis
        transform=0.0005,
        long_line=0.0,
        line_cache_bytes=2**40,
        large_frame=0.0,
        frame_cache_bytes=2**40,
        transform_speedup=1.0,
        mix_product=0.01,
        mix_matmul=0.002,
        blas_speedup=1.0,
        copy=0.0025,
        call=40_000.0,
    ),
    source="H100 data-sheet rates, not measured (benchmarks/gpu_check.sh measures)",
)
