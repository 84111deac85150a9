"""The NumPy backend: each name here replaces the generic operation of the same name."""

from ._arrays import assemble, im2col, pad

__all__ = ["assemble", "im2col", "pad"]
