"""The NumPy backend: each name here replaces the generic operation of the same name."""

from ._arrays import assemble, im2col, pad
from ._direct import conv_direct
from ._fft import (
    ascontiguousarray,
    fast_fft_length,
    fftn,
    ifftn,
    irfftn,
    overlap_frames,
    rfftn,
)
from ._gemm import conv_gemm
from ._transposed import interleave, sum_of

__all__ = [
    "ascontiguousarray",
    "assemble",
    "conv_direct",
    "conv_gemm",
    "fast_fft_length",
    "fftn",
    "ifftn",
    "im2col",
    "interleave",
    "irfftn",
    "overlap_frames",
    "pad",
    "rfftn",
    "sum_of",
]
