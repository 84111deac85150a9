"""`python -m benchmarks.streaming`: an image larger than one wants in memory, streamed.

A 16384 x 16384 float32 image (1 GiB) convolved with a 15 x 15 kernel, `padding="same"`,
replicate mode, three ways, each in its own process so that its peak resident memory is
its own (`os.wait4`):

- `numpy`: `xconv.conv` on the whole image in memory (the data made before the clock
  starts): the baseline;
- `xconv-dask`: the image as a Dask random array in `--chunk` x `--chunk` chunks
  (4096: 64 MiB, the block size of `xconv run --stream`), convolved by
  xconv's Dask backend and written block by block to a `.npy` file
  (`xconv_cli._stream.NpyWriter`, what `xconv run --stream` writes with); the clock
  includes making the data and writing the file;
- `xconv-dask-sum`: the same computation reduced to its sum instead of written: what
  the file costs;
- `dask-image`: the same chunks and writer through `dask_image.ndfilters.convolve`
  (SciPy's `ndimage.convolve` on each block, `mode="nearest"`, kernel flipped).

Runs alternate, `--repeat` times each; the table gives medians, the largest peak memory,
and the ratios the targets are about. The two written files are compared on a sample of
rows. Results go to `streaming.md` / `streaming.json` beside this file (or `--output`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZE, KERNEL = 16384, 15
CHUNK = 4096  # 64 MiB blocks: the block size `xconv run --stream` uses by default
RUNS = ("numpy", "xconv-dask", "xconv-dask-sum", "dask-image")
TARGETS = {
    "peak_gib": 3.0,  # xconv-dask's peak resident memory
    "vs_numpy": 1.2,  # xconv-dask time / numpy time
    "vs_dask_image": 1.0,  # xconv-dask time / dask-image time
}
GIB = 2**30


def kernel() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((KERNEL, KERNEL)).astype(np.float32)


def lazy_image(chunk: int):
    import dask.array as da

    return da.random.default_rng(0).random((SIZE, SIZE), dtype=np.float32, chunks=chunk)


def run_one(name: str, output: Path, chunk: int = CHUNK) -> float:
    """One timed run in this process; returns its seconds."""
    import xconv

    w = kernel()
    if name == "numpy":
        x = lazy_image(chunk).compute()  # the same numbers, made before the clock starts
        start = time.perf_counter()
        xconv.conv(x[None], w[None, None], padding="same", padding_mode="replicate")
        return time.perf_counter() - start
    from xconv_cli._stream import NpyWriter

    start = time.perf_counter()
    x = lazy_image(chunk)
    if name.startswith("xconv-dask"):
        y = xconv.conv(x[None], w[None, None], padding="same", padding_mode="replicate")[0]
        if name == "xconv-dask-sum":
            y.sum().compute()
            return time.perf_counter() - start
    else:
        import dask_image.ndfilters

        y = dask_image.ndfilters.convolve(x, w[::-1, ::-1], mode="nearest")
    writer = NpyWriter(output, y.shape, y.dtype)
    try:
        y.store(writer, lock=False)
    finally:
        writer.close()
    return time.perf_counter() - start


def measure(name: str, output: Path, chunk: int) -> dict:
    """`run_one` in a child process: its seconds and its peak resident memory."""
    command = [sys.executable, "-m", "benchmarks.streaming", "--one", name, str(output)]
    command += ["--chunk", str(chunk)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.stdout.close()
    os.sync()  # the kernel writes this run's file back now, not during the next run
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{name} failed (exit status {os.waitstatus_to_exitcode(status)})")
    return {"seconds": float(out.split()[-1]), "peak_bytes": usage.ru_maxrss * 1024}


def sample_difference(a: Path, b: Path) -> float:
    """Largest difference over every 97th row, relative to the largest value."""
    x, y = np.load(a, mmap_mode="r")[::97], np.load(b, mmap_mode="r")[::97]
    return float(np.max(np.abs(x - y)) / np.max(np.abs(x)))


def summarize(results: dict[str, list[dict]], difference: float, chunk: int) -> dict:
    rows = {
        name: {
            "median_s": statistics.median(r["seconds"] for r in runs),
            "peak_gib": max(r["peak_bytes"] for r in runs) / GIB,
            "runs": runs,
        }
        for name, runs in results.items()
    }
    mine = rows["xconv-dask"]
    checks = {
        "peak_gib": mine["peak_gib"],
        "vs_numpy": mine["median_s"] / rows["numpy"]["median_s"],
    }
    if "dask-image" in rows:
        checks["vs_dask_image"] = mine["median_s"] / rows["dask-image"]["median_s"]
    return {
        "workload": f"{SIZE}x{SIZE} float32, {KERNEL}x{KERNEL} kernel, same, replicate, "
        f"chunks {chunk}x{chunk}",
        "rows": rows,
        "checks": {
            k: {"value": v, "target": TARGETS[k], "met": v <= TARGETS[k]} for k, v in checks.items()
        },
        "relative_difference_vs_dask_image": difference,
    }


def markdown(summary: dict, info: dict) -> str:
    lines = [
        f"Streaming: {summary['workload']} ({info.get('cpu')}, {info.get('usable_cores')} "
        f"cores, {info.get('date')}, commit {info.get('git_commit')})",
        "",
        "| run | median time | peak memory |",
        "|---|---:|---:|",
    ]
    for name, row in summary["rows"].items():
        lines.append(f"| {name} | {row['median_s']:.2f} s | {row['peak_gib']:.2f} GiB |")
    lines += ["", "| target | value | met |", "|---|---:|---|"]
    names = {
        "peak_gib": "xconv-dask peak memory < 3 GiB",
        "vs_numpy": "xconv-dask time / numpy in memory <= 1.2",
        "vs_dask_image": "xconv-dask time / dask-image < 1",
    }
    for key, check in summary["checks"].items():
        lines.append(f"| {names[key]} | {check['value']:.2f} | {'yes' if check['met'] else 'NO'} |")
    difference = summary["relative_difference_vs_dask_image"]
    if difference is not None:
        lines += [
            "",
            f"xconv-dask vs dask-image, sampled rows: relative difference {difference:.1e}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streaming", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (alternating)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="chunk side (default %(default)s)")
    parser.add_argument("--one", nargs=2, metavar=("RUN", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(f"{run_one(args.one[0], Path(args.one[1]), args.chunk):.6f}")
        return 0
    from .report import machine_info

    try:
        import dask_image  # noqa: F401

        names = RUNS
    except ImportError:
        print("dask-image is not installed: its row is skipped", file=sys.stderr)
        names = RUNS[:3]
    results: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="xconv-streaming-") as scratch:
        files = {name: Path(scratch) / f"{name}.npy" for name in names}
        for i in range(args.repeat):
            for name in names:
                results[name].append(measure(name, files[name], args.chunk))
                print(f"{name} run {i + 1}: {results[name][-1]}", file=sys.stderr)
        difference = (
            sample_difference(files["xconv-dask"], files["dask-image"])
            if "dask-image" in names
            else None
        )
    summary = summarize(results, difference, args.chunk)
    info = machine_info({})
    text = markdown(summary, info)
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "streaming.md").write_text(text)
    (args.output / "streaming.json").write_text(json.dumps({"machine": info, **summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
