"""``deepmat explain MODEL|CONFIG|--layers …``: the forward and backward equations with the
shape of every matrix (:func:`deepmat.explain.explain`); with ``--values``, a trained
model's numbers for one sample filled in (:func:`deepmat.explain_values.explain_values`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from deepmat import explain, explain_values
from deepmat.cli import values
from deepmat.cli.config import OPTION
from deepmat.cli.predict import inputs
from deepmat.cli.sources import (
    is_config,
    load_model,
    model_class_names,
    model_classes,
    model_test_data,
    network_from,
)
from deepmat.data import take_rows
from deepmat.i18n import Words, language

ACTIVATION_FLAGS = (OPTION[("model", "activation")], OPTION[("model", "output_activation")])
#: the flags that choose the sample and the output of --values (and go with it only)
VALUES_FLAGS = ("sample", "input", "label", "data", "data_dir", "target", "format", "digits")

#: --values' own flags: (flag, validator or None for text, metavar, help)
VALUES_OPTIONS = (
    ("--sample", values.natural, "K", "sample K (from 0) of the test split of the data the run folder records "
     "(or --data), or row K of --input (default: 0)"),
    ("--input", None, "FILE", "the sample from a picture, an .npz or a .csv instead"),
    ("--label", None, "CLASS", "the target of an --input sample: a class name or index (default: the predicted "
     "class)"),
    ("--format", values.choice("format", lambda: explain_values.FORMATS), "|".join(explain_values.FORMATS),
     "plain text, Markdown or a LaTeX document (default: text)"),
    ("--digits", values.positive_int, "N", "significant digits of every number, 1 to 17 (default: 4)"),
)  # fmt: skip
#: The words this command adds to the --values output; ``WORDS_ZH`` the same in Chinese.
WORDS = {
    "test_sample": "sample {k} of the test split of {data} ({m} samples)",
    "input_row": "input: {label}",
    "true": "target y: class {name} (label {index})",
    "label_given": "target y: class {name} (label {index}), given by --label",
    "label_predicted": "target y: the predicted class {name} (label {index}): no --label was given",
    "values_given": "target y: {values}, given by --label",
    "values_predicted": "target y: the prediction {values}: no --label was given (so dz[L] = 0)",
    "prediction": "prediction: class {name} (label {index}), probability {p:.4f}",
}
WORDS_ZH = {
    "test_sample": "{data} 的[[test_set]]（{m} 个[[sample]]）中的第 {k} 个[[sample]]",
    "input_row": "输入：{label}",
    "true": "[[target]] y：[[class]] {name}（[[label]] {index}）",
    "label_given": "[[target]] y：[[class]] {name}（[[label]] {index}），由 --label 给出",
    "label_predicted": "[[target]] y：预测的[[class]] {name}（[[label]] {index}）：没有给出 --label",
    "values_given": "[[target]] y：{values}，由 --label 给出",
    "values_predicted": "[[target]] y：[[prediction]] {values}：没有给出 --label（所以 dz[L] = 0）",
    "prediction": "[[prediction]]：[[class]] {name}（[[label]] {index}），[[probability]] {p:.4f}",
}
words = Words(en=WORDS, zh=WORDS_ZH)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "explain",
        help="the forward and backward equations with every matrix's shape",
        description="Print the equations of forward and backward propagation for an architecture, "
        "with the shape of every matrix. With --values, a trained model's forward and backward pass "
        "for one sample, each equation followed by its matrices' numbers. --lang zh writes the words "
        "around the equations in Chinese, in the seed articles' terms (前向传播, 反向传播, 代价函数 …); "
        "the equations and shapes stay the same.",
    )
    parser.add_argument(
        "source", nargs="?", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config"
    )
    parser.add_argument(
        "--layers",
        type=values.argument_type(values.layers),
        metavar="12288,20,7,5,1",
        help="layer sizes n[0],…,n[L]",
    )
    for option in ACTIVATION_FLAGS:
        option.add_to(parser)
    parser.add_argument("--batch", default="m", metavar="m", help="the batch size m (a number or a symbol)")
    parser.add_argument(
        "--layout",
        type=values.argument_type(values.choice("layout", lambda: explain.LAYOUTS)),
        default="columns",
        metavar="|".join(explain.LAYOUTS),
        help="samples as columns (the seeds') or rows (default: columns)",
    )
    values.add_language(
        parser,
        "the words around the equations (a LaTeX document in Chinese, --format latex, compiles with xelatex: xeCJK, fonts-noto-cjk)",
    )
    group = parser.add_argument_group("the numbers of one sample (a trained MODEL)")
    group.add_argument(
        "--values",
        action="store_true",
        help="fill the one-sample equations in with the model's numbers for one sample",
    )
    for flag, check, metavar, help_text in VALUES_OPTIONS:
        kind = values.argument_type(check) if check is not None else None
        group.add_argument(
            flag, type=kind, metavar=metavar() if callable(metavar) else metavar, help=help_text
        )
    for key in ("name", "dir", "target"):
        OPTION[("data", key)].add_to(group)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    args.lang = language(args.lang)
    if args.values:
        print(values_text(args))
        return 0
    given = [f"--{flag.replace('_', '-')}" for flag in VALUES_FLAGS if getattr(args, flag) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} go{'es' if len(given) == 1 else ''} with --values")
    m: int | str = int(args.batch) if args.batch.isdigit() else args.batch
    if (args.source is None) == (args.layers is None):
        raise ValueError("give a MODEL or CONFIG, or --layers (e.g. --layers 12288,20,7,5,1), not both")
    if args.layers is not None:
        text = explain.explain(
            layer_dims=args.layers,
            m=m,
            layout=args.layout,
            hidden_activation=args.activation or OPTION[("model", "activation")].default,
            output_activation=args.output_activation,
            lang=args.lang,
        )
    else:
        if args.activation or args.output_activation:
            raise ValueError(
                "--activation and --output-activation go with --layers; a MODEL or CONFIG has its own"
            )
        net, _ = network_from(args.source)
        text = explain.explain(net=net, m=m, layout=args.layout, lang=args.lang)
    print(text)
    return 0


def values_text(args: argparse.Namespace) -> str:
    """``--values``: the one-sample equations with the numbers of the sample the flags choose."""
    if args.source is None or is_config(Path(args.source)) or args.layers is not None:
        raise ValueError(
            "--values needs a trained MODEL (a model file or a run folder); received "
            + ("--layers" if args.layers is not None else repr(args.source))
        )
    if args.layout != "columns" or args.batch != "m":
        raise ValueError(
            "--values writes one sample in the seeds' column layout: give no --layout or --batch"
        )
    if args.input is not None and args.data is not None:
        raise ValueError("--input and --data both choose the sample; give one of them")
    net, path = load_model(args.source)
    w = words(args.lang)
    k = args.sample or 0
    if args.input is not None:
        rows, labels = inputs(args.input, net)
        if k >= len(labels):
            raise ValueError(
                f"--sample {k}: {args.input!r} holds {len(labels)} sample(s), 0 to {len(labels) - 1}"
            )
        x = rows[k : k + 1]
        about = [w["input_row"].format(label=labels[k])]
        classes = model_class_names(net, path) or [str(i) for i in range(model_classes(net))]
        y, target = _input_target(net, x, args.label, classes, w)
    else:
        if args.label is not None:
            raise ValueError("--label goes with --input; a sample of a data set has its own label")
        dataset, _, name, y_test, classes = model_test_data(net, path, args.data, args.data_dir, args.target)
        if k >= len(y_test):
            raise ValueError(
                f"--sample {k}: the test split of {name} has {len(y_test)} samples, 0 to {len(y_test) - 1}"
            )
        x, y = take_rows(dataset.X_test, slice(k, k + 1)), int(y_test[k])
        about = [w["test_sample"].format(k=k, data=name, m=len(y_test))]
        target = w["true"].format(name=classes[y], index=y)
    about.append(target)
    if _one_label(net):
        p = net.predict_proba(x)[0]
        best = int(np.argmax(p))
        about.append(w["prediction"].format(name=classes[best], index=best, p=p[best]))
    return explain_values.explain_values(
        net,
        x,
        y,
        format=args.format or "text",
        digits=4 if args.digits is None else args.digits,
        about=about,
        lang=args.lang,
    )


def _one_label(net: Any) -> bool:
    """Whether the model answers one class per sample (softmax, or one sigmoid unit)."""
    return net.is_classifier and (net.output_activation == "softmax" or net.layer_dims[-1] == 1)


def _input_target(net: Any, x: Any, label: str | None, classes: list[str], w: Any) -> tuple[Any, str]:
    """y for an --input sample and the line that says where it came from: ``--label`` (a class
    name or index; a regressor's n[L] comma-separated values), else the model's prediction."""
    if not _one_label(net):  # a regressor's values, or a multi-label sigmoid's 0/1 per output
        if label is None:
            y = net.predict(x).reshape(-1)
            return y, w["values_predicted"].format(values=", ".join(f"{v:.6g}" for v in y))
        try:
            y = np.array([float(v) for v in label.split(",")])
        except ValueError:
            raise ValueError(
                f"--label: expected {net.layer_dims[-1]} comma-separated numbers; received {label!r}"
            ) from None
        return y, w["values_given"].format(values=", ".join(f"{v:.6g}" for v in y))
    if label is None:
        index = int(net.predict(x)[0])
        return index, w["label_predicted"].format(name=classes[index], index=index)
    if label in classes:
        index = classes.index(label)
    elif label.isdigit() and int(label) < len(classes):
        index = int(label)
    else:
        raise ValueError(f"--label: expected a class name or index of {classes[:10]}; received {label!r}")
    return index, w["label_given"].format(name=classes[index], index=index)
