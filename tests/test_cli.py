"""The `xconv` command: shape, run and translate in all three dialects, and every error class.

Results are checked against the float64 definition in `tests/reference.py` (with the
dialect's layouts converted by hand here) and against shapes computed from the formula.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from reference import reference_conv
from xconv_cli.main import main

from xconv.backends.numpy import _onnxruntime
from xconv.planner import clear_plans

WOLFRAM = 'ConvolutionLayer[4, {3, 5}, "Stride" -> 2, PaddingSize -> {{1, 0}, {2, 2}}]'
MATLAB = (
    "convolution2dLayer([3 5], 4, 'Stride', 2, 'Padding', [1 0 2 2], 'PaddingValue', 'replicate')"
)
KERAS = 'keras.layers.Conv2D(4, (3, 5), strides=2, padding="same")'


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output, result.stderr


def out_size(n, k, s, before, after):
    return (n + before + after - k) // s + 1


@pytest.mark.parametrize(
    ("layer", "shape", "expected"),
    [
        (WOLFRAM, "3x20x21", [4, out_size(20, 3, 2, 1, 0), out_size(21, 5, 2, 2, 2)]),
        (MATLAB, "20x21x3", [out_size(20, 3, 2, 1, 0), out_size(21, 5, 2, 2, 2), 4]),
        (MATLAB, "20x21x3x7", [out_size(20, 3, 2, 1, 0), out_size(21, 5, 2, 2, 2), 4, 7]),
        (KERAS, "None,20,21,3", [None, 10, 11, 4]),  # same: ceil(n / s)
        (KERAS, "2x20x?x3", [2, 10, None, 4]),
        (
            'ConvolutionLayer[16, {2, 3}, "Stride" -> 2, "Dilation" -> {3, 4}, '
            "PaddingSize -> {1, 2}]",
            "3x256x252",
            [16, 128, 124],  # the Wolfram page's documented example
        ),
        ('keras.layers.Conv2D(32, 3, activation="relu")', "4x10x10x128", [4, 8, 8, 32]),
        ("transposedConv2dLayer(4, 8, 'Stride', 2, 'Cropping', 'same')", "7x9x3", [14, 18, 8]),
    ],
)
def test_shape_json(layer, shape, expected):
    code, out, _ = invoke("shape", layer, "--input-shape", shape, "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["output_shape"] == expected


def test_shape_summary_shows_spec_padding_parameters_flops_and_plan():
    code, out, _ = invoke("shape", MATLAB, "--input-shape", "20x21x3")
    assert code == 0
    for word in ("replicate", "(1, 0), (2, 2)", "parameters", "184", "FLOPs", "algorithm"):
        assert word in out  # 3*5*3*4 weights + 4 biases = 184


def test_shape_json_resolves_same_padding():
    code, out, _ = invoke("shape", KERAS, "--input-shape", "1x20x21x3", "--json")
    assert code == 0
    summary = json.loads(out)
    # total = (ceil(n/s) - 1) * s + k - n: rows 9*2+3-20 = 1, columns 10*2+5-21 = 4
    assert summary["resolved_padding"] == [[0, 1], [2, 2]]
    assert summary["parameters"] == 3 * 5 * 3 * 4 + 4
    assert summary["flops"] == 2 * 10 * 11 * 4 * 3 * 15


def _matlab_weights(rng):
    return rng.standard_normal((3, 5, 3, 4)).astype(np.float32)  # h x w x C x F


def test_run_matlab_with_weights_matches_the_definition(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 21, 3, 2)).astype(np.float32)  # H x W x C x N
    w = _matlab_weights(rng)
    b = rng.standard_normal((1, 1, 4)).astype(np.float32)
    for name, array in (("x", x), ("w", w), ("b", b)):
        np.save(tmp_path / f"{name}.npy", array)
    code, out, _ = invoke(
        "run", MATLAB, "--input", str(tmp_path / "x.npy"), "--weights", str(tmp_path / "w.npy"),
        "--bias", str(tmp_path / "b.npy"), "--output", str(tmp_path / "y.npy"), "--json",
    )  # fmt: skip
    assert code == 0, out
    y = np.load(tmp_path / "y.npy")
    expected = reference_conv(
        x.transpose(3, 2, 0, 1), w.transpose(3, 2, 0, 1), b.ravel(), stride=2,
        padding=((1, 0), (2, 2)), padding_mode="replicate",
    ).transpose(2, 3, 1, 0)  # fmt: skip
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert json.loads(out)["output_shape"] == list(expected.shape)


def test_run_wolfram_npz_weights_and_mat_output(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 11, 12))  # one example, channels first
    w = rng.standard_normal((4, 3, 3, 5))  # Wolfram: n x m x h x w
    np.savez(tmp_path / "p.npz", weights=w, other=np.zeros(2))
    np.save(tmp_path / "x.npy", x)
    code, out, _ = invoke(
        "run", WOLFRAM, "--input", str(tmp_path / "x.npy"),
        "--weights", f"{tmp_path / 'p.npz'}:weights", "--output", str(tmp_path / "y.mat"),
    )  # fmt: skip
    assert code == 0, out
    y = scipy_io.loadmat(tmp_path / "y.mat")["y"]
    expected = reference_conv(x, w, np.zeros(4), stride=2, padding=((1, 0), (2, 2)))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)  # Real32 evaluation


@pytest.mark.parametrize("algorithm", ["direct", "gemm", "fft", "onnxruntime"])
def test_run_keras_random_input_is_seeded_and_algorithms_agree(tmp_path, algorithm):
    if algorithm == "onnxruntime" and not _onnxruntime.available():
        pytest.skip("onnxruntime not installed")
    args = ["run", KERAS, "--input-shape", "2x16x17x3", "--seed", "5", "--json"]
    code, out, _ = invoke(*args, "--output", str(tmp_path / "a.npy"), "--algorithm", algorithm)
    assert code == 0, out
    assert json.loads(out)["algorithm"] == algorithm
    code, _, _ = invoke(*args, "--output", str(tmp_path / "b.npy"))
    assert code == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (2, 8, 9, 4)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_run_forcing_a_missing_engine_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(_onnxruntime, "available", lambda: False)
    clear_plans()
    try:
        args = ["run", KERAS, "--input-shape", "1x8x8x3", "--algorithm", "onnxruntime"]
        code, _, err = invoke(*args, "--output", str(tmp_path / "y.npy"))
    finally:
        monkeypatch.undo()
        clear_plans()
    assert code == 1 and not (tmp_path / "y.npy").exists()
    assert err.strip().splitlines() == [
        'xconv: error: algorithm="onnxruntime" needs ONNX Runtime: pip install "xconv[cpu]"'
    ]


def test_run_image_in_image_out(tmp_path):
    image = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(3).integers(0, 256, (12, 13, 3), dtype=np.uint8)
    image.fromarray(pixels).save(tmp_path / "in.png")
    identity = np.zeros((3, 3, 1, 1))
    identity[0, 0, 0, 0] = identity[1, 1, 0, 0] = identity[2, 2, 0, 0] = 1.0  # n x m x 1 x 1
    np.save(tmp_path / "w.npy", identity)
    layer = 'ConvolutionLayer[3, {1, 1}, "Biases" -> None]'
    code, out, _ = invoke(
        "run", layer, "--input", str(tmp_path / "in.png"), "--weights", str(tmp_path / "w.npy"),
        "--output", str(tmp_path / "out.png"),
    )  # fmt: skip
    assert code == 0, out
    back = np.asarray(image.open(tmp_path / "out.png"))
    np.testing.assert_array_equal(back, pixels)  # an identity layer gives the image back


def test_run_a_batch_of_files_into_a_directory(tmp_path):
    rng = np.random.default_rng(4)
    for name in ("a", "b", "c"):
        np.save(tmp_path / f"{name}.npy", rng.standard_normal((8, 8, 2)).astype(np.float32))
    out_dir = tmp_path / "out" / "new"  # made when missing
    inputs = [arg for n in "abc" for arg in ("--input", str(tmp_path / f"{n}.npy"))]
    code, out, _ = invoke("run", "convolution2dLayer(3, 5)", *inputs, "--output", str(out_dir))
    assert code == 0, out
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.npy", "b.npy", "c.npy"]
    assert np.load(out_dir / "a.npy").shape == (6, 6, 5)
    code, out, _ = invoke(
        "run", "convolution2dLayer(3, 5)", *inputs, "--output", str(tmp_path / "a.npy")
    )
    assert code == 1 and "must be a directory" in out


def test_run_a_shell_glob_and_a_directory(tmp_path):
    rng = np.random.default_rng(4)
    source = tmp_path / "in"
    source.mkdir()
    for name in ("a", "b", "c"):
        np.save(source / f"{name}.npy", rng.standard_normal((8, 8, 2)).astype(np.float32))
    (source / "notes.txt").write_text("not an input")
    files = sorted(str(p) for p in source.glob("*.npy"))  # what `--input in/*.npy` expands to
    for args in (["--input", *files], ["--input", str(source)]):
        out_dir = tmp_path / "out"
        code, out, _ = invoke("run", "convolution2dLayer(3, 5)", *args, "--output", str(out_dir))
        assert code == 0, out
        assert sorted(p.name for p in out_dir.iterdir()) == ["a.npy", "b.npy", "c.npy"]
        assert all(np.load(out_dir / f"{n}.npy").shape == (6, 6, 5) for n in "abc")
        shutil.rmtree(out_dir)
    (tmp_path / "empty").mkdir()
    code, out, _ = invoke("run", "convolution2dLayer(3, 5)", "--input", str(tmp_path / "empty"),
                          "--output", str(tmp_path / "o"))  # fmt: skip
    assert code == 1 and "holds no input files" in out


def test_run_shapes_are_the_layers_in_the_dialects_order(tmp_path):
    image = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(3).integers(0, 256, (12, 13, 3), dtype=np.uint8)
    image.fromarray(pixels).save(tmp_path / "in.png")
    expected = {  # input as the layer takes the image, output as the layer gives it
        "ConvolutionLayer[3, {3, 3}]": ([3, 12, 13], [3, 10, 11]),
        "convolution2dLayer(3, 3)": ([12, 13, 3], [10, 11, 3]),
        "keras.layers.Conv2D(3, 3)": ([1, 12, 13, 3], [1, 10, 11, 3]),
        "nn.Conv2d(3, 3, 3)": ([3, 12, 13], [3, 10, 11]),
    }
    for layer, (shape_in, shape_out) in expected.items():
        code, out, _ = invoke("run", layer, "--input", str(tmp_path / "in.png"), "--output",
                              str(tmp_path / "out.png"), "--json")  # fmt: skip
        assert code == 0, out
        summary = json.loads(out)
        assert (summary["input_shape"], summary["output_shape"]) == (shape_in, shape_out)


def test_piped_output_has_no_trailing_spaces(tmp_path):
    for args in (
        ["shape", MATLAB, "--input-shape", "20x21x3"],
        ["translate", MATLAB, "--to", "all"],
        ["run", MATLAB, "--input-shape", "20x21x3", "--output", str(tmp_path / "y.npy")],
    ):
        code, out, _ = invoke(*args)
        assert code == 0, out
        assert all(line == line.rstrip() for line in out.splitlines()), out


def _no_leftovers(folder) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ConvolutionLayer[16, {3, 3]", "--input-shape", "3x8x8"], "column 27"),
        (["Conv2D(8, 3, strides=2, dilation_rate=2)", "--input-shape", "1x9x9x3"], "dilation_rate"),
        (["convolution2dLayer(3, 16, 'Stride', 0)", "--input-shape", "8x8x3"], "Stride"),
        (["ConvolutionLayer[16, {9, 9}]", "--input-shape", "3x8x8"], "kernel size"),
        (["Conv2D(8, 3)", "--input-shape", "1x8x8"], "ndim"),
        (["Conv2D(8, 3)", "--input-shape", "1xax8x3"], "not a positive size"),
        (["Dense(3)", "--input-shape", "1x3"], "not a convolution layer"),
        (["RUN", "Conv2D(8, 3)", "--input", "/nonexistent/x.npy", "--output", "y.npy"], "no such"),
        (["RUN", "Conv2D(8, 3)", "--input-shape", "1x8x8x3", "--output", "y.txt"], "file type"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["run", *args[1:]] if args[0] == "RUN" else ["shape", *args]
    code, out, err = invoke(*args)
    assert code == 1
    assert message in err
    assert err.startswith("xconv: error: ") and err.count("\n") == 1
    assert "Traceback" not in out + err


def test_channel_mismatch_with_given_weights(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((8, 8, 2), dtype=np.float32))
    np.save(tmp_path / "w.npy", _matlab_weights(np.random.default_rng(0)))
    code, _, err = invoke(
        "run", MATLAB, "--input", str(tmp_path / "x.npy"), "--weights", str(tmp_path / "w.npy"),
        "--output", str(tmp_path / "y.npy"),
    )  # fmt: skip
    assert code == 1 and "channel" in err.lower()
    assert not (tmp_path / "y.npy").exists()


def test_failed_write_leaves_no_file(tmp_path):
    # 5 output channels cannot be an image: the write fails after the run, and nothing stays
    code, _, err = invoke(
        "run", "Conv2D(5, 3)", "--input-shape", "1x8x8x3", "--output", str(tmp_path / "y.png")
    )
    assert code == 1 and "image" in err
    assert list(tmp_path.iterdir()) == []


def test_translate_round_trips_through_every_dialect():
    code, out, _ = invoke("translate", MATLAB.replace("'replicate'", "3"), "--json")
    rows = {row["target"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["wolfram"]["text"] is None  # Wolfram pads with zeros only
    assert rows["keras"]["text"] is None  # Keras has no asymmetric explicit padding
    assert "F.pad(x, (2, 2, 1, 0), value=3.0)" in rows["pytorch"]["text"]

    code, out, _ = invoke("translate", WOLFRAM, "--json")
    rows = {row["target"]: row for row in json.loads(out)}
    matlab_text = rows["matlab"]["text"]
    assert matlab_text.startswith("convolution2dLayer([3 5], 4")
    for shape in ("3x20x21",):
        _, a, _ = invoke("shape", WOLFRAM, "--input-shape", shape, "--json")
        _, b, _ = invoke("shape", matlab_text, "--input-shape", "20x21x3", "--json")
        assert json.loads(a)["output_shape"][1:] == json.loads(b)["output_shape"][:2]


def test_translate_keras_transposed_to_matlab_and_pytorch():
    layer = 'keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same")'
    code, out, _ = invoke("translate", layer, "--json")
    rows = {row["target"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["matlab"]["text"].startswith("transposedConv2dLayer([4 4], 8, 'Stride', [2 2]")
    assert "'Cropping', 'same'" in rows["matlab"]["text"]
    assert "ConvTranspose2d(8, kernel_size=4, padding=1, stride=2)" in rows["pytorch"]["text"]


def test_help_and_version():
    code, out, _ = invoke("--version")
    assert code == 0 and "xconv" in out
    for command in ("shape", "run", "translate", "check"):
        code, out, _ = invoke(command, "--help")
        assert code == 0
        assert "ConvolutionLayer[" in out and "convolution2dLayer(" in out and "Conv2D(" in out


@pytest.mark.skipif(shutil.which("xconv") is None, reason="the xconv command is not installed")
def test_installed_command_runs_and_never_evaluates_text(tmp_path):
    marker = tmp_path / "pwned"
    text = f"__import__('os').system('touch {marker}')"
    result = subprocess.run(
        ["xconv", "shape", text, "--input-shape", "1x8x8x3"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.startswith("xconv: error:") and "Traceback" not in result.stderr
    assert not marker.exists()
    result = subprocess.run(
        ["xconv", "run", KERAS, "--input-shape", "1x8x9x3", "--output", str(tmp_path / "y.npy")],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "y.npy").shape == (1, 4, 5, 4)


def test_module_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "xconv_cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "xconv" in result.stdout


@pytest.mark.parametrize("command", ["shape", "run", "translate", "check"])
def test_every_help_example_runs(command, tmp_path, monkeypatch):
    """Each dialect's example in `--help`, as printed, with data in its own order."""
    import shlex

    monkeypatch.chdir(tmp_path)
    code, text, _ = invoke(command, "--help")
    assert code == 0
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("xconv ")]
    assert len(lines) == 4, text
    shapes = []
    for line in lines:
        words = shlex.split(line)
        code, out, _ = invoke(*words[1:], *(["--json"] if command != "translate" else []))
        assert code == 0, f"{line}: {out}"
        if command in ("shape", "run"):
            shapes.append(json.loads(out)["output_shape"])
        if command == "check":  # every framework agrees or says why it cannot
            verdicts = {row["status"] for row in json.loads(out)["rows"]}
            assert verdicts <= {"agrees", "cannot express", "not installed"}, out
    # Wolfram C x H x W, MATLAB H x W x C, Keras N x H x W x C, PyTorch N x C x H x W
    if command == "shape":
        assert shapes == [[16, 112, 112], [112, 112, 16], [1, 112, 112, 16], [1, 16, 112, 112]]
    if command == "run":
        assert shapes == [[16, 32, 32], [32, 32, 16], [1, 32, 32, 16], [1, 16, 32, 32]]


