"""What the commands read: data sets (by registered name or path), models (a file or a run
folder), and the network a model file or config file describes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

import deepmat
from deepmat import data
from deepmat.cli.config import (
    build_network,
    datasets_text,
    fit_to_data,
    layers_without_data,
    read_config_file,
    settle,
)
from deepmat.network import Network


def load_data(
    name: str, data_dir: str | None, dtype: str, main_job: bool = False, table: dict[str, Any] | None = None
) -> tuple[Any, str, str]:
    """``(Dataset, description line, canonical name)`` for a data set name or path.

    ``main_job``: no data was asked for: Fashion-MNIST where it is installed, else digits.
    ``table``: the ``[data]`` settings of a table file (``target``, ``impute``, ``scale``);
    its Dataset then holds raw columns and the preprocessor that reads them. Pictures are
    read at their stored levels (0..255, the digits' 0..16) with the preprocessor that
    divides them, so that a model trained on them takes pictures as they are stored."""
    if main_job:
        fashion, digits = data.DATASETS["fashion-mnist"], data.DATASETS["digits"]
        if data_dir is not None or Path(fashion.default_dir()).is_dir():
            name, data_dir = fashion.name, data_dir or fashion.default_dir()
        else:
            dataset = data.load_dataset(digits.name, dtype=dtype, raw=True)
            line = f"data: {digits.title} ({fashion.title} not installed: {fashion.install})"
            return dataset, line, digits.name
    key = data.dataset_key(name)
    info = data.DATASETS[key] if key is not None else None
    kwargs: dict[str, Any] = {"dtype": dtype, "raw": True}
    if data_dir is not None:
        if info is None or not info.takes_dir:
            raise ValueError(
                f"a data folder (--data-dir {data_dir}) is only used with the data sets "
                f"{datasets_text('and', folders_only=True)}; {name!r} does not take one"
            )
        kwargs["data_dir"] = data_dir
    if key is None and data.is_table(name):
        settings = table or {}
        kwargs = {"target": settings.get("target"), "impute": settings.get("impute")}
        if kwargs["target"] is None:
            raise ValueError(f"{name!r} is a table: name the column to predict with --target NAME")
        kwargs["scaling"] = settings.get("scale") or "standardize"
    dataset = data.load_dataset(name if key is None else key, **kwargs)
    counts = f"({dataset.X_train.shape[0]} train / {dataset.X_test.shape[0]} test)"
    if info is None and dataset.preprocessor is not None and dataset.preprocessor.names is not None:
        columns = len(dataset.preprocessor.names)
        line = f"data: {name}, {columns} columns, {len(dataset.classes)} classes {counts}"
    elif info is None:
        line = f"data: {name} {counts}"
    elif not info.takes_dir:
        line = f"data: {info.title} {counts}"
    else:
        folder = data_dir if data_dir is not None else info.default_dir()
        line = f"data: {info.title} from {folder} {counts}"
    return dataset, line, key if key is not None else name


def class_count(dataset: Any) -> int:
    """The number of classes of a classification data set, after checking its labels."""
    if dataset.y_train.dtype.kind not in "iu" or not dataset.classes:
        raise ValueError(
            "deepmat trains classifiers: the data's labels must be class indices 0, 1, …; these are "
            f"{dataset.y_train.dtype} values"
        )
    k = len(dataset.classes)
    low = min(int(dataset.y_train.min()), int(dataset.y_test.min()))
    high = max(int(dataset.y_train.max()), int(dataset.y_test.max()))
    if low < 0 or high >= k:
        raise ValueError(f"the data's labels run from {low} to {high} but it names {k} classes")
    if k < 2:
        raise ValueError(f"a classifier needs at least 2 classes; the data has {k}")
    return k


def model_classes(net: Network) -> int:
    """How many classes a classifier tells apart (2 for one sigmoid unit)."""
    n_out = net.layer_dims[-1]
    return 2 if net.output_activation == "sigmoid" and n_out == 1 else n_out


def check_model_data(net: Network, X: Any, n_classes: int | None, what: str) -> None:
    """Refuse data whose features or classes do not match the model's. An array's columns are
    the features the model reads (before its own preprocessing, when it carries one; a table's
    columns are matched by name as that preprocessing reads them); ``n_classes=None``: the
    classes are matched by name (:func:`in_model_classes`)."""
    pre = net.preprocessor
    width = net.layer_dims[0] if pre is None else len(pre.columns)
    if isinstance(X, np.ndarray) and X.shape[1] != width:
        raise ValueError(f"the model takes {width} features per sample but {what} has {X.shape[1]}")
    if not net.is_classifier:
        raise ValueError(f"the model's output is {net.output_activation!r} (a regressor), not a classifier")
    if n_classes is not None and model_classes(net) != n_classes:
        raise ValueError(f"the model tells {model_classes(net)} classes apart but {what} has {n_classes}")


def load_model(source: str) -> tuple[Network, Path]:
    """A saved model (or checkpoint), from its file or from a run folder holding model.safetensors."""
    path = Path(source)
    if path.is_dir():
        if not (path / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"{str(path)!r} is a folder without model.safetensors; expected a model file or a run folder"
            )
        path = path / "model.safetensors"
    elif not path.exists():
        raise FileNotFoundError(
            f"model {str(path)!r} does not exist; expected a .safetensors model file or a run folder"
        )
    return deepmat.load(path), path


def run_data(model_path: Path) -> dict[str, Any] | None:
    """The ``[data]`` settings recorded in the model's run folder (config.json), if any."""
    run_config = model_path.parent / "config.json"
    try:
        recorded = json.loads(run_config.read_text(encoding="utf-8")).get("data")
    except (OSError, ValueError, AttributeError):
        return None
    return recorded if isinstance(recorded, dict) and isinstance(recorded.get("name"), str) else None


def data_settings(
    data: str | None, data_dir: str | None, target: str | None, path: Path
) -> tuple[str, str | None, dict[str, Any]]:
    """(data name or path, its folder, a table's settings) for the model at ``path``: as given
    (``--data``, ``--data-dir``, ``--target``), else as its run folder recorded them (a run
    folder is a model with its data)."""
    recorded = run_data(path) or {}
    name = data or recorded.get("name")
    if name is None:
        raise ValueError(
            f"name the data (a data set or a path): {str(path)!r} has no run folder config.json recording its data"
        )
    same = name == recorded.get("name")
    data_dir = data_dir or (recorded.get("dir") if same else None)
    table = {key: recorded.get(key) for key in ("target", "impute", "scale")} if same else {}
    if target is not None:
        table["target"] = target
    return name, data_dir, table


def model_test_labels(net: Network, dataset: Any, name: str) -> tuple[np.ndarray, list[str]]:
    """The test labels ``(m_test,)`` and class names of ``dataset`` as the model counts its
    classes: a model with preprocessing by its own class names (in its own order), any other
    after checking that the data's features and classes are the model's."""
    k = class_count(dataset)
    check_model_data(net, dataset.X_test, None if net.preprocessor else k, f"the data {name!r}")
    if net.preprocessor is not None:
        mapping, names = in_model_classes(net, dataset)
        return mapping[dataset.y_test], names
    return dataset.y_test, list(dataset.classes)


def model_test_data(
    net: Network, path: Path, data: str | None, data_dir: str | None, target: str | None
) -> tuple[Any, str, str, np.ndarray, list[str]]:
    """``(dataset, description line, name, y_test, classes)``: the data a model at ``path`` is
    evaluated on (:func:`data_settings`), as it reads them (:func:`as_model_reads`), with its
    test labels counted as the model counts classes (:func:`model_test_labels`)."""
    name, data_dir, table = data_settings(data, data_dir, target, path)
    dataset, line, name = load_data(name, data_dir, net.dtype.name, table=table)
    dataset = as_model_reads(net, dataset)
    return (dataset, line, name, *model_test_labels(net, dataset, name))


def model_class_names(net: Network, model_path: Path) -> list[str] | None:
    """The class names a model answers with: its preprocessing's, else its run folder's."""
    pre = net.preprocessor
    if pre is not None and pre.class_names:
        return list(pre.class_names)
    return run_classes(model_path)


def in_model_classes(net: Network, dataset: Any) -> tuple[np.ndarray, list[str]]:
    """``(mapping, names)``: ``mapping[label]`` is the model's own index of the data's class
    ``label`` (by the names its preprocessing keeps), and ``names`` the model's class names; a
    class the model does not know is refused. Index labels with it: ``mapping[dataset.y_test]``."""
    names = net.preprocessor.class_names or [str(i) for i in range(model_classes(net))]
    if len(names) != model_classes(net):
        raise ValueError(f"the model tells {model_classes(net)} classes apart but names {len(names)}")
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(dataset.classes) - set(index))
    if unknown:
        raise ValueError(f"the data has classes {unknown[:5]} the model does not know; it knows {names[:10]}")
    return np.array([index[c] for c in dataset.classes], dtype=np.int64), list(names)


