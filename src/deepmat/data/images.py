"""Pictures as model rows, and the one table of the picture sizes deepmat knows.

:data:`PICTURE_SIZES` says how a row of ``n_features`` values is a picture:

======== ============ ======================== =========================================
features picture      shape                    values
======== ============ ======================== =========================================
784      28×28 grey   ``(28, 28)``             grey levels / 255 (MNIST, Fashion-MNIST)
12288    64×64 RGB    ``(64, 64, 3)``          RGB levels / 255 (the cat pictures)
64       8×8 grey     ``(8, 8)``               grey levels 0..16 / 16 (scikit-learn's digits)
======== ============ ======================== =========================================

A row is the picture flattened row-major (height, then width, then the channel).

- :func:`load_image`: one picture file (PNG, JPEG, … through Pillow) as a
  ``(1, width·height·3)`` RGB row in [0, 1], prepared as :func:`load_catvnoncat
  <deepmat.data.load_catvnoncat>` prepares its pictures.
- :func:`image_row`: one picture file as the ``(1, n_features)`` row a model of
  ``n_features`` inputs takes, for each size of the table.

Pillow is optional (``pip install deepmat[data]``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepmat.data.checks import check_allocation, existing_file, optional_import
from deepmat.preprocessing import scale as divide_rows
from deepmat.preprocessor import Preprocessor

#: the file endings ``deepmat predict`` takes for pictures (in a folder of them)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

#: ITU-R 601 luma, the weights of Pillow's ``convert("L")``: grey = 0.299 R + 0.587 G + 0.114 B.
LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class PictureSize:
    """How a row of :attr:`n_features` values is a picture: a record of :data:`PICTURE_SIZES`.

    Attributes:
        height, width: in pixels.
        channels: 1 for grey levels, 3 for RGB.
        scale: what the stored values are divided by to lie in [0, 1]: 255 for bytes, 16 for
            the grey levels 0..16 of scikit-learn's digits.
    """

    height: int
    width: int
    channels: int
    scale: int

    @property
    def n_features(self) -> int:
        """``height · width · channels``, the length of the row."""
        return self.height * self.width * self.channels

    @property
    def shape(self) -> tuple[int, ...]:
        """The picture's array shape: ``(height, width)`` grey, ``(height, width, 3)`` RGB."""
        return (self.height, self.width) if self.channels == 1 else (self.height, self.width, self.channels)

    @property
    def description(self) -> str:
        """``"28×28 grey"``, ``"64×64 RGB"``."""
        return f"{self.height}×{self.width} {'grey' if self.channels == 1 else 'RGB'}"

    @property
    def values(self) -> str:
        """``"in 0..16/16"`` when the values are not bytes divided by 255, else ``""``."""
        return "" if self.scale == 255 else f"in 0..{self.scale}/{self.scale}"


#: The picture sizes deepmat knows, by number of features, in the order messages list them.
PICTURE_SIZES: dict[int, PictureSize] = {
    size.n_features: size
    for size in (
        PictureSize(28, 28, 1, 255),  # MNIST, Fashion-MNIST
        PictureSize(64, 64, 3, 255),  # the cat pictures
        PictureSize(8, 8, 1, 16),  # scikit-learn's digits
    )
}


def picture_sizes_text(separator: str = " = ", values: bool = False) -> str:
    """The table in one line, as messages and help show it: ``"784 = 28×28 grey, 12288 = 64×64
    RGB, 64 = 8×8 grey"``; ``values=True`` adds the value scales that are not /255
    (``"… 8×8 grey in 0..16/16"``)."""
    return ", ".join(
        f"{n}{separator}{size.description}{' ' + size.values if values and size.values else ''}"
        for n, size in PICTURE_SIZES.items()
    )


def pixel_rows(
    rows: np.ndarray, dtype: Any, raw: bool, levels: float = 255
) -> tuple[np.ndarray, Preprocessor | None]:
    """Pixel rows ``(m, n)`` of stored levels (0..255 bytes, the digits' 0..16) as a loader
    returns them: divided by ``levels`` into [0, 1] in ``dtype``, with no preprocessor; or
    (``raw``) as they are, with the :class:`~deepmat.preprocessor.Preprocessor` that divides
    them inside a model (its picture shape from :data:`PICTURE_SIZES`), so that the model then
    takes pictures' own levels."""
    if not raw:
        return divide_rows(rows, levels, dtype), None
    size = PICTURE_SIZES.get(rows.shape[1])
    return rows, Preprocessor(scaling="divide", divide_by=levels, picture_shape=size.shape if size else None)


