"""Shared by the interoperability tests: a network trained a little on random data."""

from __future__ import annotations

import numpy as np

from deepmat import Network


def trained(net: Network, epochs: int = 2, m: int = 64, seed: int = 0) -> Network:
    """A few Adam epochs on random data of the right kind for the output (labels for softmax,
    0/1 targets for sigmoid, values for identity), so weights, biases and batch-norm running
    statistics are no longer their initial values."""
    rng = np.random.default_rng(seed)
    n0, n_out = net.layer_dims[0], net.layer_dims[-1]
    X = rng.standard_normal((m, n0))
    if net.output_activation == "softmax":
        y = rng.integers(0, n_out, m)
    elif net.output_activation == "sigmoid":
        y = rng.integers(0, 2, (m, n_out)).astype(float)
    else:
        y = rng.standard_normal((m, n_out))
    net.fit(X, y, epochs=epochs, batch_size=16, optimizer="adam", learning_rate=0.01, verbose=0)
    return net