def _negative_identity_run(tmp_path, *extra):
    image = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(5).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    image.fromarray(pixels).save(tmp_path / "in.png")
    weights = np.zeros((3, 3, 1, 1))
    weights[[0, 1, 2], [0, 1, 2]] = -1.0  # Wolfram n x m x 1 x 1: the negated image
    np.save(tmp_path / "w.npy", weights)
    layer = 'ConvolutionLayer[3, {1, 1}, "Biases" -> None]'
    args = ["run", layer, "--input", str(tmp_path / "in.png"), "--weights"]
    args += [str(tmp_path / "w.npy"), "--output", str(tmp_path / "out.png"), "--json", *extra]
    return pixels, invoke(*args)


def test_image_output_rescales_by_default_and_says_so(tmp_path):
    image = pytest.importorskip("PIL.Image")
    pixels, (code, out, _) = _negative_identity_run(tmp_path)
    assert code == 0, out
    assert "rescaled" in json.loads(out)["note"]
    written = np.asarray(image.open(tmp_path / "out.png"), dtype=np.float64)
    negated = -pixels.astype(np.float64)
    expected = np.round((negated - negated.min()) / (negated.max() - negated.min()) * 255)
    np.testing.assert_array_equal(written, expected)


def test_image_output_clip_counts_and_none_refuses(tmp_path):
    image = pytest.importorskip("PIL.Image")
    pixels, (code, out, _) = _negative_identity_run(tmp_path, "--scale", "clip")
    assert code == 0, out
    lost = int(np.count_nonzero(pixels))  # every nonzero pixel turned negative
    assert json.loads(out)["note"].startswith(f"{lost} of {pixels.size} values")
    assert not np.asarray(image.open(tmp_path / "out.png")).any()
    (tmp_path / "out.png").unlink()
    _, (code, out, _) = _negative_identity_run(tmp_path, "--scale", "none")
    assert code == 1 and "outside an image's [0, 1]" in out
    assert not (tmp_path / "out.png").exists()


