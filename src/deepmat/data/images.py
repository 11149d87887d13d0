"""Pictures as model rows: :func:`load_image` reads one picture file (PNG, JPEG, … through
Pillow) as a ``(1, width·height·3)`` row in [0, 1], prepared as :func:`load_catvnoncat
<deepmat.data.load_catvnoncat>` prepares its pictures. Pillow is optional
(``pip install deepmat[data]``).
"""

from __future__ import annotations

import os

import numpy as np

from deepmat.data.checks import existing_file, optional_import


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
        ValueError: Pillow cannot read it as a picture; ``size`` is not two positive integers.
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
    try:
        with Image.open(file) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image = image.resize((int(size[0]), int(size[1])), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        # UnidentifiedImageError and truncated files are OSErrors; some decoders raise SyntaxError
        raise ValueError(
            f"image {str(file)!r} cannot be read as a picture ({error}); expected a PNG or JPEG file"
        ) from None
    return pixels.reshape(1, -1) / 255.0
