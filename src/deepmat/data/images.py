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
from dataclasses import dataclass

import numpy as np

from deepmat.data.checks import check_allocation, existing_file, optional_import

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


def load_image(path: str | os.PathLike, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """One picture file as a row ``(1, width·height·3)`` float64 in [0, 1], ready for
    ``net.predict_proba``.

    The file (PNG, JPEG or anything else Pillow reads) is turned upright by its EXIF
    orientation, converted to RGB (grey levels are repeated in the three channels; an alpha
    channel is dropped), resized to ``size`` with bilinear resampling (Pillow's
    ``Image.Resampling.BILINEAR``, anti-aliased when shrinking — the interpolation of
    ``scipy.misc.imresize`` that the course used), then flattened row-major and divided by 255,
    exactly as :func:`load_catvnoncat` prepares its pictures.

    Args:
        path: the picture file.
        size: ``(width, height)`` in pixels; the default ``(64, 64)`` gives 12288 values, what the
            cat models expect.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        ValueError: Pillow cannot read it as a picture; its declared size needs more than
            :func:`~deepmat.data.checks.max_load_bytes`; ``size`` is not two positive integers.
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
            image = ImageOps.exif_transpose(image).convert("RGB")
            image = image.resize((int(size[0]), int(size[1])), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
        except unreadable as error:
            raise _unreadable(file, error) from None
    return pixels.reshape(1, -1) / 255.0


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
