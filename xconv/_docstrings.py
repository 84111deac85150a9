"""The parameter descriptions the four public operations share, written once.

`shared(function)` fills `{name}` fields of a docstring with the entries of `PARAMETERS`
(numpydoc "Parameters" items, indented for a function body), so `conv`, `conv_transpose`
and the VJPs document their common keywords with one text; `filled(entries)` does the same
with a module's own entries (SciPy's parameters in `xconv.signal` and `xconv.ndimage`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_ENTRIES = {
    "x": """x : array
    `(N, C, *spatial)` or unbatched `(C, *spatial)`; with `channels_last=True`,
    `(N, *spatial, C)` or `(*spatial, C)`. The output follows the same convention.""",
    "weight": """weight : array
    `(F, C // groups, *kernel)`; its number of trailing axes is the spatial rank.""",
    "weight_t": """weight : array
    `(C, F // groups, *kernel)`, the layout of PyTorch's and ONNX's transposed weights.""",
    "bias": """bias : array, optional
    `(F,)`, added to every output of its channel, in the result dtype.""",
    "grad_output": """grad_output : array
    The gradient of a scalar loss with respect to the operation's output: its shape, in
    the caller's layout and batching.""",
    "stride": """stride : int or tuple of int, default 1
    The step between output windows, one per spatial axis or one for all, >= 1.""",
    "padding": """padding : int, str, tuple of int or tuple of (int, int), default 0
    Samples added before and after each spatial axis: one int for all, one per axis, one
    `(before, after)` pair per axis, or `"valid"` (none), `"same"` (output
    `ceil(n / stride)`, an odd total's extra sample at the end), `"same_lower"` (the
    extra at the start, ONNX `SAME_LOWER`), `"full"` (`(k - 1) * dilation` on both sides)
    or `"causal"` (all of it at the start).""",
    "cropping": """padding : int, str, tuple of int or tuple of (int, int), default 0
    The cropping of the full output `(n - 1) * stride + (k - 1) * dilation + 1`: an int,
    one int per axis, one `(before, after)` pair per axis, `"valid"` (none) or `"same"`
    (output `n * stride`: `(k - 1) * dilation + 1 - stride` in total, the odd one at the
    end, as MATLAB's `Cropping 'same'` and Keras' `'same'`).""",
    "output_padding": """output_padding : int or tuple of int, default 0
    Samples added at the end of each spatial axis of the output; smaller than the stride
    or the dilation.""",
    "dilation": """dilation : int or tuple of int, default 1
    The spacing between kernel taps, one per spatial axis or one for all, >= 1.""",
    "groups": """groups : int, default 1
    Channel groups: input and output channels are split into `groups` blocks, each
    convolved with its own block of filters (`groups == C`: depthwise).""",
    "padding_mode": """padding_mode : {"constant", "reflect", "symmetric", "replicate", "circular"}
    How the padding is filled: `padding_value` (constant); a mirror without the edge
    sample (reflect: PyTorch's and NumPy's `reflect`, ndimage's `mirror`) or with it
    (symmetric: NumPy's `symmetric`, ndimage's `reflect`, MATLAB's
    `'symmetric-include-edge'`); the edge sample repeated (replicate: NumPy's `edge`);
    the far side (circular: NumPy's `wrap`). The user guide's cross-walk has every
    framework's names.""",
    "padding_value": """padding_value : float or complex, default 0.0
    The value of constant padding.""",
    "channels_last": """channels_last : bool, default False
    Whether the channel axis of `x` (and of the result) is the last one instead of the
    one after the batch.""",
    "algorithm": """algorithm : str, default "auto"
    `"auto"`: the planner's choice (`xconv.plan` shows it); `"direct"`, `"gemm"`,
    `"fft"` or `"onnxruntime"`: that algorithm; `"measure"`: time the candidates once
    per shapes, dtype, parameters and array library and reuse the fastest.
    `"onnxruntime"` runs ONNX Runtime's compiled kernels on NumPy float32 and float16
    data (`pip install "xconv[cpu]"`; an ImportError without it). A transform spreads
    one NaN or infinity over its whole frame, so `"auto"` and `"measure"` never choose
    the FFT for data that are not all finite; an explicit `"fft"` does what it says.""",
    "spec": """spec : ConvSpec, optional
    A ready spec instead of the keywords above (what the dialect layers pass); its
    channels, if set, must match the weight.""",
    "raises": """ValueError
    A shape, size, padding or option that does not fit, named with its values.
TypeError
    An argument of the wrong kind (an array from another library, a complex value for
    a real result, an integer where a float is required), named.""",
}


def _indented(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


def entries(texts: dict[str, str]) -> dict[str, str]:
    """Entries written at the left margin, indented for a docstring's body."""
    return {name: _indented(text, 4).lstrip() for name, text in texts.items()}


PARAMETERS = entries(_ENTRIES)


def filled(fields: dict[str, str]) -> Callable[[F], F]:
    """A decorator that fills the `{name}` fields of a docstring from `fields`."""

    def fill(function: F) -> F:
        function.__doc__ = function.__doc__.format(**fields)
        return function

    return fill


shared = filled(PARAMETERS)
