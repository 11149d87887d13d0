"""The ``deepmat`` command line (also ``python -m deepmat``).

Commands::

    deepmat train [CONFIG.toml] [--data NAME|PATH] [--layers 784,256,10] [--epochs N] ...
    deepmat evaluate MODEL DATA [--json]
    deepmat predict MODEL INPUT [--top-k K] [--classes a,b,c]
    deepmat summary MODEL|CONFIG
    deepmat explain MODEL|CONFIG|--layers 12288,20,7,5,1 [--batch m] [--layout rows]
    deepmat gradcheck MODEL|CONFIG [--data NAME|PATH]

``deepmat train`` with no arguments runs the main job, the Fashion-MNIST MLP of
``examples/fashion_mnist.py`` (scikit-learn's digits when Fashion-MNIST is not installed), and
writes a run folder: the model, the resolved config, metrics, the per-epoch history and plots.

Exit status: 0 success; 1 a gradient check failed, training diverged or a dependency is
missing; 2 a usage error (one line ``deepmat: error: ...`` on stderr, no traceback); 130
interrupted (a checkpoint is saved; ``deepmat train --resume`` continues).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import textwrap
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

PROG = "deepmat"

HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid")
INITS = ("he", "xavier", "scaled", "small", "zeros")
DTYPES = ("float32", "float64")
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "exponential", "cosine", "plateau")
LAYOUTS = ("columns", "rows")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
#: the hidden layers of the main job (examples/fashion_mnist.py), and of any other data
MAIN_JOB_HIDDEN = [512, 256]
DEFAULT_HIDDEN = [256, 128]
#: gradcheck: samples of random data, and entries checked per parameter
GRADCHECK_SAMPLES = 8
GRADCHECK_ENTRIES = 20
RUN_FILES = (
    "model.safetensors",
    "config.json",
    "metrics.json",
    "history.csv",
    "loss.png",
    "accuracy.png",
    "confusion_matrix.png",
    "misclassified.png",
)


# -- values: one validator per kind, shared by the flags and the config files ------------------


def _choice(kind: str, *options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = value.strip().lower().replace("-", "_") if isinstance(value, str) else value
        if text not in options:
            raise ValueError(f"unknown {kind} {value!r}; valid choices: {', '.join(options)}")
        return text

    return check


def _integer(value: Any, minimum: int, what: str) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"expected {what}; received {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"expected {what}; received {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number; received {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number; received {value!r}")
    return float(value)


def _positive_int(value: Any) -> int:
    return _integer(value, 1, "a positive integer")


def _natural(value: Any) -> int:
    return _integer(value, 0, "an integer ≥ 0")


def _seed(value: Any) -> int:
    return _integer(value, 0, "a seed, an integer ≥ 0")


def _verbose(value: Any) -> int:
    level = _integer(value, 0, "0, 1 or 2")
    if level > 2:
        raise ValueError(f"expected 0, 1 or 2; received {value!r}")
    return level


def _positive_float(value: Any) -> float:
    number = _number(value)
    if not number > 0 or not np.isfinite(number):
        raise ValueError(f"expected a positive number; received {value!r}")
    return number


def _non_negative_float(value: Any) -> float:
    number = _number(value)
    if not number >= 0 or not np.isfinite(number):
        raise ValueError(f"expected a number ≥ 0; received {value!r}")
    return number


def _dropout(value: Any) -> float:
    number = _number(value)
    if not 0 <= number < 1:
        raise ValueError(f"expected a dropout rate in [0, 1); received {value!r}")
    return number


def _split(value: Any) -> float:
    number = _number(value)
    if not 0 <= number < 1:
        raise ValueError(f"expected a fraction in [0, 1) (0: no validation); received {value!r}")
    return number


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false; received {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string; received {value!r}")
    return value


def _layers(value: Any) -> list[int]:
    expected = "layer sizes n[0],…,n[L] such as 784,256,10 (at least two positive integers)"
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        try:
            value = [int(part) for part in parts]
        except ValueError:
            raise ValueError(f"expected {expected}; received {', '.join(parts)!r}") from None
    if (
        not isinstance(value, list)
        or len(value) < 2
        or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in value)
    ):
        raise ValueError(f"expected {expected}; received {value!r}")
    return value


#: The config file's sections and keys (TOML, or a run folder's config.json), with validators.
SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {
    "data": {"name": _text, "dir": _text},
    "model": {
        "layers": _layers,
        "activation": _choice("activation", *HIDDEN_ACTIVATIONS),
        "output_activation": _choice("output activation", *OUTPUT_ACTIVATIONS),
        "init": _choice("initialiser", *INITS),
        "dropout": _dropout,
        "batch_norm": _flag,
        "l2": _non_negative_float,
        "dtype": _choice("dtype", *DTYPES),
        "seed": _seed,
    },
    "train": {
        "epochs": _positive_int,
        "batch_size": _positive_int,
        "optimizer": _choice("optimizer", *OPTIMIZER_NAMES),
        "learning_rate": _positive_float,
        "schedule": _choice("schedule", *SCHEDULES),
        "iterations": _positive_int,
        "validation_split": _split,
        "early_stopping": _natural,
        "print_every": _natural,
        "verbose": _verbose,
    },
    "output": {"dir": _text},
}
#: keys a run folder's config.json carries for information (ignored when read back)
RUN_INFO_KEYS = ("classes", "n_features", "deepmat_version")

#: train's flags → the config key each sets
FLAG_KEYS = {
    "data": ("data", "name"),
    "data_dir": ("data", "dir"),
    "layers": ("model", "layers"),
    "activation": ("model", "activation"),
    "output_activation": ("model", "output_activation"),
    "init": ("model", "init"),
    "dropout": ("model", "dropout"),
    "batch_norm": ("model", "batch_norm"),
    "l2": ("model", "l2"),
    "dtype": ("model", "dtype"),
    "seed": ("model", "seed"),
    "epochs": ("train", "epochs"),
    "batch_size": ("train", "batch_size"),
    "optimizer": ("train", "optimizer"),
    "learning_rate": ("train", "learning_rate"),
    "schedule": ("train", "schedule"),
    "iterations": ("train", "iterations"),
    "validation_split": ("train", "validation_split"),
    "early_stopping": ("train", "early_stopping"),
    "verbose": ("train", "verbose"),
    "out": ("output", "dir"),
}

#: Defaults: the main job (examples/fashion.toml) …
MODEL_DEFAULTS = {
    "activation": "relu",
    "init": "he",
    "dropout": 0.3,
    "batch_norm": False,
    "l2": 0.0,
    "dtype": "float32",
    "seed": 0,
}
MINIBATCH_DEFAULTS = {
    "epochs": 30,
    "batch_size": 128,
    "optimizer": "adam",
    "schedule": "cosine",
    "validation_split": 0.1,
    "early_stopping": 0,
    "verbose": 1,
}
#: … and, with ``iterations`` (full-batch gradient descent), the seeds' training defaults.
FULL_BATCH_DEFAULTS = {
    "optimizer": "sgd",
    "schedule": "none",
    "validation_split": 0.0,
    "early_stopping": 0,
    "print_every": 100,
    "verbose": 1,
}


class Config:
    """A train configuration being resolved: values by section, and where each came from."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {section: {} for section in SCHEMA}
        self.sources: dict[tuple[str, str], str] = {}

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.values[section].get(key, default)

    def set(self, section: str, key: str, value: Any, source: str) -> None:
        self.values[section][key] = value
        self.sources[(section, key)] = source

    def drop(self, section: str, key: str) -> None:
        self.values[section].pop(key, None)
        self.sources.pop((section, key), None)

    def source(self, section: str, key: str) -> str:
        return self.sources.get((section, key), f"[{section}] {key}")

    def has(self, section: str, key: str) -> bool:
        return key in self.values[section]


