"""Summaries of a run: the dialect x peer matrix, JSON and Markdown reports."""

from __future__ import annotations

import json
import platform
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .cases import DIALECTS
from .runner import Run


@dataclass
class Cell:
    passed: int = 0
    failed: int = 0
    unsupported: int = 0
    worst: float | None = None  # largest max_abs_err among compared results

    def add(self, status: str, err: float | None) -> None:
        if status == "pass":
            self.passed += 1
        elif status == "fail":
            self.failed += 1
        else:
            self.unsupported += 1
        if err is not None and (self.worst is None or err > self.worst):
            self.worst = err

    def text(self) -> str:
        if not (self.passed or self.failed or self.unsupported):
            return "-"
        worst = "" if self.worst is None else f" ({self.worst:.0e})"
        return f"{self.passed}/{self.failed}/{self.unsupported}{worst}"


# the ways a run is summarised: a row name per result
GROUPINGS = {
    "backend": lambda r: r.backend,
    "dialect": lambda r: r.dialect,
    "op": lambda r: r.op,
    "backend x group": lambda r: f"{r.backend}: {r.dialect} {_kind(r.op)}",
}


def _kind(op: str) -> str:
    return "gradients" if op.endswith("_vjp") else "outputs"


def matrix(run: Run, by: str = "dialect") -> dict[str, dict[str, Cell]]:
    """`{row: {peer: Cell}}` with rows grouped `by` (see `GROUPINGS`) and a `total` row."""
    key = GROUPINGS[by]
    table: dict[str, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for result in run.results:
        table[key(result)][result.peer].add(result.status, result.max_abs_err)
        table["total"][result.peer].add(result.status, result.max_abs_err)
    rows = [k for k in table if k != "total"]
    if by == "dialect":
        order = [d for d in DIALECTS if d in table]
    elif by in ("backend", "backend x group"):
        libraries = list(run.libraries)
        order = sorted(rows, key=lambda row: (libraries.index(row.split(":")[0]), row))
    else:
        order = sorted(rows)
    return {row: dict(table[row]) for row in [*order, "total"]}


def counts(run: Run) -> dict[str, int]:
    out = {"comparisons": len(run.results), "pass": 0, "fail": 0, "unsupported": 0}
    for result in run.results:
        out[result.status] += 1
    out["cases"] = len({r.case for r in run.results})
    out["skipped_cases"] = len(run.skipped)
    return out


def to_json(run: Run, findings: list[dict], path: Path, results: bool = True) -> None:
    """The JSON report; without `results`, the summary and matrices only (the committed
    record that the documentation's heat map reads)."""
    import xconv

    payload = {
        "xconv": getattr(xconv, "__version__", "unknown"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "peers": run.peers,
        "backends": run.libraries,
        "summary": counts(run),
        "seconds": round(run.seconds, 2),
        "matrix": {
            row: {peer: vars(cell) for peer, cell in cells.items()}
            for row, cells in matrix(run).items()
        },
        "matrix_by_backend": {
            row: {peer: vars(cell) for peer, cell in cells.items()}
            for row, cells in matrix(run, "backend x group").items()
        },
        "matrix_by_op": {
            row: {peer: vars(cell) for peer, cell in cells.items()}
            for row, cells in matrix(run, "op").items()
        },
        "findings": findings,
        "skipped": run.skipped,
        "results": [r.as_dict() for r in run.results],
    }
    if not results:
        del payload["results"]
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n")


def _markdown_table(run: Run, by: str, peers: list[str]) -> list[str]:
    lines = [f"| {by} | " + " | ".join(peers) + " |", "|---" * (len(peers) + 1) + "|"]
    for row, cells in matrix(run, by).items():
        texts = [cells[p].text() if p in cells else "-" for p in peers]
        lines.append(f"| {row} | " + " | ".join(texts) + " |")
    return lines


def to_markdown(run: Run, findings: list[dict]) -> str:
    peers = [p for p, v in run.peers.items() if v is not None]
    c = counts(run)
    lines = [
        "Cells: passed/failed/unsupported (worst max abs error).",
        "",
        *_markdown_table(run, "backend", peers),
        "",
        *_markdown_table(run, "backend x group", peers),
        "",
        *_markdown_table(run, "dialect", peers),
        "",
        *_markdown_table(run, "op", peers),
        "",
        f"{c['comparisons']} comparisons over {c['cases']} cases: {c['pass']} passed, "
        f"{c['fail']} failed, {c['unsupported']} unsupported ({run.seconds:.0f} s). Peers: "
        + ", ".join(f"{p} {v}" for p, v in run.peers.items() if v is not None)
        + ". xconv on: "
        + ", ".join(f"{name} {v}" if v else name for name, v in run.libraries.items())
        + ".",
    ]
    failures = [r for r in run.results if r.status == "fail"]
    if failures:
        lines += ["", "Failures:", ""]
        lines += [f"- `{r.case}` on {r.backend} vs {r.peer}: {r.reason}" for r in failures]
    if findings:
        lines += ["", "Findings (framework disagreements, see conformance/FINDINGS.md):", ""]
        lines += [f"- {f['id']} ({f['status']}): {f['title']}" for f in findings]
    return "\n".join(lines) + "\n"


def print_rich(run: Run, findings: list[dict]) -> None:
    """The matrix on the terminal (rich if installed, plain text otherwise)."""
    peers = [p for p, v in run.peers.items() if v is not None]
    c = counts(run)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(to_markdown(run, findings))
        return
    console = Console(width=None if sys.stdout.isatty() else 150)
    for by in ("backend", "backend x group", "op"):
        table = Table(title=f"xconv conformance by {by}: passed/failed/unsupported (worst error)")
        table.add_column(by)
        for peer in peers:
            table.add_column(peer, no_wrap=True)
        for row, cells in matrix(run, by).items():
            texts = []
            for peer in peers:
                cell = cells.get(peer)
                style = "red" if cell and cell.failed else "green" if cell else "dim"
                texts.append(f"[{style}]{cell.text() if cell else '-'}[/{style}]")
            table.add_row(row, *texts)
        console.print(table)
    for result in (r for r in run.results if r.status == "fail"):
        console.print(
            f"[red]FAIL[/red] {result.case} on {result.backend} vs {result.peer}: {result.reason}"
        )
    for finding in findings:
        console.print(f"[yellow]finding {finding['id']}[/yellow] ({finding['status']}): "
                      f"{finding['title']}")  # fmt: skip
    console.print("peers: " + ", ".join(f"{p} {v}" for p, v in run.peers.items() if v))
    if run.skipped:
        console.print(f"[dim]{len(run.skipped)} cases skipped: {run.skipped[0]['reason']}[/dim]")
    console.print(
        f"{c['comparisons']} comparisons, {c['cases']} cases: [green]{c['pass']} passed[/green],"
        f" [red]{c['fail']} failed[/red], {c['unsupported']} unsupported in {run.seconds:.1f} s"
    )
