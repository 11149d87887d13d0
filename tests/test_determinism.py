"""Determinism: the same seed gives bit-identical parameters across runs (one BLAS thread).

Each run is a fresh interpreter (so nothing is shared but the code) training with every
source of randomness in play: He initialisation, dropout masks, shuffling, Adam. What more
threads change is documented in README.md ("Determinism").
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

RUN = textwrap.dedent(
    """
    import hashlib
    import numpy as np
    import deepmat
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((300, 40)).astype(np.float32), rng.integers(0, 4, 300)
    net = deepmat.Network([40, 64, 32, 4], "relu", "softmax", dropout=0.2, init="he", seed=7, dtype="float32")
    net.fit(X, y, epochs=3, batch_size=32, optimizer="adam", verbose=0)
    digest = hashlib.sha256()
    for name, value in sorted(net.params.items()):
        digest.update(name.encode() + value.tobytes())
    print(digest.hexdigest())
    """
)


def run(threads: int, seed_offset: str = "") -> str:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    script = RUN.replace("seed=7", f"seed=7{seed_offset}")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return proc.stdout.strip()


def test_same_seed_same_bits_with_one_blas_thread():
    first, second = run(1), run(1)
    assert len(first) == 64
    assert first == second


def test_another_seed_gives_other_parameters():
    assert run(1) != run(1, seed_offset="1")  # the check above is not vacuous
