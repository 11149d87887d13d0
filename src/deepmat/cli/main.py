"""The ``deepmat`` command line (also ``python -m deepmat``): the parser built from
:data:`COMMANDS`, and :func:`main`, which turns every user error into one line.

Exit status: 0 success; 1 a gradient check failed, training diverged or a dependency is
missing; 2 a usage error (one line ``deepmat: error: ...`` on stderr, no traceback); 130
interrupted (a checkpoint is saved; ``deepmat train --resume`` continues).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from deepmat.cli import evaluate, explain, export, gradcheck, playground, predict, summary, train
from deepmat.cli.config import PROG
from deepmat.training import TrainingDiverged
from deepmat.version import __version__

#: the commands, in the order ``deepmat --help`` lists them; each module has
#: ``add_parser(subparsers)`` and ``run(args) -> exit status``
COMMANDS = (train, evaluate, predict, summary, explain, export, gradcheck, playground)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line ``deepmat: error: ...`` and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix(PROG).strip()
        hint = f" (see {PROG} {command + ' ' if command else ''}--help)"
        self.exit(2, f"{PROG}: error: {message}{hint}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (built per call, so it lists what the registries hold now)."""
    parser = Parser(
        prog=PROG,
        description="Deep fully-connected networks on NumPy: train, evaluate, predict, explain.",
        epilog=f"Run `{PROG} COMMAND --help` for a command's options. With no arguments, `{PROG} train` "
        "trains the Fashion-MNIST MLP.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def _one_line(error: BaseException) -> str:
    text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    return text or type(error).__name__


def _os_error(error: OSError) -> str:
    """``cannot write 'run/model.safetensors': No space left on device (ENOSPC)``."""
    code = errno.errorcode.get(error.errno, "") if error.errno else ""
    where = f"{error.filename!r}: " if error.filename else ""
    reason = error.strerror or _one_line(error)
    return f"{where}{reason}{f' ({code})' if code else ''}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        names = ", ".join(command.__name__.rsplit(".", 1)[1] for command in COMMANDS)
        print(f"{PROG}: error: choose a command: {names} (see {PROG} --help)", file=sys.stderr)
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `deepmat explain ... | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (TrainingDiverged, ImportError) as error:
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
    except OSError as error:  # the environment: a full disk, a read-only file system, an I/O error
        print(f"{PROG}: error: {_os_error(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
