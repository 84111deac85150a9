"""The `xconv` command: shape, run, check and translate a layer written in any dialect."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import click
import numpy as np
from rich.console import Console

import xconv
import xconv.backends.numpy  # the CLI works on NumPy arrays: load its backend before timing
from xconv.compat import TranslationError
from xconv.compat._layer import ChannelsUnknownError
from xconv.compat.parse import LayerSyntaxError

from . import _filter, _layers, _port, _render, _stream
from ._files import (
    ARRAY_SUFFIXES,
    IMAGE_SUFFIXES,
    SCALES,
    FileError,
    image_to_unit,
    is_image,
    read_array,
    split_key,
    unit_to_image,
    write_array,
    write_bytes,
)
from ._shapes import format_shape, parse_shape

EXAMPLES = """
\b
Layers as each dialect writes them, with data in each dialect's order:
  xconv {cmd} 'ConvolutionLayer[16, {{3, 3}}, "Stride" -> 2, PaddingSize -> 1]' {wolfram}
  xconv {cmd} "convolution2dLayer(3, 16, 'Stride', 2, 'Padding', 'same')" {matlab}
  xconv {cmd} 'keras.layers.Conv2D(16, 3, strides=2, padding="same")' {keras}
  xconv {cmd} 'nn.Conv2d(3, 16, 3, stride=2, padding=1)' {pytorch}
"""


def examples(cmd: str, shape: dict[str, str] | None = None, rest: str = "") -> str:
    """The epilog of `cmd`: one layer per dialect, each with an input shape in its own
    order (Wolfram C x H x W, MATLAB H x W x C, Keras N x H x W x C, PyTorch N x C x H x W)
    where it takes one."""
    orders = {
        "wolfram": "3x{n}x{n}",
        "matlab": "{n}x{n}x3",
        "keras": "1x{n}x{n}x3",
        "pytorch": "1x3x{n}x{n}",
    }
    args = {
        dialect: " ".join(
            filter(None, [f"--input-shape {order.format(**shape)}" if shape else "", rest])
        )
        for dialect, order in orders.items()
    }
    return EXAMPLES.format(cmd=cmd, **args)


FLAT_MEMORY = click.option(
    "--flat-memory/--shared-blocks",
    "flat",
    default=None,
    help="Streamed: each output block reads its own inputs, so memory stays a few blocks "
    "whatever the size (about twice the time), or neighbours share input blocks (a few "
    "rows held); default: flat when the input is over an eighth of available memory.",
)


_EXPECTED = (
    ValueError,
    TypeError,
    ImportError,  # an optional package a forced algorithm needs
    FileError,
    LayerSyntaxError,
    TranslationError,
    OSError,
    NotImplementedError,
)


class XconvGroup(click.Group):
    """Turns every expected failure into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = " ".join(str(error).split()) or type(error).__name__
            if isinstance(error, MemoryError):
                message = f"not enough memory ({message}); nothing was written"
            elif not isinstance(error, _EXPECTED):  # a bug: say so, and how to report it
                message = f"internal error ({type(error).__name__}: {message}); rerun with --debug"
            click.echo(f"xconv: error: {message}", err=True)
            ctx.exit(1)


