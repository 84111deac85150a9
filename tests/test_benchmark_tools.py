"""The benchmark suite's small tools: the before/after table and the thread setting."""

from __future__ import annotations

import json

import pytest

from benchmarks import cli, compare


def _run(folder, rows):
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"rows": rows}))
    return folder


def _row(name, xconv_ms, torch_ms, algorithm=""):
    return {
        "name": name,
        "algorithm": algorithm,
        "median_ms": {"xconv": xconv_ms, "torch": torch_ms},
        "ratio": {"torch": xconv_ms / torch_ms},
    }


def test_compare_puts_the_two_runs_side_by_side(tmp_path, capsys):
    before = _run(tmp_path / "a", [_row("resnet3x3", 9.0, 4.0, "gemm"), _row("gone", 1, 1)])
    after = _run(tmp_path / "b", [_row("resnet3x3", 3.0, 4.0, "onnxruntime"), _row("new", 1, 1)])
    assert compare.main([str(before), str(after)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "| resnet3x3 | onnxruntime | 9 | 3 | 4 | 4 | 2.25x | 0.75x |"
    assert len(lines) == 3  # rows in one run only are left out


def test_compare_says_what_it_cannot_read(tmp_path, capsys):
    assert compare.main([str(tmp_path / "missing"), str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_threads_must_be_positive():
    assert cli.parse_args(["--threads", "1"]).threads == 1
    with pytest.raises(SystemExit):
        cli.parse_args(["--threads", "0"])
