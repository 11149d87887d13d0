"""``deepmat export MODEL --format onnx``: a saved model for another runtime."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepmat.cli import values
from deepmat.cli.sources import load_model

#: what ``deepmat export`` writes, and the file suffix it gives by default
EXPORT_FORMATS = {"onnx": ".onnx"}
DEFAULT_OPSET = 17


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="convert a model for another runtime (ONNX)",
        description="Write a saved model as an ONNX graph (Gemm and the activations; dropout removed, "
        "batch norm folded or expressed for inference) with a dynamic batch dimension.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file or a run folder")
    parser.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="onnx", help="(default: onnx)")
    parser.add_argument(
        "--output", "-o", metavar="PATH", help="where to write (default: the model's path with .onnx)"
    )
    parser.add_argument(
        "--opset",
        type=values.argument_type(values.positive_int),
        default=DEFAULT_OPSET,
        metavar="N",
        help=f"ONNX opset version (default: {DEFAULT_OPSET})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
