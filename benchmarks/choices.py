"""`python -m benchmarks.choices`: does `algorithm="auto"` pick well, and is its model honest?

For a varied set of forward layers (1-D to 3-D, 1 to 384 channels, kernels 1 to 255,
depthwise, grouped, dilated, strided), every algorithm (`direct`, `gemm`, `fft`) and
`auto` run side by side in one process, taking turns; each row reports the plan's
choice, auto's time over the fastest algorithm's (the target: at most 1.25), and the
plan's modelled time for the route it chose over that route's measured time (the
target: within 2x either way). Results go to `choices.md` and `choices.json`.

The timings are wall clock on all of xconv's threads (`--threads 1` for one); a shared
machine's noise reaches every candidate alike, as they alternate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def _algorithms() -> tuple[str, ...]:
    """xconv's own algorithms, and the ONNX Runtime route where it is installed and on."""
    from xconv.backends.numpy import _onnxruntime

    own = ("direct", "gemm", "fft")
    return (*own, "onnxruntime") if _onnxruntime.available() else own


ALGORITHMS = _algorithms()


@dataclass(frozen=True)
class Layer:
    name: str
    x: tuple[int, ...]
    w: tuple[int, ...]
    options: tuple[tuple[str, object], ...] = ()


LAYERS = (
    Layer("1d k9 C64 L2000", (4, 64, 2000), (64, 64, 9), (("padding", 4),)),
    Layer("1d k255 C1 L65536", (1, 1, 65536), (1, 1, 255)),
    Layer("1d k31 C16 s4", (8, 16, 4096), (16, 16, 31), (("stride", 4),)),
    Layer("1d depthwise k15 C128", (4, 128, 1024), (128, 1, 15), (("groups", 128),)),
    Layer("2d 1x1 C384->96", (2, 384, 28, 28), (96, 384, 1, 1)),
    Layer("2d resnet 3x3 C64", (4, 64, 56, 56), (64, 64, 3, 3), (("padding", 1),)),
    Layer("2d 3x3 C96 40x40", (4, 96, 40, 40), (96, 96, 3, 3), (("padding", 1),)),
    Layer("2d 3x3 s2 C64->128", (4, 64, 56, 56), (128, 64, 3, 3), (("stride", 2),)),
    Layer("2d stem 7x7 s2 C3", (4, 3, 112, 112), (64, 3, 7, 7), (("stride", 2),)),
    Layer("2d 3x3 d2 C64", (2, 64, 48, 48), (64, 64, 3, 3), (("dilation", 2),)),
    Layer("2d depthwise 3x3 C128", (4, 128, 56, 56), (128, 1, 3, 3), (("groups", 128),)),
    Layer("2d grouped g32 3x3 C256", (2, 256, 28, 28), (256, 8, 3, 3), (("groups", 32),)),
    Layer("2d grouped g16 C128 x8", (2, 128, 32, 32), (128, 8, 3, 3), (("groups", 16),)),
    Layer("2d blur 25x25 C1 512", (1, 1, 512, 512), (1, 1, 25, 25)),
    Layer("2d 7x7 C1 512", (1, 1, 512, 512), (1, 1, 7, 7)),
    Layer("2d 31x31 depthwise C32", (1, 32, 128, 128), (32, 1, 31, 31), (("groups", 32),)),
    Layer("2d 11x11 C16->16", (2, 16, 96, 96), (16, 16, 11, 11)),
    Layer("2d 5x5 C32 s2", (4, 32, 64, 64), (64, 32, 5, 5), (("stride", 2),)),
    Layer("3d 3x3x3 C16", (2, 16, 24, 24, 24), (16, 16, 3, 3, 3), (("padding", 1),)),
    Layer("3d 9x9x9 C1", (1, 1, 64, 64, 64), (1, 1, 9, 9, 9)),
    Layer("3d 1x1x1 C64", (2, 64, 16, 16, 16), (32, 64, 1, 1, 1)),
)


