"""The reference pages themselves: the numbers and shapes they document.

Not a framework: this peer answers only for golden cases whose `expect` table holds what
a page in `shared/reference/` states (an output shape, a padded matrix, weight shapes and
counts), and xconv is compared with that.
"""

from __future__ import annotations

import numpy as np

from ..cases import Arrays, Case
from ._common import require

NAME = "pages"
VERSION = "shared/reference (Wolfram ConvolutionLayer, MATLAB grouped/transposed, Keras Conv2D)"


def version() -> str:
    return VERSION


def run(case: Case, arrays: Arrays) -> dict[str, object]:
    expect = {k: v for k, v in case.expect.items() if k != "error"}
    require(bool(expect), "the reference pages document no numbers for this case")
    out: dict[str, object] = {}
    if "output" in expect:
        out["output"] = np.asarray(expect["output"], dtype=case.dtype)
    for name in ("output_shape", "weight_shape", "weight_count"):
        if name in expect:
            value = expect[name]
            out[name] = tuple(value) if isinstance(value, list) else value
    return out
