"""``deepmat gradcheck MODEL|CONFIG``: back-propagation checked against central differences
(:func:`deepmat.gradcheck`); exit status 1 when a parameter fails."""

from __future__ import annotations

import argparse

import numpy as np

from deepmat.cli.config import datasets_text
from deepmat.cli.sources import check_model_data, class_count, in_model_classes, network_from

#: samples of random data, and entries checked per parameter
GRADCHECK_SAMPLES = 8
GRADCHECK_ENTRIES = 20


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "gradcheck",
        help="check back-propagation against central differences",
        description=f"Check back-propagation of an architecture against central differences on "
        f"{GRADCHECK_SAMPLES} random samples (or samples of --data), {GRADCHECK_ENTRIES} entries per "
        "parameter at most. Exit status 1 when a parameter fails.",
    )
    parser.add_argument("source", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config")
    parser.add_argument(
        "--data", metavar="NAME|PATH", help="take the samples (and a config's sizes) from this data"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help=f"the folder of {datasets_text('or', folders_only=True)}"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    net, dataset = network_from(args.source, args.data, args.data_dir)
    rng = np.random.default_rng(0)
    n_in, n_out = net.layer_dims[0], net.layer_dims[-1]
    if dataset is not None:
        k = class_count(dataset)
        check_model_data(net, dataset.X_train, None if net.preprocessor else k, "the data")
        # a network with preprocessing reads raw rows, and counts classes by its own names
        mapping = np.arange(k) if net.preprocessor is None else in_model_classes(net, dataset)[0]
        X, y = dataset.X_train, mapping[dataset.y_train]
        what = f"{min(GRADCHECK_SAMPLES, len(y))} samples of the data"
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
    from deepmat.gradcheck import gradcheck_rows  # looked up per call (the tests stand in a failing check)

    result = gradcheck_rows(net, X, y, GRADCHECK_SAMPLES, GRADCHECK_ENTRIES)
    print(result.report())
    if result.passed:
        print(f"passed: largest relative error {result.max_error:.3e} < {result.tolerance:g}")
        return 0
    failing = [name for name, error in result.errors.items() if error >= result.tolerance]
    print(
        f"FAILED: {', '.join(failing)} (largest relative error {result.max_error:.3e} ≥ {result.tolerance:g})"
    )
    return 1
