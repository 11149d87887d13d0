"""Pictures are read at their real bit depth (16-bit PNG, float TIFF, 32-bit integers,
palette and alpha) or refused with a clear error: never silently clipped or blackened."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from deepmat.data import image_row, load_image


def png_16_bit_rgb(path, pixels: np.ndarray) -> None:
    """A 16-bit-per-channel RGB PNG, written byte by byte (Pillow cannot write one)."""
    height, width, _ = pixels.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + pixels[i].astype(">u2").tobytes() for i in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_16_bit_grey_keeps_its_levels(tmp_path):
    levels = np.full((8, 8), 1000, dtype=np.uint16)
    levels[:, 4:] = 60000
    Image.fromarray(levels).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode == "I;16"
    row = load_image(tmp_path / "g16.png", size=(8, 8)).reshape(8, 8, 3)
    np.testing.assert_allclose(row[:, 0, 0], 1000 / 65535, rtol=1e-6)  # not 1.0: no clipping at 255
    np.testing.assert_allclose(row[:, 7, 2], 60000 / 65535, rtol=1e-6)
    assert np.all(row[..., 0] == row[..., 1])  # grey in the three channels


def test_16_bit_grey_through_a_grey_model_input(tmp_path):
    Image.fromarray(np.full((28, 28), 30000, dtype=np.uint16)).save(tmp_path / "g.png")
    np.testing.assert_allclose(image_row(tmp_path / "g.png", 784), 30000 / 65535, rtol=1e-6)


def test_float_tiff_in_0_1_is_read_and_outside_refused(tmp_path):
    values = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    Image.fromarray(values, mode="F").save(tmp_path / "f.tif")
    row = load_image(tmp_path / "f.tif", size=(8, 8)).reshape(8, 8, 3)
    np.testing.assert_allclose(row[..., 0], values, atol=1e-6)  # not 0: no blackening
    Image.fromarray(values * 300, mode="F").save(tmp_path / "wide.tif")
    with pytest.raises(
        ValueError,
        match=r"wide.tif' is a floating-point picture with values from 0 to 300; deepmat reads floating-point pictures in \[0, 1\]",
    ):
        load_image(tmp_path / "wide.tif")


def test_32_bit_integers_as_16_bit_data_or_refused(tmp_path):
    Image.fromarray(np.full((4, 4), 5000, dtype=np.int32), mode="I").save(tmp_path / "i.tif")
    np.testing.assert_allclose(load_image(tmp_path / "i.tif", size=(4, 4)), 5000 / 65535, rtol=1e-6)
    Image.fromarray(np.full((4, 4), 70000, dtype=np.int32), mode="I").save(tmp_path / "big.tif")
    with pytest.raises(ValueError, match=r"big.tif' is a I integer picture with values from 70000 to 70000"):
        load_image(tmp_path / "big.tif")


def test_transparent_pixels_are_white_not_black(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)  # black and fully transparent
    rgba[:2, :, :] = (255, 0, 0, 255)  # the top half opaque red
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    row = load_image(tmp_path / "a.png", size=(4, 4)).reshape(4, 4, 3)
    np.testing.assert_array_equal(row[3, 0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(row[0, 0], [1.0, 0.0, 0.0])
    la = np.zeros((4, 4, 2), dtype=np.uint8)
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(load_image(tmp_path / "la.png", size=(4, 4)), 1.0)


def test_palette_pictures_use_their_colours_and_transparency(tmp_path):
    palette = Image.new("P", (4, 4))
    palette.putpalette([0, 0, 0, 0, 128, 255] + [0] * 762)
    palette.putdata([1] * 8 + [0] * 8)
    palette.info["transparency"] = 0
    palette.save(tmp_path / "p.png", transparency=0)
    row = load_image(tmp_path / "p.png", size=(4, 4)).reshape(4, 4, 3)
    np.testing.assert_allclose(row[0, 0], [0, 128 / 255, 1.0])
    np.testing.assert_array_equal(row[3, 3], [1.0, 1.0, 1.0])  # index 0 is transparent: white


def test_16_bit_colour_png_is_read_at_8_bits_with_a_warning(tmp_path):
    pixels = np.zeros((4, 4, 3), dtype=np.uint16)
    pixels[..., 0] = 65535
    pixels[..., 1] = 32896  # 128·257: exactly 128 at 8 bits
    png_16_bit_rgb(tmp_path / "c16.png", pixels)
    with pytest.warns(UserWarning, match=r"c16.png' is a 16-bit colour PNG; Pillow reads 8 bits per channel"):
        row = load_image(tmp_path / "c16.png", size=(4, 4)).reshape(4, 4, 3)
    np.testing.assert_allclose(row[0, 0], [1.0, 128 / 255, 0.0])


def test_8_bit_pictures_read_exactly_as_before(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(
            load_image(tmp_path / "rgb.png", size=(6, 6)), rgb.reshape(1, -1) / 255.0
        )