def read_config_file(path: str | Path, config: Config | None = None) -> Config:
    """Read a TOML config (or a run folder's ``config.json``) into ``config``, checking every
    section, key and value; errors name the file, the key and the valid choices."""
    file = Path(path)
    if not file.is_file():
        state = "is not a file" if file.exists() else "does not exist"
        raise FileNotFoundError(f"config file {str(file)!r} {state}; expected a .toml file")
    config = config if config is not None else Config()
    is_json = file.suffix.lower() == ".json"
    try:
        with open(file, "rb") as f:
            raw = json.load(f) if is_json else tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{str(file)!r} is not valid TOML: {error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(file)!r} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{str(file)!r} must hold sections {_list(SCHEMA, '[{}]')}")
    for section, table in raw.items():
        if is_json and section in RUN_INFO_KEYS:
            continue
        if section not in SCHEMA:
            raise ValueError(
                f"{str(file)!r}: unknown section [{section}]; valid sections: {_list(SCHEMA, '[{}]')}"
            )
        if not isinstance(table, dict):
            raise ValueError(f"{str(file)!r}: [{section}] must be a table of keys; received {table!r}")
        for key, value in table.items():
            if key not in SCHEMA[section]:
                raise ValueError(
                    f"{str(file)!r}: unknown key {key!r} in [{section}]; valid keys: {_list(SCHEMA[section])}"
                )
            if value is None:  # a run's config.json records unused keys as null
                continue
            where = f"[{section}] {key} in {str(file)!r}"
            try:
                checked = SCHEMA[section][key](value)
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
            config.set(section, key, checked, where)
    return config


def _list(names: Any, fmt: str = "{}") -> str:
    return ", ".join(fmt.format(name) for name in names)


# -- data --------------------------------------------------------------------------------------


def _folder_datasets(conjunction: str) -> str:
    """The data sets read from a folder, as help and messages list them: ``a, b and c``."""
    from deepmat.data import DATASETS

    *names, last = [name for name, info in DATASETS.items() if info.takes_dir]
    return f"{', '.join(names)} {conjunction} {last}" if names else last


def load_data(name: str, data_dir: str | None, dtype: str, main_job: bool = False) -> tuple[Any, str, str]:
    """``(Dataset, description line, canonical name)`` for a data set name or path.

    ``main_job``: no data was asked for: Fashion-MNIST where it is installed, else digits."""
    from deepmat import data

    if main_job:
        fashion, digits = data.DATASETS["fashion-mnist"], data.DATASETS["digits"]
        if data_dir is not None or Path(fashion.default_dir()).is_dir():
            name, data_dir = fashion.name, data_dir or fashion.default_dir()
        else:
            dataset = data.load_dataset(digits.name, dtype=dtype)
            line = f"data: {digits.title} ({fashion.title} not installed: {fashion.install})"
            return dataset, line, digits.name
    key = data.dataset_key(name)
    info = data.DATASETS[key] if key is not None else None
    kwargs: dict[str, Any] = {"dtype": dtype}
    if data_dir is not None:
        if info is None or not info.takes_dir:
            raise ValueError(
                f"a data folder (--data-dir {data_dir}) is only used with the data sets "
                f"{_folder_datasets('and')}; {name!r} does not take one"
            )
        kwargs["data_dir"] = data_dir
    dataset = data.load_dataset(name if key is None else key, **kwargs)
    counts = f"({dataset.X_train.shape[0]} train / {dataset.X_test.shape[0]} test)"
    if info is None:
        line = f"data: {name} {counts}"
    elif not info.takes_dir:
        line = f"data: {info.title} {counts}"
    else:
        folder = data_dir if data_dir is not None else info.default_dir()
        line = f"data: {info.title} from {folder} {counts}"
    return dataset, line, key if key is not None else name


def _class_count(dataset: Any) -> int:
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


# -- resolving a train configuration -----------------------------------------------------------