@click.group(cls=XconvGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(xconv.__version__, prog_name="xconv")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Exact convolution layers from Wolfram Language, MATLAB and Keras.

    Give a layer as its dialect writes it, in quotes; xconv recognises the dialect.
    """
    ctx.ensure_object(dict)["debug"] = debug


@main.command(
    epilog=examples("shape", {"n": "224"}),
)
@click.argument("layers", nargs=-1, required=True, metavar="LAYER [LAYER]...")
@click.option(
    "--input-shape",
    "input_shape",
    required=True,
    help="In the dialect's order: Wolfram CxHxW (HxWxC if Interleaving), MATLAB HxWxC[xN], "
    "Keras NxHxWxC (channels_last), PyTorch [N]xCxHxW; '?' or None for a varying size.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def shape(layers: tuple[str, ...], input_shape: str, as_json: bool) -> None:
    """Print the output shape of LAYER for an input shape, with the canonical spec; with
    several layers of one dialect, the shapes through the chain, layer by layer."""
    dims = parse_shape(input_shape)
    summaries = []
    for number, layer in enumerate(layers, start=1):
        try:
            summary = _shape_summary(_layers.build(layer), dims)
        except _EXPECTED as error:
            if len(layers) == 1:
                raise
            raise FileError(f"layer {number} ({layer}) cannot take {format_shape(dims)}: "
                            f"{error}") from error  # fmt: skip
        if summaries and summary["dialect"] != summaries[0]["dialect"]:
            raise click.UsageError(
                f"layer {number} is {summary['dialect']}, layer 1 {summaries[0]['dialect']}: "
                "a chain is one dialect's layers (each passes its output in its own order)"
            )
        summaries.append({"layer": layer, **summary})
        dims = tuple(summary["output_shape"])
    first = summaries[0].get("warning")
    if first and not as_json:  # the input's order is the first layer's to read
        click.echo(f"xconv: warning: {first}", err=True)
    if as_json:
        click.echo(json.dumps(summaries[0] if len(layers) == 1 else {"layers": summaries}))
        return
    with _render.stdout_console() as out:
        if len(layers) == 1:
            _render.shape_table(out, summaries[0])
        else:
            _render.chain_table(out, summaries)


def _order_warning(built, dims: tuple) -> str | None:
    try:
        spec, canonical = _layers.canonical_problem(built, dims)
    except (ValueError, TypeError):
        return None
    return _layers.order_warning(built, spec, canonical)


def _shape_summary(built, dims: tuple) -> dict:
    try:
        out = _layers.output_shape(built, dims)
    except ValueError as error:  # a shape in another dialect's order fails here often
        warning = _order_warning(built, dims)
        if warning is None:
            raise
        raise ValueError(f"{error} ({warning})") from error
    summary = {"dialect": built.dialect, "input_shape": list(dims), "output_shape": list(out)}
    try:
        spec, canonical = _layers.canonical_problem(built, dims)
    except (ValueError, TypeError) as error:  # e.g. a varying channel count
        spec, canonical, summary["note"] = None, None, str(error)
    if spec is not None:
        summary.update(_render.spec_summary(spec, canonical, built.obj.has_bias))
        warning = _layers.order_warning(built, spec, canonical)
        if warning:
            summary["warning"] = warning
    return summary


@main.command(
    epilog=examples("run", {"n": "64"}, "--output y.npy"),
)
@click.argument("layer")
@click.argument("more_inputs", nargs=-1, metavar="[FILES]...")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    help=".npy, .npz[:NAME], .mat[:NAME], .zarr or an image (.png, .jpg); for a batch, several "
    "files (a shell glob: --input *.png), a directory, or --input repeated (then --output is "
    "a directory).",
)
@click.option("--input-shape", help="Random input of this shape instead of --input.")
@click.option("--weights", help="Weights in the dialect's own layout (same file formats).")
@click.option("--bias", help="Biases in the dialect's own layout.")
@click.option("--output", required=True, help="Output file (.npy, .npz, .mat, .zarr or an image).")
@click.option(
    "--stream/--in-memory",
    default=None,
    help="Read, compute and write block by block (.npy or .zarr in and out), never holding "
    "the whole array; default: stream .zarr and .npy inputs of 256 MiB or more.",
)
@click.option(
    "--block-mib",
    type=click.FloatRange(min=0, min_open=True, max=2.0**20),
    default=_stream.DEFAULT_BLOCK_MIB,
    show_default=True,
    help="Size of one block of a streamed .npy input (a Zarr store keeps its chunks).",
)
@FLAT_MEMORY
@click.option(
    "--scale",
    type=click.Choice(SCALES),
    default="auto",
    show_default=True,
    help="Image output: auto rescales values outside [0, 1] onto the image's range (and "
    "says so), clip cuts them (and counts them), none refuses them.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of initializers.")
@click.option(
    "--algorithm",
    type=click.Choice(["auto", "direct", "gemm", "fft", "onnxruntime", "measure"]),
    default="auto",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run(
    layer: str,
    more_inputs: tuple[str, ...],
    inputs: tuple[str, ...],
    input_shape: str | None,
    weights: str | None,
    bias: str | None,
    output: str,
    stream: bool | None,
    block_mib: float,
    flat: bool | None,
    scale: str,
    seed: int,
    algorithm: str,
    as_json: bool,
) -> None:
    """Run LAYER on data and write its output, atomically (block by block for data larger
    than memory: see --stream)."""
    inputs = (*inputs, *more_inputs)  # the files a shell glob after --input expands to
    if bool(inputs) == bool(input_shape):
        raise click.UsageError("give either --input FILE or --input-shape SHAPE")
    jobs = _jobs(inputs, output)
    w = _real(read_array(weights), weights) if weights else None
    b = _real(read_array(bias), bias) if bias else None
    built = _layers.build(layer, w, b)
    console = Console(stderr=True)
    results: list[dict] = []
    origin = _layers.weights_source(built, weights, seed)  # before a run draws them
    with _render.progress(console, len(jobs)) as advance:
        for source, target in jobs:
            with _naming(source, len(jobs), len(results)):
                if source is not None and (stream or (stream is None and _streams(source, target))):
                    result = _stream_one(built, source, target, block_mib, flat, seed, algorithm,
                                         console)  # fmt: skip
                else:
                    what = f"running {layer} on {source or 'random input'}"
                    with _render.working(console, what, show=len(jobs) == 1):
                        result = _run_one(built, source, target, input_shape, seed, algorithm,
                                          scale)  # fmt: skip
                result["weights"] = origin
            if result.get("note") and not as_json:  # with --json it is in the JSON
                console.print(f"xconv: note: {result['note']}", markup=False, highlight=False)
            results.append(result)
            advance()
    summary = results[0] if len(results) == 1 else {"runs": results}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        with _render.stdout_console() as out:
            _render.run_summary(out, results)


@contextlib.contextmanager
def _naming(source: str | None, count: int, done: int) -> Iterator[None]:
    """In a batch, an expected failure names the file it stopped at and what was done."""
    try:
        yield
    except _EXPECTED as error:
        if count == 1:
            raise
        raise FileError(f"{source}: {error} (stopped there: {done} of {count} files written "
                        "before it)") from error  # fmt: skip


def _real(array: np.ndarray, source: str) -> np.ndarray:
    """Weights and biases are real numbers, as the data are."""
    if array.dtype.kind not in "biuf":
        kind = "complex" if array.dtype.kind == "c" else f"{array.dtype} (not numbers)"
        raise FileError(f"{source}: the values are {kind}; weights and biases must be real")
    return array


def _streams(source: str, target: str) -> bool:
    """Stream by default: large .npy inputs, Zarr stores, and outputs to a Zarr store."""
    return _stream.streams(source) or (_stream.is_zarr(target) and _stream.can_stream(source))


def _jobs(inputs: tuple[str, ...], output: str) -> list[tuple[str | None, str]]:
    """(input, output) pairs: one file to `output`, or a batch into the folder `output`;
    FileError where an output would overwrite an input or another output."""
    jobs = _pairs(inputs, output)
    sources = {_resolved(s): s for s, _ in jobs if s is not None}
    written: dict[Path, str | None] = {}
    for source, target in jobs:
        path = _resolved(target)
        if path in sources:
            raise FileError(f"{target}: the output would overwrite the input {sources[path]}; "
                            "write it elsewhere")  # fmt: skip
        if path in written:
            raise FileError(f"{written[path]} and {source} would both be written to {target}: "
                            "give them different names or folders")  # fmt: skip
        written[path] = source
    return jobs


def _resolved(spec: str) -> Path:
    return split_key(spec)[0].resolve()  # `data.npz:NAME` is the file data.npz


def _pairs(inputs: tuple[str, ...], output: str) -> list[tuple[str | None, str]]:
    if len(inputs) == 1 and not _is_folder(inputs[0]):
        return [(inputs[0], output)]
    if not inputs:
        return [(None, output)]
    inputs = tuple(path for source in inputs for path in _files_in(source))
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise FileError(f"{output}: with several --input files, --output must be a directory")
    folder.mkdir(parents=True, exist_ok=True)  # a batch's folder is made when missing
    return [(s, str(folder / (Path(s.split(":")[0]).stem + _out_suffix(s)))) for s in inputs]


def _is_folder(source: str) -> bool:
    """A directory of inputs (a `.zarr` store is one input, though a directory too)."""
    path = Path(source)
    return path.is_dir() and path.suffix.lower() != ".zarr"


def _files_in(source: str) -> list[str]:
    """`source`, or the inputs a directory holds (arrays, images and Zarr stores), sorted."""
    if not _is_folder(source):
        return [source]
    known = (*ARRAY_SUFFIXES, *IMAGE_SUFFIXES, ".zarr")
    found = sorted(
        str(path)
        for path in Path(source).iterdir()
        if path.suffix.lower() in known and not path.name.startswith(".")
    )
    if not found:
        raise FileError(f"{source}: the directory holds no input files ({', '.join(known)})")
    return found


def _out_suffix(source: str) -> str:
    path = Path(source.split(":")[0])
    return path.suffix if is_image(path) else ".npy"


def _run_one(built, source, target, input_shape, seed: int, algorithm: str, scale: str) -> dict:
    if _stream.is_zarr(target):
        raise FileError(f"{target}: a Zarr store is written block by block, from a .npy or "
                        ".zarr input (--stream)")  # fmt: skip
    _layers.seed_initializers(built, seed)  # the shape checks below may draw weights
    if source is None:
        dims = parse_shape(input_shape)
        _layers.check_fits(built, dims)
        x = _layers.random_input(dims, seed)
    else:
        x = read_array(source)
    image = source is not None and is_image(Path(source))
    samples = x.dtype  # an image's own precision, for its output
    if image:
        x = _layers.image_to_input(built, image_to_unit(x))
    if source is not None:
        _layers.check_fits(built, tuple(x.shape))
    _layers.prepare(built, x, seed)
    start = time.perf_counter()
    with _computing(algorithm):
        y = _layers.run(built, x)
    seconds = time.perf_counter() - start
    spec, canonical = _layers.spec_of(built, x.shape)
    plan = xconv.planner.plan_for(spec, _batched(spec, canonical), y.dtype)
    dtype = str(y.dtype)  # the layer's, also for an image written as 8-bit pixels
    out_shape = list(y.shape)  # the layer's, in the dialect's order, also for an image
    if is_image(Path(target)):  # array files keep the dialect's layout
        if not image:
            raise FileError(f"{target}: image output needs image input; write .npy instead")
        y = _layers.output_to_image(built, y)
        y, note = unit_to_image(y, samples, Path(target).suffix.lower(), scale)
    else:
        note = None
    write_array(target, y)
    return {
        "input": source or f"random {tuple(x.shape)} (seed {seed})",
        "output": target,
        "input_shape": list(x.shape),
        "output_shape": out_shape,
        "dtype": dtype,
        "seconds": seconds,
        "algorithm": algorithm if algorithm not in ("auto",) else plan.algorithm,
        "note": note,
    }


@contextlib.contextmanager
def _computing(algorithm: str) -> Iterator[None]:
    """`algorithm` as what "auto" means, and NumPy's overflow warnings quiet (a run's
    output is the user's to inspect, not a warning per overflow)."""
    with xconv.default_algorithm(algorithm), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _stream_one(
    built, source, target, block_mib, flat: bool | None, seed: int, algorithm: str, console
) -> dict:
    """One run block by block: a lazy input, the layer on Dask, the output written lazily."""
    for path in (source, target):
        if not _stream.can_stream(path):
            raise FileError(f"{path}: streaming reads and writes .npy or .zarr only")
    x = _stream.open_lazy(source, block_mib)
    _layers.prepare(built, x, seed)
    start = time.perf_counter()
    with _computing(algorithm):
        y = _layers.run_lazy(built, x)
        if _stream.flat_memory(x.nbytes, flat):
            y = _stream.private_inputs(y)
        with _render.task_progress(console) as progress:
            _stream.write_lazy(target, y, progress)
    seconds = time.perf_counter() - start
    return {
        "input": source,
        "output": target,
        "input_shape": list(x.shape),
        "output_shape": list(y.shape),
        "dtype": str(y.dtype),
        "seconds": seconds,
        "algorithm": f"{algorithm}, {y.npartitions} blocks",
    }


def _batched(spec, canonical: tuple) -> tuple:
    shape = tuple(canonical)
    if len(shape) == spec.rank + 1:
        shape = (1, *shape)
    if spec.channels_last:
        shape = (shape[0], shape[-1], *shape[1:-1])
    return shape


FILTER_EXAMPLE = """\b
Example (a 5x5 box blur of a float TIFF, mirrored at the edges; the result is float32):
  xconv filter image.tif --kernel box5.npy --mode mirror --output blurred.tif
"""


@main.command(name="filter", epilog=FILTER_EXAMPLE)
@click.argument("source", metavar="INPUT")
@click.option("--kernel", required=True, help="The kernel: an array file (.npy, .npz[:NAME], "
              ".mat[:NAME], .tif), of the data's rank or fewer axes (see --axes).")  # fmt: skip
@click.option("--output", required=True, help="Output file (.npy, .npz, .mat, .tif, .png, "
              ".zarr, ...), in the input's dtype unless --dtype.")  # fmt: skip
@click.option("--mode", type=click.Choice(_filter.MODES), default="reflect", show_default=True,
              help="How the data extend past their edges (scipy.ndimage's modes).")  # fmt: skip
@click.option("--cval", type=float, default=0.0, show_default=True,
              help="The value past the edges in constant mode.")  # fmt: skip
@click.option("--origin", default="0", show_default=True,
              help="Shift of the kernel's centre: an integer, or one per axis (0,-1).")  # fmt: skip
@click.option("--axes", help="The data axes the kernel's axes filter (0,1); default: all, or "
              "height and width of a color image.")  # fmt: skip
@click.option("--correlate", is_flag=True, help="Correlate (the kernel not flipped).")
@click.option("--dtype", "out_dtype", help="The output's dtype (float32, uint16, ...).")
@click.option("--stream/--in-memory", default=None,
              help="Block by block (.npy or .zarr in and out); default: stream .zarr and "
              ".npy inputs of 256 MiB or more.")  # fmt: skip
@click.option("--block-mib", type=click.FloatRange(min=0, min_open=True, max=2.0**20),
              default=_stream.DEFAULT_BLOCK_MIB, show_default=True,
              help="Size of one block of a streamed .npy input.")  # fmt: skip
@FLAT_MEMORY
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def filter_command(
    source: str, kernel: str, output: str, mode: str, cval: float, origin: str,
    axes: str | None, correlate: bool, out_dtype: str | None, stream: bool | None,
    block_mib: float, flat: bool | None, as_json: bool,
) -> None:  # fmt: skip
    """Convolve INPUT with a kernel as scipy.ndimage.convolve does: any rank, no channel
    axis or layer needed; the output is written atomically."""
    _jobs((source,), output)  # the output must not overwrite the input
    streamed = stream or (stream is None and _streams(source, output))
    console = Console(stderr=True)
    result = _filter.filter_file(
        source, kernel, output, mode=mode, cval=cval, origin=origin, axes=axes,
        correlate=correlate, dtype=out_dtype, streamed=streamed, block_mib=block_mib,
        flat=flat, console=console,
    )  # fmt: skip
    note = result["note"]
    if note and not as_json:
        console.print(f"xconv: note: {note}", markup=False, highlight=False)
    if as_json:
        click.echo(json.dumps(result))
    else:
        with _render.stdout_console() as out:
            _render.run_summary(out, [result], "filter")


@main.command(epilog=examples("translate", rest="--to all"))
@click.argument("layer")
@click.option(
    "--to",
    "target",
    type=click.Choice(["wolfram", "matlab", "keras", "pytorch", "all"]),
    default="all",
    show_default=True,
)
@click.option(
    "--input-shape",
    "input_shape",
    help="The input's shape in the dialect's order: fixes channel counts (depthwise and "
    "channelwise layers) and prints PyTorch's input-dependent padding as numbers.",
)
@click.option("--weights", help="The layer's weights in its dialect's layout, to port.")
@click.option("--bias", help="The layer's biases in its dialect's layout.")
@click.option(
    "--save-weights",
    help="Write the weights in the target's layout and names (one --to): PyTorch .pt "
    "(state_dict), MATLAB .mat, Keras .npz, Wolfram .npz or .mat.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def translate(
    layer: str, target: str, input_shape: str | None, weights: str | None, bias: str | None,
    save_weights: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Print LAYER written in the other dialects (and as PyTorch code); with --weights and
    --save-weights, also carry the weights over in the target's layout."""
    from xconv.compat.text import translations

    w = _real(read_array(weights), weights) if weights else None
    b = _real(read_array(bias), bias) if bias else None
    built = _layers.build(layer, w, b)
    origin = _layers.weights_source(built, weights, 0)  # before anything draws them
    spatial = None
    dims = parse_shape(input_shape) if input_shape is not None else None
    if dims is not None:
        spec, canonical = _layers.canonical_problem(built, dims)
        spatial = _batched(spec, canonical)[2:]
        if any(n is None for n in spatial):
            spatial = None
    try:
        rows = translations(built.obj, target, spatial)
    except ChannelsUnknownError as error:
        raise ValueError(f"{error}: give --input-shape (the input's shape in the dialect's "
                         "order) and xconv fixes the channels from it") from error  # fmt: skip
    if save_weights:
        _save_weights(built, target, origin, dims, save_weights)
    if as_json:
        click.echo(json.dumps(rows))
    else:
        with _render.stdout_console() as out:
            _render.translations(out, rows)


@main.command(epilog=examples("check", {"n": "16"}, "--grad"))
@click.argument("layer")
@click.option(
    "--input-shape",
    "input_shape",
    required=True,
    help="In the dialect's order, every size known: Wolfram CxHxW, MATLAB HxWxC[xN], "
    "Keras NxHxWxC (channels_last), PyTorch [N]xCxHxW.",
)
@click.option("--grad", "gradients", is_flag=True,
              help="Compare the input, weight and bias gradients too.")  # fmt: skip
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the data and of the dialect's initializer.")  # fmt: skip
@click.option("--weights", help="The layer's weights in its dialect's layout, instead of random.")
@click.option("--bias", help="The layer's biases in its dialect's layout.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def check(
    ctx: click.Context, layer: str, input_shape: str, gradients: bool, seed: int,
    weights: str | None, bias: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Run LAYER in xconv and in every framework installed (PyTorch, Keras 3, JAX, ONNX
    Runtime, SciPy) on the same data and weights, and print where they agree.

    PyTorch runs the code `xconv translate` prints, Keras the layer's text (or its
    translation into Keras); a framework that cannot express the layer says why. The
    exit status is 1 when a framework that expresses the layer computes something else.
    """
    from conformance.check import check_layer

    w = _real(read_array(weights), weights) if weights else None
    b = _real(read_array(bias), bias) if bias else None
    built = _layers.build(layer, w, b)
    origin = _layers.weights_source(built, weights, seed)
    _layers.seed_initializers(built, seed)
    dims = parse_shape(input_shape)
    _layers.check_fits(built, dims)
    x = _layers.random_input(dims, seed)
    _layers.prepare(built, x, seed)
    text = layer if built.dialect == "keras" else None
    with _render.working(Console(stderr=True), "running the layer in every framework"):
        rows = [vars(row) for row in check_layer(built.obj, x, gradients=gradients, seed=seed,
                                                 text=text)]  # fmt: skip
    if as_json:
        click.echo(json.dumps({"layer": layer, "input_shape": list(dims), "weights": origin,
                               "rows": rows}))  # fmt: skip
    else:
        header = (f"{layer}\ninput {format_shape(dims)} (random, seed {seed}); weights "
                  f"{origin}")  # fmt: skip
        with _render.stdout_console() as out:
            _render.check_table(out, rows, header)
    if any(row["status"] in ("differs", "failed") for row in rows):
        ctx.exit(1)


def _save_weights(built, target: str, origin: str, dims, path: str) -> None:
    """The layer's own weights (given, or written in its text) in `target`'s file."""
    if target == "all":
        raise click.UsageError("--save-weights writes one target's file: name it with --to")
    if built.dialect == "keras" and built.pending_weights is not None:
        if dims is None or any(n is None for n in dims):
            raise click.UsageError("a Keras layer takes its weights when it is built: give "
                                   "--input-shape too")  # fmt: skip
        _layers.prepare(built, np.broadcast_to(np.float32(0), dims), seed=0)
    if origin.startswith("random"):
        raise click.UsageError("--save-weights ports weights: give them with --weights (and "
                               "--bias), or in the layer text")  # fmt: skip
    data = _port.save(Path(path), target, _port.target_weights(built.obj, target))
    write_bytes(path, data)


def exit_on_termination() -> None:
    """SIGTERM and SIGHUP end the command as an exception does, not by the default
    instant death, so that a half-written temporary output file is removed."""

    def stop(signum, frame):
        name = signal.Signals(signum).name
        click.echo(f"xconv: stopped by {name}; outputs finished before it are kept, none is "
                   "left half-written", err=True)  # fmt: skip
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def entry() -> None:
    """Console-script entry point."""
    np.seterr(all="ignore")
    exit_on_termination()
    main(prog_name="xconv")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
