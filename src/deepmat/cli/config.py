"""A training run's configuration: the one table of options (:data:`OPTIONS`), config files
(TOML, or a run folder's ``config.json``), flags over files, defaults, and the network and
callbacks it describes.

Every option is one :class:`Option` entry — its section and key in a config file, its
validator, its ``deepmat train`` flag and help, its defaults — and everything else is derived
from the table: the schema config files are checked against, the flags, their help, and the
defaults. The names an option accepts are read from the registries when they are checked
(:data:`deepmat.activations.ACTIVATIONS`, :data:`~deepmat.initializers.INITIALIZERS`,
:data:`~deepmat.optimizers.OPTIMIZERS`, :data:`~deepmat.schedules.SCHEDULES`), so a name
registered there reaches the CLI without touching it.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepmat import data
from deepmat._checks import FLOAT_DTYPES
from deepmat.activations import hidden_activations
from deepmat.callbacks import Callback, EarlyStopping
from deepmat.cli import values
from deepmat.initializers import INITIALIZERS
from deepmat.losses import PROBABILITY_OUTPUTS
from deepmat.network import Network, default_output
from deepmat.optimizers import (
    FULL_BATCH_OPTIMIZERS,
    SEEDS_LEARNING_RATE,
    default_learning_rate,
    optimizer_names,
)
from deepmat.preprocessor import IMPUTATIONS, SCALINGS
from deepmat.schedules import SCHEDULES

#: the command's name, in its messages
PROG = "deepmat"
#: the hidden layers of the main job (examples/fashion_mnist.py), and of any other data
MAIN_JOB_HIDDEN = [512, 256]
DEFAULT_HIDDEN = [256, 128]
#: keys a run folder's config.json carries for information (ignored when read back)
RUN_INFO_KEYS = ("classes", "n_features", "deepmat_version")


#: the scalings a table's number columns may take ("divide" is the pictures')
TABLE_SCALINGS = tuple(s for s in SCALINGS if s != "divide")


def schedule_names() -> tuple[str, ...]:
    return ("none", *SCHEDULES)


@dataclass(frozen=True)
class Option:
    """One setting of a run: ``[section] key`` in a config file, checked by ``check``;
    ``flag`` is its ``deepmat train`` flag (None: config files only). ``default`` applies to
    the main job and mini-batch training, ``seeds_default`` with ``iterations`` (full-batch
    gradient descent, the seeds' form) where it differs; ``None``: no default."""

    section: str
    key: str
    check: Callable[[Any], Any]
    help: str = ""
    flag: str | None = None
    metavar: str | Callable[[], str] | None = None
    default: Any = None
    seeds_default: Any = None
    boolean: bool = False

    @property
    def name(self) -> str:
        return f"[{self.section}] {self.key}"

    def metavar_text(self) -> str | None:
        return self.metavar() if callable(self.metavar) else self.metavar

    def help_text(self) -> str:
        defaults = [f"{self.default:g}" if isinstance(self.default, float) else str(self.default)]
        if self.default is None:
            defaults = []
        if self.seeds_default is not None and self.seeds_default != self.default:
            defaults.append(f"{self.seeds_default} with --iterations")
        shown = [d for d in defaults if d not in ("False", "0")] if self.boolean else defaults
        return self.help + (f" (default: {'; '.join(shown)})" if shown else "")

    def add_to(self, parser: argparse.ArgumentParser, help: str | None = None) -> None:
        """Add the option's flag to ``parser``; a bad value is a usage error naming the flag."""
        if self.boolean:
            parser.add_argument(
                self.flag, action=argparse.BooleanOptionalAction, default=None, help=help or self.help_text()
            )
            return
        parser.add_argument(
            self.flag,
            type=values.argument_type(self.check),
            metavar=self.metavar_text(),
            help=help or self.help_text(),
        )


def _bars(names: Callable[[], Any]) -> Callable[[], str]:
    return lambda: "|".join(names())


#: every setting of a run, in the order of a config file
OPTIONS: tuple[Option, ...] = (
    Option("data", "name", values.text, "a registered data set, or a folder of IDX files / an .npz / .h5 file",
           "--data", "NAME|PATH"),
    Option("data", "dir", values.text, "the folder of a data set that takes one", "--data-dir", "DIR"),
    Option("data", "target", values.text, "the column of a table (.csv, .tsv, .parquet) to predict", "--target",
           "NAME"),
    Option("data", "impute", values.choice("imputation", lambda: IMPUTATIONS),
           "fill a table's missing feature values (default: a missing value is an error)", "--impute",
           _bars(lambda: IMPUTATIONS)),
    Option("data", "scale", values.choice("scaling", lambda: TABLE_SCALINGS),
           "how a table's number columns are scaled, inside the model (default: standardize)", "--scale",
           _bars(lambda: TABLE_SCALINGS)),
    Option("model", "layers", values.layers,
           "layer sizes n[0],…,n[L] (the data's features first, its classes last: 1 for 2 classes with "
           "sigmoid), or only the hidden sizes (a single size always is), the data giving n[0] and n[L]",
           "--layers", "784,256,10"),
    Option("model", "activation", values.choice("activation", hidden_activations), "hidden activation g[1..L-1]",
           "--activation", _bars(hidden_activations), default="relu"),
    Option("model", "output_activation", values.choice("output activation", lambda: PROBABILITY_OUTPUTS[::-1]),
           "output activation g[L] (default: softmax for more than 2 classes, one sigmoid unit for 2)",
           "--output-activation", _bars(lambda: PROBABILITY_OUTPUTS[::-1])),
    Option("model", "init", values.choice("initialiser", lambda: INITIALIZERS), "weights", "--init",
           _bars(lambda: INITIALIZERS), default="he"),
    Option("model", "dropout", values.dropout, "after every hidden layer", "--dropout", "P", default=0.3),
    Option("model", "batch_norm", values.flag, "batch normalisation of every hidden layer", "--batch-norm",
           default=False, boolean=True),
    Option("model", "l2", values.non_negative_float, "L2 penalty λ", "--l2", "X", default=0.0),
    Option("model", "dtype", values.choice("dtype", lambda: FLOAT_DTYPES), "", "--dtype",
           _bars(lambda: FLOAT_DTYPES), default="float32"),
    Option("model", "seed", values.seed, "weights, dropout, shuffling", "--seed", "N", default=0),
    Option("train", "epochs", values.positive_int, "mini-batch epochs", "--epochs", "N", default=30),
    Option("train", "batch_size", values.positive_int, "samples per batch", "--batch-size", "N", default=128),
    Option("train", "optimizer", values.choice("optimizer", optimizer_names),
           "lbfgs: full batch, counted in --iterations (default 200), no learning rate", "--optimizer",
           _bars(optimizer_names), default="adam", seeds_default="sgd"),
    Option("train", "learning_rate", values.positive_float,
           f"(default: the optimiser's own, {SEEDS_LEARNING_RATE:g} for sgd)", "--learning-rate", "X"),
    Option("train", "schedule", values.choice("schedule", schedule_names), "learning-rate schedule",
           "--schedule", _bars(schedule_names), default="cosine", seeds_default="none"),
    Option("train", "iterations", values.positive_int,
           "full-batch gradient descent for N iterations (the seeds' form) instead of epochs", "--iterations", "N"),
    Option("train", "validation_split", values.split, "the last fraction of the training set held out (0: none)",
           "--validation-split", "F", default=0.1, seeds_default=0.0),
    Option("train", "early_stopping", values.natural,
           "stop after PATIENCE epochs without a better validation loss, keeping the best weights",
           "--early-stopping", "PATIENCE", default=0, seeds_default=0),
    Option("train", "class_weight", values.choice("class weight", lambda: ("none", "balanced")),
           "balanced: weigh class c by m / (k·m_c), so that every class counts alike (imbalanced data)",
           "--class-weight", "none|balanced", default="none", seeds_default="none"),
    Option("train", "print_every", values.natural, "print the cost every N iterations (full batch)",
           seeds_default=100),
    Option("train", "verbose", values.verbose,
           "0 nothing on standard output (errors still on standard error), 1 a progress bar in a terminal, "
           "2 one row per epoch", "--verbose", "0|1|2", default=1,
           seeds_default=1),
    Option("output", "dir", values.text, "the run folder", "--out", "DIR"),
)  # fmt: skip

#: (section, key) → its option
OPTION = {(o.section, o.key): o for o in OPTIONS}
#: the config file's sections and keys with their validators (derived from OPTIONS)
SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {}
for _option in OPTIONS:
    SCHEMA.setdefault(_option.section, {})[_option.key] = _option.check
#: train's flags (as argparse names them) → the (section, key) each sets
FLAG_KEYS = {o.flag.removeprefix("--").replace("-", "_"): (o.section, o.key) for o in OPTIONS if o.flag}


def _defaults(section: str, seeds: bool) -> dict[str, Any]:
    chosen = {}
    for option in OPTIONS:
        if option.section != section:
            continue
        value = option.seeds_default if seeds and option.seeds_default is not None else option.default
        if value is not None and (option.section == "model" or not seeds or option.seeds_default is not None):
            chosen[option.key] = value
    return chosen


#: Defaults: the main job (examples/fashion.toml) …
MODEL_DEFAULTS = _defaults("model", seeds=False)
MINIBATCH_DEFAULTS = _defaults("train", seeds=False)
#: … and, with ``iterations`` (full-batch gradient descent), the seeds' training defaults.
FULL_BATCH_DEFAULTS = _defaults("train", seeds=True)


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

    def resolved(self) -> dict[str, dict[str, Any]]:
        """Every section with every key of the schema (None where unset): a run's config.json."""
        return {
            section: {key: self.values[section].get(key) for key in keys} for section, keys in SCHEMA.items()
        }


def _list(names: Any, fmt: str = "{}") -> str:
    return ", ".join(fmt.format(name) for name in names)


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
    full_batch_optimizer = FULL_BATCH_OPTIMIZERS.get(config.get("train", "optimizer"))
    if full_batch_optimizer is not None:  # L-BFGS: its iterations, on the full batch, without dropout
        for key in ("batch_size", "validation_split", "early_stopping"):
            if config.get("train", key):
                raise ValueError(
                    f"{config.source('train', key)} needs mini-batch training; {config.source('train', 'optimizer')} "
                    f"{config.get('train', 'optimizer')} minimises J on the full batch"
                )
        if not config.has("train", "iterations"):
            given = config.has("train", "epochs")
            steps = config.get("train", "epochs") if given else full_batch_optimizer.default_iterations
            config.set(
                "train", "iterations", steps, config.source("train", "epochs" if given else "optimizer")
            )
            config.drop("train", "epochs")
        config.values["model"].setdefault("dropout", 0.0)
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
        train["learning_rate"] = default_learning_rate(train["optimizer"])
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
    if len(layers) < 2 or (layers[0] != n_features and layers[-1] != need):
        # the hidden sizes (one size always is): the data gives n[0] and n[L]
        model["layers"] = [n_features, *layers, need]
        return
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
    if len(model["layers"]) < 2:
        raise ValueError(
            f"{config.source('model', 'layers')} gives hidden sizes only ({model['layers']}); without data to "
            "take n[0] and n[L] from, give every size n[0],…,n[L]"
        )
    if model.get("output_activation") is None:
        model["output_activation"] = default_output(model["layers"][-1])


def build_network(config: Config) -> Network:
    """The network a settled config describes, freshly initialised."""
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


def build_callbacks(config: Config, steps: int) -> list[Callback]:
    """The schedule (:data:`deepmat.schedules.SCHEDULES`) and early stopping a config asks for,
    for a run of ``steps`` epochs or iterations."""
    train = config.values["train"]
    validating = bool(train.get("validation_split"))
    callbacks: list[Callback] = []
    if train["schedule"] != "none":
        callbacks.append(SCHEDULES[train["schedule"]].make(steps, "val_loss" if validating else "loss"))
    if train.get("early_stopping"):
        callbacks.append(EarlyStopping("val_loss", patience=train["early_stopping"]))
    return callbacks


def datasets_text(conjunction: str = "or", folders_only: bool = False) -> str:
    """The registered data sets as help lists them: ``a, b or c``."""
    names = [name for name, info in data.DATASETS.items() if info.takes_dir or not folders_only]
    *first, last = names
    return f"{', '.join(first)} {conjunction} {last}" if first else last