def gather_config(args: argparse.Namespace) -> Config:
    """The config file (or, resuming, the run's config.json) overridden by the flags."""
    config = Config()
    if args.config is not None:
        read_config_file(args.config, config)
    elif getattr(args, "resume", None) is not None:
        run_config = Path(args.resume).parent / "config.json"
        if run_config.is_file():
            read_config_file(run_config, config)
    for attr, (section, key) in FLAG_KEYS.items():
        value = getattr(args, attr, None)
        if value is not None:
            config.set(section, key, value, "--" + attr.replace("_", "-"))
    return config


def settle(config: Config) -> Config:
    """Fill in the defaults that do not depend on the data and reject contradictions."""
    both = config.has("train", "iterations") and config.has("train", "epochs")
    if both:
        from_flag = [k for k in ("iterations", "epochs") if config.source("train", k).startswith("--")]
        if len(from_flag) == 1:  # a flag wins over the file
            config.drop("train", "epochs" if from_flag[0] == "iterations" else "iterations")
        else:
            raise ValueError(
                f"{config.source('train', 'iterations')} (full-batch gradient descent, the seeds' form) and "
                f"{config.source('train', 'epochs')} (mini-batch epochs) exclude each other; give one"
            )
    full_batch = config.has("train", "iterations")
    if full_batch:
        for key in ("batch_size", "validation_split", "early_stopping"):
            if config.get("train", key):
                raise ValueError(
                    f"{config.source('train', key)} needs mini-batch training (epochs); "
                    f"{config.source('train', 'iterations')} is full-batch gradient descent"
                )
    for key, value in MODEL_DEFAULTS.items():
        config.values["model"].setdefault(key, value)
    for key, value in (FULL_BATCH_DEFAULTS if full_batch else MINIBATCH_DEFAULTS).items():
        config.values["train"].setdefault(key, value)
    train = config.values["train"]
    if train.get("early_stopping") and not train.get("validation_split"):
        raise ValueError(
            f"{config.source('train', 'early_stopping')} watches the validation loss: give a "
            "validation split too (--validation-split 0.1)"
        )
    if train.get("learning_rate") is None:
        from deepmat.optimizers import OPTIMIZERS

        name = train["optimizer"]
        train["learning_rate"] = 0.0075 if name == "sgd" else OPTIMIZERS[name]().learning_rate
    return config


def output_units(output_activation: str, n_classes: int) -> int:
    return 1 if output_activation == "sigmoid" and n_classes == 2 else n_classes


def fit_to_data(config: Config, n_features: int, classes: list[str], main_job: bool) -> None:
    """Complete ``layers`` and ``output_activation`` from the data, or check them against it."""
    model = config.values["model"]
    k = len(classes)
    output = model.get("output_activation")
    if output is None:
        output = "softmax" if k > 2 else "sigmoid"
        if k == 2 and model.get("layers") and model["layers"][-1] == 2:
            output = "softmax"  # two output units can only be a softmax over the 2 classes
    elif output == "sigmoid" and k > 2:
        raise ValueError(
            f"{config.source('model', 'output_activation')} is sigmoid, which separates 2 classes, but the "
            f"data has {k}; use softmax"
        )
    model["output_activation"] = output
    need = output_units(output, k)
    layers = model.get("layers")
    if layers is None:
        hidden = MAIN_JOB_HIDDEN if main_job else DEFAULT_HIDDEN
        model["layers"] = [n_features, *hidden, need]
        return
    where = config.source("model", "layers")
    if layers[0] != n_features:
        raise ValueError(
            f"{where} starts with {layers[0]} but the data has {n_features} features: start it with {n_features}"
        )
    if layers[-1] != need:
        names = ", ".join(classes[:4]) + (", …" if k > 4 else "")
        why = "one sigmoid unit for 2 classes" if need == 1 else f"one {output} unit per class"
        raise ValueError(
            f"{where} ends with {layers[-1]} but the data has {k} classes ({names}): end it with {need} ({why})"
        )


def layers_without_data(config: Config) -> None:
    """Complete ``output_activation`` from the layers alone (summary, explain, gradcheck)."""
    model = config.values["model"]
    if model.get("output_activation") is None:
        model["output_activation"] = "sigmoid" if model["layers"][-1] == 1 else "softmax"


def build_network(config: Config) -> Any:
    from deepmat.network import Network

    model = config.values["model"]
    return Network(
        model["layers"],
        hidden_activation=model["activation"],
        output_activation=model["output_activation"],
        init=model["init"],
        seed=model["seed"],
        dtype=model["dtype"],
        l2=model["l2"],
        dropout=model["dropout"],
        batch_norm=model["batch_norm"],
    )