def test_the_readme_command_line_examples_run(tmp_path, monkeypatch):
    """The README's "The command line" block, as printed, on small files of those names."""
    import shlex

    from readme import console_commands
    from scipy.io import savemat

    image = pytest.importorskip("PIL.Image")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(6)
    image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save("photo.png")
    savemat("x.mat", {"X": rng.standard_normal((5, 6, 3))})  # MATLAB H x W x C
    np.save("w.npy", rng.standard_normal((4, 4, 8, 3)))  # h x w x NumFilters x NumChannels
    Path("scans").mkdir()
    for name in ("a", "b"):
        np.save(f"scans/{name}.npy", rng.standard_normal((3, 10, 12)).astype(np.float32))
    import tifffile

    tifffile.imwrite("cells.tif", rng.random((30, 40)).astype(np.float32) * 4000)
    np.save("gauss5.npy", np.outer(*[np.exp(-(np.arange(-2, 3) ** 2) / 2)] * 2) / 6.283)
    commands = console_commands("The command line")
    assert len(commands) == 9
    for command in commands:
        code, out, _ = invoke(*shlex.split(command)[1:])
        assert code == 0, f"{command}: {out}"
    assert np.asarray(image.open("edges.png")).shape == (10, 12, 3)
    from scipy.io import loadmat

    assert loadmat("y.mat")["y"].shape == (10, 12, 8)
    assert np.load("filtered/b.npy").shape == (8, 10, 12)
    assert tifffile.imread("smooth.tif").dtype == np.float32


