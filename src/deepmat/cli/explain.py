"""``deepmat explain MODEL|CONFIG|--layers …``: the forward and backward equations with the
shape of every matrix (:func:`deepmat.explain.explain`)."""

from __future__ import annotations

import argparse

from deepmat import explain
from deepmat.cli import values
from deepmat.cli.config import OPTION
from deepmat.cli.sources import network_from

ACTIVATION_FLAGS = (OPTION[("model", "activation")], OPTION[("model", "output_activation")])


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "explain",
        help="the forward and backward equations with every matrix's shape",
        description="Print the equations of forward and backward propagation for an architecture, "
        "with the shape of every matrix.",
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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