def as_model_reads(net: Network, dataset: Any) -> Any:
    """``dataset`` as ``net`` reads it. The loaders give raw rows (pictures' stored levels, a
    table's columns) with the transform that reads them; a model that carries its own
    preprocessing takes those rows as they are. A model without one (saved before models
    carried it, or built from a config) takes transformed rows: the data's transform, fitted
    on its training rows, gives them."""
    pre = dataset.preprocessor
    if net.preprocessor is not None or pre is None:
        return dataset
    pre = pre.copy()
    if not pre.fitted:
        pre.fit(dataset.X_train)
    return dataclasses.replace(
        dataset,
        X_train=pre.transform(dataset.X_train, net.dtype, warn=False),
        X_test=pre.transform(dataset.X_test, net.dtype, warn=False),
        preprocessor=None,
    )


def run_classes(model_path: Path) -> list[str] | None:
    """The class names recorded in the model's run folder (config.json), if any."""
    run_config = model_path.parent / "config.json"
    try:
        classes = json.loads(run_config.read_text(encoding="utf-8")).get("classes")
    except (OSError, ValueError, AttributeError):
        return None
    return [str(c) for c in classes] if isinstance(classes, list) else None


def is_config(path: Path) -> bool:
    return path.suffix.lower() in (".toml", ".json")


