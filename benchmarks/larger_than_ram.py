"""`python -m benchmarks.larger_than_ram`: `xconv run` on a `.npy` larger than the RAM.

Writes a square float32 image of `--gib` GiB (default 32; `H x W x 1`, MATLAB's order)
unless it exists, then runs, as a user would, `xconv run` with a 15 x 15 replicate-padded
MATLAB layer on it (streamed, as any input that size is; flat memory, the default for
an input over an eighth of the memory available), and reports the time, the peak of
the process's anonymous resident memory and of its whole resident set (sampled from
`/proc`), and the machine's memory. Results go to `larger_than_ram.md` / `.json` beside
this file (or `--output`). Needs the disk for the input and the output (2 x `--gib`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

LAYER = "convolution2dLayer(15, 1, 'Padding', 'same', 'PaddingValue', 'replicate')"
GIB = 2**30


def make_image(path: Path, gib: float) -> int:
    """A random float32 `n x n x 1` .npy of about `gib` GiB, written a band at a time (an
    existing file at `path` is used as it is)."""
    if path.exists():
        return int(np.load(path, mmap_mode="r").shape[0])
    n = int(math.sqrt(gib * GIB / 4))
    data = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, n, 1))
    for row in range(0, n, 512):
        rows = min(512, n - row)
        data[row : row + rows, :, 0] = np.random.default_rng(row).random((rows, n), np.float32)
    data.flush()
    del data
    return n


def measure(command: list[str]) -> dict:
    """Run `command`; its seconds and the peaks of its anonymous and whole resident sets."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peaks = {"RssAnon:": 0, "VmRSS:": 0}
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    field = line.split(" ", 1)[0].split("\t", 1)[0]
                    if field in peaks:
                        peaks[field] = max(peaks[field], int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.05)
    out, err = process.communicate()
    if process.returncode:
        raise SystemExit(f"xconv run failed: {err.decode()[-2000:]}")
    return {
        "seconds": time.perf_counter() - start,
        "peak_anonymous_mib": peaks["RssAnon:"] / 1024,
        "peak_resident_mib": peaks["VmRSS:"] / 1024,
        "summary": json.loads(out),
    }


def memory_gib() -> float:
    with open("/proc/meminfo") as meminfo:
        return int(meminfo.readline().split()[1]) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=32.0, help="input size in GiB")
    parser.add_argument("--folder", type=Path, default=Path("/tmp"), help="for the files")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent)
    parser.add_argument("--keep", action="store_true", help="keep the input and output")
    args = parser.parse_args()
    source, target = args.folder / "larger_than_ram.npy", args.folder / "larger_than_ram_y.npy"
    n = make_image(source, args.gib)
    xconv = shutil.which("xconv") or "xconv"
    result = measure([xconv, "run", LAYER, "--input", str(source), "--output", str(target),
                      "--json"])  # fmt: skip
    result.update(side=n, input_gib=source.stat().st_size / GIB, machine_memory_gib=memory_gib())
    if not args.keep:
        source.unlink()
        target.unlink(missing_ok=True)
    (args.output / "larger_than_ram.json").write_text(json.dumps(result, indent=1) + "\n")
    table = (
        "| input | machine memory | time | peak anonymous memory | peak resident |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"| {n} x {n} float32, {result['input_gib']:.1f} GiB | "
        f"{result['machine_memory_gib']:.1f} GiB | {result['seconds'] / 60:.1f} min | "
        f"{result['peak_anonymous_mib']:.0f} MiB | {result['peak_resident_mib']:.0f} MiB |\n"
    )
    (args.output / "larger_than_ram.md").write_text(table)
    print(table, end="")
    os.sync()


if __name__ == "__main__":
    main()
