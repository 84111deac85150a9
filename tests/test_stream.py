"""`xconv run --stream`: .npy (positioned reads) and Zarr in, block by block, .npy and Zarr out.

The streamed results are compared with the float64 definition in `tests/reference.py`;
small blocks (`--block-mib`) make every run cross many block borders.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time

import numpy as np
import pytest
from click.testing import CliRunner
from readme import console_commands, run_block
from reference import reference_conv
from xconv_cli import _stream
from xconv_cli.main import main

pytest.importorskip("dask.array")

# H x W x C data, replicate padding: a window at the edge copies the edge block's samples
MATLAB = "convolution2dLayer([5 3], 4, 'Padding', 'same', 'PaddingValue', 'replicate')"


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((70, 90, 3)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 4)).astype(np.float32)  # MATLAB: h x w x C x F
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    expected = reference_conv(
        x.transpose(2, 0, 1), w.transpose(3, 2, 0, 1), padding="same", padding_mode="replicate"
    ).transpose(1, 2, 0)
    return tmp_path, x, expected


def run(folder, source: str, target: str, *extra: str):
    return invoke(
        "run", MATLAB, "--input", str(folder / source), "--weights", str(folder / "w.npy"),
        "--output", str(folder / target), "--json", *extra,
    )  # fmt: skip


def test_npy_streams_block_by_block(data):
    folder, _, expected = data
    code, out = run(folder, "x.npy", "y.npy", "--stream", "--block-mib", "0.01")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["output_shape"] == [70, 90, 4]
    assert int(summary["algorithm"].split(", ")[1].split()[0]) > 4  # several blocks
    np.testing.assert_allclose(np.load(folder / "y.npy"), expected, rtol=1e-5, atol=1e-5)


def test_zarr_in_and_out(data):
    zarr = pytest.importorskip("zarr")
    folder, x, expected = data
    store = zarr.open_array(
        str(folder / "x.zarr"), mode="w", shape=x.shape, chunks=(16, 25, 3), dtype=x.dtype
    )
    store[:] = x
    code, out = run(folder, "x.zarr", "y.zarr")  # Zarr streams without being asked
    assert code == 0, out
    y = zarr.open_array(str(folder / "y.zarr"), mode="r")
    np.testing.assert_allclose(y[:], expected, rtol=1e-5, atol=1e-5)
    code, out = run(folder, "x.zarr", "y.zarr")  # a second run replaces the store
    assert code == 0, out
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_small_npy_stays_in_memory_unless_asked(data):
    folder, _, expected = data
    code, out = run(folder, "x.npy", "y.npy")
    assert code == 0, out
    assert "blocks" not in json.loads(out)["algorithm"]
    np.testing.assert_allclose(np.load(folder / "y.npy"), expected, rtol=1e-5, atol=1e-5)


def test_a_failed_stream_leaves_no_file(data, monkeypatch):
    folder, _, _ = data
    np.save(folder / "y.npy", np.zeros(3))  # an earlier result survives a failed run

    def broken(self, region, block):
        raise OSError("disk full")

    monkeypatch.setattr(_stream.NpyWriter, "__setitem__", broken)
    code, out = run(folder, "x.npy", "y.npy", "--stream")
    assert code == 1 and out.strip() == "xconv: error: disk full"
    np.testing.assert_array_equal(np.load(folder / "y.npy"), np.zeros(3))
    assert sorted(os.listdir(folder)) == ["w.npy", "x.npy", "y.npy"]


def test_streaming_needs_array_files(data):
    folder, _, _ = data
    code, out = run(folder, "x.npy", "y.png", "--stream")
    assert code == 1 and "streaming reads and writes .npy or .zarr only" in out


@pytest.mark.parametrize(
    ("shape", "region"),
    [
        ((7, 5, 3), (slice(2, 5), slice(0, 5), slice(0, 3))),  # whole trailing axes: one run
        ((7, 5, 3), (slice(2, 5), slice(1, 4), slice(0, 3))),
        ((7, 5, 3), (slice(0, 7), slice(1, 2), slice(1, 3))),
        ((9,), (slice(3, 8),)),
    ],
)
def test_npy_writer_places_every_run(tmp_path, shape, region):
    target = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    writer = _stream.NpyWriter(tmp_path / "a.npy", shape, np.float64)
    writer[region] = target[region]
    writer.close()
    written = np.load(tmp_path / "a.npy")
    expected = np.zeros(shape)
    expected[region] = target[region]
    np.testing.assert_array_equal(written, expected)


def test_block_chunks_keep_channels_whole():
    chunks = _stream.block_chunks((3, 10000, 10000), 4, block_mib=12)
    assert chunks[0] == 3 and chunks[1] == chunks[2] == 1024


# ---------------------------------------------------------------------------- README


def test_the_readme_example_runs(capsys):
    pytest.importorskip("distributed")
    namespace, printed, expected = run_block("Larger than memory", capsys)
    assert printed == expected
    slide, corner = namespace["slide"][:4096, :4096].compute(), namespace["corner"]
    kernel = namespace["kernel"][0, 0].astype(np.float64)
    expected_rows = reference_conv(
        slide[None, :40, :40], kernel[None, None], padding="same", padding_mode="replicate"
    )[0]  # the corner of the corner: padded by replicating the image's own edge
    np.testing.assert_allclose(corner[:33, :33], expected_rows[:33, :33], rtol=1e-5, atol=1e-6)


def test_the_readme_cluster_example_runs_as_a_script(tmp_path):
    """Saved as a file and run with `python`: the cluster's worker processes import the
    script again, which the `__main__` guard allows."""
    pytest.importorskip("distributed")
    import sys

    from readme import python_block

    script = tmp_path / "blur.py"
    script.write_text(python_block("Larger than memory"))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True (4096, 4096)"


def test_the_readme_commands_run(tmp_path, monkeypatch):
    zarr = pytest.importorskip("zarr")
    monkeypatch.chdir(tmp_path)
    image = np.random.default_rng(7).random((300, 200), dtype=np.float32)
    np.save("slide.npy", image[..., None])  # MATLAB: H x W x C
    store = zarr.open_array(
        "slide.zarr", mode="w", shape=(1, 300, 200), chunks=(1, 64, 64), dtype="f4"
    )
    store[:] = image[None]  # Wolfram: C x H x W
    commands = console_commands("Larger than memory")
    assert len(commands) == 2
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "xconv"
        code, out = invoke(*words[1:], "--json")
        assert code == 0, out
        assert "blocks" in json.loads(out)["algorithm"]
    assert np.load("blurred.npy").shape == (300, 200, 1)
    assert zarr.open_array("blurred.zarr", mode="r").shape == (1, 300, 200)


def _peak_anonymous_mib(command: list[str]) -> float:
    """Run `command`; the peak of its anonymous resident memory (Linux /proc), sampled."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.005)
    assert process.wait() == 0, process.stderr.read().decode()[-2000:]
    return peak / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