def network_from(
    source: str, data_name: str | None = None, data_dir: str | None = None
) -> tuple[Network, Any]:
    """``(network, dataset or None)`` from a model file, a run folder or a config file. A
    config without ``[model] layers`` takes its input and output sizes from its data (or
    ``data_name``); the network of a config is freshly initialised."""
    path = Path(source)
    if not is_config(path):
        net = load_model(source)[0]
        if data_name is None:
            return net, None
        return net, as_model_reads(net, load_data(data_name, data_dir, net.dtype.name)[0])
    config = read_config_file(path)
    if data_name is not None:
        config.set("data", "name", data_name, "--data")
    if data_dir is not None:
        config.set("data", "dir", data_dir, "--data-dir")
    settle(config)
    dataset = None
    data_cfg, model = config.values["data"], config.values["model"]
    if model.get("layers") is None or data_name is not None:
        main_job = "name" not in data_cfg
        dataset = load_data(data_cfg.get("name", ""), data_cfg.get("dir"), model["dtype"], main_job)[0]
        class_count(dataset)
        pre = dataset.preprocessor
        if pre is not None:  # raw rows: the network takes them through their transform
            pre.fit(dataset.X_train)
        n_features = pre.n_features if pre is not None else dataset.X_train.shape[1]
        fit_to_data(config, n_features, list(dataset.classes), main_job)
        net = build_network(config)
        net.preprocessor = pre
        return net, dataset
    layers_without_data(config)
    return build_network(config), None
