"""A picture as PNG bytes with the standard library alone (zlib), for pages that must not
depend on an imaging library: the run report's pictures of misclassified samples.

>>> import numpy as np
>>> png_bytes(np.zeros((2, 3)))[:8] == PNG_SIGNATURE
True
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour types by the number of channels: grey, RGB
_COLOUR_TYPE = {1: 0, 3: 2}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(pixels: np.ndarray) -> bytes:
    """``pixels`` ``(h, w)`` or ``(h, w, 1)`` grey or ``(h, w, 3)`` RGB, values in [0, 1] (clipped), as an
    8-bit PNG file's bytes.

    Raises:
        ValueError: another shape, or values that are not finite numbers.
    """
    array = np.asarray(pixels, dtype=np.float64)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    channels = 1 if array.ndim == 2 else array.shape[-1] if array.ndim == 3 else 0
    if channels not in _COLOUR_TYPE or 0 in array.shape[:2] or not np.isfinite(array).all():
        raise ValueError(
            f"pixels must be (h, w), (h, w, 1) or (h, w, 3) finite values in [0, 1]; received shape {array.shape}"
        )
    levels = np.rint(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    height, width = levels.shape[:2]
    rows = levels.reshape(height, width * channels)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )
