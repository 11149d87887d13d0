"""Your own tables: CSV, TSV and Parquet with a target column; the model's preprocessing
(scaling, one-hot text, imputation) fitted on the training rows, saved in the model file and
applied by predict, evaluate, the ONNX graph and the PyTorch export."""

from __future__ import annotations

import warnings

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import torch

import deepmat
from deepmat import Network
from deepmat.cli import main
from deepmat.data import load_dataset, load_table
from deepmat.preprocessor import Preprocessor

rng = np.random.default_rng(5)


def frame(m: int = 90, missing: bool = False) -> pd.DataFrame:
    size = rng.normal(10, 3, m)
    colour = rng.choice(["red", "green", "blue"], m)
    weight = rng.uniform(0, 100, m)
    kind = np.where(size + (colour == "red") * 4 > 11, "big", "small")
    kind[: m // 6] = "odd"
    table = pd.DataFrame({"size": size, "colour": colour, "weight": weight, "kind": kind})
    if missing:
        table.loc[4, "size"] = np.nan
        table.loc[7, "colour"] = None
    return table


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "things.csv"
    frame().to_csv(path, index=False)
    return path


def test_a_csv_table_loads_with_raw_columns_and_a_preprocessor(csv_file):
    data = load_dataset(str(csv_file), target="kind")
    assert data.classes == ["big", "odd", "small"]
    assert list(data.X_train.columns) == ["size", "colour", "weight"]
    assert data.X_train.shape[0] + data.X_test.shape[0] == 90 and data.X_test.shape[0] == 18
    shares = [np.mean(data.y_test == c) for c in range(3)]
    expected = [np.mean(np.concatenate([data.y_train, data.y_test]) == c) for c in range(3)]
    np.testing.assert_allclose(shares, expected, atol=1 / 18)  # stratified
    assert data.preprocessor.text_columns == ["colour"] and not data.preprocessor.fitted


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_tsv_and_parquet_read_the_same_rows(tmp_path, suffix):
    table = frame()
    path = tmp_path / f"t{suffix}"
    if suffix == ".tsv":
        table.to_csv(path, sep="\t", index=False)
    else:
        table.to_parquet(path)
    csv = tmp_path / "t.csv"
    table.to_csv(csv, index=False)
    a, b = load_table(path, "kind"), load_table(csv, "kind")
    pd.testing.assert_frame_equal(a.X_train, b.X_train, check_exact=False)
    assert np.array_equal(a.y_train, b.y_train)


def test_a_missing_value_names_its_line_and_column_unless_imputed(tmp_path):
    path = tmp_path / "holes.csv"
    frame(missing=True).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"holes.csv', line 6, column 'size': missing value; give --impute"):
        load_table(path, "kind")
    for impute in ("mean", "median", "most-frequent"):
        data = load_table(path, "kind", impute=impute, test_fraction=0.1)
        pre = data.preprocessor
        X = pre.fit(data.X_train).transform(data.X_train)
        assert np.isfinite(X).all()
        assert pre.columns[1].fill in ("red", "green", "blue")  # text: the most frequent category
    raw = frame(missing=True)["size"].to_numpy()
    pre = Preprocessor(impute="median").fit(raw[:, None])
    assert pre.columns[0].fill == pytest.approx(np.nanmedian(raw))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: frame().to_csv(p, index=False) or ("nope", {}), r"has no column 'nope' to predict; its columns are \['size', 'colour', 'weight', 'kind'\]"),
        (lambda p: frame().assign(empty=np.nan).to_csv(p, index=False) or ("kind", {"impute": "mean"}), r"column 'empty' has no value at all"),
        (lambda p: pd.DataFrame({"id": [f"u{i}" for i in range(20_000)], "kind": ["a", "b"] * 10_000}).to_csv(p, index=False) or ("kind", {}), None),
        (lambda p: (p.write_text(""), ("kind", {}))[1], r"is empty; expected a header line and rows"),
        (lambda p: (p.write_text("a,kind\n"), ("kind", {}))[1], r"has a header but no rows"),
        (lambda p: frame().assign(kind=np.arange(90)).to_csv(p, index=False) or ("kind", {}), r"the target 'kind' has 90 different values in 90 rows"),
    ],
)  # fmt: skip
def test_bad_tables_are_refused(tmp_path, make, message):
    path = tmp_path / "bad.csv"
    target, options = make(path)
    if message is None:  # a text column with 20,000 categories: refused when the model fits it
        data = load_table(path, target, **options)
        with pytest.raises(
            ValueError,
            match=r"column 'id' has 16,000 different values; one-hot encoding takes at most 10,000",
        ):
            data.preprocessor.fit(data.X_train)
        return
    with pytest.raises(ValueError, match=message):
        load_table(path, target, **options)


def test_a_parquet_file_with_nested_values_is_refused(tmp_path):
    path = tmp_path / "nested.parquet"
    pd.DataFrame({"a": [[1, 2], [3]], "kind": ["x", "y"]}).to_parquet(path)
    with pytest.raises(ValueError, match=r"column 'a' holds nested values \(lists, structs or maps\)"):
        load_table(path, "kind")


# -- the preprocessing is part of the model -----------------------------------------------------

KINDS = {
    "standardize": lambda: Preprocessor(scaling="standardize"),
    "minmax": lambda: Preprocessor(scaling="minmax"),
    "none": lambda: Preprocessor(),
    "divide (pictures)": lambda: Preprocessor(scaling="divide", divide_by=255, picture_shape=(2, 2, 1)),
    "impute mean": lambda: Preprocessor(scaling="standardize", impute="mean"),
    "impute median": lambda: Preprocessor(scaling="minmax", impute="median"),
    "impute most-frequent": lambda: Preprocessor(impute="most-frequent"),
    "text one-hot": lambda: Preprocessor(columns=["size", "colour", "weight"], text_columns=["colour"], scaling="standardize"),
    "text one-hot with missing": lambda: Preprocessor(columns=["size", "colour", "weight"], text_columns=["colour"], scaling="standardize", impute="mean"),
}  # fmt: skip


def rows_for(kind: str):
    if kind.startswith("text"):
        return frame(missing=kind.endswith("missing")).drop(columns=["kind"]), rng.integers(0, 3, 90)
    X = rng.uniform(0, 255, (90, 4)).round()
    if kind.startswith("impute"):
        X[[3, 8], [0, 2]] = np.nan
    return X, rng.integers(0, 3, 90)


def onnx_inputs(pre: Preprocessor, rows, dtype) -> dict[str, np.ndarray]:
    if isinstance(rows, pd.DataFrame):
        numbers = [c.name for c in pre.columns if c.kind == "number"]
        texts = [c.name for c in pre.columns if c.kind == "text"]
        return {
            "X": rows[numbers].to_numpy(dtype),
            "X_text": rows[texts].fillna("").to_numpy(str).astype(object),
        }
    return {"X": np.asarray(rows, dtype=dtype)}


@pytest.mark.parametrize("kind", KINDS)
def test_every_preprocessing_kind_round_trips_save_load_onnx_and_pytorch(kind, tmp_path):
    rows, y = rows_for(kind)
    n_in = 5 if kind.startswith("text") else 4
    net = Network([n_in, 6, 3], "tanh", "softmax", seed=1, dtype="float32", preprocessor=KINDS[kind]())
    net.fit(rows, y, epochs=3, batch_size=32, optimizer="adam", learning_rate=0.05, verbose=0)
    expected = net.predict_proba(rows)
    net.save(tmp_path / "m.safetensors")
    loaded = deepmat.load(tmp_path / "m.safetensors")
    assert loaded.preprocessor.get_config() == net.preprocessor.get_config()
    np.testing.assert_array_equal(loaded.predict_proba(rows), expected)
    session = ort.InferenceSession(net.to_onnx().SerializeToString())
    onnx_out = session.run(None, onnx_inputs(net.preprocessor, rows, np.float32))[0]
    # float32 to its rounding: onnxruntime's tanh and exp approximate to a few 1e-7, and
    # deepmat's fused (Numba) and NumPy's loops round differently (rtol 1e-5, as test_onnx)
    np.testing.assert_allclose(onnx_out, expected, rtol=1e-5, atol=1e-6)
    pre = net.preprocessor
    if pre.has_text or any(c.fill is not None for c in pre.columns):
        with pytest.raises(ValueError, match=r"feed it net\.preprocessor\.transform"):
            net.to_torch(preprocessing=True)
        seq, torch_in = net.to_torch(), pre.transform(rows, np.float32)  # the documented way
    else:
        seq, torch_in = net.to_torch(preprocessing=True), np.asarray(rows, np.float32)
    # float32 again: a row far from the data (the imputed ones) has Z in the tens, whose
    # rounding (~1e-6 each) the fused and NumPy passes and torch's kernels take differently
    np.testing.assert_allclose(
        seq(torch.from_numpy(torch_in)).detach().numpy(), expected, rtol=1e-5, atol=1e-5
    )


def test_values_far_outside_the_training_range_draw_a_warning():
    X = rng.uniform(0, 16, (60, 3))
    net = Network([3, 4, 2], preprocessor=Preprocessor(scaling="divide", divide_by=16))
    net.fit(X, rng.integers(0, 2, 60), epochs=1, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.predict(X[:5])  # the training range: no warning
    with pytest.warns(UserWarning, match=r"values far outside the training range in 'x0' \(.*trained on"):
        net.predict(X[:5] * 255)


def test_an_unseen_category_is_encoded_as_none_with_a_warning():
    table = frame().drop(columns=["kind"])
    pre = Preprocessor(text_columns=["colour"]).fit(table)
    odd = table.head(2).assign(colour=["purple", "red"])
    with pytest.warns(UserWarning, match=r"column 'colour' holds values never seen in training \('purple'\)"):
        X = pre.transform(odd)
    assert X[0, 1:4].sum() == 0 and X[1, 1:4].sum() == 1


def test_the_cli_trains_on_a_table_evaluates_its_run_folder_and_predicts_new_rows(tmp_path, capsys):
    table = frame(m=150)
    table.iloc[:120].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[120:].drop(columns=["kind"]).to_csv(tmp_path / "new.csv", index=False)
    run = tmp_path / "run"
    status = main(
        ["train", "--data", str(tmp_path / "train.csv"), "--target", "kind", "--layers", "16", "--epochs", "150",
         "--learning-rate", "0.01", "--dropout", "0", "--verbose", "2", "--out", str(run)]
    )  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert "3 columns, 3 classes" in out and "model: 5-16-3" in out
    assert main(["evaluate", str(run), "--json"]) == 0  # the data the run recorded
    assert '"accuracy"' in capsys.readouterr().out
    assert main(["predict", str(run), str(tmp_path / "new.csv")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 30 and all(
        line.split(": ")[1].split()[0] in ("big", "odd", "small") for line in lines
    )


def test_the_cli_asks_for_the_target_column(tmp_path, capsys, csv_file):
    assert main(["train", "--data", str(csv_file), "--out", str(tmp_path / "r")]) == 2
    assert "is a table: name the column to predict with --target NAME" in capsys.readouterr().err
