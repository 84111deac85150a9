"""Forward-convolution algorithms, each written once against the array API standard.

Every algorithm takes the same canonical arguments: an already padded, batched,
channel-first input `(N, C, *S)` in the compute dtype, a weight `(F, C // groups, *k)`
in the same dtype, the `ConvSpec` and the output spatial size; it returns `(N, F, *O)`.
"""

from .direct import conv_direct
from .fft import conv_fft
from .gemm import conv_gemm

FORWARD = {"direct": conv_direct, "gemm": conv_gemm, "fft": conv_fft}

__all__ = ["FORWARD", "conv_direct", "conv_fft", "conv_gemm"]
