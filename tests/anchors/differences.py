"""The cases of the anchors' own suites where xconv deliberately differs, each with why.

A failing case of an anchor's suite must match one of these patterns (a regular
expression searched in its pytest node id); any other failure fails xconv's tests. Each
is a case whose own test code cannot run on that array library: none is a difference in
xconv's results.
"""

from __future__ import annotations

DIFFERENCES: dict[str, list[tuple[str, str]]] = {
    "scipy.signal": [
        (
            r"TestFFTConvolve::test_random_data_multidim_axes\[array_api_strict-",
            "the test's own code calls `.swapaxes`, which array-api-strict arrays lack "
            "(SciPy marks the case xfail there; the suites run with --runxfail so that "
            "every case SciPy marks for its own function's sake runs with xconv's)",
        ),
    ],
    "scipy.ndimage": [
        (
            r"test_generic_filter01\[torch-uint(16|32|64)\]",
            "the test's own `r1 //= 5` fails for unsigned tensors in torch "
            "(pytorch/pytorch#58734; SciPy xfails the case inside the test)",
        ),
    ],
    "dask_image": [],
}
