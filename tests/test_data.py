"""deepmat.data (cat/non-cat loader, picture loader, the table of picture sizes) and deepmat.plotting
(cost curve PNG)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from deepmat.data import (
    CAT_DIR_ENV,
    CAT_IMAGE_SHAPE,
    PICTURE_SIZES,
    CatData,
    Dataset,
    default_cat_dir,
    image_row,
    load_catvnoncat,
    load_dataset,
    load_image,
    picture_sizes_text,
)
from deepmat.plotting import IMAGE_SHAPES, image_shape, plot_cost_curve

h5py = pytest.importorskip("h5py")
Image = pytest.importorskip("PIL.Image")

REPO = Path(__file__).resolve().parents[1]
CAT_DIR = Path(os.environ.get(CAT_DIR_ENV) or REPO.parent / "shared" / "data" / "catvnoncat")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cat() -> CatData:
    """The real data set, loaded once."""
    if not CAT_DIR.is_dir():
        pytest.skip(f"cat/non-cat data folder {CAT_DIR} not found (set ${CAT_DIR_ENV} to run these tests)")
    return load_catvnoncat(CAT_DIR)


def write_cat_files(folder: Path, m_train: int = 6, m_test: int = 4, **overrides: object) -> Path:
    """Write a small, valid pair of ``*_catvnoncat.h5`` files; ``overrides`` replaces (or, with
    ``None``, drops) datasets of the train file."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, m in (("train", m_train), ("test", m_test)):
        datasets: dict[str, object] = {
            f"{split}_set_x": rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8),
            f"{split}_set_y": np.arange(m, dtype=np.int64) % 2,
            "list_classes": np.array([b"non-cat", b"cat"]),
        }
        if split == "train":
            datasets.update(overrides)
        with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
            for key, value in datasets.items():
                if value is not None:
                    f[key] = value
    return folder


# -- load_catvnoncat on the real files ---------------------------------------------------------


def test_real_data_shapes_and_types(cat: CatData) -> None:
    assert cat.X_train.shape == (209, 12288) and cat.X_train.dtype == np.float64
    assert cat.X_test.shape == (50, 12288) and cat.X_test.dtype == np.float64
    assert cat.y_train.shape == (209,) and cat.y_train.dtype == np.int64
    assert cat.y_test.shape == (50,) and cat.y_test.dtype == np.int64
    assert cat.images_train.shape == (209, 64, 64, 3) and cat.images_train.dtype == np.uint8
    assert cat.images_test.shape == (50, 64, 64, 3) and cat.images_test.dtype == np.uint8
    assert cat.classes == ["non-cat", "cat"]
    assert "X_train=(209, 12288)" in repr(cat)


def test_real_data_values(cat: CatData) -> None:
    for X in (cat.X_train, cat.X_test):
        assert 0.0 <= X.min() and X.max() <= 1.0
        assert X.max() > 0.99  # really divided by 255, not by 255² or left in 0..255
    assert set(np.unique(cat.y_train)) == {0, 1} and set(np.unique(cat.y_test)) == {0, 1}
    assert int(cat.y_train.sum()) == 72 and int(cat.y_test.sum()) == 33  # cats in each split
    # the flattening is exactly x.reshape(m, -1) / 255: row-major, the RGB channel fastest
    np.testing.assert_array_equal(cat.X_train, cat.images_train.reshape(209, -1) / 255.0)
    np.testing.assert_array_equal(cat.X_test[3, :3], cat.images_test[3, 0, 0, :] / 255.0)


def test_default_dir_from_environment(cat: CatData, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAT_DIR_ENV, str(CAT_DIR))
    np.testing.assert_array_equal(load_catvnoncat().y_test, cat.y_test)


def test_default_dir_without_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CAT_DIR_ENV, raising=False)
    # from a folder with no ../shared next to it: the folder next to the repository
    monkeypatch.chdir(tmp_path)
    assert default_cat_dir() == REPO.parent / "shared" / "data" / "catvnoncat"
    # from a folder that has ../shared/data/catvnoncat: that one, relative to the current dir
    work = tmp_path / "project"
    work.mkdir()
    write_cat_files(tmp_path / "shared" / "data" / "catvnoncat")
    monkeypatch.chdir(work)
    assert default_cat_dir() == Path("..", "shared", "data", "catvnoncat")
    assert load_catvnoncat().X_train.shape == (6, 12288)