def run(layers, repeat: int, dtype: str) -> list[dict]:
    import xconv
    from benchmarks.timing import time_alternating

    rows = []
    rng = np.random.default_rng(0)
    for layer in layers:
        options = dict(layer.options)
        x = rng.standard_normal(layer.x).astype(dtype)
        w = rng.standard_normal(layer.w).astype(dtype)
        plan = xconv.plan(x.shape, w.shape, dtype=dtype, **options)
        runs = {
            name: (lambda a=name, x=x, w=w, o=options: xconv.conv(x, w, algorithm=a, **o))
            for name in (*ALGORITHMS, "auto")
        }
        timings = time_alternating(runs, repeat)
        measured = {name: t.median_ms / 1e3 for name, t in timings.items()}
        best = min(ALGORITHMS, key=lambda a: measured[a])
        chosen = plan.algorithm
        rows.append(
            {
                "layer": layer.name,
                "chosen": chosen,
                "route": str(plan.chunking.get("engine", chosen)),
                "fastest": best,
                "auto_over_best": measured["auto"] / measured[best],
                "modelled_s": plan.seconds,
                "measured_s": measured[chosen],
                "modelled_over_measured": plan.seconds / measured[chosen],
                "seconds": measured,
                "modelled": dict(plan.estimates),
            }
        )
        print(_line(rows[-1]), flush=True)
    return rows


def _line(row: dict) -> str:
    ms = ", ".join(f"{a} {s * 1e3:.3g}" for a, s in row["seconds"].items())
    return (
        f"{row['layer']:28s} auto={row['chosen']:6s} best={row['fastest']:6s} "
        f"auto/best {row['auto_over_best']:.2f}  model/measured "
        f"{row['modelled_over_measured']:.2f}  ({ms} ms)"
    )


def markdown(rows: list[dict], header: str) -> str:
    lines = [
        header,
        "",
        "| layer | auto runs | fastest | auto / fastest | modelled / measured (route auto ran) | "
        + " | ".join(f"{a} ms" for a in ALGORITHMS)
        + " |",
        "| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in ALGORITHMS) + " |",
    ]
    for r in rows:
        s = r["seconds"]
        lines.append(
            f"| {r['layer']} | {r['chosen']} ({r['route']}) | {r['fastest']} | "
            f"{r['auto_over_best']:.2f} | {r['modelled_over_measured']:.2f} | "
            + " | ".join(f"{s[a] * 1e3:.3g}" for a in ALGORITHMS)
            + " |"
        )
    within = sum(r["auto_over_best"] <= 1.25 for r in rows)
    honest = sum(0.5 <= r["modelled_over_measured"] <= 2.0 for r in rows)
    lines += [
        "",
        f"auto within 1.25x of the fastest on {within} of {len(rows)} layers; the modelled "
        f"time within 2x of the measured one on {honest} of {len(rows)}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.choices", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per algorithm")
    parser.add_argument("--threads", type=int, default=None, help="xconv's thread limit")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="layers whose name has TEXT")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    import threadpoolctl

    import xconv

    layers = [
        layer for layer in LAYERS if not args.only or any(text in layer.name for text in args.only)
    ]
    blas = threadpoolctl.threadpool_info()
    kernel = ", ".join(sorted({str(i.get("architecture")) for i in blas if i.get("architecture")}))
    threads = args.threads or os.cpu_count()
    header = (
        f"# Does auto pick well?\n\n`python -m benchmarks.choices` ({args.dtype}, {threads} "
        f"thread(s), {os.cpu_count()} cores, OpenBLAS kernel {kernel or 'unknown'}, "
        f"median of {args.repeat} alternating calls)."
    )
    if args.threads:
        with xconv.thread_limit(args.threads), threadpoolctl.threadpool_limits(args.threads):
            rows = run(layers, args.repeat, args.dtype)
    else:
        rows = run(layers, args.repeat, args.dtype)
    text = markdown(rows, header)
    print(text)
    if not args.only:
        suffix = f"_{args.threads}t" if args.threads else ""
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / f"choices{suffix}.md").write_text(text)
        data = {"header": header, "rows": rows}
        (args.output / f"choices{suffix}.json").write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