def test_translate_with_an_input_shape_fixes_depthwise_channels():
    layer = 'keras.layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same")'
    code, out, _ = invoke("translate", layer, "--input-shape", "1x32x32x4", "--json")
    assert code == 0, out
    rows = {row["target"]: row for row in json.loads(out)}
    assert rows["matlab"]["text"].startswith("groupedConvolution2dLayer([3 3], 2, 4,")
    assert "nn.Conv2d(4, 8, kernel_size=3, stride=2, groups=4)" in rows["pytorch"]["text"]
    assert "x = F.pad(x, (0, 1, 0, 1))" in rows["pytorch"]["text"]  # 32 at stride 2: (0, 1)
    channelwise = "groupedConvolution2dLayer(3, 2, 'channelwise')"
    code, out, _ = invoke("translate", channelwise, "--input-shape", "16x16x3", "--to", "keras")
    assert code == 0 and "keras.layers.DepthwiseConv2D((3, 3), depth_multiplier=2)" in out


# -- what an adversarial user tried: one clear line, nothing lost --------------------------


def _save(path, array):
    np.save(path, array)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shape", "nn.Conv2d(3, 8, None)", "--input-shape", "1x3x9x9"], "kernel_size"),
        (["shape", "nn.Conv2d(3, 8, 3)", "--input-shape", "1x3x\u0663x9"], "positive size"),
        (["shape", "nn.Conv2d(3, 8, 3)", "--input-shape", "1x3x" + "9" * 30 + "x9"], "larger"),
        (["shape", "nn.Conv2d(3, 8, 3)", "--input-shape", "1x3x10000000000x10000000000"],
         "more than any array"),
        (["run", "nn.Conv2d(3, 8, 3)", "--input-shape", "1x3x9x9", "--output", "y.npy",
          "--block-mib", "inf"], "--block-mib"),
    ],
)  # fmt: skip
def test_bad_sizes_are_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(*args)
    assert code != 0 and message in out + err, out + err
    assert "internal error" not in out + err and "Traceback" not in out + err


