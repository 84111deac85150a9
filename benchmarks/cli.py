"""`python -m benchmarks`: time xconv against every installed peer, print and save a table."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from . import WAIT_POLICY
from .peers import Case, Peer, installed_peers
from .report import (
    MATMUL,
    MIB,
    RowResult,
    machine_info,
    relative_error,
    render_markdown,
    render_rich,
    to_json,
)
from .timing import BackgroundLoad, peak_extra_bytes, time_alternating
from .workloads import WORKLOADS, Workload, by_name

MIN_REPEAT = 5
MEMORY_SLACK = 64 * MIB


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    names = ", ".join(w.name for w in WORKLOADS)
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"workloads to run: {names}")
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per peer (>= 5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{MIN_REPEAT} timed calls and no result files (a look, not a record)",
    )
    parser.add_argument("--peers", nargs="+", metavar="PEER", help="peers besides xconv")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent, help="folder for results.md/json"
    )
    parser.add_argument(
        "--numba",
        choices=("on", "off"),
        default="on",
        help="off: xconv without its compiled kernels, as with XCONV_NUMBA=0 (the header says)",
    )
    parser.add_argument(
        "--onnxruntime",
        choices=("on", "off"),
        default="on",
        help="off: xconv without its ONNX Runtime route, as with XCONV_ONNXRUNTIME=0",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for xconv, BLAS and PyTorch (default: all cores; JAX keeps its own)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "gpu"),
        default="cpu",
        help="gpu: xconv on CuPy against cuDNN and cupyx.scipy (gpu_results.md/json)",
    )
    args = parser.parse_args(argv)
    if args.numba == "off":  # read once, when xconv first plans: before any import of it
        os.environ["XCONV_NUMBA"] = "0"
    if args.onnxruntime == "off":
        os.environ["XCONV_ONNXRUNTIME"] = "0"
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.quick:
        args.repeat = MIN_REPEAT
    if args.repeat < MIN_REPEAT:
        parser.error(f"--repeat must be at least {MIN_REPEAT} (the median of too few is noise)")
    return args


def matmul_equivalent(case: Case):
    """For a 1x1, stride-1, ungrouped layer: the same product as one plain 2-D matmul."""
    w = case.workload
    plain = w.op == "forward" and w.groups == 1 and set(w.kernel) == {1}
    if not plain or set(w.per_dim("stride", 1)) != {1} or set(w.per_dim("padding", 0)) != {0}:
        return None
    weight = case.weight.reshape(w.out_channels, w.in_channels)
    columns = np.ascontiguousarray(np.moveaxis(case.x, 1, 0).reshape(w.in_channels, -1))
    return lambda: np.matmul(weight, columns)


def run_workload(workload: Workload, peers: tuple[Peer, ...], repeat: int) -> RowResult:
    row = RowResult(workload)
    case = Case.make(workload)
    prepared = {}
    for peer in peers:
        try:
            ready = peer.prepare(case)
        except Exception as error:  # one broken peer must not stop the others
            print(f"  {peer.name}: cannot prepare {workload.name}: {error}", file=sys.stderr)
            continue
        if ready is not None:
            prepared[peer.name] = ready
            row.families[peer.name] = peer.family
    if "xconv" not in prepared:
        row.skipped = f"no xconv function for {workload.op!r} yet"
        return row
    row.algorithm = prepared["xconv"].note

    # first calls: warm-up, and a sanity check of xconv against every peer
    mine = prepared["xconv"].fetch(prepared["xconv"].run())
    for name, ready in list(prepared.items())[1:]:
        try:
            row.errors[name] = relative_error(mine, ready.fetch(ready.run()))
        except Exception as error:
            print(f"  {name}: failed on {workload.name}: {error}", file=sys.stderr)
            del prepared[name]
    runs = {name: ready.run for name, ready in prepared.items()}
    matmul = matmul_equivalent(case)
    if matmul is not None:
        runs[MATMUL] = matmul
    with BackgroundLoad() as load:
        row.timings = time_alternating(runs, repeat=repeat, warmup=1)
    row.background_cores = load.cores

    _release_scratch()  # scratch kept from the timed calls would hide from the peak
    row.peak_bytes = peak_extra_bytes(prepared["xconv"].run)
    row.budget_bytes = sum(a.nbytes for a in case.arrays) + sum(a.nbytes for a in mine)
    row.budget_bytes += MEMORY_SLACK
    return row


def _release_scratch() -> None:
    try:
        from xconv.backends.numpy._scratch import release
    except ImportError:
        return
    release()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "gpu":
        from . import gpu

        return gpu.main(args.output, args.repeat, args.only)
    try:
        workloads = by_name(args.only)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    with limited_threads(args.threads):
        rows, info, settings = _run_all(args, workloads)
    render_rich(rows, info, settings)
    if not args.quick:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "results.md").write_text(render_markdown(rows, info, settings))
        (args.output / "results.json").write_text(to_json(rows, info, settings) + "\n")
        print(f"wrote {args.output / 'results.md'} and results.json", file=sys.stderr)
    return 0


def _run_all(args: argparse.Namespace, workloads) -> tuple[list[RowResult], dict, dict]:
    peers = installed_peers()
    if args.peers:
        peers = tuple(
            p for p in peers if p.name == "xconv" or p.name in args.peers or p.family in args.peers
        )
    info = machine_info({p.name: p.version() for p in peers})
    settings = {
        "repeat": args.repeat,
        "warmup": 2,
        "peers": [p.name for p in peers],
        "threads": args.threads or "all cores",
        "wait_policy": {name: os.environ.get(name) for name in WAIT_POLICY},
    }
    print(f"peers: {', '.join(settings['peers'])}", file=sys.stderr)

    rows = []
    for workload in workloads:
        print(f"{workload.name}: {workload.describe()}", file=sys.stderr)
        rows.append(run_workload(workload, peers, args.repeat))
    return rows, info, settings


@contextlib.contextmanager
def limited_threads(count: int | None):
    """xconv's, BLAS's and PyTorch's threads limited to `count` (None: as they are)."""
    if count is None:
        yield
        return
    import threadpoolctl

    import xconv

    try:
        import torch
    except ImportError:
        torch = None
    before = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(count)
    try:
        with xconv.thread_limit(count), threadpoolctl.threadpool_limits(count):
            yield
    finally:
        if torch:
            torch.set_num_threads(before)
