"""Images in and out of files with their values and precision kept.

TIFF goes through tifffile: float and 8/16/32-bit integer samples, and multi-page stacks
(read as a volume, `(pages, H, W[, C])`). PNG, JPEG and BMP go through Pillow: 8-bit
gray, RGB and RGBA, 16-bit and 32-bit gray, and 1-bit. What a format cannot hold
exactly is refused with the reason and the format that can, never converted silently
(Pillow would read a 16-bit color PNG as 8-bit: refused; a float result cannot go into
a PNG: refused, TIFF can hold it).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ._errors import FileError

TIFF_SUFFIXES = (".tif", ".tiff")
PILLOW_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
# what Pillow writes exactly, by format: NumPy dtype -> the shapes' channel counts
_PILLOW_WRITES = {
    ".png": {"uint8": (1, 2, 3, 4), "uint16": (1,), "bool": (1,)},
    ".jpg": {"uint8": (1, 3)},
    ".jpeg": {"uint8": (1, 3)},
    ".bmp": {"uint8": (1, 3, 4), "bool": (1,)},
}
# Pillow modes whose pixels NumPy reads exactly
_EXACT_MODES = ("1", "L", "LA", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I", "F")


def read_image(path: Path) -> np.ndarray:
    """The image's samples with their own dtype: `(H, W)` gray, `(H, W, C)` color, and
    for a multi-page TIFF `(pages, H, W[, C])`."""
    if path.suffix.lower() in TIFF_SUFFIXES:
        import tifffile

        return np.asarray(tifffile.imread(path))
    from PIL import Image

    depth = _png_bit_depth(path)
    with Image.open(path) as image:
        if image.mode == "P":  # a palette holds colors exactly: expand it
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        if image.mode not in _EXACT_MODES:
            raise FileError(
                f"{path}: {image.mode} images are not read (they would be converted); "
                "save it as RGB or TIFF"
            )
        if depth == 16 and image.mode not in ("I;16", "I;16B", "I;16L", "I"):
            raise FileError(
                f"{path}: a 16-bit {image.mode} PNG would be read as 8 bits (Pillow's limit); "
                "save it as TIFF to keep every level"
            )
        data = np.asarray(image)
    data = data.astype(data.dtype.newbyteorder("="), copy=False)  # big-endian 16-bit too
    if image.mode == "I" and depth == 16:  # Pillow widens 16-bit gray to int32
        data = data.astype(np.uint16)
    return data


def _png_bit_depth(path: Path) -> int | None:
    """A PNG's bit depth per sample, from its header (None for other files)."""
    with open(path, "rb") as stream:
        header = stream.read(25)
    if header[:8] != b"\x89PNG\r\n\x1a\n" or len(header) < 25:
        return None
    return header[24]


def write_image(handle, suffix: str, array: np.ndarray) -> None:
    """Write `array` as the image format `suffix` names, exactly, or FileError saying why
    not and which format can."""
    if np.iscomplexobj(array):
        raise FileError("complex data cannot be written as an image; write .npy instead")
    if suffix in TIFF_SUFFIXES:
        import tifffile

        buffer = io.BytesIO()  # tifffile reads a handle's name, which an fd's is not
        tifffile.imwrite(buffer, array)
        handle.write(buffer.getvalue())
        return
    channels = 1 if array.ndim == 2 else array.shape[-1] if array.ndim == 3 else None
    allowed = _PILLOW_WRITES[suffix].get(array.dtype.name, ())
    if channels not in allowed:
        kinds = ", ".join(sorted(_PILLOW_WRITES[suffix]))
        raise FileError(
            f"a {suffix} image holds {kinds} samples (gray or color); this is "
            f"{array.dtype} of shape {array.shape}: write .tif, which holds it exactly, "
            "or .npy"
        )
    from PIL import Image

    data = array[..., 0] if array.ndim == 3 and channels == 1 else array
    image = Image.fromarray(data)
    image.save(handle, format="JPEG" if suffix in (".jpg", ".jpeg") else suffix[1:].upper())
