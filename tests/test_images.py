"""Images in and out with their values and precision: float and 16-bit TIFF, multi-page
stacks, 16-bit PNG; what a format cannot hold is refused, never converted silently.

Oracles: the files are written and read back by tifffile and Pillow themselves.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from xconv_cli._files import FileError, read_array, write_array
from xconv_cli.main import main

tifffile = pytest.importorskip("tifffile")
Image = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(11)


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output, result.stderr


@pytest.mark.parametrize(
    "data",
    [
        RNG.standard_normal((9, 11)).astype(np.float32) * 1e4,  # a microscope's float image
        RNG.integers(0, 2**16, (9, 11), dtype=np.uint16),
        RNG.integers(0, 2**16, (9, 11, 3), dtype=np.uint16),
        RNG.integers(-(2**31), 2**31 - 1, (4, 9, 11), dtype=np.int32),  # a 4-page stack
        RNG.standard_normal((3, 9, 11)),  # float64 pages
    ],
    ids=["float32", "uint16", "uint16-rgb", "int32-stack", "float64-stack"],
)
def test_tiff_reads_exactly(tmp_path, data):
    path = tmp_path / "in.tif"
    tifffile.imwrite(path, data)
    got = read_array(str(path))
    assert got.dtype == data.dtype and got.shape == data.shape
    np.testing.assert_array_equal(got, data)
    write_array(str(tmp_path / "out.tiff"), got)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out.tiff"), data)


def test_sixteen_bit_gray_png_reads_and_writes_exactly(tmp_path):
    data = RNG.integers(0, 2**16, (9, 11), dtype=np.uint16)
    Image.fromarray(data).save(tmp_path / "in.png")
    got = read_array(str(tmp_path / "in.png"))
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, data)
    write_array(str(tmp_path / "out.png"), got)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), data)


def _png16_rgb(path, data: np.ndarray) -> None:
    """A 16-bit RGB PNG written from the format's definition (Pillow cannot write one)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    height, width, _ = data.shape
    rows = b"".join(b"\x00" + data[r].astype(">u2").tobytes() for r in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                     chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))  # fmt: skip


def test_sixteen_bit_color_png_is_refused_not_cut_to_eight_bits(tmp_path):
    _png16_rgb(tmp_path / "in.png", RNG.integers(0, 2**16, (5, 6, 3), dtype=np.uint16))
    with pytest.raises(FileError, match=r"16-bit RGB PNG would be read as 8 bits.*TIFF"):
        read_array(str(tmp_path / "in.png"))


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        (".png", RNG.standard_normal((5, 6)).astype(np.float32)),
        (".png", RNG.integers(0, 2**16, (5, 6, 3), dtype=np.uint16)),
        (".jpg", RNG.integers(0, 2**16, (5, 6), dtype=np.uint16)),
    ],
)
def test_what_a_format_cannot_hold_is_refused(tmp_path, suffix, data):
    target = tmp_path / f"out{suffix}"
    with pytest.raises(FileError, match=r"write \.tif"):
        write_array(str(target), data)
    assert not target.exists() and not list(tmp_path.iterdir())  # nothing half-written


IDENTITY = 'ConvolutionLayer[1, {1, 1}, "Biases" -> None, "Weights" -> {{{{1}}}}]'


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        (".tif", RNG.standard_normal((8, 9)).astype(np.float32) * 1e4),
        (".tif", RNG.integers(0, 2**16, (8, 9), dtype=np.uint16)),
        (".png", RNG.integers(0, 2**16, (8, 9), dtype=np.uint16)),
    ],
)
def test_run_keeps_an_images_precision(tmp_path, suffix, data):
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_array(str(source), data)
    code, out, err = invoke("run", IDENTITY, "--input", str(source), "--output", str(target))
    assert code == 0, out + err
    back = read_array(str(target))
    assert back.dtype == data.dtype
    np.testing.assert_array_equal(back, data)  # an identity layer gives the image back
