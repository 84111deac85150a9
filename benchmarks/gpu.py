"""`python -m benchmarks --device gpu`: xconv on CuPy against cuDNN (through PyTorch CUDA)
and CuPy's own SciPy functions, on one NVIDIA GPU.

Rows: the forward workloads of the CPU suite, plus one-channel FFT rows against
`cupyx.scipy.signal.fftconvolve` and small-kernel rows against
`cupyx.scipy.ndimage.convolve`. Peers take turns as on the CPU; every timed call ends with
a device synchronization, so a time is what the GPU did. cuDNN runs with
`torch.backends.cudnn.benchmark = True` (its fastest algorithm, chosen in the warm-up).

Targets (issue 13): GEMM-bound layers at most 1.5x cuDNN's time; the large kernels (dw31,
blur25, vol15) at least 5x faster than cuDNN; one-channel FFT rows no slower than
`cupyx.scipy.signal.fftconvolve`.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .workloads import WORKLOADS, Workload, _w

# the targets, as the most xconv may take relative to the named peer's time
GEMM_TARGET = ("torch", 1.5)
LARGE_TARGET = ("torch", 0.2)
FFT_TARGET = ("cupyx.signal", 1.0)

GPU_ONLY = (
    _w("fft2d_4096_k31", 1, 1, 1, (4096, 4096), 31, target="signal"),
    _w("fft1d_1e7_k2049", 1, 1, 1, (10_000_000,), 2049, target="signal"),
    _w("fft3d_256_k17", 1, 1, 1, (256, 256, 256), 17, target="signal"),
    _w("ndimage_2048_k7", 1, 1, 1, (2048, 2048), 7, p=3, target="ndimage"),
)


@dataclass
class GpuRow:
    workload: Workload
    ms: dict[str, float] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    algorithm: str = ""
    skipped: str = ""

    def target(self) -> tuple[str, float] | None:
        name, kind = self.workload.name, self.workload.target
        if kind == "large":
            return LARGE_TARGET if name in ("dw31", "blur25", "vol15") else None
        if kind == "signal":
            return FFT_TARGET
        if kind == "ndimage":
            return ("cupyx.ndimage", 1.0)
        if kind == "gemm":
            return GEMM_TARGET
        return None

    def verdict(self) -> str:
        target = self.target()
        if target is None or target[0] not in self.ms or "xconv" not in self.ms:
            return ""
        ratio = self.ms["xconv"] / self.ms[target[0]]
        return f"{'met' if ratio <= target[1] else 'MISSED'} (<= {target[1]}x {target[0]})"


def _forward_rows() -> tuple[Workload, ...]:
    return tuple(w for w in WORKLOADS if w.op == "forward") + GPU_ONLY


def _synchronized(run, sync):
    def timed():
        result = run()
        sync()
        return result

    return timed


def _peers(workload: Workload, x, w, cupy, torch):
    """name -> callable for every peer that computes this row (xconv first)."""
    import xconv

    options = workload.options
    runs = {"xconv": lambda: xconv.conv(x, w, **options)}
    if torch is not None and torch.cuda.is_available():
        conv = getattr(torch.nn.functional, f"conv{workload.rank}d", None)
        if conv is not None:
            tx, tw = torch.as_tensor(x, device="cuda"), torch.as_tensor(w, device="cuda")
            runs["torch"] = lambda: conv(tx, tw, **options)
    one_channel = workload.batch == workload.in_channels == workload.out_channels == 1
    if one_channel and set(options["stride"]) == {1} and workload.groups == 1:
        import cupyx.scipy.ndimage
        import cupyx.scipy.signal

        signal, kernel = x[0, 0], w[0, 0]
        flipped = kernel[(slice(None, None, -1),) * kernel.ndim]
        if set(options["padding"]) == {0}:
            runs["cupyx.signal"] = lambda: cupyx.scipy.signal.fftconvolve(
                signal, flipped, mode="valid"
            )
        same = all(
            p == (k - 1) // 2 for p, k in zip(options["padding"], workload.kernel, strict=True)
        )
        if same and all(k % 2 for k in workload.kernel):
            runs["cupyx.ndimage"] = lambda: cupyx.scipy.ndimage.correlate(
                signal, kernel, mode="constant"
            )
    return runs


def _fetch(result, cupy, torch) -> np.ndarray:
    if torch is not None and isinstance(result, torch.Tensor):
        return result.detach().cpu().numpy()
    return cupy.asnumpy(result)


def run_row(workload: Workload, repeat: int, cupy, torch) -> GpuRow:
    import xconv

    row = GpuRow(workload)
    rng = np.random.default_rng(0)
    x = cupy.asarray(rng.standard_normal(workload.x_shape, dtype=np.float32))
    w = cupy.asarray(rng.standard_normal(workload.weight_shape, dtype=np.float32))
    row.algorithm = xconv.plan(
        workload.x_shape,
        workload.weight_shape,
        dtype="float32",
        backend="cupy",
        **workload.options,
    ).algorithm
    sync = cupy.cuda.Device().synchronize
    runs = {
        name: _synchronized(run, sync) for name, run in _peers(workload, x, w, cupy, torch).items()
    }
    mine = _fetch(runs["xconv"](), cupy, torch).reshape(-1)
    for name, run in list(runs.items())[1:]:
        theirs = _fetch(run(), cupy, torch).reshape(-1)
        if theirs.size != mine.size:
            row.errors[name] = float("nan")
            continue
        scale = float(np.abs(theirs).max()) or 1.0
        row.errors[name] = float(np.abs(mine - theirs).max()) / scale
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - start) * 1e3)
    row.ms = {name: statistics.median(values) for name, values in samples.items()}
    return row


def render(rows: list[GpuRow], info: dict) -> str:
    peers = ["torch", "cupyx.signal", "cupyx.ndimage"]
    lines = [
        f"GPU: {info['device']}; CuPy {info['cupy']}, PyTorch {info['torch']} (cuDNN "
        f"{info['cudnn']}), xconv at {info['commit']}.",
        "",
        "| workload | shape | algorithm | xconv ms | "
        + " | ".join(f"{p} ms (ratio)" for p in peers)
        + " | max rel. error | target |",
        "|---|---|---|---|" + "---|" * len(peers) + "---|---|",
    ]
    for row in rows:
        cells = []
        for peer in peers:
            if peer in row.ms:
                cells.append(f"{row.ms[peer]:.3g} ({row.ms['xconv'] / row.ms[peer]:.2f}x)")
            else:
                cells.append("")
        error = max(row.errors.values(), default=0.0)
        lines.append(
            f"| {row.workload.name} | {row.workload.describe()} | {row.algorithm} | "
            f"{row.ms.get('xconv', float('nan')):.3g} | {' | '.join(cells)} | {error:.1e} | "
            f"{row.verdict()} |"
        )
    return "\n".join(lines) + "\n"


def main(output: Path, repeat: int, only: list[str] | None) -> int:
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:
        print(f"--device gpu needs CuPy and an NVIDIA GPU: {error}", file=sys.stderr)
        return 2
    try:
        import torch

        torch.backends.cudnn.benchmark = True
    except ImportError:
        torch = None
    rows = []
    for workload in _forward_rows():
        if only and workload.name not in only:
            continue
        print(f"{workload.name}: {workload.describe()}", file=sys.stderr)
        rows.append(run_row(workload, repeat, cupy, torch))
    import subprocess

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    properties = cupy.cuda.runtime.getDeviceProperties(0)
    info = {
        "device": properties["name"].decode()
        if isinstance(properties["name"], bytes)
        else str(properties["name"]),
        "cupy": cupy.__version__,
        "torch": getattr(torch, "__version__", "absent"),
        "cudnn": torch.backends.cudnn.version() if torch is not None else "absent",
        "commit": commit or "unknown",
    }
    table = render(rows, info)
    print(table)
    output.mkdir(parents=True, exist_ok=True)
    (output / "gpu_results.md").write_text(table)
    records = [
        {
            "name": r.workload.name,
            "ms": r.ms,
            "errors": r.errors,
            "algorithm": r.algorithm,
            "verdict": r.verdict(),
        }
        for r in rows
    ]
    (output / "gpu_results.json").write_text(json.dumps({"info": info, "rows": records}) + "\n")
    return 0