def load_image(path: str | os.PathLike, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """One picture file as a row ``(1, width·height·3)`` float64 in [0, 1], ready for
    ``net.predict_proba``.

    The file (PNG, JPEG, TIFF or anything else Pillow reads) is turned upright by its EXIF
    orientation, read at its own bit depth, resized to ``size`` with bilinear resampling
    (Pillow's ``Image.Resampling.BILINEAR``, anti-aliased when shrinking — the interpolation
    of ``scipy.misc.imresize`` that the course used), then flattened row-major (height, width,
    then the RGB channel) and scaled to [0, 1]:

    ===========================  ==========================================================
    8-bit RGB, grey, palette     values / 255 — exactly as :func:`load_catvnoncat` prepares
                                 its pictures; grey levels are repeated in the 3 channels
    with transparency (RGBA, LA,  composited over white first, as a page shows it (a
    palette with transparency)   transparent pixel is not black)
    16-bit grey (PNG)            values / 65535, resized in floating point
    floating point (TIFF "F")    taken as they are when all in [0, 1]; otherwise refused
                                 (their scale is unknown)
    32-bit integer grey          / 65535 when all in 0..65535 (16-bit data); otherwise refused
    16-bit RGB PNG               Pillow decodes 8 bits per channel: read as such, with a
                                 ``UserWarning`` saying so (quantised, not clipped)
    ===========================  ==========================================================

    Nothing is ever clipped or blackened silently.

    Args:
        path: the picture file.
        size: ``(width, height)`` in pixels; the default ``(64, 64)`` gives 12288 values, what the
            cat models expect.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        ValueError: Pillow cannot read it as a picture; its values have no known scale; its
            declared size needs more than :func:`~deepmat.data.checks.max_load_bytes`; ``size``
            is not two positive integers.
        ImportError: Pillow is not installed.
    """
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        raise ValueError(f"size must be (width, height), two positive integers; received {size!r}")
    Image = optional_import("PIL.Image", "load_image needs Pillow to read pictures")
    ImageOps = optional_import("PIL.ImageOps", "load_image needs Pillow to read pictures")
    file = existing_file(path, "image", "expected a PNG or JPEG picture")
    size = (int(size[0]), int(size[1]))
    unreadable = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)
    # UnidentifiedImageError and truncated files are OSErrors; some decoders raise SyntaxError
    try:
        image = Image.open(file)  # reads the header only
    except unreadable as error:
        raise _unreadable(file, error) from None
    with image:
        width, height = image.size  # decoded as RGBA at most: 4 bytes a pixel, twice (transposed)
        check_allocation(repr(str(file)), f"the picture, {width}×{height} pixels, needs", 8 * width * height)
        try:
            image = ImageOps.exif_transpose(image)
            if image.mode in WIDE_GREY_MODES or image.mode == "F":
                pixels = _wide_grey(Image, image, size, str(file))
            else:
                if _png_bit_depth(file) == 16:
                    warnings.warn(
                        f"{str(file)!r} is a 16-bit colour PNG; Pillow reads 8 bits per channel, so it is "
                        "read at 8 bits (quantised to 1/255, not clipped)",
                        UserWarning,
                        stacklevel=2,
                    )
                rgb = _flatten_transparency(Image, image)
                pixels = np.asarray(rgb.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8) / 255.0
        except unreadable as error:
            if isinstance(error, ValueError) and str(error).startswith(repr(str(file))):
                raise  # our own, already naming the file
            raise _unreadable(file, error) from None
    return pixels.reshape(1, -1)


#: Pillow's modes for grey pictures of more than 8 bits (16-bit PNG, 32-bit integers)
WIDE_GREY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
#: the largest value of 16-bit data
MAX_16_BIT = 65535


def _wide_grey(Image: Any, image: Any, size: tuple[int, int], name: str) -> np.ndarray:
    """A 16-bit, 32-bit integer or floating-point grey picture as ``(h, w, 3)`` in [0, 1],
    resized in floating point (no rounding to 8 bits on the way)."""
    values = np.asarray(image, dtype=np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if image.mode == "F":
        if low < 0 or high > 1 or not np.isfinite(values).all():
            raise ValueError(
                f"{name!r} is a floating-point picture with values from {low:g} to {high:g}; deepmat reads "
                "floating-point pictures in [0, 1] (save it scaled to [0, 1], or as an 8- or 16-bit PNG)"
            )
        scale = 1.0
    else:
        if low < 0 or high > MAX_16_BIT:
            raise ValueError(
                f"{name!r} is a {image.mode} integer picture with values from {low:g} to {high:g}; deepmat "
                f"reads integer grey pictures of 8 or 16 bits (0..{MAX_16_BIT})"
            )
        scale = float(MAX_16_BIT)
    resized = Image.fromarray(values.astype(np.float32), mode="F").resize(size, Image.Resampling.BILINEAR)
    grey = np.asarray(resized, dtype=np.float64) / scale
    return np.repeat(grey[:, :, None], 3, axis=2)


def _flatten_transparency(Image: Any, image: Any) -> Any:
    """An 8-bit picture as RGB; one with transparency composited over white (a transparent
    pixel's own colour, often black, is not what anyone sees)."""
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _png_bit_depth(file: Path) -> int | None:
    """The bit depth in a PNG's header (IHDR), None for other files."""
    with open(file, "rb") as f:
        head = f.read(26)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 26:
        return None
    return head[24]


def _unreadable(file: os.PathLike, error: Exception) -> ValueError:
    return ValueError(
        f"image {str(file)!r} cannot be read as a picture ({error}); expected a PNG or JPEG file"
    )


def image_row(path: str | os.PathLike, n_features: int) -> np.ndarray:
    """One picture file as the row ``(1, n_features)`` float64 in [0, 1] that a model of
    ``n_features`` inputs takes, for each size of :data:`PICTURE_SIZES`.

    The picture is read by :func:`load_image` at the table's width and height (Pillow's
    bilinear resize); RGB sizes keep it as it is, grey sizes take its ITU-R 601 luma
    (:data:`LUMA`), and sizes whose scale is not 255 (the digits' 0..16) round the grey levels
    to that many steps: ``round(grey · 16) / 16``.

    Raises:
        ValueError: ``n_features`` is no size of the table (the message lists them), or the
            file is not a picture.
        FileNotFoundError: ``path`` does not exist.
        ImportError: Pillow is not installed.
    """
    size = PICTURE_SIZES.get(n_features)
    if size is None:
        raise ValueError(
            f"the model takes {n_features} features, which is no picture size deepmat knows "
            f"({picture_sizes_text(': ')}); give the samples as an .npz (key X) or a .csv instead"
        )
    rgb = load_image(path, size=(size.width, size.height))
    if size.channels == 3:
        return rgb
    grey = rgb.reshape(size.height * size.width, 3) @ LUMA
    if size.scale != 255:
        grey = np.round(grey * size.scale) / size.scale
    return grey.reshape(1, -1)
