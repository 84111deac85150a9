"""`parse(text)`: a layer written in Wolfram Language, MATLAB, Keras or PyTorch, as that
dialect's layer.

The text is read, never evaluated: only the constructor call each dialect uses for a
convolution layer, with literal arguments (see `_syntax`).

>>> layer = parse("convolution2dLayer([3 5], 16, 'Stride', 2, 'Padding', 'same')")
>>> type(layer).__name__, layer.FilterSize
('Convolution2DLayer', (3, 5))
"""

from __future__ import annotations

import re

from . import keras, matlab, pytorch, wolfram
from ._layer import CompatLayer
from ._syntax import (
    LayerCall,
    LayerSyntaxError,
    read_keras,
    read_matlab,
    read_pytorch,
    read_wolfram,
)

__all__ = ["LayerSyntaxError", "detect_dialect", "parse", "read"]

_WOLFRAM = ("ConvolutionLayer",)
_MATLAB = (
    "convolution1dLayer",
    "convolution2dLayer",
    "convolution3dLayer",
    "groupedConvolution2dLayer",
    "transposedConv1dLayer",
    "transposedConv2dLayer",
    "transposedConv3dLayer",
)
_KERAS_ALIASES = {f"Convolution{r}D": f"Conv{r}D" for r in (1, 2, 3)} | {
    f"Convolution{r}DTranspose": f"Conv{r}DTranspose" for r in (1, 2, 3)
}
_KERAS = (*keras.__all__, *_KERAS_ALIASES)
_KERAS_PREFIXES = ("", "layers.", "keras.layers.", "tf.keras.layers.", "tensorflow.keras.layers.")

_TORCH_MODULES = tuple(pytorch.MODULES)
_TORCH_MODULE_PREFIXES = ("", "nn.", "torch.nn.")
_TORCH_FUNCTIONS = tuple(pytorch.FUNCTIONS)
_TORCH_FUNCTION_PREFIXES = ("F.", "functional.", "nn.functional.", "torch.nn.functional.", "torch.")

_HEAD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(.?)")


def detect_dialect(text: str) -> str:
    """The dialect of layer text, from the constructor (or PyTorch function) it calls.

    Parameters
    ----------
    text : str
        A layer as written in a notebook, a script or code.

    Returns
    -------
    str
        `"wolfram"`, `"matlab"`, `"keras"` or `"pytorch"`.

    Raises
    ------
    LayerSyntaxError
        Text that calls no convolution constructor xconv knows.

    Examples
    --------
    >>> from xconv.compat.parse import detect_dialect
    >>> detect_dialect("ConvolutionLayer[16, {3, 3}]"), detect_dialect("nn.Conv2d(3, 8, 3)")
    ('wolfram', 'pytorch')
    """
    match = _HEAD.match(text)
    name, bracket = (match.group(1), match.group(2)) if match else ("", "")
    if name in _WOLFRAM and bracket == "[":
        return "wolfram"
    if name in _MATLAB and bracket == "(":
        return "matlab"
    prefix, _, short = name.rpartition(".")
    dotted = prefix + "." if prefix else ""
    if short in _KERAS and dotted in _KERAS_PREFIXES and bracket == "(":
        return "keras"
    torch_module = short in _TORCH_MODULES and dotted in _TORCH_MODULE_PREFIXES
    torch_function = short in _TORCH_FUNCTIONS and dotted in _TORCH_FUNCTION_PREFIXES
    if (torch_module or torch_function) and bracket == "(":
        return "pytorch"
    raise LayerSyntaxError(
        "not a convolution layer xconv knows: expected a Wolfram ConvolutionLayer[...], a "
        "MATLAB constructor such as convolution2dLayer(...), a Keras layer such as "
        "Conv2D(...), or PyTorch's nn.Conv2d(...) / F.conv2d(...)",
        (match.start(1) + 1) if match else 1,
    )


def read(text: str) -> LayerCall:
    """The constructor call in `text`, read but not built (nothing is evaluated).

    Parameters
    ----------
    text : str
        A layer in any dialect.

    Returns
    -------
    LayerCall
        The dialect, the constructor's name, its positional arguments and its options.

    Raises
    ------
    LayerSyntaxError
        Text that cannot be read, naming the column.

    Examples
    --------
    >>> from xconv.compat.parse import read
    >>> call = read("convolution2dLayer(3, 16, 'Stride', 2)")
    >>> call.dialect, call.name, call.args, call.options
    ('matlab', 'convolution2dLayer', (3, 16), {'Stride': 2})
    """
    dialect = detect_dialect(text)
    if dialect == "wolfram":
        call = read_wolfram(text)
        return LayerCall(call.dialect, call.name, _rules(call.args), _rules(call.options))
    if dialect == "matlab":
        name = _HEAD.match(text).group(1)
        return read_matlab(text, positional=3 if name == "groupedConvolution2dLayer" else 2)
    if dialect == "pytorch":
        call = read_pytorch(text)
        return LayerCall("pytorch", call.name.rsplit(".", 1)[-1], call.args, call.options)
    return read_keras(text)


def parse(text: str) -> CompatLayer:
    """Build the layer that `text` writes, in its own dialect.

    Parameters
    ----------
    text : str
        A layer as written in Wolfram Language, MATLAB, Keras or PyTorch; read, never
        evaluated.

    Returns
    -------
    CompatLayer
        The dialect's layer.

    Raises
    ------
    LayerSyntaxError
        Text that is not a layer (a ValueError naming the column).
    ValueError
        The dialect's own errors for options it rejects.

    Examples
    --------
    >>> from xconv.compat.parse import parse
    >>> layer = parse('keras.layers.Conv2D(8, 3, strides=2, padding="same")')
    >>> type(layer).__name__, layer.compute_output_shape((1, 32, 32, 3))
    ('Conv2D', (1, 16, 16, 8))
    """
    call = read(text)
    if call.dialect == "wolfram":
        return wolfram.ConvolutionLayer(*call.args, **call.options)
    if call.dialect == "matlab":
        return getattr(matlab, call.name)(*call.args, **call.options)
    if call.dialect == "pytorch":
        return pytorch.from_text_call(call.name, call.args, call.options)
    return getattr(keras, _KERAS_ALIASES.get(call.name, call.name))(*call.args, **call.options)


def _rules(value):
    """Wolfram lists of rules (`{"Weights" -> 0}`) become dicts, recursively."""
    if isinstance(value, dict):
        return {k: _rules(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_rules(v) for v in value)
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {k: _rules(v) for k, v in value}
        return [_rules(v) for v in value]
    return value