# -- load_catvnoncat on files written here -----------------------------------------------------


def test_small_valid_files(tmp_path: Path) -> None:
    data = load_catvnoncat(write_cat_files(tmp_path, m_train=5, m_test=3))
    assert data.X_train.shape == (5, 12288) and data.X_test.shape == (3, 12288)
    np.testing.assert_array_equal(data.y_train, [0, 1, 0, 1, 0])
    assert data.classes == ["non-cat", "cat"]


def test_the_cat_data_is_a_dataset_carrying_its_pictures(tmp_path: Path) -> None:
    folder = write_cat_files(tmp_path, m_train=5, m_test=3)
    data = load_catvnoncat(folder)
    assert CatData is Dataset and isinstance(data, Dataset)
    assert data.images_train.shape == (5, 64, 64, 3) and data.images_train.dtype == np.uint8
    assert data.images_test.shape == (3, 64, 64, 3) and data.images_test.dtype == np.uint8
    np.testing.assert_array_equal(data.X_train, data.images_train.reshape(5, -1) / 255.0)
    assert "images_train=(5, 64, 64, 3) uint8, images_test=(3, 64, 64, 3) uint8" in repr(data)
    # by name, X takes the dtype asked for and the pictures stay
    by_name = load_dataset("cat", data_dir=folder, dtype="float32")
    assert by_name.X_train.dtype == np.float32 and by_name.classes == ["non-cat", "cat"]
    np.testing.assert_array_equal(by_name.images_train, data.images_train)
    np.testing.assert_array_equal(by_name.images_test, data.images_test)


def test_labels_stored_as_a_row_are_accepted(tmp_path: Path) -> None:
    data = load_catvnoncat(write_cat_files(tmp_path, m_train=4, train_set_y=np.array([[1, 0, 0, 1]])))
    np.testing.assert_array_equal(data.y_train, [1, 0, 0, 1])
    assert data.y_train.dtype == np.int64


def test_missing_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    with pytest.raises(FileNotFoundError, match="no_such_folder") as info:
        load_catvnoncat(missing)
    assert "data_dir=" in str(info.value) and "--data-dir" in str(info.value)


def test_environment_pointing_nowhere_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAT_DIR_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        load_catvnoncat()


def test_missing_file_names_it(tmp_path: Path) -> None:
    write_cat_files(tmp_path)
    (tmp_path / "test_catvnoncat.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"test_catvnoncat\.h5"):
        load_catvnoncat(tmp_path)


def test_a_file_given_as_folder(tmp_path: Path) -> None:
    file = tmp_path / "file.h5"
    file.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_catvnoncat(file)


@pytest.mark.parametrize("content", [b"", b"this is not HDF5 at all" * 100])
def test_corrupt_file_is_a_value_error(tmp_path: Path, content: bytes) -> None:
    write_cat_files(tmp_path)
    (tmp_path / "train_catvnoncat.h5").write_bytes(content)
    with pytest.raises(ValueError, match=r"train_catvnoncat\.h5.*cannot be read as HDF5") as info:
        load_catvnoncat(tmp_path)
    assert "train_set_x" in str(info.value)  # says what was expected


def test_truncated_file_is_a_value_error(tmp_path: Path) -> None:
    write_cat_files(tmp_path)
    path = tmp_path / "test_catvnoncat.h5"
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ValueError, match=r"test_catvnoncat\.h5"):
        load_catvnoncat(tmp_path)


@pytest.mark.parametrize("key", ["train_set_x", "train_set_y", "list_classes"])
def test_missing_key_is_a_value_error(tmp_path: Path, key: str) -> None:
    write_cat_files(tmp_path, **{key: None})
    with pytest.raises(ValueError, match=rf"train_catvnoncat\.h5.*lacks.*{key}"):
        load_catvnoncat(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train_set_x": np.zeros((6, 32, 32, 3), np.uint8)}, r"\(m, 64, 64, 3\) uint8"),
        ({"train_set_x": np.zeros((6, 64, 64, 3), np.float32)}, r"\(m, 64, 64, 3\) uint8"),
        ({"train_set_y": np.array([0, 1, 0])}, r"\(6,\) integer labels"),
        ({"train_set_y": np.array([0.0, 1, 0, 1, 0, 1])}, r"\(6,\) integer labels"),
        ({"train_set_y": np.array([0, 1, 2, 1, 0, 1])}, "labels 0 and 1"),
        ({"list_classes": np.array([b"cat"])}, "two names"),
    ],
)
def test_wrong_shapes_or_types_are_value_errors(tmp_path: Path, overrides: dict, message: str) -> None:
    write_cat_files(tmp_path, **overrides)
    with pytest.raises(ValueError, match=message):
        load_catvnoncat(tmp_path)


