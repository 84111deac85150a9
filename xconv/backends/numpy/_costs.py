"""The NumPy backend's cost constants: one home for every number its planning uses.

The per-unit costs of the planner are `xconv.algorithms.costs.REFERENCE_COSTS`, which
were measured with this backend (the calibration is described there). The shifted-window
GEMM engine (`_gemm`) ranks its layouts with the same GEMM peak on all cores, plus
`engine_copy_rate` (bytes/s one thread moves in a strided copy) and `engine_call_seconds`
(one BLAS call from Python), fitted on the same 2-core machine.

Each route's formula is checked against whole runs by `python -m benchmarks.calibrate`
(every route of 21 layers, 1-D to 3-D). On the reference machine (2026-12-05) the
measured time was 1.28-1.51x the modelled one, median per route, for every route but the
pointwise product (0.91x): the constants, fitted piece by piece, miss what whole runs add
(page faults of fresh arrays, thread start-up, Python between the pieces). `time_scale`
multiplies every route's modelled time by the median over all routes, so that a plan's
seconds are the machine's; it changes no ranking.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ...algorithms.costs import REFERENCE_COSTS, CostModel


@dataclass(frozen=True)
class NumPyCosts(CostModel):
    engine_copy_rate: float = 4e9
    engine_call_seconds: float = 2e-5
    # ns per output element the shifted windows write, on one BLAS thread (fresh pages):
    # fitted on wav1d (512 filters of depth 10, 2026-12-06), where the products' flops
    # alone modelled a third of the time measured on one thread
    engine_output_ns: float = 0.5
    # the numba row kernel (`_numba`), fitted on seven layers (depthwise, grouped, image
    # filters, a long FIR, a strided stem and a strided 1-D layer) on one and two threads:
    # ns per multiply-add on one thread (float32 and float64 alike: the runs vectorize),
    # the factor of a strided last axis (a gather), ns per inner loop (a row block, a
    # channel, a tap), input and output elements at `copy_ns`, seconds per call. Measured
    # on a slow day of the shared machine, then divided by 2.8: the GEMM engine's measured
    # time over its modelled time on nine layers in the same hour (median; 1.0-3.7), so
    # that both paths are priced on the reference constants' scale.
    numba_mac_ns: float = 0.036
    numba_gather: float = 8.0
    numba_loop_ns: float = 3.6
    numba_call_s: float = 3e-5
    # the plane kernel (stride 1, `_numba.uses_planes`): ns per multiply-add on one thread,
    # row ends included. Measured 0.10-0.13 on 8-64-channel 3x3 layers (2026-12-02), whose
    # reads of each tap's plane come from L2, then divided by 1.75, the GEMM engine's
    # measured over modelled time on the same layers in the same hour: 0.07. Its filters
    # now run two at a time (one load of the plane feeds both) with fused multiply-adds,
    # and its padding and output rows are copied without slices: on eight layers (3x3
    # with 1-64 channels per group, 5x5, 7x7 depthwise; 2026-12-06, one thread) a layer
    # with one filter per group took 0.81-0.85 of its time before, one with pairs
    # 0.47-0.66 (0.88 on 8-channel 5x5 planes of 68 x 68): a multiply-add costs 0.058 on
    # its own, and 0.68 of that in a pair.
    numba_plane_mac_ns: float = 0.058
    numba_plane_pair: float = 0.68
    # the depthwise windows kernel (`_direct`, einsum over window views, channels last):
    # ns per multiply-add on one thread, measured 0.35-0.41 on 3x3, 5x5 and 7x7 layers of
    # 32-128 channels (2026-12-05); the channel-last copy at `copy_ns` per element
    depthwise_mac_ns: float = 0.4
    # and seconds per einsum call (one per image and channel multiplier), measured on a
    # strided 4 x 8 x 20 x 20 layer (0.22 ms in all)
    depthwise_call_s: float = 4e-5
    # ONNX Runtime's `Conv` (`_onnxruntime`, the weight a graph input), fitted on 26 layers
    # (1-D to 3-D, strided, dilated, grouped, depthwise; 2026-12-06, one thread, measured
    # over modelled 0.61-1.29 on one and two threads), divided by `time_scale`: ns per
    # multiply-add, per im2col column element and per output element on one thread,
    # seconds per image and group of a grouped layer (one GEMM each), seconds per call
    ort_mac_ns: float = 0.013
    ort_column_ns: float = 0.152
    ort_output_ns: float = 0.177
    ort_group_s: float = 5.4e-6
    ort_call_s: float = 6e-5
    # and per image and group on several threads: fitted on resnext_g32 (128 GEMMs, 1.74
    # ms against 1.09 ms modelled without it, alternated with numba's route) while the
    # pool slept between its parallel sections; with the threads spinning within a call
    # (`_onnxruntime._session`) it measured 2.31 ms against 1.73 modelled, so it stays
    ort_wake_s: float = 3.7e-6
    # its blocked kernel for 2-D depthwise layers (the weight prepacked), fitted on four
    # layers (3x3 and 31x31, 32-256 channels; 2026-12-06) on one thread, divided by
    # `time_scale`: ns per multiply-add and per input and output element; and the
    # seconds to build a session with the weight prepacked (0.4-0.9 ms measured)
    ort_depthwise_mac_ns: float = 0.022
    ort_depthwise_io_ns: float = 0.245
    ort_build_s: float = 6e-4
    # every route's modelled time is multiplied by this (see the module docstring)
    time_scale: float = 1.35

    @property
    def engine_peak(self) -> float:
        """flop/s of a large square float32 GEMM on all cores."""
        return self.gemm_peak * self.blas_speedup


COSTS = NumPyCosts(
    **{f.name: getattr(REFERENCE_COSTS, f.name) for f in dataclasses.fields(CostModel)}
)
