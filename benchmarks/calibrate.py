"""`python -m benchmarks.calibrate`: the NumPy backend's cost model against this machine.

Measures the primitives the constants stand for (a large float32 product on one thread,
a strided copy, a broadcast multiply) beside the constants the backend ships, with their
source; then runs every route of every layer of `benchmarks.choices` (each algorithm
forced, so each route the planner can pick runs) and shows the modelled time against the
measured one, route by route, with the median ratio per route: the factor by which that
route's constants would have to change on this machine. Writes `calibration.md` and
`calibration.json` beside this file (or `--output`).

The planner only ranks routes, so what matters is that the ratios agree across routes;
`benchmarks.choices` checks the choices themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def _best(run, repeat: int = 5) -> float:
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def primitives() -> dict[str, float]:
    """One-thread measurements of what the shipped constants stand for."""
    import threadpoolctl

    rng = np.random.default_rng(0)
    with threadpoolctl.threadpool_limits(1):
        a = rng.standard_normal((2048, 2048), dtype=np.float32)
        seconds = _best(lambda: a @ a, 3)
        peak = 2 * 2048**3 / seconds
        x = rng.standard_normal((64, 256, 256), dtype=np.float32)
        strided = x[:, ::2, :]
        copy = _best(lambda: np.ascontiguousarray(strided)) / strided.size * 1e9
        w = rng.standard_normal((64, 1, 1), dtype=np.float32)
        multiply = _best(lambda: x * w) / x.size * 1e9
    return {"gemm_peak": peak, "copy_ns": copy, "elementwise_ns": multiply}


def routes(layers, repeat: int) -> list[dict]:
    """Every algorithm of every layer: its route, modelled and measured seconds."""
    import xconv
    from benchmarks.choices import ALGORITHMS
    from benchmarks.timing import time_alternating

    rng = np.random.default_rng(1)
    rows = []
    for layer in layers:
        options = dict(layer.options)
        x = rng.standard_normal(layer.x).astype(np.float32)
        w = rng.standard_normal(layer.w).astype(np.float32)
        runs = {
            a: (lambda a=a, x=x, w=w, o=options: xconv.conv(x, w, algorithm=a, **o))
            for a in ALGORITHMS
        }
        timings = time_alternating(runs, repeat)
        for algorithm in ALGORITHMS:
            plan = xconv.plan(x.shape, w.shape, algorithm=algorithm, **options)
            measured = timings[algorithm].median_ms / 1e3
            rows.append(
                {
                    "layer": layer.name,
                    "algorithm": algorithm,
                    "route": str(plan.chunking.get("engine", algorithm)),
                    "modelled_s": plan.seconds,
                    "measured_s": measured,
                    "ratio": measured / plan.seconds,
                }
            )
        print(
            f"{layer.name:28s} "
            + "  ".join(f"{r['route']}: x{r['ratio']:.2f}" for r in rows[-len(ALGORITHMS) :]),
            flush=True,
        )
    return rows


def by_route(rows: list[dict]) -> dict[str, dict]:
    grouped: dict[str, list[float]] = {}
    for row in rows:
        grouped.setdefault(row["route"], []).append(row["ratio"])
    return {
        route: {"median": statistics.median(r), "low": min(r), "high": max(r), "rows": len(r)}
        for route, r in sorted(grouped.items())
    }


def markdown(measured: dict, shipped, rows: list[dict], header: str) -> str:
    lines = [header, "", "## Primitives (one thread)", ""]
    lines += ["| constant | shipped | measured here |", "| --- | --- | --- |"]
    for name, value in measured.items():
        lines.append(f"| `{name}` | {getattr(shipped, name):.3g} | {value:.3g} |")
    lines += ["", f"Shipped constants: {shipped.source}.", "", "## Routes", ""]
    lines += ["| route | measured / modelled (median) | range | layers |"]
    lines += ["| --- | --- | --- | --- |"]
    for route, r in by_route(rows).items():
        lines.append(
            f"| {route} | {r['median']:.2f} | {r['low']:.2f}-{r['high']:.2f} | {r['rows']} |"
        )
    lines += ["", "| layer | algorithm | route | modelled ms | measured ms | measured / modelled |"]
    lines += ["| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['layer']} | {r['algorithm']} | {r['route']} | {r['modelled_s'] * 1e3:.3g} | "
            f"{r['measured_s'] * 1e3:.3g} | {r['ratio']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per route")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="layers whose name has TEXT")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    from benchmarks.choices import LAYERS
    from xconv.backends import backend_named

    layers = [layer for layer in LAYERS if not args.only or any(t in layer.name for t in args.only)]
    shipped = backend_named("numpy").costs
    measured = primitives()
    rows = routes(layers, args.repeat)
    header = (
        f"# The NumPy backend's cost model on this machine\n\n`python -m benchmarks.calibrate` "
        f"({os.cpu_count()} cores; routes timed on all of xconv's threads, median of "
        f"{args.repeat} alternating calls)."
    )
    text = markdown(measured, shipped, rows, header)
    print(text)
    if not args.only:
        (args.output / "calibration.md").write_text(text)
        data = {"primitives": measured, "routes": by_route(rows), "rows": rows}
        (args.output / "calibration.json").write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
