"""``deepmat summary MODEL|CONFIG``: the layers, shapes and parameter counts of a model."""

from __future__ import annotations

import argparse

from deepmat.cli import values
from deepmat.cli.sources import network_from
from deepmat.explain import summary


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "summary",
        help="the layers, shapes and parameter counts of a model",
        description="Print a model's summary: layers, output shapes, parameters.",
    )
    parser.add_argument("source", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config")
    values.add_language(parser, "the table's words")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    net, _ = network_from(args.source)
    print(summary(net, lang=args.lang))
    return 0
