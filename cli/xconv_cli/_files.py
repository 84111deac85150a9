"""Arrays in and out of files: .npy, .npz, .mat and images; every write is atomic."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
ARRAY_SUFFIXES = (".npy", ".npz", ".mat")


class FileError(ValueError):
    """A file that cannot be read or written as an array."""


def split_key(spec: str) -> tuple[Path, str | None]:
    """`data.npz:weights` names one array of a container; a plain path names the only one."""
    path, sep, key = spec.rpartition(":")
    if sep and Path(path).suffix.lower() in (".npz", ".mat") and key and "/" not in key:
        return Path(path), key
    return Path(spec), None


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_array(spec: str) -> np.ndarray:
    """Read one array; images become float32 `(H, W, C)` in [0, 1]."""
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
        return _read_image(path)
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


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGB")
        data = np.asarray(image, dtype=np.float32) / 255.0
    return data[..., None] if data.ndim == 2 else data


def write_array(spec: str, array: np.ndarray, *, name: str = "y") -> Path:
    """Write `array` where `spec` says, atomically: on any error no file is left behind."""
    path, key = split_key(spec)
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES + IMAGE_SUFFIXES:
        raise FileError(f"{path}: unknown output file type {suffix or '(none)'}; use {_known()}")
    if not path.parent.is_dir():
        raise FileError(f"{path.parent}: no such directory")
    fd, temporary = _temporary(path, suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write(handle, suffix, np.asarray(array), key or name)
        os.chmod(temporary, 0o666 & ~umask())  # mkstemp makes 0600; a plain write would not
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


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
        _write_image(handle, suffix, array)


def _write_image(handle, suffix: str, array: np.ndarray) -> None:
    from PIL import Image

    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise FileError(
            f"an image needs (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) data, "
            f"got shape {array.shape}; write .npy instead"
        )
    values, _ = image_values(array, "clip")  # already in [0, 1] from `image_values`
    pixels = (values * 255.0).round()
    image = Image.fromarray(pixels.astype(np.uint8))
    image.save(handle, format="JPEG" if suffix in (".jpg", ".jpeg") else suffix[1:].upper())


SCALES = ("auto", "clip", "none")


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