def test_matlab_ordered_shapes_read():
    code, out, _ = invoke("shape", "convolution2dLayer(3, 8)", "--input-shape", "[9 9 3]", "--json")
    assert code == 0 and json.loads(out)["output_shape"] == [7, 7, 8]


def test_weights_must_be_real_and_a_named_bias_given(tmp_path):
    x = _save(tmp_path / "x.npy", np.ones((1, 3, 9, 9), np.float32))
    w = _save(tmp_path / "w.npy", np.ones((8, 3, 3, 3), np.float32))
    wc = _save(tmp_path / "wc.npy", np.ones((8, 3, 3, 3), np.complex64))
    y = str(tmp_path / "y.npy")
    code, _, err = invoke("run", "F.conv2d(x, w, b)", "--weights", w, "--input", x, "--output", y)
    assert code != 0 and "--bias" in err
    code, _, err = invoke("run", "F.conv2d(x, w)", "--weights", wc, "--input", x, "--output", y)
    assert code != 0 and "complex" in err
    assert not Path(y).exists()


def test_outputs_never_overwrite_inputs_or_each_other(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    a = _save(folder / "a.npy", np.ones((1, 3, 9, 9), np.float32))
    np.savez(folder / "a.npz", x=np.ones((1, 3, 9, 9), np.float32))
    before = np.load(a).copy()
    layer = "nn.Conv2d(3, 8, 3)"
    code, _, err = invoke("run", layer, "--input", str(folder), "--output", str(tmp_path / "out"))
    assert code != 0 and "both be written" in err
    code, _, err = invoke("run", layer, "--input", a, "--output", a)
    assert code != 0 and "overwrite the input" in err
    code, _, err = invoke("run", layer, "--input", str(folder), "--output", str(folder))
    assert code != 0 and "overwrite the input" in err
    np.testing.assert_array_equal(np.load(a), before)


def test_a_batch_names_the_file_it_stopped_at(tmp_path):
    a = _save(tmp_path / "a.npy", np.ones((1, 3, 9, 9), np.float32))
    b = _save(tmp_path / "b.npy", np.ones((1, 4, 9, 9), np.float32))
    out = tmp_path / "out"
    code, _, err = invoke("run", "nn.Conv2d(3, 8, 3)", "--input", a, "--input", b,
                          "--output", str(out))  # fmt: skip
    assert code != 0 and f"xconv: error: {b}:" in err and "1 of 2" in err


def test_a_zarr_output_streams_by_default(tmp_path):
    pytest.importorskip("zarr")
    x = np.random.default_rng(0).standard_normal((1, 3, 9, 9)).astype(np.float32)
    source = _save(tmp_path / "x.npy", x)
    target = tmp_path / "y.zarr"
    code, _, err = invoke("run", "nn.Conv2d(3, 8, 3, bias=False)", "--input", source,
                          "--output", str(target), "--json")  # fmt: skip
    assert code == 0, err
    import zarr

    assert zarr.open_array(str(target), mode="r").shape == (1, 8, 7, 7)


def test_too_many_blocks_are_refused(tmp_path):
    source = _save(tmp_path / "x.npy", np.ones((1, 3, 400, 400), np.float32))
    code, _, err = invoke("run", "nn.Conv2d(3, 8, 3)", "--input", source, "--output",
                          str(tmp_path / "y.npy"), "--stream", "--block-mib", "1e-7")  # fmt: skip
    assert code != 0 and "blocks" in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_signal_says_what_happened(tmp_path):
    import signal
    import time

    script = "import os, signal, time\nfrom xconv_cli.main import exit_on_termination\n" \
        "exit_on_termination()\nos.kill(os.getpid(), signal.SIGTERM)\ntime.sleep(5)\n"  # fmt: skip
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in result.stderr and time.perf_counter() - start < 5


def test_an_unwritable_folder_is_named(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, _, err = invoke("run", "nn.Conv2d(3, 8, 3)", "--input-shape", "1x3x9x9",
                          "--output", str(tmp_path / "y.npy"))  # fmt: skip
    assert code != 0 and f"{tmp_path}: cannot write there (Permission denied)" in err


def test_weights_too_large_for_memory_are_one_line(tmp_path):
    x = _save(tmp_path / "x.npy", np.ones((1, 3, 3, 3), np.float32))  # output: 4 GB
    code, _, err = invoke("run", "nn.Conv2d(3, 1000000000, 3)", "--input", x,
                          "--output", str(tmp_path / "y.npy"))  # fmt: skip
    assert code != 0 and "not enough memory" in err and "internal error" not in err
    assert not (tmp_path / "y.npy").exists()


@pytest.mark.parametrize(
    ("layer", "shape", "expected"),
    [
        ("nn.Conv2d(3, 8, 3)", "1x3x9x9", "random: kaiming_uniform (PyTorch's default), seed 4"),
        ("convolution2dLayer(3, 8)", "9x9x3", "random: WeightsInitializer 'glorot', seed 4"),
        ("keras.layers.Conv2D(8, 3)", "1x9x9x3", "random: GlorotUniform, seed 4"),
        ('ConvolutionLayer[1, {1, 1}, "Weights" -> {{{{2}}}}, "Biases" -> None]', "1x5x5",
         "in the layer text"),
    ],
)  # fmt: skip
def test_run_says_where_its_weights_come_from(tmp_path, layer, shape, expected):
    args = [
        "run",
        layer,
        "--input-shape",
        shape,
        "--seed",
        "4",
        "--output",
        str(tmp_path / "y.npy"),
    ]
    code, out, err = invoke(*args, "--json")
    assert code == 0, out + err
    assert json.loads(out)["weights"] == expected
    code, out, _ = invoke(*args)
    assert code == 0 and f"weights {expected}" in " ".join(out.split())


def test_run_with_weights_names_their_file(tmp_path):
    w = _save(tmp_path / "w.npy", np.ones((8, 3, 3, 3), np.float32))
    code, out, err = invoke("run", "nn.Conv2d(3, 8, 3, bias=False)", "--weights", w,
                            "--input-shape", "1x3x9x9", "--output", str(tmp_path / "y.npy"),
                            "--json")  # fmt: skip
    assert code == 0, out + err
    assert json.loads(out)["weights"] == f"from {w}"


def test_shapes_through_a_chain_of_layers():
    chain = ["convolution2dLayer(3, 16, 'Padding', 'same', 'Stride', 2)",
             "convolution2dLayer(3, 32, 'Stride', 2)",
             "transposedConv2dLayer(4, 8, 'Stride', 2, 'Cropping', 'same')"]  # fmt: skip
    code, out, err = invoke("shape", *chain, "--input-shape", "[224 224 3]", "--json")
    assert code == 0, out + err
    rows = json.loads(out)["layers"]
    # same at stride 2: ceil(224 / 2); then valid 3 at stride 2; then transposed same: x 2
    assert [r["output_shape"] for r in rows] == [[112, 112, 16], [55, 55, 32], [110, 110, 8]]
    assert [r["input_shape"] for r in rows[1:]] == [r["output_shape"] for r in rows[:-1]]
    code, out, _ = invoke("shape", *chain, "--input-shape", "224x224x3")
    assert code == 0 and "3 matlab layers" in out
    code, _, err = invoke("shape", "nn.Conv2d(3, 16, 3)", "nn.Conv2d(8, 4, 3)",
                          "--input-shape", "1x3x32x32")  # fmt: skip
    assert code != 0 and "layer 2 (nn.Conv2d(8, 4, 3)) cannot take 1x16x30x30" in err
    code, out, err = invoke("shape", "nn.Conv2d(3, 16, 3)", "keras.layers.Conv2D(8, 3)",
                            "--input-shape", "1x3x32x32")  # fmt: skip
    assert code != 0 and "one dialect" in out + err


@pytest.mark.parametrize(
    "layer", ["keras.layers.DepthwiseConv2D(3)", "groupedConvolution2dLayer(3, 2, 'channelwise')"]
)
def test_unknown_channels_name_the_option_that_fixes_them(layer):
    code, _, err = invoke("translate", layer, "--to", "pytorch")
    assert code != 0 and "give --input-shape" in err


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        ("convolution2dLayer(3, 16)", "1x3x224x224"),  # PyTorch's order, given to MATLAB
        ("keras.layers.Conv2D(8, 3)", "1x3x224x224"),
        ("nn.LazyConv2d(16, 3)", "1x224x224x3"),  # Keras' order, given to PyTorch
    ],
)
def test_a_shape_in_another_dialects_order_is_pointed_out(layer, shape):
    code, out, err = invoke("shape", layer, "--input-shape", shape)
    assert "if the data have 3 channels, write the shape in that order" in " ".join(err.split())
    code, out, err = invoke("shape", layer, "--input-shape", shape, "--json")
    if code == 0:
        assert "3 channels" in json.loads(out)["warning"]


