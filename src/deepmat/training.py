"""The training loop behind :meth:`deepmat.Network.fit`: epochs of mini-batches, callbacks,
validation, checkpoints, exact resume, divergence and Ctrl-C handling.

One epoch: draw a permutation of the rows; then for each batch, gather its rows of (X, Y)
into two batch buffers allocated once per fit (no second copy of the data set, and the
batch is hot in cache when it is used), A[0] = X_batchᵀ, forward in training mode, the cost
J, backward, one optimiser step on the flat parameter vector. Intermediates (Z, A, dZ,
dA_prev) live in buffers the layers allocate once per batch size (``Network._use_workspace``).
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np

from deepmat import fullbatch
from deepmat._checks import check_positive
from deepmat.callbacks import Callback, History
from deepmat.layers import BatchNorm, Dropout
from deepmat.optimizers import Optimizer

#: Full-batch gradient descent tracks W[1]·A[0] through the Gram matrix A[0]ᵀ·A[0] when that
#: is exact and cheaper (:mod:`deepmat.fullbatch`); False always multiplies (for comparisons).
USE_INPUT_GRAM = True

#: In the seeds' full-batch form, a divergence rolls back to a snapshot this many
#: iterations old at most (a snapshot every iteration would cost a copy of W per step).
SNAPSHOT_EVERY_STEPS = 100


class Trainer:
    """Runs ``epochs`` of training of ``net`` with ``optimizer`` and ``callbacks``."""

    def __init__(
        self,
        net: Any,
        optimizer: Optimizer,
        callbacks: list[Callback],
        unit: str = "epoch",
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        distributed: Any = None,
    ) -> None:
        check_positive(checkpoint_every, "checkpoint_every", integer=True)
        #: a deepmat.distributed.Distributed in a data-parallel run, else None
        self.distributed = distributed
        self.net = net
        self.optimizer = optimizer
        self.callbacks = callbacks
        #: the callbacks a checkpoint records and a resumed run must repeat (not progress displays)
        self.recorded_callbacks = [c for c in callbacks if c.in_checkpoint]
        self.unit = unit
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.history = History()
        # where training stands: next epoch, next batch within it, the epoch's sums so far,
        # and the shuffle generator's state when the epoch began (to redraw its permutation)
        self.epoch, self.batch, self.loss_sum, self.correct, self.seen = 0, 0, 0.0, 0, 0
        self.epoch_rng_state: dict[str, Any] | None = None
        self.stopped = False  # a callback had stopped the run the checkpoint comes from

    # -- checkpoints -------------------------------------------------------------------

    def training_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Everything beyond the model that exact resumption needs (JSON scalars, arrays)."""
        optimizer_scalars, optimizer_arrays = self.optimizer.state_dict()
        arrays = {f"optimizer.{k}": v for k, v in optimizer_arrays.items()}
        callback_states = []
        for i, callback in enumerate(self.recorded_callbacks):
            scalars, cb_arrays = callback.get_state()
            callback_states.append({"type": type(callback).__name__, "state": scalars})
            arrays.update({f"callback{i}.{k}": v for k, v in cb_arrays.items()})
        scalars = {
            "epoch": self.epoch,
            "batch": self.batch,
            "loss_sum": self.loss_sum,
            "correct": self.correct,
            "seen": self.seen,
            "epoch_rng_state": self.epoch_rng_state,
            "stop_training": bool(self.net.stop_training),
            "shuffle_rng_state": self.net.shuffle_rng.bit_generator.state,
            "noise_rng_state": self.net.noise_rng.bit_generator.state,
            "num_batches_tracked": [
                layer.num_batches_tracked for layer in self.net.layers if isinstance(layer, BatchNorm)
            ],
            "optimizer": optimizer_scalars,
            "callbacks": callback_states,
            "history": self.history.to_json(),
        }
        return scalars, arrays

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        from deepmat.io import save_model

        scalars, arrays = self.training_state()
        save_model(self.net, path, training=scalars, extra_arrays=arrays)

    def restore(self, path: str | os.PathLike) -> None:
        """Load a checkpoint written by :meth:`save_checkpoint` into the network and trainer."""
        from deepmat.io import read_checkpoint
        from deepmat.optimizers import optimizer_from_state

        state, arrays = read_checkpoint(path, self.net)
        optimizer_arrays = {
            k[len("optimizer.") :]: v for k, v in arrays.items() if k.startswith("optimizer.")
        }
        restored = optimizer_from_state(state["optimizer"], optimizer_arrays)
        if type(restored) is not type(self.optimizer):
            raise ValueError(
                f"the checkpoint {os.fspath(path)!r} was trained with {type(restored).__name__}; "
                f"this fit uses {type(self.optimizer).__name__}"
            )
        self.optimizer.__dict__.update(restored.__dict__)
        if len(state["callbacks"]) != len(self.recorded_callbacks) or any(
            saved["type"] != type(cb).__name__
            for saved, cb in zip(state["callbacks"], self.recorded_callbacks, strict=False)
        ):
            raise ValueError(
                f"the checkpoint's callbacks {[c['type'] for c in state['callbacks']]} differ from this fit's "
                f"{[type(c).__name__ for c in self.recorded_callbacks]}; resume with the same callbacks"
            )
        self.pending_callback_states = [
            (
                saved["state"],
                {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(f"callback{i}.")},
            )
            for i, saved in enumerate(state["callbacks"])
        ]
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self.loss_sum, self.correct, self.seen = (
            float(state["loss_sum"]),
            int(state["correct"]),
            int(state["seen"]),
        )
        self.epoch_rng_state = state["epoch_rng_state"]
        self.stopped = bool(state.get("stop_training", False))
        self.net.shuffle_rng.bit_generator.state = state["shuffle_rng_state"]
        self.net.noise_rng.bit_generator.state = state["noise_rng_state"]
        bns = [layer for layer in self.net.layers if isinstance(layer, BatchNorm)]
        for layer, count in zip(bns, state["num_batches_tracked"], strict=True):
            layer.num_batches_tracked = int(count)
        self.history = History.from_json(state["history"])

    # -- the loop ----------------------------------------------------------------------

    def run(self, *args: Any, **kwargs: Any) -> History:
        """Train on rows ``X`` ``(m, n[0])`` and target rows ``Y`` ``(m, n[L])`` (see
        :meth:`_run`). In a data-parallel run, an error on one rank (other than a divergence,
        which every rank sees alike) stops the whole job instead of leaving the others waiting."""
        from deepmat.network import TrainingDiverged

        dist = self.distributed
        if dist is None or dist.size == 1:
            return self._run(*args, **kwargs)
        try:
            return self._run(*args, **kwargs)
        except TrainingDiverged:
            raise
        except BaseException as error:
            dist.abort(error)
            raise  # pragma: no cover - abort does not return

    @np.errstate(over="ignore", invalid="ignore", divide="ignore")  # divergence → TrainingDiverged
    def _run(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        epochs: int,
        batch_size: int,
        shuffle: bool,
        validation: tuple[np.ndarray, np.ndarray] | None,
        resume_from: str | os.PathLike | None = None,
    ) -> History:
        """Train on rows ``X`` ``(m, n[0])`` and target rows ``Y`` ``(m, n[L])``."""
        net, optimizer = self.net, self.optimizer
        self.pending_callback_states = []
        if resume_from is not None:
            self.restore(resume_from)
        for callback in self.callbacks:
            callback.on_train_begin(net, optimizer)
        for callback, (scalars, arrays) in zip(
            self.recorded_callbacks, self.pending_callback_states, strict=False
        ):
            callback.set_state(scalars, arrays)
        m = X.shape[0]
        n_batches = -(-m // batch_size)
        has_batch_norm = any(isinstance(layer, BatchNorm) for layer in net.layers)
        dist = self.distributed
        if dist is not None:
            dist.check_same((X.shape, Y.shape, batch_size, epochs, shuffle), "the data and batch settings")
            dist.broadcast(net._theta)  # every rank starts from rank 0's parameters
            dist.broadcast_state([net.shuffle_rng, net.noise_rng])
        if shuffle or dist is not None:
            X_batch = np.empty((batch_size, X.shape[1]), X.dtype)
            Y_batch = np.empty((batch_size, Y.shape[1]), Y.dtype)
        order = None
        snapshot = None
        net.stop_training = self.stopped
        net._use_workspace(True)
        first = net.layers[0]
        gram = None
        if (
            USE_INPUT_GRAM
            and dist is None
            and fullbatch.input_gram_applies(net, optimizer, self.callbacks, n_batches, shuffle)
            and fullbatch.worth_it(X.shape[1], m)
        ):
            gram = first.input_gram = fullbatch.InputGram(first, X.T)
        try:
            while self.epoch < epochs and not net.stop_training:
                epoch = self.epoch
                if self.batch == 0:
                    self.epoch_rng_state = net.shuffle_rng.bit_generator.state
                    self.loss_sum, self.correct, self.seen = 0.0, 0, 0
                else:  # resuming mid-epoch: redraw the same permutation
                    net.shuffle_rng.bit_generator.state = self.epoch_rng_state
                for callback in self.callbacks:
                    callback.on_epoch_begin(epoch)
                if shuffle:
                    order = net.shuffle_rng.permutation(m)
                if snapshot is None or n_batches > 1 or epoch % SNAPSHOT_EVERY_STEPS == 0:
                    snapshot = (epoch, {k: v.copy() for k, v in net.params.items()})
                while self.batch < n_batches:
                    b = self.batch
                    start, stop = b * batch_size, min((b + 1) * batch_size, m)
                    self.batch += 1
                    if has_batch_norm and stop - start < 2:
                        continue  # batch norm cannot normalise a batch of one sample
                    if dist is not None:
                        cost, correct = self._distributed_batch(X, Y, X_batch, Y_batch, order, start, stop)
                    else:
                        if shuffle:  # clip: the indices are valid, skip np.take's bounds buffer
                            rows = order[start:stop]
                            X_rows = np.take(X, rows, axis=0, out=X_batch[: stop - start], mode="clip")
                            Y_rows = np.take(Y, rows, axis=0, out=Y_batch[: stop - start], mode="clip")
                        else:
                            X_rows, Y_rows = X[start:stop], Y[start:stop]
                        AL = net._forward(X_rows.T, training=True)
                        cost = net._cost(AL, Y_rows.T)
                        correct = net.n_correct(AL.T, Y_rows) if net.is_classifier else 0
                    if not np.isfinite(cost):
                        self._diverged(cost, epoch, b, n_batches, snapshot)
                    self.loss_sum += cost * (stop - start)
                    self.seen += stop - start
                    self.correct += correct
                    if dist is not None:
                        net._step(optimizer, net._flat_grads)
                    else:
                        net._step(optimizer, net._backward(AL, Y_rows.T))
                    if gram is not None:
                        gram.after_step(optimizer.learning_rate, first.dZ_mean)
                    for callback in self.callbacks:
                        callback.on_batch_end(b, {"loss": cost})
                logs = {"loss": self.loss_sum / self.seen}
                if net.is_classifier:
                    logs["accuracy"] = self.correct / self.seen
                if validation is not None:
                    logs.update(self._validate(*validation))
                logs["lr"] = optimizer.learning_rate
                self.history.record(epoch, logs)
                self.epoch, self.batch = epoch + 1, 0
                for callback in self.callbacks:
                    callback.on_epoch_end(epoch, logs)
                if (
                    self.checkpoint is not None
                    and (dist is None or dist.is_root)
                    and (self.epoch % self.checkpoint_every == 0 or self.epoch == epochs or net.stop_training)
                ):
                    self.save_checkpoint(self.checkpoint)
        except KeyboardInterrupt:
            path = self.checkpoint if self.checkpoint is not None else "deepmat_interrupted.safetensors"
            self.save_checkpoint(path)
            print(
                f"\ninterrupted at {self.unit} {self.epoch} (batch {self.batch}); checkpoint saved to "
                f"{os.fspath(path)!r} — continue with fit(..., resume_from={os.fspath(path)!r})",
                file=sys.stderr,
                flush=True,
            )
        finally:
            net._use_workspace(False)
            first.input_gram = None
            for layer in net.layers:
                if isinstance(layer, Dropout):
                    layer.batch_share = None
        for callback in self.callbacks:
            callback.on_train_end()
        return self.history

    def _distributed_batch(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        X_batch: np.ndarray,
        Y_batch: np.ndarray,
        order: np.ndarray | None,
        start: int,
        stop: int,
    ) -> tuple[float, int]:
        """This rank's share of the global batch ``start:stop``: forward, cost, backward,
        then one Allreduce leaves the global batch's gradient in every rank's flat ∂J/∂θ.
        Returns the global batch's cost J and correct count."""
        net, dist = self.net, self.distributed
        rows = dist.share(order[start:stop] if order is not None else np.arange(start, stop))
        m_r, B = rows.size, stop - start
        offset = dist.rank * (B // dist.size) + min(dist.rank, B % dist.size)  # np.array_split's
        dropouts = [layer for layer in net.layers if isinstance(layer, Dropout) and layer.rate > 0]
        for layer in dropouts:  # the masks one process would draw for the whole batch, sliced
            layer.batch_share = (offset, B)
        cost = 0.0
        correct = 0
        if m_r:
            X_rows = np.take(X, rows, axis=0, out=X_batch[:m_r], mode="clip")
            Y_rows = np.take(Y, rows, axis=0, out=Y_batch[:m_r], mode="clip")
            AL = net._forward(X_rows.T, training=True)
            cost = net._cost(AL, Y_rows.T)
            correct = net.n_correct(AL.T, Y_rows) if net.is_classifier else 0
            grads = net._backward(AL, Y_rows.T)
            if any(grads[k] is not v for k, v in net._flat_grads.items()):
                raise RuntimeError("distributed training needs every gradient in the flat buffer")
        else:  # fewer samples in this batch than ranks: this rank contributes nothing
            net._dtheta[...] = 0
            for layer in dropouts:  # but draws the masks, to stay in step with the other ranks
                layer.draw_mask(B, net.dtype)
        return dist.average(net._dtheta, m_r / B, cost, correct)

    def _validate(self, X_val: np.ndarray, Y_val: np.ndarray) -> dict[str, float]:
        net = self.net
        AL = net._infer(X_val.T)
        logs = {"val_loss": net._cost(AL, Y_val.T)}
        if net.is_classifier:
            logs["val_accuracy"] = net.n_correct(AL.T, Y_val) / X_val.shape[0]
        return logs

    def _diverged(self, cost: float, epoch: int, batch: int, n_batches: int, snapshot: tuple) -> None:
        from deepmat.network import TrainingDiverged

        snapshot_epoch, params = snapshot
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.net.params = params
        where = (
            f"iteration {epoch}"
            if self.unit == "iteration"
            else f"epoch {epoch} (batch {batch + 1}/{n_batches})"
        )
        raise TrainingDiverged(
            f"the cost became {cost} at {where} (learning_rate={self.optimizer.learning_rate}); "
            f"try a smaller learning rate. The parameters were restored to those at the start of "
            f"{self.unit} {snapshot_epoch}; no checkpoint was written with them."
        )
