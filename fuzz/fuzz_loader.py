"""Coverage-guided fuzzing of deepmat's model loader with atheris (libFuzzer).

    python3 fuzz/fuzz_loader.py -max_total_time=600 -rss_limit_mb=2048 fuzz/corpus

Every input is written to a file and given to ``deepmat.load``. Allowed outcomes: a network,
or ``ValueError`` (malformed file). Anything else — another exception, a crash, a hang past
libFuzzer's timeout, memory past ``-rss_limit_mb`` — is a finding. The seed corpus (valid
model files of each layer type, written on first run into ``fuzz/corpus``) lets the fuzzer
start from well-formed headers. Figures of a long run are in FUZZING.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings

import atheris

with atheris.instrument_imports():
    import deepmat
    from deepmat import Activation, BatchNorm, Dense, Dropout, Network

PATH = os.path.join(tempfile.mkdtemp(prefix="deepmat-fuzz-"), "model.safetensors")


def seed_corpus(folder: str) -> None:
    """Valid files to start from: a Dense network in float64 and one with every layer type in float32."""
    os.makedirs(folder, exist_ok=True)
    nets = {
        "dense64": Network([3, 4, 2], "tanh", "softmax", seed=0),
        "all32": Network(
            layers=[Dense(4, "identity"), BatchNorm(), Activation("relu"), Dropout(0.2), Dense(1, "sigmoid")],
            input_dim=3,
            seed=0,
            dtype="float32",
        ),
    }
    for name, net in nets.items():
        target = os.path.join(folder, f"{name}.safetensors")
        if not os.path.exists(target):
            net.save(target)


def test_one_input(data: bytes) -> None:
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            deepmat.load(PATH)
    except ValueError:
        pass


def main() -> None:
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for folder in corpus:
        seed_corpus(folder)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
