"""Data-parallel training on a real Open MPI runtime (mpirun -n 2 and -n 3, loopback and
shared memory only): equal to single-process training, rank 0 alone reports, resume works
across ranks, and a failing or killed rank stops the whole job instead of hanging."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import deepmat

MPIRUN = shutil.which("mpirun")
ENV = {
    **os.environ,
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_btl": "self,vader",
    "OMPI_MCA_oob_tcp_if_include": "lo",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
TIMEOUT = 120

PROBLEM = """
import sys, numpy as np, deepmat
rng = np.random.default_rng(0)
X, y = rng.standard_normal((203, 10)), rng.integers(0, 3, 203)   # 203 = 6 batches of 32 + 11
def make():
    return deepmat.Network([10, 16, 8, 3], "tanh", "softmax", seed=5, l2=1e-3, dropout=0.2)
"""


def mpirun(n: int, script: str, *args: object, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    assert MPIRUN, "mpirun is missing: scripts/install.sh --tests installs openmpi-bin"
    return subprocess.run(
        [MPIRUN, "--oversubscribe", "-n", str(n), sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
    )


def single(**fit) -> tuple[deepmat.Network, list[float]]:
    namespace: dict = {}
    exec(PROBLEM, namespace)
    net = namespace["make"]()
    history = net.fit(namespace["X"], namespace["y"], verbose=0, **fit)
    return net, list(history)


def assert_same(net: deepmat.Network, losses: list[float], saved: Path) -> None:
    other = np.load(saved)
    for name, value in net.params.items():
        np.testing.assert_allclose(other[name], value, rtol=1e-6, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(other["loss"], losses, rtol=1e-6)


TRAIN = PROBLEM + textwrap.dedent(
    """
    import json
    from mpi4py import MPI
    fit = json.loads(sys.argv[2])
    net = make()
    history = net.fit(X, y, verbose=0, distributed=True, **fit)
    if MPI.COMM_WORLD.rank == 0:
        np.savez(sys.argv[1], loss=np.array(list(history)), **net.params)
    """
)


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize(
    "fit",
    [
        {"epochs": 4, "batch_size": 32, "optimizer": "adam"},  # shuffled, uneven last batch
        {"iterations": 30, "learning_rate": 0.1, "print_every": 0},  # the seeds' full batch
        {"epochs": 1, "batch_size": 2, "optimizer": "sgd", "learning_rate": 0.05},  # ranks left empty
    ],
    ids=["adam-minibatch", "full-batch-sgd", "batches-smaller-than-the-ranks"],
)
def test_equals_single_process_training(tmp_path, ranks, fit):
    import json

    result = mpirun(ranks, TRAIN, tmp_path / "out.npz", json.dumps(fit))
    assert result.returncode == 0, result.stderr
    net, losses = single(**fit)
    assert_same(net, losses, tmp_path / "out.npz")


def test_resume_across_ranks_equals_an_uninterrupted_run(tmp_path):
    import json

    checkpoint = tmp_path / "ckpt.safetensors"
    first = {"epochs": 2, "batch_size": 32, "optimizer": "adam", "checkpoint": str(checkpoint)}
    assert mpirun(2, TRAIN, tmp_path / "a.npz", json.dumps(first)).returncode == 0
    assert checkpoint.is_file()
    rest = {"epochs": 4, "batch_size": 32, "optimizer": "adam", "resume_from": str(checkpoint)}
    result = mpirun(2, TRAIN, tmp_path / "b.npz", json.dumps(rest))
    assert result.returncode == 0, result.stderr
    net, losses = single(epochs=4, batch_size=32, optimizer="adam")
    other = np.load(tmp_path / "b.npz")
    for name, value in net.params.items():
        np.testing.assert_allclose(other[name], value, rtol=1e-6, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(other["loss"], losses, rtol=1e-6)


FAILING = PROBLEM + textwrap.dedent(
    """
    import os, signal
    from mpi4py import MPI
    from deepmat.callbacks import Callback
    class Fail(Callback):
        def on_epoch_end(self, epoch, logs):
            if MPI.COMM_WORLD.rank == 1 and epoch == 1:
                if sys.argv[1] == "raise":
                    raise RuntimeError("the disk of rank 1 is full")
                os.kill(os.getpid(), signal.SIGKILL)
    make().fit(X, y, epochs=50, batch_size=32, optimizer="adam", verbose=0, distributed=True, callbacks=[Fail()])
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_stops_the_job_with_a_clear_error(how):
    result = mpirun(2, FAILING, how, timeout=60)  # a hang would raise TimeoutExpired
    assert result.returncode != 0
    assert "finished" not in result.stdout
    if how == "raise":
        assert "rank 1 of 2 failed" in result.stderr and "the disk of rank 1 is full" in result.stderr
    else:
        assert "signal 9" in result.stderr or "Killed" in result.stderr, result.stderr


def test_batch_norm_is_refused():
    script = textwrap.dedent(
        """
        import numpy as np, deepmat
        net = deepmat.Network([4, 5, 2], "relu", "softmax", batch_norm=True)
        try:
            net.fit(np.ones((8, 4)), np.arange(8) % 2, epochs=1, verbose=0, distributed=True)
        except ValueError as error:
            import sys
            sys.stdout.write(f"refused: {error}\\n")  # one write: the two ranks' lines do not interleave
            sys.stdout.flush()
        """
    )
    result = mpirun(2, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused: distributed training does not support BatchNorm") == 2


def test_cli_rank_0_alone_reports_and_writes(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [MPIRUN, "-n", "2", sys.executable, "-m", "deepmat", "train", "--data", "digits", "--epochs", "2",
         "--distributed", "--out", str(out), "--verbose", "2"],
        capture_output=True, text=True, env=ENV, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("test accuracy:") == 1 and result.stdout.count("epoch 2/2") == 1
    assert (out / "model.safetensors").is_file() and (out / "checkpoint.safetensors").is_file()
    single_out = tmp_path / "single"  # one process, same environment (one BLAS thread)
    one = subprocess.run(
        [sys.executable, "-m", "deepmat", "train", "--data", "digits", "--epochs", "2", "--out", str(single_out),
         "--verbose", "0"],
        capture_output=True, text=True, env=ENV, timeout=TIMEOUT,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    a, b = deepmat.load(out / "model.safetensors"), deepmat.load(single_out / "model.safetensors")
    for (
        name,
        value,
    ) in b.params.items():  # dropout 0.3 included: equal up to float32 rounding
        np.testing.assert_allclose(a.params[name], value, rtol=1e-4, atol=1e-6, err_msg=name)
