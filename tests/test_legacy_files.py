"""Files written by deepmat 0.1.0 before the package redesign (commit 6082f4c; the script that
wrote them is tests/fixtures/v0.1.0/make.py) load and resume as they did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network

FIXTURES = Path(__file__).parent / "fixtures" / "v0.1.0"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())["forward_first_5"]
DATA = np.load(FIXTURES / "data.npz")


def test_models_load_and_predict_as_before():
    for name in ("plain", "stack"):
        net = deepmat.load(FIXTURES / f"{name}.safetensors")
        expected = np.array(EXPECTED[name])
        np.testing.assert_allclose(
            net.forward(DATA["X"][:5]), expected, rtol=1e-6 if name == "stack" else 1e-12
        )
    stack = deepmat.load(FIXTURES / "stack.safetensors")
    assert [layer.kind for layer in stack.layers] == ["Dense", "BatchNorm", "Activation", "Dropout", "Dense"]
    assert stack.layers[1].num_batches_tracked == 6  # 2 epochs of 3 batches, read from the file


def test_a_checkpoint_resumes_to_the_uninterrupted_run():
    net = Network(
        layers=[Dense(5, "identity"), BatchNorm(), Activation("relu"), Dropout(0.25), Dense(3, "softmax")],
        input_dim=6,
        seed=5,
    )
    net.fit(
        DATA["X"],
        DATA["y"],
        epochs=4,
        batch_size=16,
        optimizer="adam",
        verbose=0,
        resume_from=FIXTURES / "checkpoint.safetensors",
    )
    # b1 feeds batch normalisation, which removes it: its gradient is 0 up to rounding, so b1
    # holds rounding residue (~1e-11) that Numba's fused db and NumPy's sum round differently;
    # b1 alone gets atol 1e-10; every other value keeps rtol 1e-12
    for name, array in net.state_arrays().items():
        np.testing.assert_allclose(
            array,
            np.array(EXPECTED["resumed_to_4_epochs"][name]),
            rtol=1e-12,
            atol=1e-10 if name == "b1" else 0.0,
            err_msg=name,
        )
