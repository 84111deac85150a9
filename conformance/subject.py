"""The code under test: xconv, called as the case says (canonical API or dialect layer)."""

from __future__ import annotations

import numpy as np

from .availability import NotAvailable
from .cases import Arrays, Case, canonical, present
from .peers._common import activate

__all__ = ["NotAvailable", "check_available", "keywords", "run", "run_canonical"]


def _function(name: str):
    import xconv

    function = getattr(xconv, name, None)
    if function is None:
        raise NotAvailable(f"xconv.{name} is not available")
    return function


def check_available(case: Case) -> None:
    """Raise NotAvailable if this checkout of xconv cannot run `case`."""
    _function(case.op)
    if case.dialect != "canonical":
        from . import dialects

        dialects.parser()


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    """xconv's result for the case, in canonical layout."""
    if case.dialect != "canonical":
        from . import dialects

        return dialects.run(case, arrays)
    return run_canonical(case, arrays)


def keywords(case: Case) -> dict:
    """The case's parameters as xconv keyword arguments for its operation."""
    params = dict(case.params)
    for name in ("stride", "dilation", "output_padding"):
        if isinstance(params[name], list):
            params[name] = tuple(params[name])
    if isinstance(params["padding"], list):
        params["padding"] = tuple(tuple(p) if isinstance(p, list) else p for p in params["padding"])
    if case.transposed:
        del params["padding_mode"], params["padding_value"]
    else:
        del params["output_padding"]
    params["algorithm"] = case.algorithm
    return params


def run_canonical(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    """Call `xconv.<op>` with the case's canonical parameters."""
    function = _function(case.op)
    x = present(case, arrays.x)
    if not case.gradient:
        y = function(x, arrays.weight, arrays.bias, **keywords(case))
        return {"output": activate(case, canonical(case, np.asarray(y)))}
    grad = present(case, arrays.grad_output)
    grad_input, grad_weight, grad_bias = function(grad, x, arrays.weight, **keywords(case))
    out = {
        "grad_input": canonical(case, np.asarray(grad_input)),
        "grad_weight": np.asarray(grad_weight),
    }
    if case.bias:
        out["grad_bias"] = np.asarray(grad_bias)
    return out