def _callbacks(config: Config, steps: int) -> list[Any]:
    from deepmat.callbacks import EarlyStopping
    from deepmat.schedules import CosineDecay, ExponentialDecay, ReduceLROnPlateau, StepDecay

    train = config.values["train"]
    validating = bool(train.get("validation_split"))
    callbacks: list[Any] = []
    schedule = train["schedule"]
    if schedule == "step":
        callbacks.append(StepDecay(step_size=max(1, steps // 3), gamma=0.1))
    elif schedule == "exponential":
        callbacks.append(ExponentialDecay(gamma=0.95))
    elif schedule == "cosine":
        callbacks.append(CosineDecay(T_max=steps))
    elif schedule == "plateau":
        callbacks.append(ReduceLROnPlateau("val_loss" if validating else "loss", factor=0.1, patience=3))
    if train.get("early_stopping"):
        callbacks.append(EarlyStopping("val_loss", patience=train["early_stopping"]))
    return callbacks


# -- metrics -----------------------------------------------------------------------------------


def classify(net: Any, X: np.ndarray, y: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, loss, confusion matrix and per-class precision/recall/count of ``net`` on (X, y)."""
    k = len(classes)
    predicted = np.asarray(net.predict(X)).astype(np.int64)
    loss = float(net.cost(X, y))
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    correct = int(np.trace(confusion))
    per_class = []
    for j, name in enumerate(classes):
        true_j, predicted_j, hits = int(confusion[j].sum()), int(confusion[:, j].sum()), int(confusion[j, j])
        per_class.append(
            {
                "index": j,
                "class": name,
                "precision": hits / predicted_j if predicted_j else 0.0,
                "recall": hits / true_j if true_j else 0.0,
                "count": true_j,
            }
        )
    return {
        "accuracy": correct / len(y),
        "correct": correct,
        "n_samples": len(y),
        "loss": loss,
        "per_class": per_class,
        "confusion": confusion,
        "predicted": predicted,
    }


def _check_model_data(net: Any, n_features: int, n_classes: int, what: str) -> None:
    if net.layer_dims[0] != n_features:
        raise ValueError(
            f"the model takes {net.layer_dims[0]} features per sample but {what} has {n_features}"
        )
    if not net.is_classifier:
        raise ValueError(f"the model's output is {net.output_activation!r} (a regressor), not a classifier")
    model_classes = _model_classes(net)
    if model_classes != n_classes:
        raise ValueError(f"the model tells {model_classes} classes apart but {what} has {n_classes}")


def _model_classes(net: Any) -> int:
    n_out = net.layer_dims[-1]
    return 2 if net.output_activation == "sigmoid" and n_out == 1 else n_out


def _class_table(per_class: list[dict[str, Any]]) -> str:
    width = max(5, *(len(row["class"]) for row in per_class))
    lines = [f"{'class':<{width}}  precision  recall  count"]
    for row in per_class:
        lines.append(
            f"{row['class']:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['count']:5d}"
        )
    return "\n".join(lines)


# -- train -------------------------------------------------------------------------------------


def _default_out(name: str) -> Path:
    from deepmat.data import dataset_key

    stem = name if dataset_key(name) is not None else (Path(name).stem or "data")
    base = Path("runs", f"{stem}-{datetime.now():%Y%m%d-%H%M%S}")
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def _write_json(path: Path, value: Any) -> None:
    from deepmat.io import atomic_write

    atomic_write(path, (json.dumps(value, indent=2) + "\n").encode("utf-8"))


def _write_history(path: Path, history: Any) -> None:
    from deepmat.io import atomic_write

    columns = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("epoch", *columns))
    values = history.history
    for row, epoch in enumerate(history.epoch):
        cells = [values[c][row] if c in values and row < len(values[c]) else "" for c in columns]
        writer.writerow((epoch + 1, *(repr(float(c)) if c != "" else "" for c in cells)))
    atomic_write(path, text.getvalue().encode("utf-8"))


def _describe_model(net: Any, model: dict[str, Any]) -> str:
    n_params = sum(int(p.size) for p in net.params.values())
    extras = []
    if model["dropout"]:
        extras.append(f"dropout {model['dropout']:g}")
    if model["batch_norm"]:
        extras.append("batch norm")
    if model["l2"]:
        extras.append(f"L2 {model['l2']:g}")
    extras += [f"init {model['init']}", model["dtype"], f"seed {model['seed']}"]
    dims = "-".join(str(n) for n in model["layers"])
    return (
        f"model: {dims}, {model['activation']} → {model['output_activation']}, {', '.join(extras)} "
        f"({n_params:,} parameters)"
    )


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _describe_training(train: dict[str, Any]) -> str:
    parts = [f"{train['optimizer']} (learning rate {train['learning_rate']:g})"]
    if train.get("iterations"):
        parts += ["full batch", _count(train["iterations"], "iteration")]
    else:
        parts += [f"batch {train['batch_size']}", _count(train["epochs"], "epoch")]
    if train["schedule"] != "none":
        parts.append(f"{train['schedule']} schedule")
    if train.get("validation_split"):
        parts.append(f"validation split {train['validation_split']:g}")
    if train.get("early_stopping"):
        parts.append(f"early stopping (patience {train['early_stopping']})")
    return "train: " + ", ".join(parts)


def cmd_train(args: argparse.Namespace) -> int:
    import deepmat

    if args.resume is not None and not Path(args.resume).is_file():
        raise FileNotFoundError(
            f"checkpoint {args.resume!r} does not exist; expected <run>/checkpoint.safetensors"
        )
    root = True
    if args.distributed:
        from deepmat.distributed import Distributed

        root = Distributed().is_root
        if not root:  # rank 0 alone prints and writes the run folder
            sys.stdout = open(os.devnull, "w")  # for the rest of this process
    config = settle(gather_config(args))
    data_cfg, model, train = config.values["data"], config.values["model"], config.values["train"]
    main_job = "name" not in data_cfg
    dataset, line, name = load_data(data_cfg.get("name", ""), data_cfg.get("dir"), model["dtype"], main_job)
    print(line, flush=True)
    if main_job:
        data_cfg["name"] = name
        if name == "fashion-mnist" and "dir" not in data_cfg:
            from deepmat.data import FASHION_MNIST_DIR

            data_cfg["dir"] = FASHION_MNIST_DIR
    classes = list(dataset.classes)
    _class_count(dataset)
    n_features = dataset.X_train.shape[1]
    fit_to_data(config, n_features, classes, main_job)
    net = build_network(config)
    print(_describe_model(net, model))
    print(_describe_training(train))

    out = Path(
        config.get("output", "dir") or (Path(args.resume).parent if args.resume else _default_out(name))
    )
    config.values["output"]["dir"] = str(out)
    if root:
        out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.safetensors"
    resolved = {
        "data": {"name": data_cfg["name"], "dir": data_cfg.get("dir")},
        "model": {key: model.get(key) for key in SCHEMA["model"]},
        "train": {key: train.get(key) for key in SCHEMA["train"]},
        "output": {"dir": str(out)},
        "classes": classes,
        "n_features": n_features,
        "deepmat_version": deepmat.__version__,
    }
    if root:
        _write_json(out / "config.json", resolved)
    print(f"run folder: {out}", flush=True)
    if args.resume:
        print(f"resuming from {args.resume}", flush=True)

    full_batch = bool(train.get("iterations"))
    steps = train["iterations"] if full_batch else train["epochs"]
    common = {
        "optimizer": train["optimizer"],
        "learning_rate": train["learning_rate"],
        "callbacks": _callbacks(config, steps),
        "checkpoint": checkpoint,
        "resume_from": args.resume,
        "distributed": args.distributed,
    }
    start = time.perf_counter()
    if full_batch:
        print_every = train.get("print_every") if train["verbose"] else None
        history = net.fit(
            dataset.X_train,
            dataset.y_train,
            iterations=steps,
            print_every=print_every or None,
            checkpoint_every=train.get("print_every") or 100,
            **common,
        )
    else:
        history = net.fit(
            dataset.X_train,
            dataset.y_train,
            epochs=steps,
            batch_size=train["batch_size"],
            validation_split=train.get("validation_split") or None,
            verbose=train["verbose"],
            checkpoint_every=1,
            **common,
        )
    seconds = time.perf_counter() - start
    unit = "iteration" if full_batch else "epoch"
    if len(history) < steps and not net.stop_training:
        print(
            f"{PROG}: interrupted after {unit} {len(history)}; continue with: "
            f"{PROG} train --resume {checkpoint}",
            file=sys.stderr,
        )
        return 130
    if not root:
        return 0

    net.save(out / "model.safetensors")
    train_result = classify(net, dataset.X_train, dataset.y_train, classes)
    test = classify(net, dataset.X_test, dataset.y_test, classes)
    print(
        f"train accuracy: {train_result['accuracy']:.4f} ({train_result['correct']}/{train_result['n_samples']})"
    )
    print(f"test accuracy:  {test['accuracy']:.4f} ({test['correct']}/{test['n_samples']})")
    print(f"test loss:      {test['loss']:.4f}")
    print(f"trained {_count(len(history), unit)} in {seconds:.1f} s")
    metrics = {
        "data": data_cfg["name"],
        "deepmat_version": deepmat.__version__,
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_accuracy": train_result["accuracy"],
        "train_loss": train_result["loss"],
        "n_train": int(dataset.X_train.shape[0]),
        "n_test": int(dataset.X_test.shape[0]),
        "epochs": len(history),
        "unit": unit,
        "train_seconds": round(seconds, 3),
        "per_class": test["per_class"],
    }
    for key in ("val_loss", "val_accuracy"):
        if key in history.history:
            metrics[f"final_{key}"] = history.history[key][-1]
    _write_json(out / "metrics.json", metrics)
    _write_history(out / "history.csv", history)
    _write_plots(out, history, dataset, classes, test, unit)
    print(f"wrote {out}: {', '.join(name for name in RUN_FILES if (out / name).exists())}")
    return 0


def _write_plots(out: Path, history: Any, dataset: Any, classes: list[str], test: dict, unit: str) -> None:
    from deepmat.plotting import image_shape, plot_confusion_matrix, plot_history, plot_misclassified

    plot_history(history.history, out / "loss.png", "loss", title="Loss (cost J)", xlabel=unit)
    if "accuracy" in history.history:
        plot_history(history.history, out / "accuracy.png", "accuracy", title="Accuracy", xlabel=unit)
    plot_confusion_matrix(test["confusion"], classes, out / "confusion_matrix.png")
    n_features = dataset.X_test.shape[1]
    shape = image_shape(n_features)
    if shape is None:
        from deepmat.data import picture_sizes_text

        print(
            f"misclassified.png skipped: rows of {n_features} features are not pictures deepmat knows "
            f"({picture_sizes_text()})"
        )
        return
    wrong = np.flatnonzero(test["predicted"] != dataset.y_test)[:25]
    pictures = np.asarray(dataset.X_test[wrong], dtype=np.float64).reshape(len(wrong), *shape)
    plot_misclassified(
        pictures, dataset.y_test[wrong], test["predicted"][wrong], classes, out / "misclassified.png"
    )


# -- evaluate, predict -------------------------------------------------------------------------


def load_model(source: str) -> tuple[Any, Path]:
    """A saved model (or checkpoint), from its file or from a run folder holding model.safetensors."""
    import deepmat

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


def _run_classes(model_path: Path) -> list[str] | None:
    """The class names recorded in the model's run folder (config.json), if any."""
    run_config = model_path.parent / "config.json"
    try:
        classes = json.loads(run_config.read_text(encoding="utf-8")).get("classes")
    except (OSError, ValueError, AttributeError):
        return None
    return [str(c) for c in classes] if isinstance(classes, list) else None


def cmd_evaluate(args: argparse.Namespace) -> int:
    net, path = load_model(args.model)
    dataset, line, name = load_data(args.data, args.data_dir, net.dtype.name)
    k = _class_count(dataset)
    _check_model_data(net, dataset.X_test.shape[1], k, f"the data {args.data!r}")
    result = classify(net, dataset.X_test, dataset.y_test, list(dataset.classes))
    if args.json:
        report = {
            "model": str(path),
            "data": name,
            "split": "test",
            "n_samples": result["n_samples"],
            "accuracy": result["accuracy"],
            "loss": result["loss"],
            "per_class": result["per_class"],
            "confusion_matrix": result["confusion"].tolist(),
        }
        print(json.dumps(report, indent=2))
        return 0
    print(f"model: {path} ({'-'.join(map(str, net.layer_dims))}, {net.output_activation})")
    print(f"{line}; evaluating the test split")
    print(f"accuracy: {result['accuracy']:.4f} ({result['correct']}/{result['n_samples']})")
    print(f"loss:     {result['loss']:.4f}")
    print(_class_table(result["per_class"]))
    return 0


def _prediction_inputs(source: str, n_features: int) -> tuple[np.ndarray, list[str]]:
    from deepmat.data import image_row, read_samples

    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"folder {str(path)!r} holds no pictures ({', '.join(IMAGE_SUFFIXES)})")
        return np.vstack([image_row(p, n_features) for p in files]), [str(p) for p in files]
    if not path.is_file():
        raise FileNotFoundError(
            f"input {str(path)!r} does not exist; expected a picture (PNG/JPEG), an .npz (key X), a .csv "
            "or a folder of pictures"
        )
    if path.suffix.lower() in (".npz", ".csv"):
        return read_samples(path, n_features)
    return image_row(path, n_features), [str(path)]


def cmd_predict(args: argparse.Namespace) -> int:
    net, path = load_model(args.model)
    n_features = net.layer_dims[0]
    X, labels = _prediction_inputs(args.input, n_features)
    if not net.is_classifier:
        for label, row in zip(labels, net.predict(X).reshape(len(labels), -1), strict=True):
            print(f"{label}: {', '.join(f'{v:.6g}' for v in row)}")
        return 0
    k = _model_classes(net)
    classes = args.classes or _run_classes(path) or [str(i) for i in range(k)]
    if len(classes) != k:
        source = "--classes" if args.classes else f"{path.parent / 'config.json'}"
        raise ValueError(f"{source} names {len(classes)} classes but the model tells {k} apart")
    probabilities = net.predict_proba(X)
    top = min(args.top_k, k)
    for label, p in zip(labels, probabilities, strict=True):
        best = np.argsort(-p, kind="stable")[:top]
        print(f"{label}: " + ", ".join(f"{classes[j]} {p[j]:.4f}" for j in best))
    return 0


# -- summary, explain, gradcheck ---------------------------------------------------------------


def _is_config(path: Path) -> bool:
    return path.suffix.lower() in (".toml", ".json")


def network_from(source: str, data: str | None = None, data_dir: str | None = None) -> tuple[Any, Any]:
    """``(network, dataset or None)`` from a model file, a run folder or a config file. A
    config without ``[model] layers`` takes its input and output sizes from its data (or
    ``data``); the network of a config is freshly initialised."""
    path = Path(source)
    if not _is_config(path):
        if data is not None:
            net = load_model(source)[0]
            return net, load_data(data, data_dir, net.dtype.name)[0]
        return load_model(source)[0], None
    config = read_config_file(path)
    if data is not None:
        config.set("data", "name", data, "--data")
    if data_dir is not None:
        config.set("data", "dir", data_dir, "--data-dir")
    settle(config)
    dataset = None
    data_cfg, model = config.values["data"], config.values["model"]
    if model.get("layers") is None or data is not None:
        main_job = "name" not in data_cfg
        dataset = load_data(data_cfg.get("name", ""), data_cfg.get("dir"), model["dtype"], main_job)[0]
        _class_count(dataset)
        fit_to_data(config, dataset.X_train.shape[1], list(dataset.classes), main_job)
    else:
        layers_without_data(config)
    return build_network(config), dataset


def _explain_module() -> Any:
    from deepmat import explain

    return explain


def cmd_summary(args: argparse.Namespace) -> int:
    net, _ = network_from(args.source)
    print(_explain_module().summary(net))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    explain = _explain_module()
    m: int | str = int(args.batch) if args.batch.isdigit() else args.batch
    if (args.source is None) == (args.layers is None):
        raise ValueError("give a MODEL or CONFIG, or --layers (e.g. --layers 12288,20,7,5,1), not both")
    if args.layers is not None:
        output = args.output_activation or ("sigmoid" if args.layers[-1] == 1 else "softmax")
        text = explain.explain(
            layer_dims=args.layers,
            m=m,
            layout=args.layout,
            hidden_activation=args.activation or "relu",
            output_activation=output,
        )
    else:
        if args.activation or args.output_activation:
            raise ValueError(
                "--activation and --output-activation go with --layers; a MODEL or CONFIG has its own"
            )
        net, _ = network_from(args.source)
        text = explain.explain(net=net, m=m, layout=args.layout)
    print(text)
    return 0


#: what ``deepmat export`` writes, and the file suffix it gives by default
EXPORT_FORMATS = {"onnx": ".onnx"}


def cmd_export(args: argparse.Namespace) -> int:
    """Convert a saved model for another runtime (ONNX: onnxruntime and every ONNX engine)."""
    net, path = load_model(args.model)
    output = Path(args.output) if args.output else path.with_suffix(EXPORT_FORMATS[args.format])
    if output.resolve() == path.resolve():
        raise ValueError(f"--output {str(output)!r} is the model itself; choose another file")
    if output.is_dir():
        raise IsADirectoryError(f"--output {str(output)!r} is a folder; expected a file path")
    net.to_onnx(output, opset=args.opset)
    print(
        f"wrote {output} (ONNX opset {args.opset}, input X (batch, {net.layer_dims[0]}) float32, "
        f"output Y (batch, {net.layer_dims[-1]}))"
    )
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from deepmat.gradcheck import gradcheck

    net, dataset = network_from(args.source, args.data, args.data_dir)
    rng = np.random.default_rng(0)
    n_in, n_out = net.layer_dims[0], net.layer_dims[-1]
    if dataset is not None:
        k = _class_count(dataset)
        _check_model_data(net, dataset.X_train.shape[1], k, "the data")
        rows = rng.choice(
            dataset.X_train.shape[0], size=min(GRADCHECK_SAMPLES, dataset.X_train.shape[0]), replace=False
        )
        X, y = dataset.X_train[rows], dataset.y_train[rows]
        what = f"{len(rows)} samples of the data"
    else:
        X = rng.random((GRADCHECK_SAMPLES, n_in))
        if net.output_activation == "softmax":
            y = rng.integers(0, n_out, GRADCHECK_SAMPLES)
        elif net.output_activation == "sigmoid":
            y = rng.integers(0, 2, (GRADCHECK_SAMPLES, n_out)).astype(np.float64)
            y = y[:, 0] if n_out == 1 else y
        else:
            y = rng.standard_normal((GRADCHECK_SAMPLES, n_out))
        what = f"{GRADCHECK_SAMPLES} random samples"
    dims = "-".join(map(str, net.layer_dims))
    print(
        f"gradcheck: {dims} ({net.output_activation} output, {net.loss}), {what}, up to "
        f"{GRADCHECK_ENTRIES} entries per parameter, central differences in float64"
    )
    result = gradcheck(net, X, y, max_entries=GRADCHECK_ENTRIES, raise_on_failure=False)
    print(result.report())
    if result.passed:
        print(f"passed: largest relative error {result.max_error:.3e} < {result.tolerance:g}")
        return 0
    failing = [name for name, error in result.errors.items() if error >= result.tolerance]
    print(
        f"FAILED: {', '.join(failing)} (largest relative error {result.max_error:.3e} ≥ {result.tolerance:g})"
    )
    return 1


# -- the parser --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line ``deepmat: error: ...`` and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix(PROG).strip()
        hint = f" (see {PROG} {command + ' ' if command else ''}--help)"
        self.exit(2, f"{PROG}: error: {message}{hint}\n")


def _arg(validator: Callable[[Any], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` from a config validator (same checks, same messages)."""

    def convert(text: str) -> Any:
        try:
            return validator(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = getattr(validator, "__name__", "value")
    return convert


def _classes_arg(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if len(names) < 2 or not all(names):
        raise argparse.ArgumentTypeError(
            f"expected two or more comma-separated class names; received {text!r}"
        )
    return names


def _add_layer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--activation",
        type=_arg(SCHEMA["model"]["activation"]),
        metavar="|".join(HIDDEN_ACTIVATIONS),
        help="hidden activation g[1..L-1] (default: relu)",
    )
    parser.add_argument(
        "--output-activation",
        type=_arg(SCHEMA["model"]["output_activation"]),
        metavar="softmax|sigmoid",
        help="output activation g[L] (default: softmax for more than 2 classes, one sigmoid unit for 2)",
    )


def _train_epilog() -> str:
    from deepmat.data import DATASETS

    fashion = DATASETS["fashion-mnist"]
    keys = "; ".join(f"[{section}] {', '.join(keys)}" for section, keys in SCHEMA.items())
    paragraphs = [
        "Defaults are the main job (examples/fashion.toml): hidden layers 512,256 on the default data "
        f"({fashion.title}, or scikit-learn's digits when it is not installed: {fashion.install}), "
        "256,128 on data you choose; dropout 0.3, he, float32, seed 0; Adam 1e-3, batch 128, 30 epochs, "
        "cosine schedule, validation split 0.1. With --iterations (full-batch gradient descent, the "
        "seeds' form) the training defaults are the seeds': sgd, learning rate 0.0075, no schedule, the "
        "cost printed every 100 iterations. Flags win over the config file.",
        f"Config file sections and keys: {keys}.",
        "Schedules: step (×0.1 every third of the run), exponential (×0.95 per epoch), cosine (to 0 over "
        "the run), plateau (×0.1 after 3 epochs without improvement). --early-stopping 0 is off.",
        "The run folder (--out, default runs/<data>-<YYYYmmdd-HHMMSS>) receives "
        f"{', '.join(RUN_FILES)}, and checkpoint.safetensors every epoch (Ctrl-C saves it; "
        "--resume continues).",
    ]
    return "\n\n".join(textwrap.fill(paragraph, 88) for paragraph in paragraphs)


def build_parser() -> argparse.ArgumentParser:
    import deepmat
    from deepmat.data import DATASETS, picture_sizes_text

    parser = _Parser(
        prog=PROG,
        description="Deep fully-connected networks on NumPy: train, evaluate, predict, explain.",
        epilog=f"Run `{PROG} COMMAND --help` for a command's options. With no arguments, `{PROG} train` "
        "trains the Fashion-MNIST MLP.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {deepmat.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser(
        "train",
        help="train a network and write a run folder",
        description=textwrap.fill(
            "Train a network on a data set and write a run folder (model, config, metrics, history, "
            "plots). With no arguments: the Fashion-MNIST MLP of examples/fashion_mnist.py.",
            88,
        ),
        epilog=_train_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("config", nargs="?", metavar="CONFIG.toml", help="a config file (see below)")
    train.add_argument(
        "--data",
        type=_arg(_text),
        metavar="NAME|PATH",
        help=f"{', '.join(DATASETS)}, or a folder of IDX files / an .npz / .h5 file",
    )
    train.add_argument(
        "--data-dir", type=_arg(_text), metavar="DIR", help=f"the folder of {_folder_datasets('or')}"
    )
    train.add_argument(
        "--layers",
        type=_arg(_layers),
        metavar="784,256,10",
        help="layer sizes n[0],…,n[L]: the data's features first, its classes last (1 for 2 classes "
        "with sigmoid)",
    )
    _add_layer_flags(train)
    train.add_argument(
        "--epochs", type=_arg(_positive_int), metavar="N", help="mini-batch epochs (default: 30)"
    )
    train.add_argument(
        "--batch-size", type=_arg(_positive_int), metavar="N", help="samples per batch (default: 128)"
    )
    train.add_argument(
        "--optimizer",
        type=_arg(SCHEMA["train"]["optimizer"]),
        metavar="|".join(OPTIMIZER_NAMES),
        help="(default: adam; sgd with --iterations)",
    )
    train.add_argument(
        "--learning-rate",
        type=_arg(_positive_float),
        metavar="X",
        help="(default: the optimiser's own, 0.0075 for sgd)",
    )
    train.add_argument(
        "--schedule",
        type=_arg(SCHEMA["train"]["schedule"]),
        metavar="|".join(SCHEDULES),
        help="learning-rate schedule (default: cosine)",
    )
    train.add_argument(
        "--dropout", type=_arg(_dropout), metavar="P", help="after every hidden layer (default: 0.3)"
    )
    train.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="batch normalisation of every hidden layer",
    )
    train.add_argument("--l2", type=_arg(_non_negative_float), metavar="X", help="L2 penalty λ (default: 0)")
    train.add_argument(
        "--init", type=_arg(SCHEMA["model"]["init"]), metavar="|".join(INITS), help="weights (default: he)"
    )
    train.add_argument(
        "--dtype", type=_arg(SCHEMA["model"]["dtype"]), metavar="float32|float64", help="(default: float32)"
    )
    train.add_argument(
        "--seed", type=_arg(_seed), metavar="N", help="weights, dropout, shuffling (default: 0)"
    )
    train.add_argument(
        "--validation-split",
        type=_arg(_split),
        metavar="F",
        help="the last fraction of the training set held out (default: 0.1; 0: none)",
    )
    train.add_argument(
        "--early-stopping",
        type=_arg(_natural),
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a better validation loss, keeping the best weights",
    )
    train.add_argument(
        "--iterations",
        type=_arg(_positive_int),
        metavar="N",
        help="full-batch gradient descent for N iterations (the seeds' form) instead of epochs",
    )
    train.add_argument("--out", type=_arg(_text), metavar="DIR", help="the run folder")
    train.add_argument(
        "--verbose",
        type=_arg(_verbose),
        metavar="0|1|2",
        help="0 quiet, 1 a progress bar in a terminal (default), 2 one line per epoch",
    )
    train.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue from a checkpoint (its run's config.json is read when no CONFIG is given)",
    )
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI ranks: run as `mpirun -n N deepmat train ... --distributed`; "
        "rank 0 prints and writes the run folder",
    )
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy, loss and per-class precision/recall on a test split",
        description="Evaluate a model on the test split of a data set: accuracy, loss, and per-class "
        "precision, recall and count.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a model file (.safetensors) or a run folder")
    evaluate.add_argument("data", metavar="DATA", help=f"{', '.join(DATASETS)}, or a path")
    evaluate.add_argument("--data-dir", metavar="DIR", help=f"the folder of {_folder_datasets('or')}")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = commands.add_parser(
        "predict",
        help="classify pictures or samples",
        description="Classify a picture (PNG/JPEG, resized to the model's input: "
        f"{picture_sizes_text(' → ', values=True)}), a folder of pictures, or the rows of an .npz "
        "(key X) or .csv file. Prints each input's most probable classes and their probabilities.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file (.safetensors) or a run folder")
    predict.add_argument("input", metavar="INPUT", help="a picture, a folder of pictures, an .npz or a .csv")
    predict.add_argument(
        "--top-k",
        type=_arg(_positive_int),
        default=1,
        metavar="K",
        help="classes shown per input (default: 1)",
    )
    predict.add_argument(
        "--classes",
        type=_classes_arg,
        metavar="a,b,c",
        help="class names (default: those in the run folder's config.json, else indices)",
    )
    predict.set_defaults(handler=cmd_predict)

    summary = commands.add_parser(
        "summary",
        help="the layers, shapes and parameter counts of a model",
        description="Print a model's summary: layers, output shapes, parameters.",
    )
    summary.add_argument(
        "source", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config"
    )
    summary.set_defaults(handler=cmd_summary)

    export = commands.add_parser(
        "export",
        help="convert a model for another runtime (ONNX)",
        description="Write a saved model as an ONNX graph (Gemm and the activations; dropout removed, "
        "batch norm folded or expressed for inference) with a dynamic batch dimension.",
    )
    export.add_argument("model", metavar="MODEL", help="a model file or a run folder")
    export.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="onnx", help="(default: onnx)")
    export.add_argument(
        "--output", "-o", metavar="PATH", help="where to write (default: the model's path with .onnx)"
    )
    export.add_argument(
        "--opset", type=_arg(_positive_int), default=17, metavar="N", help="ONNX opset version (default: 17)"
    )
    export.set_defaults(handler=cmd_export)

    explain = commands.add_parser(
        "explain",
        help="the forward and backward equations with every matrix's shape",
        description="Print the equations of forward and backward propagation for an architecture, "
        "with the shape of every matrix.",
    )
    explain.add_argument(
        "source", nargs="?", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config"
    )
    explain.add_argument(
        "--layers", type=_arg(_layers), metavar="12288,20,7,5,1", help="layer sizes n[0],…,n[L]"
    )
    _add_layer_flags(explain)
    explain.add_argument("--batch", default="m", metavar="m", help="the batch size m (a number or a symbol)")
    explain.add_argument(
        "--layout",
        type=_arg(_choice("layout", *LAYOUTS)),
        default="columns",
        metavar="columns|rows",
        help="samples as columns (the seeds') or rows (default: columns)",
    )
    explain.set_defaults(handler=cmd_explain)

    check = commands.add_parser(
        "gradcheck",
        help="check back-propagation against central differences",
        description=f"Check back-propagation of an architecture against central differences on "
        f"{GRADCHECK_SAMPLES} random samples (or samples of --data), {GRADCHECK_ENTRIES} entries per "
        "parameter at most. Exit status 1 when a parameter fails.",
    )
    check.add_argument("source", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config")
    check.add_argument(
        "--data", metavar="NAME|PATH", help="take the samples (and a config's sizes) from this data"
    )
    check.add_argument("--data-dir", metavar="DIR", help=f"the folder of {_folder_datasets('or')}")
    check.set_defaults(handler=cmd_gradcheck)
    return parser


def _one_line(error: BaseException) -> str:
    text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    return text or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        print(
            f"{PROG}: error: choose a command: train, evaluate, predict, summary, explain, export, gradcheck "
            f"(see {PROG} --help)",
            file=sys.stderr,
        )
        return 2
    from deepmat.training import TrainingDiverged

    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `deepmat explain ... | head`: the reader has gone
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except TrainingDiverged as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except ImportError as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except (
        ValueError,
        TypeError,
        FileNotFoundError,
        NotADirectoryError,
        IsADirectoryError,
        PermissionError,
    ) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
