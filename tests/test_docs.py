"""The documentation: every example in the README and the pages runs, and the site builds.

Blocks whose section a dedicated test runs (and checks more closely) are listed in
`RUN_ELSEWHERE`; every other ```python block is executed here as a script, and where it
ends with comment lines they must be what it printed last. The console examples that
need no files (`shape`, `translate`, `check`) run through the command line; the site is built with
warnings as errors and the gallery executed, as the README says to build it.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from readme import DOCUMENTS, README, ROOT, blocks, python_block, section_text
from xconv_cli.main import main as cli

from xconv.backends.numpy import _onnxruntime

# sections run by their own tests: name -> the test
RUN_ELSEWHERE = {
    "PyTorch and JAX": "tests/test_torch.py::test_the_readme_example_runs",
    "NVIDIA GPUs (CuPy)": "tests/test_cupy.py::test_the_readme_gpu_example_runs",
    "Larger than memory": "tests/test_stream.py::test_the_readme_example_runs",
    "For SciPy users": "tests/test_scipy_api.py::test_the_readme_example_runs",
    "Writing a backend": "tests/test_backends.py::test_the_readme_example_runs",
    "Dialects: Wolfram, MATLAB, Keras, PyTorch": "tests/test_translate.py",
}


def _python_examples():
    for document in DOCUMENTS:
        for index, (heading, code) in enumerate(blocks(document, "python")):
            if heading in RUN_ELSEWHERE:
                continue
            name = f"{document.relative_to(ROOT)}:{index}"
            yield pytest.param(code, id=name)


def _expected_lines(code: str) -> list[str]:
    """The comment lines that end a block, without their `# `."""
    lines = code.rstrip().splitlines()
    tail = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


@pytest.mark.parametrize("code", list(_python_examples()))
def test_every_python_example_runs(code, capsys, tmp_path, monkeypatch):
    for library in ("cupy", "torch", "jax", "dask", "array_api_strict", "keras"):
        if f"import {library}" in code and importlib.util.find_spec(library) is None:
            pytest.skip(f"{library} is not installed")
    if "onnxruntime" in code and not _onnxruntime.available():
        pytest.skip("the ONNX Runtime route is not installed or switched off")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "example", "exec"), {"__name__": "__main__"})
    expected = _expected_lines(code)
    printed = capsys.readouterr().out.strip().splitlines()
    if expected:
        assert printed[-len(expected) :] == expected


def _console_examples():
    for document in DOCUMENTS:
        for heading, block in blocks(document, "console"):
            for line in block.splitlines():
                words = shlex.split(line[2:]) if line.startswith("$ xconv ") else []
                if words[1:2] in (["shape"], ["translate"], ["check"]):
                    yield pytest.param(words[1:], id=f"{document.name}:{heading}:{words[1]}")


@pytest.mark.parametrize("arguments", list(_console_examples()))
def test_every_shape_translate_and_check_example_runs(arguments):
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert result.output.strip()


def test_the_readme_quick_start_runs(tmp_path, monkeypatch):
    """The Quick start command after its install step, as a user types it."""
    command = section_text("Quick start").split("```bash\n", 1)[1].split("\n", 1)[0]
    install, run = command.split(" && ")
    assert install == "python -m pip install ."
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, shlex.split(run)[1:])
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "y.npy").shape == (32, 32, 16)


def test_the_readme_stays_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    for section in ("Quick start", "Tests", "The documentation", "Benchmarks"):
        assert f"\n## {section}\n" in text
    assert python_block("One layer, four dialects")


@pytest.mark.skipif(importlib.util.find_spec("sphinx") is None, reason="pip install '.[docs]'")
def test_the_site_builds_without_a_warning(tmp_path):
    """The README's docs command, into a temporary directory, every gallery script rerun."""
    command = section_text("The documentation").split("```bash\n", 1)[1].split("\n", 1)[0]
    build = shlex.split(command.split(" && ")[1])
    assert build[:3] == ["python", "-m", "sphinx"] and "-W" in build
    out = tmp_path / "html"
    arguments = [sys.executable, *build[1:-1], "-E", str(out)]
    env = dict(os.environ, XCONV_DOCS_RERUN_GALLERY="1", MPLBACKEND="agg")
    done = subprocess.run(arguments, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    for page in ("index.html", "guide/planning.html", "api/generated/xconv.conv.html"):
        assert page in pages
    gallery = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))
    assert len(gallery) >= 7
    for script in gallery:
        assert f"auto_examples/{script.stem}.html" in pages
        assert (out / "_images" / f"sphx_glr_{script.stem}_001.png").exists()


def _api_entries(kind: str) -> list[str]:
    """The full names the API reference pages document: `"autosummary"` entries (every
    function and class, each with its page) or `"data"` entries (`py:data`)."""
    import re

    pattern = r"   ([A-Za-z_]\w*)$" if kind == "autosummary" else r"\.\. py:data:: (\S+)"
    names = []
    for page in sorted((ROOT / "docs" / "api").glob("*.rst")):
        module = None
        for line in page.read_text().splitlines():
            if found := re.match(r"\.\. currentmodule:: (\S+)", line):
                module = found.group(1)
            elif (found := re.match(pattern, line)) and module:
                names.append(f"{module}.{found.group(1)}")
    return names


# numpydoc's checks every public function and class passes: a docstring, its parameters
# documented (and no others), a Returns section where it returns, an Examples section
NUMPYDOC_CHECKS = {"GL08", "PR01", "PR02", "RT01", "EX01"}


@pytest.mark.skipif(importlib.util.find_spec("numpydoc") is None, reason="pip install '.[docs]'")
@pytest.mark.parametrize("name", _api_entries("autosummary"))
def test_every_public_name_has_a_numpydoc_docstring(name):
    from numpydoc.validate import validate

    errors = [
        f"{code} {text}" for code, text in validate(name)["errors"] if code in NUMPYDOC_CHECKS
    ]
    assert not errors, "\n".join(errors)


def test_every_public_name_has_a_reference_entry():
    """Each module's `__all__` (or its public functions) appears in the API reference."""
    import importlib

    documented = set(_api_entries("autosummary")) | set(_api_entries("data"))
    modules = ["xconv", "xconv.signal", "xconv.ndimage", "xconv.compat.wolfram",
               "xconv.compat.matlab", "xconv.compat.keras", "xconv.compat.pytorch",
               "xconv.compat.parse", "xconv.compat.text", "xconv.backends"]  # fmt: skip
    if importlib.util.find_spec("torch") is not None:
        modules.append("xconv.torch")
    missing = []
    for name in modules:
        module = importlib.import_module(name)
        public = getattr(module, "__all__", None) or [
            n for n, v in vars(module).items()
            if not n.startswith("_") and callable(v) and getattr(v, "__module__", "") == name
        ]  # fmt: skip
        missing += [f"{name}.{n}" for n in public if f"{name}.{n}" not in documented]
    assert not missing
