"""What the commands print, with rich: summaries, tables and the progress bar."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from xconv import ConvSpec
from xconv.planner import plan_for

from ._layers import parameter_count
from ._shapes import format_shape


@contextlib.contextmanager
def stdout_console() -> Iterator[Console]:
    """A console for what a command prints; piped or redirected, its lines lose the trailing
    spaces rich pads tables with (a terminal gets rich's own output, colours included)."""
    if sys.stdout.isatty():
        yield Console()
        return
    buffer = io.StringIO()
    yield Console(file=buffer, width=Console().width)
    click.echo("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))


def spec_summary(spec: ConvSpec, canonical_shape: tuple, has_bias: bool) -> dict:
    """The canonical view of a problem: spec, resolved padding, parameters, flops, plan."""
    rank = spec.rank
    spatial = canonical_shape[-rank - 1 : -1] if spec.channels_last else canonical_shape[-rank:]
    pads = spec.resolve_padding(spatial)
    summary = {
        "spec": {
            "kernel_size": list(spec.kernel_size),
            "stride": list(spec.stride),
            "dilation": list(spec.dilation),
            "padding": spec.padding,
            "groups": spec.groups,
            "padding_mode": spec.padding_mode,
            "padding_value": spec.padding_value,
            "channels_last": spec.channels_last,
            "transposed": spec.transposed,
            "output_padding": list(spec.output_padding),
            "in_channels": spec.in_channels,
            "out_channels": spec.out_channels,
        },
        "resolved_padding": [None if p is None else list(p) for p in pads],
        "parameters": parameter_count(spec, has_bias),
    }
    if all(s is not None for s in canonical_shape):
        batched = _batched_channel_first(spec, canonical_shape)
        summary["flops"] = spec.flops(canonical_shape)
        plan = plan_for(spec, batched, "float32")
        summary["algorithm"] = plan.algorithm
        summary["reason"] = plan.reason
    return summary


def _batched_channel_first(spec: ConvSpec, shape: tuple) -> tuple:
    shape = tuple(shape)
    if len(shape) == spec.rank + 1:
        shape = (1, *shape)
    return (shape[0], shape[-1], *shape[1:-1]) if spec.channels_last else shape


def shape_table(console: Console, summary: dict) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    table.add_row("dialect", summary["dialect"])
    table.add_row("input", format_shape(summary["input_shape"]))
    table.add_row("output", f"[bold green]{format_shape(summary['output_shape'])}[/]")
    spec = summary.get("spec")
    if spec:
        kind = "transposed convolution" if spec["transposed"] else "convolution"
        table.add_row("canonical", f"{len(spec['kernel_size'])}-d {kind}, xconv.ConvSpec")
        for key in ("kernel_size", "stride", "dilation", "groups", "padding", "padding_mode"):
            table.add_row(f"  {key}", str(spec[key]))
        if spec["padding_mode"] == "constant" and spec["padding_value"] != 0:
            table.add_row("  padding_value", str(spec["padding_value"]))
        table.add_row(
            "padding per side",
            ", ".join(
                "?" if p is None else f"({p[0]}, {p[1]})" for p in summary["resolved_padding"]
            ),
        )
        table.add_row("parameters", f"{summary['parameters']:,}")
    if "flops" in summary:
        table.add_row("FLOPs", f"{summary['flops']:,}")
        table.add_row("algorithm", f"{summary['algorithm']} ({summary['reason']})")
    if "note" in summary:
        table.add_row("note", summary["note"])
    console.print(table)


def chain_table(console: Console, summaries: list[dict]) -> None:
    """Shapes through a chain of layers: one row per layer."""
    table = Table(title=f"xconv shape: {len(summaries)} {summaries[0]['dialect']} layers")
    for column in ("#", "layer", "input", "output", "parameters", "algorithm"):
        table.add_column(column)
    for number, s in enumerate(summaries, start=1):
        table.add_row(
            str(number),
            s["layer"],
            format_shape(s["input_shape"]),
            f"[bold green]{format_shape(s['output_shape'])}[/]",
            f"{s['parameters']:,}" if "parameters" in s else "?",
            s.get("algorithm", "?"),
        )
    console.print(table)


def run_summary(console: Console, results: list[dict], command: str = "run") -> None:
    table = Table(title=f"xconv {command}")
    last = "mode" if command == "filter" else "algorithm"
    for column in ("input", "output", "shape", "dtype", "time", last):
        table.add_column(column)
    weights = [r["weights"] for r in results if "weights" in r]
    for r in results:
        table.add_row(
            r["input"],
            r["output"],
            f"{format_shape(r['input_shape'])} -> {format_shape(r['output_shape'])}",
            r["dtype"],
            f"{r['seconds'] * 1e3:.1f} ms",
            r["algorithm"],
        )
    if weights:  # one caption: a batch runs one layer, so one set of weights
        table.caption = f"weights {weights[0]}"
    console.print(table)


def translations(console: Console, rows: list[dict]) -> None:
    for row in rows:
        console.rule(f"[bold]{row['target']}")
        if row["text"] is None:
            console.print("[yellow]cannot be expressed exactly[/]")
        else:
            console.print(row["text"], markup=False, highlight=False, soft_wrap=True)
        for note in row["notes"]:
            console.print(f"[dim]note: {note}[/]", highlight=False)


_VERDICT_STYLE = {"agrees": "green", "differs": "bold red", "failed": "bold red",
                  "cannot express": "yellow", "not installed": "dim"}  # fmt: skip


def check_table(console: Console, rows: list[dict], header: str) -> None:
    """`xconv check`'s verdicts: one row per framework and quantity."""
    from rich.table import Table

    table = Table(title=header, title_justify="left", show_lines=True)
    for column in ("framework", "compared", "expressed as", "max abs diff", "max rel diff",
                   "verdict"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for row in rows:
        style = _VERDICT_STYLE.get(row["status"], "")
        verdict = f"[{style}]{row['status']}[/]"
        if row["reason"]:
            verdict += f": {row['reason']}"
        numbers = [f"{row[k]:.2e}" if row[k] is not None else "-"
                   for k in ("max_abs_diff", "max_rel_diff")]  # fmt: skip
        table.add_row(row["framework"], row["quantity"], row["expressed"] or "-", *numbers,
                      verdict)  # fmt: skip
    console.print(table)


@contextlib.contextmanager
def progress(console: Console, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar for a batch of files; nothing for a single run."""
    if total <= 1:
        yield lambda: None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("running", total=total)
        yield lambda: bar.advance(task)


@contextlib.contextmanager
def working(console: Console, what: str, show: bool = True) -> Iterator[None]:
    """A spinner with the elapsed time while one long in-memory run computes, on a
    terminal only (a batch has its bar, a streamed run its blocks)."""
    if not (show and console.is_terminal):
        yield
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as spinner:  # fmt: skip
        spinner.add_task(what, total=None)
        yield


@contextlib.contextmanager
def task_progress(console: Console) -> Iterator[Callable[[int], Callable[[], None]]]:
    """A progress bar over the tasks of a streamed run: yields `start(total)`, which adds
    the bar and returns the callback that advances it by one task."""
    with Progress(console=console, transient=True) as bar:

        def start(total: int) -> Callable[[], None]:
            task = bar.add_task("blocks", total=total)
            return lambda: bar.advance(task)

        yield start
