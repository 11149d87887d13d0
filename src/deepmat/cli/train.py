"""``deepmat train [CONFIG.toml] [flags]``: train a network and write a run folder.

With no arguments: the main job, the Fashion-MNIST MLP of ``examples/fashion_mnist.py``
(scikit-learn's digits when Fashion-MNIST is not installed). The flags are the options of
:data:`deepmat.cli.config.OPTIONS`; they win over the config file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import deepmat
from deepmat import data, lbfgs
from deepmat.cli import runs, values
from deepmat.cli.config import (
    FLAG_KEYS,
    OPTIONS,
    PROG,
    SCHEMA,
    build_callbacks,
    build_network,
    datasets_text,
    fit_to_data,
    gather_config,
    read_config_file,
    settle,
)
from deepmat.cli.sources import class_count, load_data
from deepmat.formatting import duration
from deepmat.i18n import language
from deepmat.io import read_model
from deepmat.metrics import classification_report
from deepmat.network import Network
from deepmat.optimizers import FULL_BATCH_OPTIMIZERS, SEEDS_LEARNING_RATE, get_optimizer
from deepmat.schedules import SCHEDULES


def _epilog() -> str:
    fashion = data.DATASETS["fashion-mnist"]
    keys = "; ".join(f"[{section}] {', '.join(keys)}" for section, keys in SCHEMA.items())
    schedules = ", ".join(f"{name} ({recipe.description})" for name, recipe in SCHEDULES.items())
    paragraphs = [
        "Defaults are the main job (examples/fashion.toml): hidden layers 512,256 on the default data "
        f"({fashion.title}, or scikit-learn's digits when it is not installed: {fashion.install}), "
        "256,128 on data you choose; dropout 0.3, he, float32, seed 0; Adam 1e-3, batch 128, 30 epochs, "
        "cosine schedule, validation split 0.1. With --iterations (full-batch gradient descent, the "
        f"seeds' form) the training defaults are the seeds': sgd, learning rate {SEEDS_LEARNING_RATE:g}, no "
        "schedule, the cost printed every 100 iterations. Flags win over the config file.",
        f"Config file sections and keys: {keys}.",
        f"Data sets: {datasets_text()}, or a path.",
        f"Schedules: {schedules}. --early-stopping 0 is off.",
        "The run folder (--out, default runs/<data>-<YYYYmmdd-HHMMSS>) receives "
        f"{', '.join(runs.RUN_FILES)}, and checkpoint.safetensors every epoch (Ctrl-C saves it; "
        "--resume continues).",
        "Output: the data, the network and the training first; with --verbose 1 a progress bar per epoch "
        "in a terminal, then a row of the epoch's metrics and time (one row per epoch with --verbose 2 or "
        "without a terminal); then the accuracies and the files written. --verbose 0 prints nothing on "
        "standard output: errors, a note naming plots skipped for want of matplotlib, and where Ctrl-C "
        "saved the checkpoint still go to standard error, and the run folder holds everything "
        "(metrics.json, history.csv). Missing plotting or progress libraries never fail a run: "
        "pip install 'deepmat[cli]' brings everything deepmat train uses.",
    ]
    return "\n\n".join(textwrap.fill(paragraph, 88) for paragraph in paragraphs)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a network and write a run folder",
        description=textwrap.fill(
            "Train a network on a data set and write a run folder (model, config, metrics, history, "
            "plots). With no arguments: the Fashion-MNIST MLP of examples/fashion_mnist.py.",
            88,
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG.toml", help="a config file (see below)")
    for option in OPTIONS:
        if option.flag:
            help_text = option.help_text()
            if (option.section, option.key) == ("data", "name"):
                help_text = f"{datasets_text()}, or a folder of IDX files / an .npz / .h5 file"
            elif (option.section, option.key) == ("data", "dir"):
                help_text = f"the folder of {datasets_text('or', folders_only=True)}"
            option.add_to(parser, help_text)
    parser.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue the run of a checkpoint, with its run folder's config.json, writing beside the "
        "checkpoint; only --epochs, --iterations and --verbose may change",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run an existing --out folder holds (its run files are removed first)",
    )
    values.add_language(parser, "report.html and the plots (what the command prints stays English)")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI ranks: run as `mpirun -n N deepmat train ... --distributed`; "
        "rank 0 prints and writes the run folder",
    )
    parser.set_defaults(handler=run)


#: the settings a resumed run may change: how long it trains, and how much it prints
RESUME_MAY_CHANGE = (("train", "epochs"), ("train", "iterations"), ("train", "verbose"))


def _check_resume(args: argparse.Namespace, checkpoint: Path) -> None:
    """A resumed run is the run of its checkpoint: it reads the run's config.json and writes
    beside the checkpoint, whatever a file says; a flag may extend it (epochs, iterations) or
    quieten it, and any other flag that differs from what the run recorded is refused."""
    if not checkpoint.is_file():
        raise FileNotFoundError(
            f"checkpoint {str(checkpoint)!r} does not exist; expected <run>/checkpoint.safetensors"
        )
    if args.config is not None:
        raise ValueError("--resume continues a run with its own config.json; give no CONFIG.toml with it")
    if args.overwrite:
        raise ValueError("--overwrite starts a new run and --resume continues one; give one of them")
    if args.out is not None and Path(args.out).resolve() != checkpoint.parent.resolve():
        raise ValueError(
            f"--out {args.out!r} differs from the checkpoint's folder {str(checkpoint.parent)!r}: a resumed "
            "run writes beside its checkpoint (move the run folder to move the run)"
        )
    read_model(checkpoint).training()  # a checkpoint, before anything is written beside it
    run_config = checkpoint.parent / "config.json"
    recorded = read_config_file(run_config) if run_config.is_file() else None
    for attr, (section, key) in FLAG_KEYS.items():
        given = getattr(args, attr, None)
        if given is None or (section, key) in RESUME_MAY_CHANGE or section == "output" or recorded is None:
            continue
        if recorded.get(section, key) != given:
            flag = "--" + attr.replace("_", "-")
            raise ValueError(
                f"{flag} {given} differs from the run's {recorded.get(section, key)!r} ({run_config}): a resumed "
                "run keeps its settings (only --epochs, --iterations and --verbose may change); start a new "
                "run to train with others"
            )


def run(args: argparse.Namespace) -> int:
    lang = language(args.lang)  # before any work: an unknown DEEPMAT_LANG is refused at once
    checkpoint_in = Path(args.resume) if args.resume is not None else None
    if checkpoint_in is not None:
        _check_resume(args, checkpoint_in)
    root = True
    if args.distributed:
        from deepmat.distributed import Distributed

        root = Distributed().is_root
        if not root:  # rank 0 alone prints and writes the run folder
            sys.stdout = open(os.devnull, "w")  # for the rest of this process
    config = settle(gather_config(args))
    with _quiet(not config.values["train"]["verbose"]):
        return _run(args, config, checkpoint_in, root, lang)


@contextlib.contextmanager
def _quiet(quiet: bool) -> Iterator[None]:
    """``--verbose 0``: nothing reaches standard output while the run lasts (standard error
    still gets errors, warnings and the Ctrl-C message)."""
    if not quiet:
        yield
        return
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        yield


def _run(args: argparse.Namespace, config: Any, checkpoint_in: Path | None, root: bool, lang: str) -> int:
    """Load the data, build the network and train it in its run folder (``run``, settled)."""
    data_cfg, model, train = config.values["data"], config.values["model"], config.values["train"]
    main_job = "name" not in data_cfg
    dataset, line, name = load_data(
        data_cfg.get("name", ""), data_cfg.get("dir"), model["dtype"], main_job, table=data_cfg
    )
    print(line, flush=True)
    if main_job:
        data_cfg["name"] = name
        info = data.DATASETS[name]
        if info.takes_dir and "dir" not in data_cfg:
            data_cfg["dir"] = info.default_dir()
    classes = list(dataset.classes)
    class_count(dataset)
    pre = dataset.preprocessor
    if pre is not None:  # raw rows: the model learns their transform from the training rows
        pre.fit(dataset.X_train)
    n_features = pre.n_features if pre is not None else dataset.X_train.shape[1]
    fit_to_data(config, n_features, classes, main_job)
    net = build_network(config)
    net.preprocessor = pre
    if train["optimizer"] in FULL_BATCH_OPTIMIZERS:  # what L-BFGS refuses, refused before anything is written
        get_optimizer(train["optimizer"], train["learning_rate"])
        lbfgs.check_options(
            net, batch_size=None, shuffle=None, distributed=args.distributed, checkpoint=None,
            resume_from=args.resume, callbacks=build_callbacks(config, train["iterations"]),
        )  # fmt: skip
    print(runs.describe_model(net, model))
    print(runs.describe_training(train))

    if checkpoint_in is not None:  # nothing read from a file chooses where a resumed run writes
        out = checkpoint_in.parent
    else:
        out = Path(config.get("output", "dir") or runs.default_out(name))
    config.values["output"]["dir"] = str(out)
    folder = runs.RunFolder(out)
    if not root:
        return _train(args, config, dataset, net, out, root, lang)
    if checkpoint_in is None:
        folder.check_new(args.overwrite)
    with folder.lock():
        if args.overwrite:
            folder.clear()
        return _train(args, config, dataset, net, out, root, lang)


def _train(
    args: argparse.Namespace, config: Any, dataset: Any, net: Network, out: Path, root: bool, lang: str
) -> int:
    """Train ``net`` as ``config`` says and write the run folder ``out`` (rank 0 alone writes)."""
    data_cfg, train = config.values["data"], config.values["train"]
    classes = list(dataset.classes)
    n_features = net.layer_dims[0]
    checkpoint = out / "checkpoint.safetensors"
    resolved = {
        **config.resolved(),
        "data": {**config.resolved()["data"], "name": data_cfg["name"], "dir": data_cfg.get("dir")},
        "output": {"dir": str(out)},
        "classes": classes,
        "n_features": n_features,
        "deepmat_version": deepmat.__version__,
    }
    if root:
        runs.write_json(out / "config.json", resolved)
    print(f"run folder: {out}", flush=True)
    if args.resume:
        print(f"resuming from {args.resume}", flush=True)

    full_batch = bool(train.get("iterations"))
    steps = train["iterations"] if full_batch else train["epochs"]
    saves_checkpoints = train["optimizer"] not in FULL_BATCH_OPTIMIZERS  # L-BFGS's state lives in SciPy
    common = {
        "optimizer": train["optimizer"],
        "learning_rate": train["learning_rate"],
        "callbacks": build_callbacks(config, steps),
        "checkpoint": checkpoint if saves_checkpoints else None,
        "resume_from": args.resume,
        "distributed": args.distributed,
        "class_weight": None if train.get("class_weight", "none") == "none" else train["class_weight"],
    }
    start = time.perf_counter()
    if full_batch:
        history = net.fit(
            dataset.X_train,
            dataset.y_train,
            iterations=steps,
            print_every=train.get("print_every") or None,
            verbose=train["verbose"],
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
        then = (
            f"continue with: {PROG} train --resume {checkpoint}"
            if saves_checkpoints
            else "L-BFGS keeps no checkpoint"
        )
        print(f"{PROG}: interrupted after {unit} {len(history)}; {then}", file=sys.stderr)
        return 130
    if not root:
        return 0

    net.save(out / "model.safetensors")
    train_result = classification_report(net, dataset.X_train, dataset.y_train, classes)
    test = classification_report(net, dataset.X_test, dataset.y_test, classes)
    print(
        f"train accuracy: {train_result['accuracy']:.4f} ({train_result['correct']}/{train_result['n_samples']})"
    )
    print(f"test accuracy:  {test['accuracy']:.4f} ({test['correct']}/{test['n_samples']})")
    print(f"test loss:      {test['loss']:.4f}")
    print(f"trained {runs.count(len(history), unit)} in {duration(seconds)}")
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
    runs.write_json(out / "metrics.json", metrics)
    runs.write_history(out / "history.csv", history)
    skipped = runs.write_plots(out, history, dataset, classes, test, unit, lang)
    if skipped:
        print(
            f"{PROG}: plots skipped, matplotlib is not installed: {', '.join(skipped)}; "
            "pip install 'deepmat[plot]' draws them (or 'deepmat[cli]', everything deepmat train uses)",
            file=sys.stderr,
        )
    timing = {"seconds": seconds, "unit": unit, "resumed": bool(args.resume)}
    runs.write_report(out, net, dataset, resolved, (train_result, test), history, timing, bool(skipped), lang)
    print(f"wrote {out}: {', '.join(name for name in runs.RUN_FILES if (out / name).exists())}")
    return 0
