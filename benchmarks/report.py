"""Results of a benchmark run: machine description, rich table, Markdown and JSON."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .timing import Timing
from .workloads import MATMUL_EFFICIENCY_TARGET, QUOTED_TORCH_MS, TARGETS, Workload

MIB = 2**20
MATMUL = "numpy.matmul"  # reference timing of 1x1 rows, not a peer column


@dataclass
class RowResult:
    workload: Workload
    timings: dict[str, Timing] = field(default_factory=dict)
    families: dict[str, str] = field(default_factory=dict)  # peer name -> family
    errors: dict[str, float] = field(default_factory=dict)  # relative error vs each peer
    peak_bytes: int | None = None
    budget_bytes: int | None = None
    algorithm: str = ""
    skipped: str = ""
    background_cores: float | None = None  # other processes' CPU use while timing

    def ms(self, peer: str) -> float | None:
        timing = self.timings.get(peer)
        return None if timing is None else timing.median_ms

    def ratio(self, peer: str) -> float | None:
        mine, theirs = self.ms("xconv"), self.ms(peer)
        return None if mine is None or not theirs else mine / theirs

    def best_of(self, family: str) -> str | None:
        names = [p for p, fam in self.families.items() if fam == family and p in self.timings]
        return min(names, key=self.ms) if names else None

    def targets(self) -> list[dict]:
        checks = []
        for target in TARGETS.get(self.workload.target, ()):
            peer = self.best_of(target.peer)
            ratio = None if peer is None else self.ratio(peer)
            met = None if ratio is None else ratio <= target.max_ratio
            checks.append({"target": target.describe(), "peer": peer, "ratio": ratio, "met": met})
        if MATMUL in self.timings and "xconv" in self.timings:
            efficiency = self.ms(MATMUL) / self.ms("xconv")
            checks.append(
                {
                    "target": f">= {MATMUL_EFFICIENCY_TARGET:.0%} of {MATMUL} throughput",
                    "peer": MATMUL,
                    "ratio": efficiency,
                    "met": efficiency >= MATMUL_EFFICIENCY_TARGET,
                }
            )
        return checks

    @property
    def within_budget(self) -> bool | None:
        if self.peak_bytes is None or self.budget_bytes is None:
            return None
        return self.peak_bytes <= self.budget_bytes


def relative_error(mine: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]) -> float:
    """Largest |difference| over the largest |value| of the peer, over all outputs."""
    worst = 0.0
    for a, b in zip(mine, theirs, strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape:
            return math.inf
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        worst = max(worst, float(np.max(np.abs(a - b))) / scale if scale else 0.0)
    return worst


def machine_info(peer_versions: dict[str, str]) -> dict:
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_features": _cpu_features(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "blas_kernel": _blas_kernel(),
        "numba": _numba(),
        "onnxruntime": _onnxruntime(),
        "git_commit": _git_commit(),
    }
    info.update(peer_versions)
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_features() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
    return " ".join(f for f in wanted if f in flags)


def _blas() -> str:
    try:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{config.get('name')} {config.get('version')}"
    except Exception:  # the layout of show_config differs between NumPy versions
        return "?"


def _blas_kernel() -> str:
    """The kernel OpenBLAS chose for this CPU (or was pinned to: `OPENBLAS_CORETYPE`)."""
    try:
        from threadpoolctl import threadpool_info

        kernels = {
            f"{i.get('internal_api')} {i.get('architecture')}"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        }
    except Exception:  # threadpoolctl missing or unable to inspect: say so
        return "?"
    return ", ".join(sorted(kernels)) or "?"


def _onnxruntime() -> str:
    """ONNX Runtime's version if xconv's route through it is on, else why not."""
    try:
        from xconv.backends.numpy import _onnxruntime as route
    except ImportError:
        return "no route"
    if not route.available():
        return "off (XCONV_ONNXRUNTIME=0)" if os.environ.get("XCONV_ONNXRUNTIME") else "missing"
    import onnxruntime

    return onnxruntime.__version__


def _numba() -> str:
    """numba's version if xconv's compiled kernels are on, else why not."""
    try:
        from xconv.backends.numpy import _numba as kernels
    except ImportError:  # an xconv from before its compiled kernels (a "before" run)
        return "absent"

    if not kernels.available():
        return "off"
    import numba

    return numba.__version__


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


# ---------------------------------------------------------------------------- formatting


def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def _fmt_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


BUSY = 0.2  # other processes' cores above which a row's timings are suspect


def _fmt_background(row: RowResult, markup: bool) -> str:
    cores = row.background_cores
    if cores is None:
        return "?"
    text = f"{cores:.2f}"
    return f"[yellow]{text}[/]" if markup and cores > BUSY else text


def _fmt_memory(row: RowResult) -> str:
    if row.peak_bytes is None:
        return "-"
    verdict = "ok" if row.within_budget else "OVER"
    return f"{row.peak_bytes / MIB:.0f} / {row.budget_bytes / MIB:.0f} {verdict}"


def peer_columns(rows: list[RowResult], order: list[str]) -> list[str]:
    """Peers with at least one timing, in the order of `order`."""
    timed = {peer for row in rows for peer in row.timings}
    return [p for p in order if p in timed and p != "xconv"]


SHORT_NAMES = {"scipy.fftconvolve": "sp.fft", "scipy.oaconvolve": "sp.oa"}


def _fmt_peer_cell(row: RowResult, peer: str, markup: bool) -> str:
    ms, ratio = row.ms(peer), row.ratio(peer)
    if ms is None:
        return "-"
    text = f"{_fmt_ms(ms)} ({_fmt_ratio(ratio)})"
    if not markup or ratio is None:
        return text
    return f"[{'green' if ratio <= 1 else 'red'}]{text}[/]"


def _fmt_checks(row: RowResult, markup: bool) -> str:
    parts = []
    for check in row.targets():
        mark = {True: "met", False: "MISSED", None: "n/a"}[check["met"]]
        if markup:
            mark = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "n/a"}[check["met"]]
        ratio = "" if check["ratio"] is None else f" {check['ratio']:.2f}"
        parts.append(f"{check['target']}:{ratio} {mark}")
    return ("\n" if markup else "; ").join(parts)


def render_rich(rows: list[RowResult], info: dict, settings: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    peers = peer_columns(rows, settings["peers"])
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 180))  # a log file need not wrap
    table = Table(
        title=f"xconv vs peers: median ms of {settings['repeat']} alternating runs "
        f"(ratio xconv / peer; below 1: xconv faster)",
        caption=f"{info['cpu']}, {info['usable_cores']} cores. memory: peak extra MiB of an "
        f"xconv call / budget (input + output + 64 MiB). bg: cores other processes used "
        f"while timing (above {BUSY}: a noisy row)",
    )
    table.add_column("workload")
    table.add_column("xconv ms", justify="right")
    for peer in peers:
        table.add_column(SHORT_NAMES.get(peer, peer) + " ms", justify="right")
    table.add_column("memory", justify="right")
    table.add_column("err", justify="right")
    table.add_column("bg", justify="right")
    table.add_column("targets")
    for row in rows:
        if row.skipped:
            table.add_row(row.workload.name, f"[dim]skipped: {row.skipped}[/dim]")
            continue
        name = row.workload.name + (f" [dim]{row.algorithm}[/]" if row.algorithm else "")
        cells = [name, _fmt_ms(row.ms("xconv"))]
        cells += [_fmt_peer_cell(row, peer, markup=True) for peer in peers]
        memory = _fmt_memory(row)
        cells.append(memory if row.within_budget is not False else f"[red]{memory}[/]")
        worst = max(row.errors.values(), default=None)
        cells.append("-" if worst is None else f"{worst:.0e}")
        cells.append(_fmt_background(row, markup=True))
        cells.append(_fmt_checks(row, markup=True))
        table.add_row(*cells)
    console.print(table)


def render_markdown(rows: list[RowResult], info: dict, settings: dict) -> str:
    peers = peer_columns(rows, settings["peers"])
    lines = [
        "# xconv benchmarks",
        "",
        f"`python -m benchmarks` on {info['date']}, commit {info['git_commit']}: "
        f"median of {settings['repeat']} alternating runs after {settings['warmup']} warm-up, "
        "float32, channel-first. Ratio = xconv time / peer time (below 1: xconv is faster). "
        "Memory: peak extra MiB of one xconv call (tracemalloc) / budget "
        "(input + output + 64 MiB). bg cores: CPU other processes used while the row was "
        "timed (a shared machine; rows above 0.2 are noisy). Thread pools sleep when idle "
        f"({', '.join(f'{k}={v}' for k, v in settings['wait_policy'].items())}), so that "
        "one library's spinning threads do not slow the next library's call.",
        "",
        "Machine: "
        + ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("date", "git_commit")),
        "",
    ]
    header = ["workload", "shape", "xconv ms"]
    header += [f"{SHORT_NAMES.get(peer, peer)} ms (ratio)" for peer in peers]
    header += ["memory MiB", "max rel err", "bg cores", "targets"]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        w = row.workload
        if row.skipped:
            cells = [w.name, w.describe(), f"skipped: {row.skipped}"] + [""] * (len(header) - 3)
        else:
            algorithm = f" ({row.algorithm})" if row.algorithm else ""
            cells = [w.name, w.describe() + algorithm, _fmt_ms(row.ms("xconv"))]
            cells += [_fmt_peer_cell(row, peer, markup=False) for peer in peers]
            worst = max(row.errors.values(), default=None)
            cells += [
                _fmt_memory(row),
                "-" if worst is None else f"{worst:.0e}",
                _fmt_background(row, markup=False),
                _fmt_checks(row, markup=False),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    quoted = [f"{name} {ms:g}" for name, ms in QUOTED_TORCH_MS.items()]
    lines += [
        "",
        "PyTorch times quoted in the issues for this machine class (ms): "
        + ", ".join(quoted)
        + ".",
        "",
    ]
    return "\n".join(lines)


def to_json(rows: list[RowResult], info: dict, settings: dict) -> str:
    records = []
    for row in rows:
        w = row.workload
        record = {
            "name": w.name,
            "shape": w.describe(),
            "op": w.op,
            "target_class": w.target,
            "skipped": row.skipped or None,
        }
        if not row.skipped:
            record.update(
                {
                    "algorithm": row.algorithm,
                    "median_ms": {p: t.median_ms for p, t in row.timings.items()},
                    "samples_ms": {p: t.samples_ms for p, t in row.timings.items()},
                    "ratio": {p: row.ratio(p) for p in row.timings if p != "xconv"},
                    "gflops": {p: w.flops / t.median_ms / 1e6 for p, t in row.timings.items()},
                    "peak_extra_bytes": row.peak_bytes,
                    "memory_budget_bytes": row.budget_bytes,
                    "within_memory_budget": row.within_budget,
                    "max_relative_error": row.errors,
                    "targets": row.targets(),
                    "background_cores": row.background_cores,
                }
            )
        records.append(record)
    return json.dumps({"machine": info, "settings": settings, "rows": records}, indent=2)
