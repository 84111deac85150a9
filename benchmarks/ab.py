"""`python -m benchmarks.ab --against DIR`: this checkout against another, in one process.

A refactor must keep speed and results. This imports the other checkout's `xconv` (a
`git worktree` of the commit before, say) under another name beside this one, and times
every benchmark row (`benchmarks.workloads`) through both, alternating calls (median of
`--repeat` after a warm-up): the ratio new / old per row, and the largest difference
between the two results relative to their scale (0 where bit-identical).

    git worktree add /tmp/base HEAD~3
    python -m benchmarks.ab --against /tmp/base --only resnet3x3 tconv4s2
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .timing import time_alternating
from .workloads import Workload, by_name

BASE = "xconv_base"


def import_base(checkout: Path):
    """The other checkout's `xconv`, imported as `xconv_base` (a copy whose absolute
    module names are renamed to match)."""
    target = Path(tempfile.mkdtemp(prefix="xconv-ab-")) / BASE
    shutil.copytree(checkout / "xconv", target)
    for path in target.rglob("*.py"):
        text = path.read_text()
        renamed = re.sub(r"([\"'])xconv\.", rf"\1{BASE}.", text)
        if renamed != text:
            path.write_text(renamed)
    sys.path.insert(0, str(target.parent))
    return importlib.import_module(BASE)


def row_call(module, workload: Workload, arrays: dict):
    """A callable running the row through `module` (an xconv), returning numpy results."""
    options = workload.options
    x, w, grad = arrays["x"], arrays["w"], arrays.get("grad")
    if workload.op == "transpose":
        return lambda: module.conv_transpose(x, w, **options)
    if workload.op == "backward":
        return lambda: module.conv_vjp(grad, x, w, **options)
    if workload.op == "torch":
        import torch

        xt, wt, gt = (torch.from_numpy(a) for a in (x, w, grad))

        def run():
            xr, wr = xt.clone().requires_grad_(True), wt.clone().requires_grad_(True)
            module.conv(xr, wr, **options).backward(gt)
            return xr.grad.numpy(), wr.grad.numpy()

        return run
    if workload.op == "jax":
        import jax

        xj, wj, gj = (jax.numpy.asarray(a) for a in (x, w, grad))
        step = jax.jit(lambda x, w: jax.vjp(lambda x, w: module.conv(x, w, **options), x, w)[1](gj))
        return lambda: tuple(np.asarray(a) for a in jax.block_until_ready(step(xj, wj)))
    if workload.prepared:
        plan = module.plan(x.shape, w.shape, dtype=x.dtype, **options)
        return lambda: plan(x, w)
    return lambda: module.conv(x, w, **options)


def _arrays(workload: Workload, new) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(workload.x_shape, dtype=np.float32)
    w = rng.standard_normal(workload.weight_shape, dtype=np.float32)
    arrays = {"x": x, "w": w}
    if workload.op in ("backward", "torch", "jax"):
        shape = new.conv(x, w, **workload.options).shape
        arrays["grad"] = rng.standard_normal(shape, dtype=np.float32)
    return arrays


def _difference(a, b) -> float:
    a, b = (tuple(v) if isinstance(v, tuple) else (v,) for v in (a, b))
    worst = 0.0
    for p, q in zip(a, b, strict=True):
        p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
        scale = max(np.max(np.abs(q)), 1e-30)
        worst = max(worst, float(np.max(np.abs(p - q))) / scale)
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("--against", type=Path, required=True, help="the other checkout")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="benchmark rows")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per version")
    args = parser.parse_args(argv)
    import xconv as new

    base = import_base(args.against)
    print("| row | new ms | base ms | new / base | difference |\n| --- | --- | --- | --- | --- |")
    for workload in by_name(args.only or ()):
        arrays = _arrays(workload, new)
        runs = {"new": row_call(new, workload, arrays), "base": row_call(base, workload, arrays)}
        timings = time_alternating(runs, args.repeat, warmup=2)
        new_ms, base_ms = timings["new"].median_ms, timings["base"].median_ms
        difference = _difference(runs["new"](), runs["base"]())
        print(
            f"| {workload.name} | {new_ms:.3g} | {base_ms:.3g} | {new_ms / base_ms:.2f} | "
            f"{difference:.1e} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
