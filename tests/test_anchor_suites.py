"""The anchors' own test suites, unedited, with xconv's functions in place of theirs.

SciPy ships its tests in its wheel: `scipy/signal/tests/test_signaltools.py` runs with
`xconv.signal`'s functions, `scipy/ndimage/tests/test_filters.py` with `xconv.ndimage`'s,
each on every array library SciPy's own `xp` fixture offers (`SCIPY_ARRAY_API`), as
SciPy's default test run does (`-m "not slow"`). dask-image's `test__conv.py` (copied
unedited from its sdist into `tests/anchors/dask_image/`, with its licence) runs with
`xconv.ndimage` in place of `dask_image.ndfilters`. Each suite runs in its own pytest
process (SciPy's conftest sets its own hypothesis profile and array-API mode), through
the plugin `tests/anchors/xconv_in_place.py`; cases that never reach a function xconv
provides are deselected there. Every failure must be a documented difference
(`tests/anchors/differences.py`: cases whose own test code cannot run on a library),
and at least 99% of the cases must pass. SciPy's xfail marks are run too (`--runxfail`):
they say what SciPy's own functions cannot do on a library, not what xconv's cannot.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ANCHORS = Path(__file__).parent / "anchors"
sys.path.insert(0, str(ANCHORS))
from differences import DIFFERENCES  # noqa: E402

# SciPy's names for the array libraries of its `xp` fixture, and the module each needs
SCIPY_BACKENDS = {
    "numpy": "numpy",
    "array_api_strict": "array_api_strict",
    "torch": "torch",
    "jax.numpy": "jax",
    "dask.array": "dask",
}


def _scipy_test_file(anchor: str) -> Path:
    import scipy

    name = {"scipy.signal": "signal/tests/test_signaltools.py",
            "scipy.ndimage": "ndimage/tests/test_filters.py"}[anchor]  # fmt: skip
    return Path(scipy.__file__).parent / name


def run_suite(anchor: str, test_file: Path, tmp_path: Path, **env: str) -> dict:
    """Run one anchor's test file with xconv in place; each case's (outcome, message)."""
    report = tmp_path / "outcomes.json"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ANCHORS), os.environ.get("PYTHONPATH", "")]),
        "XCONV_ANCHOR": anchor,
        "XCONV_ANCHOR_REPORT": str(report),
        **env,
    }
    # --runxfail: the cases SciPy marks as failing for its own function run with xconv's
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "xconv_in_place", "--tb=line", "-m", "not slow", "--runxfail",
               str(test_file)]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=3000
    )
    if not report.exists():
        pytest.fail(f"the suite did not run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(report.read_text())


def check(anchor: str, outcomes: dict) -> None:
    failed = {case: message for case, (outcome, message) in outcomes.items()
              if outcome == "failed"}  # fmt: skip
    # xpassed: a case SciPy marks as failing for its own function, that xconv passes
    passed = sum(outcome in ("passed", "xpassed") for outcome, _ in outcomes.values())
    patterns = DIFFERENCES[anchor]
    unexplained = {case: message for case, message in failed.items()
                   if not any(re.search(p, case) for p, _ in patterns)}  # fmt: skip
    summary = "\n".join(f"{case.split('::', 1)[-1]}: {message}" for case, message in
                        sorted(unexplained.items()))  # fmt: skip
    assert not unexplained, f"{len(unexplained)} of {len(outcomes)} cases fail:\n{summary}"
    assert passed >= 0.99 * (passed + len(failed)), (passed, len(failed))
    assert passed > 0


@pytest.mark.parametrize("backend", SCIPY_BACKENDS)
@pytest.mark.parametrize("anchor", ["scipy.signal", "scipy.ndimage"])
def test_scipy_own_tests(anchor, backend, tmp_path):
    if importlib.util.find_spec(SCIPY_BACKENDS[backend]) is None:
        pytest.skip(f"{SCIPY_BACKENDS[backend]} is not installed")
    outcomes = run_suite(
        anchor, _scipy_test_file(anchor), tmp_path, SCIPY_ARRAY_API=json.dumps([backend])
    )
    check(anchor, outcomes)


def test_dask_image_own_tests(tmp_path):
    pytest.importorskip("dask.array")
    outcomes = run_suite("dask_image", ANCHORS / "dask_image" / "test__conv.py", tmp_path)
    assert len(outcomes) == 70  # every case of the file: none deselected, none skipped
    check("dask_image", outcomes)
