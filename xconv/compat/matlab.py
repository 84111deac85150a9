"""MATLAB's convolution layers: `convolution1d/2d/3dLayer`, `groupedConvolution2dLayer`,
`transposedConv1d/2d/3dLayer`, with MATLAB's name-value arguments and property names.

The layer objects live in `_matlab_layer`, the arguments in `_matlab_args`, the writer (a
canonical spec as a MATLAB layer, and as MATLAB text) in `_matlab_translate`.

Data are `S..S x C x B` (`SSCB` for images; the batch, and any trailing singleton, may be
absent); weights are `h x w x C x F`, grouped `h x w x C/g x F/g x g`, transposed
`h x w x F x C`; biases `1 x 1 x F` (grouped `1 x 1 x F/g x g`). Weights and biases are
initialized the first time the channel count is known (`NumChannels` or the first
input) from MATLAB's global stream, which `rng(seed)` seeds.

Choices where the reference pages are silent:

- Transposed `Cropping='same'` removes `k - stride` in total, the odd one at the end
  (bottom/right), like Keras; with `k < stride` the output is extended with zeros.
- `PaddingSize` of a `'same'` layer whose padding depends on the input size reads
  `[0 0 0 0]` until the layer has seen an input, as MATLAB shows before training.
- Arithmetic is single precision unless the input and the weights are both double
  (MATLAB's rule that single wins over double; integer inputs are converted).

>>> import numpy as np
>>> from xconv.compat import matlab
>>> layer = matlab.convolution2dLayer(3, 4, Padding="same", NumChannels=2)
>>> layer.Weights.shape, layer(np.ones((5, 6, 2, 7), dtype=np.float32)).shape
((3, 3, 2, 4), (5, 6, 4, 7))
"""

from __future__ import annotations

from typing import Any

from .._docstrings import entries, filled
from ._matlab_args import MatlabError, rng
from ._matlab_layer import (
    FORWARD_OPTIONS,
    TRANSPOSED_OPTIONS,
    Convolution1DLayer,
    Convolution2DLayer,
    Convolution3DLayer,
    GroupedConvolution2DLayer,
    MatlabLayer,
    TransposedConvolution1DLayer,
    TransposedConvolution2DLayer,
    TransposedConvolution3DLayer,
)

__all__ = [
    "Convolution1DLayer",
    "Convolution2DLayer",
    "Convolution3DLayer",
    "GroupedConvolution2DLayer",
    "MatlabError",
    "MatlabLayer",
    "TransposedConvolution1DLayer",
    "TransposedConvolution2DLayer",
    "TransposedConvolution3DLayer",
    "convolution1dLayer",
    "convolution2dLayer",
    "convolution3dLayer",
    "groupedConvolution2dLayer",
    "rng",
    "transposedConv1dLayer",
    "transposedConv2dLayer",
    "transposedConv3dLayer",
]


# MATLAB's arguments, as its reference pages document them: one text for every constructor
_ARGUMENTS = entries(
    {
        "filterSize": """filterSize : int or sequence of int
    The filter's size, one for every axis or one per axis (`[h w]`).""",
        "numFilters": """numFilters : int
    The number of filters (output channels).""",
        "forward": """**name_value
    MATLAB's name-value arguments, by their MATLAB names: `Stride`, `DilationFactor`,
    `Padding` (`'same'`, a size, `[t b l r]` or `[before; after]` sizes; 1-D also
    `'causal'`), `PaddingValue` (a scalar, `'symmetric-include-edge'`,
    `'symmetric-exclude-edge'` or `'replicate'`), `NumChannels` (or `'auto'`),
    `WeightsInitializer` (`'glorot'`, `'he'`, `'narrow-normal'`, `'zeros'`, `'ones'` or
    a function of the size), `BiasInitializer` (`'zeros'`, `'narrow-normal'`, `'ones'`,
    a function), `Weights`, `Bias`, `WeightLearnRateFactor`, `BiasLearnRateFactor`,
    `WeightL2Factor`, `BiasL2Factor` and `Name`; another name is MATLAB's error.""",
        "grouped": """**name_value
    As for `convolution2dLayer`, with `NumChannelsPerGroup` instead of `NumChannels`.""",
        "transposed": """**name_value
    MATLAB's name-value arguments: `Stride`, `Cropping` (`'same'`, a size or `[t b l r]`
    sizes), `NumChannels`, the initializers, `Weights`, `Bias`, the learning-rate and L2
    factors and `Name`, as for `convolution2dLayer`.""",
        "returns": """layer
    The layer object, with MATLAB's property names; call it on `S x .. x S x C [x B]`
    data (`layer(X)`, MATLAB's `predict`).""",
        "raises": """MatlabError
    An argument MATLAB refuses, in MATLAB's words (a `ValueError`).""",
    }
)


# -- constructors, as MATLAB names them ---------------------------------------------------------