def test_a_gray_image_is_matlabs_h_x_w_x_1_in_memory_and_streamed(tmp_path):
    gray = _save(tmp_path / "gray.npy", RNG_GRAY.random((150, 140), dtype=np.float32))
    layer = "convolution2dLayer(3, 4)"
    outputs = []
    for name, mode in (("a.npy", "--in-memory"), ("b.npy", "--stream")):
        code, out, err = invoke("run", layer, "--input", gray, "--output",
                                str(tmp_path / name), mode, "--seed", "2")  # fmt: skip
        assert code == 0, out + err
        outputs.append(np.load(tmp_path / name))
    assert outputs[0].shape == (148, 138, 4)
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
    code, out, _ = invoke("shape", layer, "--input-shape", "150x140", "--json")
    assert code == 0 and json.loads(out)["output_shape"] == [148, 138, 4]


RNG_GRAY = np.random.default_rng(31)


def test_a_long_in_memory_run_shows_a_spinner_on_a_terminal_only():
    import io

    from rich.console import Console
    from xconv_cli import _render

    for terminal in (True, False):
        stream = io.StringIO()
        console = Console(file=stream, force_terminal=terminal, width=80)
        with _render.working(console, "running a layer on x.npy"):
            pass
        assert ("running a layer on x.npy" in stream.getvalue()) == terminal


def test_every_run_of_a_batch_says_its_weights_are_random(tmp_path):
    for name in ("a", "b"):
        _save(tmp_path / f"{name}.npy", np.ones((1, 3, 9, 9), np.float32))
    code, out, err = invoke("run", "nn.Conv2d(3, 8, 3)", "--input", str(tmp_path / "a.npy"),
                            "--input", str(tmp_path / "b.npy"), "--output",
                            str(tmp_path / "out"), "--json")  # fmt: skip
    assert code == 0, out + err
    assert {r["weights"] for r in json.loads(out)["runs"]} == {
        "random: kaiming_uniform (PyTorch's default), seed 0"
    }
