"""Ctrl-C at a random moment, then resume: the parameters are bit-identical to an
uninterrupted run's (mini-batches with Adam, dropout and shuffling; full-batch gradient
descent with the Gram shortcut)."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from deepmat import Dense, Dropout, Network
from deepmat.callbacks import Callback

rng = np.random.default_rng(7)
X = rng.random((300, 20))
y = (X[:, :3].sum(axis=1) > 1.5).astype(np.int64) + (X[:, 3] > 0.5)
EPOCHS, BATCH = 6, 16


def build() -> Network:
    return Network(layers=[Dense(24, "relu"), Dropout(0.2), Dense(3, "softmax")], input_dim=20, seed=3)


def train(**kwargs) -> Network:
    net = build()
    net.fit(X, y, epochs=EPOCHS, batch_size=BATCH, optimizer="adam", learning_rate=0.01, verbose=0, **kwargs)
    return net


@pytest.fixture(scope="module")
def uninterrupted(deepmat_kernels) -> dict[str, np.ndarray]:  # once per kernel set (tests/conftest.py)
    return train().state_arrays()


class SigintAtBatch(Callback):
    """Sends the process a real SIGINT from another thread after a random number of batches,
    at a random moment of the following batch's step (the timer fires while it computes).
    Should the timer be late on a loaded machine, the next batch end waits for it, so the
    signal always lands inside the fit."""

    touches_parameters = False
    in_checkpoint = False

    def __init__(self, after_batches: int, delay: float) -> None:
        self.after, self.delay, self.seen = after_batches, delay, 0
        self.fired = threading.Event()

    def _fire(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        self.fired.set()

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.seen += 1
        if self.seen == self.after:
            threading.Timer(self.delay, self._fire).start()
        elif self.seen > self.after:
            self.fired.wait(10)


def test_twenty_random_interrupts_resume_bit_for_bit(uninterrupted, tmp_path):
    n_batches = EPOCHS * -(-X.shape[0] // BATCH)
    trial_rng = np.random.default_rng(2026)
    interrupted_at = []
    for trial in range(20):
        checkpoint = tmp_path / f"ckpt{trial}.safetensors"
        after, delay = int(trial_rng.integers(1, n_batches - 2)), float(trial_rng.uniform(0, 2e-4))
        net = build()
        history = net.fit(
            X, y, epochs=EPOCHS, batch_size=BATCH, optimizer="adam", learning_rate=0.01, verbose=0,
            callbacks=[SigintAtBatch(after, delay)], checkpoint=checkpoint,
        )  # fmt: skip
        assert checkpoint.is_file() and len(history) < EPOCHS, f"trial {trial}: the interrupt did not land"
        interrupted_at.append(after)
        resumed = train(checkpoint=checkpoint, resume_from=checkpoint)
        for name, array in uninterrupted.items():
            np.testing.assert_array_equal(
                resumed.state_arrays()[name], array, err_msg=f"trial {trial}: {name}"
            )
    assert len(set(interrupted_at)) > 10  # the interrupts fell at many different batches


def test_full_batch_with_the_gram_shortcut_resumes_bit_for_bit(tmp_path):
    rng_cat = np.random.default_rng(1)
    Xc, yc = rng_cat.random((40, 400)), rng_cat.integers(0, 2, 40)  # m ≤ n[0]/4: the shortcut applies

    def cat_like() -> Network:
        return Network([400, 7, 5, 1], seed=1)

    full = cat_like()
    full.fit(Xc, yc, iterations=150, print_every=None)
    first = cat_like()
    checkpoint = tmp_path / "gram.safetensors"
    first.fit(Xc, yc, iterations=97, print_every=None, checkpoint=checkpoint, checkpoint_every=97)
    resumed = cat_like()
    resumed.fit(Xc, yc, iterations=150, print_every=None, resume_from=checkpoint)
    for name, array in full.state_arrays().items():
        np.testing.assert_array_equal(resumed.state_arrays()[name], array, err_msg=name)


def test_a_second_ctrl_c_stops_at_once_and_writes_no_checkpoint(tmp_path, capsys):
    class TwoInterrupts(Callback):
        touches_parameters = False
        in_checkpoint = False

        def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
            if batch == 3:
                os.kill(os.getpid(), signal.SIGINT)  # deferred to the next batch boundary
                os.kill(os.getpid(), signal.SIGINT)  # insists: raised here and now

    checkpoint = tmp_path / "never.safetensors"
    with pytest.raises(KeyboardInterrupt):
        build().fit(
            X, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[TwoInterrupts()], checkpoint=checkpoint
        )
    assert not checkpoint.exists()
    assert "interrupted twice" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is given back