def test_without_h5py_advises_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install deepmat\[data\]"):
        load_catvnoncat(tmp_path)


# -- load_image -------------------------------------------------------------------------------


def random_picture(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_png_of_the_right_size_is_read_exactly(tmp_path: Path) -> None:
    pixels = random_picture((64, 64, 3))
    Image.fromarray(pixels).save(tmp_path / "p.png")
    x = load_image(tmp_path / "p.png")
    assert x.shape == (1, 12288) and x.dtype == np.float64
    np.testing.assert_array_equal(x, pixels.reshape(1, -1) / 255.0)


def test_a_test_picture_saved_as_png_gives_its_row(cat: CatData, tmp_path: Path) -> None:
    """load_image prepares a picture exactly as load_catvnoncat does."""
    Image.fromarray(cat.images_test[7]).save(tmp_path / "seven.png")
    np.testing.assert_array_equal(load_image(str(tmp_path / "seven.png")), cat.X_test[7:8])


@pytest.mark.parametrize(
    ("name", "mode", "shape"),
    [
        ("large.jpg", "RGB", (120, 90, 3)),
        ("small.png", "RGB", (20, 30, 3)),
        ("grey.png", "L", (64, 64)),
        ("grey.jpg", "L", (100, 50)),
        ("alpha.png", "RGBA", (80, 80, 4)),
        ("palette.png", "P", (70, 70)),
    ],
)
def test_other_sizes_and_modes_become_64_by_64_rgb(
    tmp_path: Path, name: str, mode: str, shape: tuple
) -> None:
    picture = Image.fromarray(random_picture(shape))
    if mode == "P":
        picture = picture.convert("P")
    assert picture.mode == mode
    picture.save(tmp_path / name)
    x = load_image(tmp_path / name)
    assert x.shape == (1, 64 * 64 * 3) and x.dtype == np.float64
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    if mode == "L":  # grey levels repeated in R, G and B
        rgb = x.reshape(64, 64, 3)
        np.testing.assert_array_equal(rgb[..., 0], rgb[..., 1])
        np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


def test_other_target_size(tmp_path: Path) -> None:
    Image.fromarray(random_picture((64, 64, 3))).save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png", size=(32, 16)).shape == (1, 32 * 16 * 3)


@pytest.mark.parametrize("size", [(0, 64), (64,), "64x64", (64.0, 64), (True, 64)])
def test_bad_size(tmp_path: Path, size: object) -> None:
    with pytest.raises(ValueError, match=r"size must be \(width, height\)"):
        load_image(tmp_path / "whatever.png", size=size)


def test_missing_image_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.png.*does not exist"):
        load_image(tmp_path / "nothing.png")
    with pytest.raises(FileNotFoundError, match="is not a file"):
        load_image(tmp_path)


def test_corrupt_image_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_bytes(b"not a picture at all")
    with pytest.raises(ValueError, match=r"fake\.png.*cannot be read as a picture.*PNG or JPEG"):
        load_image(tmp_path / "fake.png")


def test_truncated_jpeg_is_a_value_error(tmp_path: Path) -> None:
    Image.fromarray(random_picture((100, 100, 3))).save(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "half.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"half\.jpg"):
        load_image(tmp_path / "half.jpg")


def test_without_pillow_advises_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install deepmat\[data\]"):
        load_image(tmp_path / "p.png")


# -- the table of picture sizes, image_row ------------------------------------------------------


def test_the_picture_table() -> None:
    assert list(PICTURE_SIZES) == [784, 12288, 64]
    assert [(size.shape, size.scale) for size in PICTURE_SIZES.values()] == [
        ((28, 28), 255),
        ((64, 64, 3), 255),
        ((8, 8), 16),
    ]
    assert all(n == size.n_features == int(np.prod(size.shape)) for n, size in PICTURE_SIZES.items())
    assert picture_sizes_text() == "784 = 28×28 grey, 12288 = 64×64 RGB, 64 = 8×8 grey"
    assert picture_sizes_text(" → ", values=True).endswith("64 → 8×8 grey in 0..16/16")
    assert CAT_IMAGE_SHAPE == PICTURE_SIZES[12288].shape


@pytest.mark.parametrize("n_features", [784, 12288, 64, 10, 3072])
def test_plotting_image_shape_agrees_with_the_table(n_features: int) -> None:
    size = PICTURE_SIZES.get(n_features)
    assert image_shape(n_features) == (size.shape if size is not None else None)
    assert image_shape(np.int64(n_features)) == image_shape(n_features)
    assert IMAGE_SHAPES == {n: s.shape for n, s in PICTURE_SIZES.items()}


@pytest.mark.parametrize("n_features", list(PICTURE_SIZES))
def test_image_row_of_a_picture_of_the_tables_size(tmp_path: Path, n_features: int) -> None:
    size = PICTURE_SIZES[n_features]
    pixels = random_picture(size.shape, seed=n_features)
    Image.fromarray(pixels).save(tmp_path / "p.png")
    row = image_row(tmp_path / "p.png", n_features)
    assert row.shape == (1, n_features) and row.dtype == np.float64
    expected = pixels.reshape(1, -1) / 255.0  # a grey picture's luma is its grey level
    if size.scale != 255:
        expected = np.round(expected * size.scale) / size.scale  # the digits' sixteenths
        np.testing.assert_array_equal(row * 16, np.round(row * 16))
    np.testing.assert_allclose(row, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_features", list(PICTURE_SIZES))
def test_image_row_resizes_and_converts_any_picture(tmp_path: Path, n_features: int) -> None:
    size = PICTURE_SIZES[n_features]
    Image.fromarray(random_picture((45, 70, 3))).save(tmp_path / "p.png")
    row = image_row(tmp_path / "p.png", n_features)
    rgb = load_image(tmp_path / "p.png", size=(size.width, size.height)).reshape(-1, 3)
    expected = rgb.reshape(1, -1) if size.channels == 3 else (rgb @ [0.299, 0.587, 0.114]).reshape(1, -1)
    if size.scale != 255:
        expected = np.round(expected * 16) / 16
    np.testing.assert_array_equal(row, expected)


def test_image_row_of_an_unknown_size_lists_the_table(tmp_path: Path) -> None:
    Image.fromarray(random_picture((8, 8, 3))).save(tmp_path / "p.png")
    with pytest.raises(
        ValueError, match=r"takes 12 features, which is no picture size.*\(784: 28×28 grey, 12288"
    ):
        image_row(tmp_path / "p.png", 12)


# -- plot_cost_curve --------------------------------------------------------------------------


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        assert picture.mode in ("RGB", "RGBA")
        width, height = picture.size
        assert width > 0 and height > 0
        picture.load()


def test_plot_writes_a_png(tmp_path: Path) -> None:
    costs = list(0.7 * np.exp(-np.arange(2500) / 500))
    path = tmp_path / "costs.png"
    assert plot_cost_curve(costs, path, title="test", every=1) == path
    assert_png(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.png"]  # no temporary file left


def test_plot_creates_the_folder_and_accepts_every(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "run" / "c.png"
    plot_cost_curve(np.array([0.7, 0.5, 0.3]), str(path), every=100)
    assert_png(path)


def test_plot_replaces_a_file_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.png"
    plot_cost_curve([0.7, 0.6], path)
    before = path.read_bytes()

    def broken_savefig(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    from matplotlib.figure import Figure

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_cost_curve([0.5, 0.4], path)
    assert path.read_bytes() == before  # the old picture is intact
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"]  # and the temporary file is gone


@pytest.mark.parametrize("costs", [[], [[0.1, 0.2]], ["a", "b"], [float("nan")]])
def test_plot_refuses_bad_costs(tmp_path: Path, costs: object) -> None:
    with pytest.raises(ValueError, match="costs"):
        plot_cost_curve(costs, tmp_path / "c.png")
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_plot_refuses_bad_every(tmp_path: Path, every: object) -> None:
    with pytest.raises(ValueError, match="every"):
        plot_cost_curve([0.7, 0.6], tmp_path / "c.png", every=every)


def test_plot_without_matplotlib_advises_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"pip install deepmat\[plot\]"):
        plot_cost_curve([0.7, 0.6], tmp_path / "c.png")
