"""Interrupted writes: a process killed with SIGKILL while saving never leaves a broken model.

A child process saves version after version of a model (or trains with a checkpoint every
epoch) over the same path; the parent kills it at random moments — before, during and
after writes — and each time the file on disk must load and be one complete version.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

import deepmat
from deepmat import Network

SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from deepmat import Network
    path = sys.argv[1]
    net = Network([1000, 2000, 1], seed=0)           # 16 MB of W1: a write takes a while
    version = 1
    while True:
        for name in net.params:
            net.params[name] = np.full(net.params[name].shape, float(version))
        net.save(path)
        print(version, flush=True)
        version += 1
    """
)

TRAINER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from deepmat import Network
    path = sys.argv[1]
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((256, 500)), rng.integers(0, 3, 256)
    net = Network([500, 1000, 3], "relu", "softmax", seed=0)
    print("start", flush=True)
    net.fit(X, y, epochs=10_000, batch_size=64, optimizer="adam", verbose=0, checkpoint=path)
    """
)


def kill_at_random(script: str, path: Path, delays: list[float]) -> list[int]:
    """Start ``script`` on ``path`` once per delay and SIGKILL it after that delay (timed
    from its first line of output); returns how many lines each child printed."""
    printed = []
    for delay in delays:
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        child.stdout.readline()  # it is running (and has written at least once)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        assert child.returncode == -signal.SIGKILL
        printed.append(1 + len(rest.split()))
    return printed


def test_sigkill_while_saving_leaves_a_complete_model(tmp_path):
    path = tmp_path / "model.safetensors"
    rng = random.Random(0)
    delays = [rng.uniform(0, 0.4) for _ in range(12)]
    printed = 0
    for delay in delays:
        printed += kill_at_random(SAVER, path, [delay])[0]
        net = deepmat.load(path)  # loadable after every kill
        assert all(np.unique(v).size == 1 for v in net.params.values())
        versions = {float(v.flat[0]) for v in net.params.values()}
        assert len(versions) == 1  # one whole version, never a mix of two
    assert printed > len(delays)  # the kills fell among several writes, not only before them


def test_sigkill_during_training_keeps_the_checkpoint_resumable(tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    rng = random.Random(1)
    for delay in (rng.uniform(0.3, 1.5) for _ in range(5)):
        kill_at_random(TRAINER, path, [delay])
        if not path.exists():  # killed before the first epoch ended
            continue
        net = deepmat.load(path)
        assert all(np.isfinite(v).all() for v in net.params.values())
        resumed = Network([500, 1000, 3], "relu", "softmax", seed=0)
        X, y = (
            np.random.default_rng(0).standard_normal((256, 500)),
            np.random.default_rng(0).integers(0, 3, 256),
        )
        history = resumed.fit(X, y, epochs=1, batch_size=64, optimizer="adam", verbose=0, resume_from=path)
        assert isinstance(history, list)
    assert path.exists()  # at least one checkpoint was written and survived the kills
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    assert all(name.startswith(".checkpoint.safetensors.") and name.endswith(".tmp") for name in leftovers)
