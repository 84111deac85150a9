"""A pytest plugin that runs an anchor library's own test file with xconv in its place.

Loaded with ``-p xconv_in_place`` (this folder on ``PYTHONPATH``) and told which anchor
by ``XCONV_ANCHOR``: ``scipy.signal``, ``scipy.ndimage`` or ``dask_image``. While the
anchor's test module is imported, the anchor's module (``scipy.signal``, say) is a proxy
whose convolution functions are xconv's and whose other names are the anchor's own, so
the test file, unedited, binds xconv's functions wherever it names the anchor's: in its
``from ... import`` lines, its ``parametrize`` lists and its calls. SciPy's functions
are also registered in SciPy's capabilities table with the laziness contract SciPy
states for its own (``jax_jit``, ``allow_dask_compute``) and no backend excluded.

Tests that never reach a substituted function (SciPy's other filters, say) are
deselected, each with its reason; ``XCONV_ANCHOR_REPORT`` names a JSON file that gets
every case's outcome and the first line of its failure.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import re
import sys
import types

import pytest

# anchor -> (the anchor's module, xconv's module, the names xconv provides)
ANCHORS = {
    "scipy.signal": (
        "scipy.signal",
        "xconv.signal",
        ("convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d", "correlate2d",
         "choose_conv_method"),
    ),
    "scipy.ndimage": (
        "scipy.ndimage",
        "xconv.ndimage",
        ("correlate", "convolve", "correlate1d", "convolve1d"),
    ),
    "dask_image": ("dask_image.ndfilters", "xconv.ndimage", ("convolve", "correlate")),
}  # fmt: skip


def _anchor():
    name = os.environ["XCONV_ANCHOR"]
    anchor_module, xconv_module, names = ANCHORS[name]
    return anchor_module, importlib.import_module(xconv_module), names


class _Proxy(types.ModuleType):
    """The anchor's module with xconv's functions in front: other names read through."""

    def __init__(self, name: str, original, overrides: dict):
        super().__init__(name)
        self.__dict__.update(overrides)
        self._original = original

    def __getattr__(self, attribute):
        if self._original is None:
            raise AttributeError(attribute)
        return getattr(self._original, attribute)


def _substitutes():
    _, ours, names = _anchor()
    return {name: getattr(ours, name) for name in names}


def _register_capabilities(anchor_module: str, substitutes: dict) -> None:
    """SciPy's tests mark each case from the function's capabilities: xconv's run on
    every backend, lazily where SciPy's own function promises to."""
    if not anchor_module.startswith("scipy."):
        return
    from scipy._lib._array_api import xp_capabilities_table

    original = importlib.import_module(anchor_module)
    for name, function in substitutes.items():
        theirs = xp_capabilities_table[getattr(original, name)]
        xp_capabilities_table[function] = dict(
            theirs, skip_backends=(), xfail_backends=(), cpu_only=False, np_only=False,
            exceptions=(), reason=None,
        )  # fmt: skip


@contextlib.contextmanager
def _in_place():
    """The anchor's module, and its parent's attribute, as the proxy while inside."""
    anchor_module, _, _ = _anchor()
    substitutes = _substitutes()
    try:
        original = importlib.import_module(anchor_module)
    except ImportError:  # dask-image need not be installed: its tests name only ours
        original = None
    proxy = _Proxy(anchor_module, original, substitutes)
    parent_name, _, child = anchor_module.rpartition(".")
    saved = {name: sys.modules.get(name) for name in (anchor_module, parent_name)}
    parent = saved[parent_name] or _Proxy(parent_name, None, {})
    saved_attribute = parent.__dict__.get(child)
    sys.modules[anchor_module], sys.modules[parent_name] = proxy, parent
    setattr(parent, child, proxy)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        if saved_attribute is not None:
            setattr(parent, child, saved_attribute)


def pytest_configure(config):
    anchor_module, _, _ = _anchor()
    _register_capabilities(anchor_module, _substitutes())


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    if isinstance(collector, pytest.Module):
        with _in_place():
            return (yield)
    return (yield)


def _reaches_xconv(item, substitutes: dict) -> bool:
    """Whether the case calls one of xconv's functions: by name in its source, or as a
    parameter (a parametrize list of functions)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(any(value is f for f in substitutes.values()) for value in params.values()):
        return True
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return False
    called = "|".join(map(re.escape, substitutes))
    return re.search(rf"(?<![\w.])({called})\(|\.({called})\b", source) is not None


def pytest_collection_modifyitems(config, items):
    substitutes = _substitutes()
    kept, dropped = [], []
    for item in items:
        (kept if _reaches_xconv(item, substitutes) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        outcome = report.outcome
        if hasattr(report, "wasxfail"):  # SciPy expects its own function to fail here
            outcome = "xpassed" if report.passed else "xfailed"
        message = ""
        if report.outcome == "failed":
            message = _first_line(report)
        _OUTCOMES.setdefault(report.nodeid, (outcome, message))


_OUTCOMES: dict = {}


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def pytest_sessionfinish(session):
    path = os.environ.get("XCONV_ANCHOR_REPORT")
    if path:
        with open(path, "w") as stream:
            json.dump(_OUTCOMES, stream, indent=0)
