"""Arrays in and out of files: .npy, .npz, .mat and images (exact: see `_images`);
every write is atomic."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ._errors import FileError
from ._images import PILLOW_SUFFIXES, TIFF_SUFFIXES, read_image, write_image

IMAGE_SUFFIXES = (*PILLOW_SUFFIXES, *TIFF_SUFFIXES)
ARRAY_SUFFIXES = (".npy", ".npz", ".mat")


def split_key(spec: str) -> tuple[Path, str | None]:
    """`data.npz:weights` names one array of a container; a plain path names the only one."""
    path, sep, key = spec.rpartition(":")
    if sep and Path(path).suffix.lower() in (".npz", ".mat") and key and "/" not in key:
        return Path(path), key
    return Path(spec), None


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_array(spec: str) -> np.ndarray:
    """Read one array; an image with its own samples and dtype (see `_images`)."""
    path, key = split_key(spec)
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES + IMAGE_SUFFIXES:
        raise FileError(f"{path}: unknown file type {suffix or '(none)'}; use {_known()}")
    if not path.is_file():
        raise FileError(f"{path}: no such file")
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return _pick(path, dict(archive), key)
        if suffix == ".mat":
            return _pick(path, _load_mat(path), key)
        return read_image(path)
    except FileError:
        raise
    except Exception as error:  # every library has its own idea of a bad file
        raise FileError(f"{path}: cannot read ({error})") from error


def _load_mat(path: Path) -> dict:
    from scipy.io import loadmat

    return {k: v for k, v in loadmat(path).items() if not k.startswith("__")}


def _pick(path: Path, arrays: dict, key: str | None) -> np.ndarray:
    if key is not None:
        if key not in arrays:
            raise FileError(f"{path}: no array named {key!r} (has {', '.join(sorted(arrays))})")
        return np.asarray(arrays[key])
    if len(arrays) != 1:
        names = ", ".join(sorted(arrays)) or "none"
        raise FileError(f"{path}: holds {len(arrays)} arrays ({names}); name one as {path}:NAME")
    return np.asarray(next(iter(arrays.values())))


def write_array(spec: str, array: np.ndarray, *, name: str = "y") -> Path:
    """Write `array` where `spec` says, atomically: on any error no file is left behind."""
    path, key = split_key(spec)
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES + IMAGE_SUFFIXES:
        raise FileError(f"{path}: unknown output file type {suffix or '(none)'}; use {_known()}")
    if not path.parent.is_dir():
        raise FileError(f"{path.parent}: no such directory")
    with _atomic(path, suffix) as handle:
        _write(handle, suffix, np.asarray(array), key or name)
    return path


def write_bytes(spec: str, data: bytes) -> Path:
    """Write `data` to `spec` atomically: on any error no file is left behind."""
    path = Path(spec)
    if not path.parent.is_dir():
        raise FileError(f"{path.parent}: no such directory")
    with _atomic(path, path.suffix) as handle:
        handle.write(data)
    return path


@contextlib.contextmanager
def _atomic(path: Path, suffix: str):
    """A handle on a temporary file beside `path` that replaces `path` when the block
    ends without error, and is removed otherwise."""
    fd, temporary = _temporary(path, suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(temporary, 0o666 & ~umask())  # mkstemp makes 0600; a plain write would not
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _temporary(path: Path, suffix: str) -> tuple[int, str]:
    """A temporary file beside `path`; FileError naming the folder that refuses it."""
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as error:
        raise FileError(f"{path.parent}: cannot write there ({error.strerror})") from None


def umask() -> int:
    """The process's file mode creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write(handle, suffix: str, array: np.ndarray, name: str) -> None:
    if suffix == ".npy":
        np.save(handle, array, allow_pickle=False)
    elif suffix == ".npz":
        np.savez(handle, **{name: array})
    elif suffix == ".mat":
        from scipy.io import savemat

        savemat(handle, {name: array})
    else:
        write_image(handle, suffix, array)


SCALES = ("auto", "clip", "none")


def image_to_unit(image: np.ndarray) -> np.ndarray:
    """An image as a layer takes it: `(H, W, C)` floats; integer samples as fractions of
    their type's full scale (uint8 / 255, uint16 / 65535: exact to round back), bool as
    0 and 1, float samples as they are (a float TIFF keeps its values)."""
    if image.dtype.kind in "iu":
        full = float(np.iinfo(image.dtype).max)
        work = np.float32 if image.dtype.itemsize <= 2 else np.float64
        data = image.astype(work) / work(full)
    elif image.dtype.kind == "b":
        data = image.astype(np.float32)
    else:
        data = image
    return data[..., None] if data.ndim == 2 else data


def unit_to_image(
    values: np.ndarray, like: np.dtype, suffix: str, scale: str
) -> tuple[np.ndarray, str | None]:
    """A layer's output as image samples in the input image's precision where the format
    holds it (a float input stays float in a TIFF, a 16-bit one 16-bit), else the
    format's own: fractions of full scale mapped by `scale` (`image_values`)."""
    if np.iscomplexobj(values):
        raise FileError("complex data cannot be written as an image; write .npy instead")
    if values.ndim == 3 and values.shape[-1] == 1:  # one channel: a gray image
        values = values[..., 0]
    if like.kind == "f" and suffix in TIFF_SUFFIXES:
        return values.astype(like, copy=False), None
    # the input's unsigned samples where the format holds them, else the widest it holds
    gray = values.ndim == 2
    widest = np.dtype(np.uint16 if suffix in TIFF_SUFFIXES or (gray and suffix == ".png")
                      else np.uint8)  # fmt: skip
    own = like.kind == "u" and (suffix in TIFF_SUFFIXES or like.itemsize <= widest.itemsize)
    target = like if own else widest
    fractions, note = image_values(values, scale)
    full = float(np.iinfo(target).max)
    return (fractions * full).round().astype(target), note


def image_values(array: np.ndarray, scale: str) -> tuple[np.ndarray, str | None]:
    """`array` mapped into an image's [0, 1] by `scale`, and a note when values changed.

    `auto` leaves data within [0, 1] alone and rescales any other range linearly onto it
    (a Sobel filter keeps its negative half); `clip` cuts to [0, 1] and counts what was
    cut; `none` refuses data outside [0, 1]. NaN becomes 0.
    """
    if np.iscomplexobj(array):
        raise FileError("complex data cannot be written as an image; write .npy instead")
    values = np.nan_to_num(np.asarray(array, dtype=np.float64))
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if low >= 0.0 and high <= 1.0:
        return values, None
    span = f"[{low:.4g}, {high:.4g}]"
    if scale == "none":
        raise FileError(
            f"values span {span}, outside an image's [0, 1]: use --scale auto (rescale) "
            "or --scale clip, or write .npy"
        )
    if scale == "clip":
        lost = int(np.count_nonzero((values < 0.0) | (values > 1.0)))
        note = f"{lost} of {values.size} values outside [0, 1] clipped (span {span})"
        return np.clip(values, 0.0, 1.0), note
    note = f"values in {span} rescaled to the image's full range (--scale clip cuts instead)"
    return (values - low) / (high - low), note


def _known() -> str:
    return ", ".join(ARRAY_SUFFIXES + IMAGE_SUFFIXES)