def test_flat_memory_stays_flat_as_the_image_grows(tmp_path):
    """A 4x larger image (61 -> 244 MiB, 4 MiB blocks) raises the peak anonymous memory
    by less than 30% with --flat-memory; its output is the shared-block run's, exactly."""
    xconv = shutil.which("xconv") or pytest.skip("the xconv command is not installed")
    layer = "convolution2dLayer(15, 1, 'Padding', 'same', 'PaddingValue', 'replicate')"
    peaks = []
    for n in (4000, 8000):
        source = tmp_path / f"x{n}.npy"
        data = np.lib.format.open_memmap(source, mode="w+", dtype=np.float32, shape=(n, n, 1))
        for row in range(0, n, 1000):
            data[row : row + 1000] = np.random.default_rng(row).random((1000, n, 1), np.float32)
        del data
        base = [xconv, "run", layer, "--input", str(source), "--stream", "--block-mib", "4"]
        peaks.append(_peak_anonymous_mib([*base, "--output", str(tmp_path / "flat.npy"),
                                          "--flat-memory"]))  # fmt: skip
    assert peaks[1] < 1.3 * peaks[0], peaks
    done = subprocess.run([*base, "--output", str(tmp_path / "shared.npy"), "--shared-blocks"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "flat.npy"), np.load(tmp_path / "shared.npy"))
