"""Every example in every docstring of xconv and its command line runs, as written."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest
import xconv_cli

import xconv

# modules whose library is an optional dependency: their examples run when it is there
OPTIONAL = {
    "xconv.backends.pytorch": "torch",
    "xconv.torch": "torch",
    "xconv.backends.jaxlax": "jax",
    "xconv.backends.daskarray": "dask",
}


def modules() -> list[str]:
    names = []
    for package in (xconv, xconv_cli):
        names.append(package.__name__)
        prefix = package.__name__ + "."
        names += [m.name for m in pkgutil.walk_packages(package.__path__, prefix)]
    return sorted(n for n in names if not n.endswith("__main__"))


@pytest.mark.parametrize("name", modules())
def test_docstring_examples_run(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
