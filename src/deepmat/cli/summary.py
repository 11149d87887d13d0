"""``deepmat summary MODEL|CONFIG``: the layers, shapes and parameter counts of a model."""

from __future__ import annotations

import argparse

from deepmat.cli import values
from deepmat.cli.sources import network_from
from deepmat.explain import summary
from deepmat.i18n import LANGUAGES


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "summary",
        help="the layers, shapes and parameter counts of a model",
        description="Print a model's summary: layers, output shapes, parameters.",
    )
    parser.add_argument("source", metavar="MODEL|CONFIG", help="a model file, a run folder or a .toml config")
    parser.add_argument(
        "--lang",
        type=values.argument_type(values.choice("language", lambda: tuple(LANGUAGES))),
        metavar="|".join(LANGUAGES),
        help="the language of the table's words: en or zh (default: DEEPMAT_LANG, else the locale's)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    net, _ = network_from(args.source)
    print(summary(net, lang=args.lang))
    return 0
