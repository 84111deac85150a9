"""`python -m benchmarks.scipy_api`: `xconv.signal` and `xconv.ndimage` against SciPy.

The rows of issue 16, each in float32 and float64 on NumPy arrays: SciPy's function and
xconv's function of the same name called alternately in one process (median of
`--repeat` calls after a warm-up), their ratio (xconv / SciPy; below 1 xconv is faster)
and the target: at most 0.8x for `fftconvolve` and `oaconvolve`, at most 0.5x for
`ndimage.convolve` with kernels of 7 and larger. Results go to `scipy_api.md` / `.json`
beside this file (or `--output`).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.ndimage
import scipy.signal

from xconv import ndimage, signal

from .timing import time_alternating


@dataclass(frozen=True)
class Row:
    name: str
    function: str  # "fftconvolve", "oaconvolve" or "ndimage.convolve"
    signal: tuple[int, ...]
    kernel: tuple[int, ...]
    target: float

    def arrays(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        return (
            rng.standard_normal(self.signal).astype(dtype),
            rng.standard_normal(self.kernel).astype(dtype),
        )

    def calls(self, a, b):
        if self.function == "ndimage.convolve":
            return (
                lambda: ndimage.convolve(a, b, mode="reflect"),
                lambda: scipy.ndimage.convolve(a, b, mode="reflect"),
            )
        ours, theirs = getattr(signal, self.function), getattr(scipy.signal, self.function)
        return lambda: ours(a, b, mode="same"), lambda: theirs(a, b, mode="same")


ROWS = (
    Row("fft_1d_k31", "fftconvolve", (10**6,), (31,), 0.8),
    Row("oa_1d_k31", "oaconvolve", (10**6,), (31,), 0.8),
    Row("fft_1d_k1025", "fftconvolve", (10**6,), (1025,), 0.8),
    Row("oa_1d_k1025", "oaconvolve", (10**6,), (1025,), 0.8),
    Row("fft_2d_2048_k25", "fftconvolve", (2048, 2048), (25, 25), 0.8),
    Row("oa_2d_2048_k25", "oaconvolve", (2048, 2048), (25, 25), 0.8),
    Row("fft_2d_4096_k7", "fftconvolve", (4096, 4096), (7, 7), 0.8),
    Row("oa_2d_4096_k7", "oaconvolve", (4096, 4096), (7, 7), 0.8),
    Row("fft_3d_128_k9", "fftconvolve", (128, 128, 128), (9, 9, 9), 0.8),
    Row("oa_3d_128_k9", "oaconvolve", (128, 128, 128), (9, 9, 9), 0.8),
    Row("nd_2d_1024_k7", "ndimage.convolve", (1024, 1024), (7, 7), 0.5),
    Row("nd_2d_1024_k15", "ndimage.convolve", (1024, 1024), (15, 15), 0.5),
    Row("nd_3d_96_k7", "ndimage.convolve", (96, 96, 96), (7, 7, 7), 0.5),
)


def run(rows, dtypes, repeat: int) -> list[dict]:
    results = []
    for row in rows:
        for dtype in dtypes:
            a, b = row.arrays(dtype)
            ours, theirs = row.calls(a, b)
            mine, reference = ours(), theirs()
            scale = float(np.max(np.abs(reference)))
            error = float(np.max(np.abs(mine.astype(np.float64) - reference))) / scale
            timings = time_alternating({"xconv": ours, "scipy": theirs}, repeat=repeat)
            xconv_ms, scipy_ms = timings["xconv"].median_ms, timings["scipy"].median_ms
            result = {
                "row": row.name,
                "function": row.function,
                "dtype": dtype,
                "shape": f"{'x'.join(map(str, row.signal))} k{row.kernel[0]}",
                "xconv_ms": xconv_ms,
                "scipy_ms": scipy_ms,
                "ratio": xconv_ms / scipy_ms,
                "target": row.target,
                "met": xconv_ms / scipy_ms <= row.target,
                "relative_error": error,
            }
            print(result, file=sys.stderr)
            results.append(result)
    return results


def markdown(results: list[dict], info: dict) -> str:
    lines = [
        f"SciPy API rows ({info.get('cpu')}, {info.get('usable_cores')} cores, "
        f"{info.get('date')}, commit {info.get('git_commit')}, SciPy {scipy.__version__})",
        "",
        "| row | function | shape | dtype | xconv ms | SciPy ms | ratio | target | met | error |",
        "|---|---|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['row']} | {r['function']} | {r['shape']} | {r['dtype']} | "
            f"{r['xconv_ms']:.3g} | {r['scipy_ms']:.3g} | {r['ratio']:.2f}x | "
            f"<= {r['target']}x | {'yes' if r['met'] else '**no**'} | {r['relative_error']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scipy_api", description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", nargs="+", metavar="ROW", help="rows to run")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    rows = [r for r in ROWS if not args.only or r.name in args.only]
    from .report import machine_info

    results = run(rows, ("float32", "float64"), args.repeat)
    info = machine_info({"scipy": scipy.__version__})
    text = markdown(results, info)
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "scipy_api.md").write_text(text)
    (args.output / "scipy_api.json").write_text(
        json.dumps({"machine": info, "rows": results}, indent=1) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
