"""``deepmat playground [--host 127.0.0.1] [--port 8000] [--no-browser] [--lang zh]``: the local web page
on which a learner builds, trains and steps through a small network
(:mod:`deepmat.playground`)."""

from __future__ import annotations

import argparse

from deepmat.cli import values
from deepmat.i18n import language


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "playground",
        help="a local web page to build, train and step through a small network",
        description="Serve the playground, a page on which a 2-D data set, a network and its training are "
        "set, the cost and the decision boundary follow the training, and one forward and backward pass "
        "is stepped through equation by equation. It answers this machine's browser only, unless --host "
        "says otherwise. Needs starlette and uvicorn: pip install 'deepmat[playground]'.",
    )
    parser.add_argument(
        "--host",
        type=values.argument_type(values.host),
        default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0: every interface)",
    )
    parser.add_argument(
        "--port",
        type=values.argument_type(values.port),
        default=8000,
        help="the port (default: 8000; 0: any free port)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    values.add_language(parser, "the page when it opens (it has an English / 中文 switch too)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    lang = language(args.lang)
    try:
        from deepmat.playground import server
    except ImportError as error:
        raise ImportError(
            f"deepmat playground needs starlette and uvicorn ({error}): pip install 'deepmat[playground]'"
        ) from None
    server.serve(args.host, args.port, open_browser=not args.no_browser, lang=lang)
    return 0
