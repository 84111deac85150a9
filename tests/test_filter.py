"""`xconv filter`: an array and a kernel file, as `scipy.ndimage.convolve` computes them.

Oracles: SciPy's `ndimage.convolve` / `correlate` on the same data; files written and
read back by NumPy and tifffile.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.ndimage
from click.testing import CliRunner
from xconv_cli._files import read_array, write_array
from xconv_cli.main import FILTER_EXAMPLE, main

MODES = ("reflect", "mirror", "nearest", "wrap", "constant")
RNG = np.random.default_rng(12)


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output, result.stderr


@pytest.fixture
def files(tmp_path):
    data = RNG.standard_normal((137, 129)).astype(np.float32)
    kernel = RNG.standard_normal((4, 5))
    np.save(tmp_path / "x.npy", data)
    np.save(tmp_path / "k.npy", kernel)
    return tmp_path, data, kernel


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stream", [False, True])
def test_filter_equals_ndimage(files, mode, stream):
    folder, data, kernel = files
    out = folder / "y.npy"
    args = ["filter", str(folder / "x.npy"), "--kernel", str(folder / "k.npy"), "--output",
            str(out), "--mode", mode, "--cval", "1.5", "--origin", "1,-1", "--json"]  # fmt: skip
    if stream:
        args += ["--stream", "--block-mib", "0.001"]  # many blocks, each with its halo
    code, printed, err = invoke(*args)
    assert code == 0, printed + err
    if stream:
        assert int(json.loads(printed)["algorithm"].split(", ")[1].split()[0]) > 4
    expected = scipy.ndimage.convolve(data, kernel, mode=mode, cval=1.5, origin=(1, -1))
    got = np.load(out)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * np.abs(expected).max())


def test_correlate_and_axes(files):
    folder, _, kernel = files
    volume = RNG.standard_normal((3, 20, 21))
    np.save(folder / "v.npy", volume)
    out = folder / "y.npy"
    code, printed, err = invoke("filter", str(folder / "v.npy"), "--kernel",
                                str(folder / "k.npy"), "--output", str(out), "--axes", "1,2",
                                "--correlate", "--mode", "nearest")  # fmt: skip
    assert code == 0, printed + err
    expected = scipy.ndimage.correlate(volume, kernel, mode="nearest", axes=(1, 2))
    np.testing.assert_allclose(np.load(out), expected, atol=1e-12)
    code, _, err = invoke("filter", str(folder / "v.npy"), "--kernel", str(folder / "k.npy"),
                          "--output", str(out))  # fmt: skip
    assert code != 0 and "--axes" in err


IDENTITY = np.zeros((3, 3))
IDENTITY[1, 1] = 1.0


@pytest.mark.parametrize(
    ("name", "data", "kernel", "axes"),
    [
        ("in.tif", RNG.standard_normal((9, 11)).astype(np.float32) * 1e4, IDENTITY, None),
        ("in.tif", RNG.integers(0, 2**16, (9, 11), dtype=np.uint16), IDENTITY, None),
        ("in.tif", RNG.integers(0, 2**16, (4, 9, 11), dtype=np.uint16), IDENTITY, "1,2"),
        ("in.png", RNG.integers(0, 2**16, (9, 11), dtype=np.uint16), IDENTITY, None),
        ("in.png", RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8), IDENTITY, None),
    ],
    ids=["float32-tiff", "uint16-tiff", "stack-tiff", "uint16-png", "rgb-png"],
)
def test_identity_kernel_gives_every_image_back_bit_for_bit(tmp_path, name, data, kernel, axes):
    source, target = tmp_path / name, tmp_path / ("out" + name[2:])
    write_array(str(source), data)
    np.save(tmp_path / "k.npy", kernel)
    args = ["filter", str(source), "--kernel", str(tmp_path / "k.npy"), "--output", str(target)]
    code, printed, err = invoke(*args, *(["--axes", axes] if axes else []))
    assert code == 0, printed + err
    back = read_array(str(target))
    assert back.dtype == data.dtype
    np.testing.assert_array_equal(back, data)


def test_integer_outputs_refuse_what_they_cannot_hold(tmp_path):
    data = RNG.integers(0, 2**16, (9, 11), dtype=np.uint16)
    write_array(str(tmp_path / "in.tif"), data)
    np.save(tmp_path / "blur.npy", np.ones((3, 3)) / 9)
    np.save(tmp_path / "edge.npy", np.array([[-1.0, 0.0, 1.0]]))
    base = ["filter", str(tmp_path / "in.tif"), "--output"]
    code, _, err = invoke(*base, str(tmp_path / "e.tif"), "--kernel", str(tmp_path / "edge.npy"))
    assert code != 0 and "cannot hold" in err and "--dtype float32" in err
    assert not (tmp_path / "e.tif").exists()
    code, _, err = invoke(*base, str(tmp_path / "b.tif"), "--kernel", str(tmp_path / "blur.npy"))
    assert code == 0 and "dropped toward zero" in err
    expected = scipy.ndimage.convolve(data, np.ones((3, 3)) / 9)  # ndimage's truncation
    np.testing.assert_array_equal(read_array(str(tmp_path / "b.tif")), expected)
    code, _, err = invoke(*base, str(tmp_path / "f.tif"), "--kernel", str(tmp_path / "blur.npy"),
                          "--dtype", "float32")  # fmt: skip
    assert code == 0, err
    back = read_array(str(tmp_path / "f.tif"))  # a float result reads back as float32
    assert back.dtype == np.float32
    expected = scipy.ndimage.convolve(data.astype(np.float64), np.ones((3, 3)) / 9)
    np.testing.assert_allclose(back, expected, rtol=1e-6)


def test_the_help_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image = RNG.standard_normal((30, 40)).astype(np.float32)
    write_array("image.tif", image)
    np.save("box5.npy", np.ones((5, 5)) / 25)
    command = FILTER_EXAMPLE.split("xconv ", 1)[1].split()
    code, printed, err = invoke(*command)
    assert code == 0, printed + err
    expected = scipy.ndimage.convolve(image, np.ones((5, 5)) / 25, mode="mirror")
    np.testing.assert_allclose(read_array("blurred.tif"), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("kernel", "extra", "message"),
    [
        (np.ones((3, 3)) + 1j, [], "must be real"),
        (np.float64(2.0), [], "the kernel is one number"),
        (np.ones((0, 3)), [], "the kernel is empty"),
        (np.ones((3, 3, 3)), [], "--axes"),
        (np.ones((3, 3)), ["--axes", "a,b"], "write axes as 0,1"),
        (np.ones((3, 3)), ["--origin", "1.5"], "write an integer"),
        (np.ones((3, 3)), ["--dtype", "foo"], "--dtype foo: not a dtype"),
    ],
)
def test_bad_filter_arguments_are_one_line(tmp_path, kernel, extra, message):
    np.save(tmp_path / "x.npy", RNG.standard_normal((12, 10)))
    np.save(tmp_path / "k.npy", kernel)
    code, out, err = invoke("filter", str(tmp_path / "x.npy"), "--kernel", str(tmp_path / "k.npy"),
                            "--output", str(tmp_path / "y.npy"), *extra)  # fmt: skip
    assert code != 0 and message in err and "Traceback" not in out + err
    assert not (tmp_path / "y.npy").exists()