@filled(_ARGUMENTS)
def convolution1dLayer(filterSize: Any, numFilters: int, **name_value: Any) -> Convolution1DLayer:
    """`convolution1dLayer(filterSize, numFilters, Name=Value)`: a 1-D convolution layer.

    Data are `S x C x B` (sequence, channels, batch).

    Parameters
    ----------
    {filterSize}
    {numFilters}
    {forward}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> convolution1dLayer(3, 2, Padding="causal", NumChannels=1).PaddingSize
    (2, 0)
    """
    return Convolution1DLayer(filterSize, numFilters, FORWARD_OPTIONS, name_value)


@filled(_ARGUMENTS)
def convolution2dLayer(filterSize: Any, numFilters: int, **name_value: Any) -> Convolution2DLayer:
    """`convolution2dLayer(filterSize, numFilters, Name=Value)`: a 2-D convolution layer.

    Data are `H x W x C x B`; weights `h x w x C x F`, bias `1 x 1 x F`.

    Parameters
    ----------
    {filterSize}
    {numFilters}
    {forward}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> convolution2dLayer([3, 5], 16, Stride=2, Padding=[1, 2]).PaddingSize
    (1, 1, 2, 2)
    """
    return Convolution2DLayer(filterSize, numFilters, FORWARD_OPTIONS, name_value)


@filled(_ARGUMENTS)
def convolution3dLayer(filterSize: Any, numFilters: int, **name_value: Any) -> Convolution3DLayer:
    """`convolution3dLayer(filterSize, numFilters, Name=Value)`: a 3-D convolution layer.

    Data are `H x W x D x C x B`.

    Parameters
    ----------
    {filterSize}
    {numFilters}
    {forward}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> convolution3dLayer(3, 8, Padding=[[0, 1, 2], [3, 4, 5]]).PaddingSize
    ((0, 1, 2), (3, 4, 5))
    """
    return Convolution3DLayer(filterSize, numFilters, FORWARD_OPTIONS, name_value)


@filled(_ARGUMENTS)
def groupedConvolution2dLayer(
    filterSize: Any, numFiltersPerGroup: int, numGroups: int | str, **name_value: Any
) -> GroupedConvolution2DLayer:
    """`groupedConvolution2dLayer(filterSize, numFiltersPerGroup, numGroups, Name=Value)`.

    A 2-D convolution in `numGroups` channel groups; weights `h x w x C/g x F/g x g`,
    bias `1 x 1 x F/g x g`.

    Parameters
    ----------
    {filterSize}
    numFiltersPerGroup : int
        Filters (output channels) per group.
    numGroups : int or "channelwise"
        The number of groups, or one group per input channel (depthwise).
    {grouped}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> layer = groupedConvolution2dLayer(11, 10, 3, Name="gconv1", NumChannelsPerGroup=2)
    >>> layer.Weights.shape, layer.Bias.shape
    ((11, 11, 2, 10, 3), (1, 1, 10, 3))
    """
    return GroupedConvolution2DLayer(filterSize, numFiltersPerGroup, numGroups, name_value)


@filled(_ARGUMENTS)
def transposedConv1dLayer(
    filterSize: Any, numFilters: int, **name_value: Any
) -> TransposedConvolution1DLayer:
    """`transposedConv1dLayer(filterSize, numFilters, Name=Value)`: 1-D transposed.

    Weights are `k x F x C`.

    Parameters
    ----------
    {filterSize}
    {numFilters}
    {transposed}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> transposedConv1dLayer(4, 2, Stride=2, Cropping="same", NumChannels=3).Weights.shape
    (4, 2, 3)
    """
    return TransposedConvolution1DLayer(filterSize, numFilters, TRANSPOSED_OPTIONS, name_value)


@filled(_ARGUMENTS)
def transposedConv2dLayer(
    filterSize: Any, numFilters: int, **name_value: Any
) -> TransposedConvolution2DLayer:
    """`transposedConv2dLayer(filterSize, numFilters, Name=Value)`: 2-D transposed.

    Weights are `h x w x F x C`.

    Parameters
    ----------
    {filterSize}
    {numFilters}
    {transposed}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> transposedConv2dLayer(11, 96, Stride=4, Cropping="same").CroppingSize
    (3, 4, 3, 4)
    """
    return TransposedConvolution2DLayer(filterSize, numFilters, TRANSPOSED_OPTIONS, name_value)


@filled(_ARGUMENTS)
def transposedConv3dLayer(
    filterSize: Any, numFilters: int, **name_value: Any
) -> TransposedConvolution3DLayer:
    """`transposedConv3dLayer(filterSize, numFilters, Name=Value)`: 3-D transposed.

    Weights are `h x w x d x F x C`.

    Parameters
    ----------
    {filterSize}
    {numFilters}
    {transposed}

    Returns
    -------
    {returns}

    Raises
    ------
    {raises}

    Examples
    --------
    >>> import numpy as np
    >>> layer = transposedConv3dLayer(2, 4, Stride=2, NumChannels=3)
    >>> layer(np.ones((5, 5, 5, 3), np.float32)).shape
    (10, 10, 10, 4)
    """
    return TransposedConvolution3DLayer(filterSize, numFilters, TRANSPOSED_OPTIONS, name_value)
