"""A short smoke run of the documented Fashion-MNIST configuration on a subset of the real data.

The full run (30 epochs, test accuracy ≥ 0.89) is `python3 examples/fashion_mnist.py`, recorded
in BENCHMARKS.md; it is kept out of the unit tests.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from deepmat.data import load_fashion_mnist

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fashion_mnist.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("fashion_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documented_configuration_learns_on_a_subset(example):
    if not FASHION_DIR.is_dir():
        pytest.skip(f"{FASHION_DIR} not found: apt-get install -y dataset-fashion-mnist")
    data = load_fashion_mnist(FASHION_DIR)
    net = example.build(seed=0)
    assert net.layer_dims == [784, 512, 256, 10]
    history = net.fit(
        data.X_train[:3000],
        data.y_train[:3000],
        epochs=2,
        batch_size=128,
        optimizer="adam",
        learning_rate=1e-3,
        verbose=0,
    )
    assert history[1] < history[0]
    assert net.params["W1"].dtype == np.float32
    # chance is 0.10; two epochs on 3000 images already separate most classes
    assert net.score(data.X_test[:2000], data.y_test[:2000]) > 0.70
