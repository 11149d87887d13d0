"""Training: :func:`fit`'s arguments, the :class:`Trainer` loop with its one :meth:`~Trainer.train_step`,
checkpoints and exact resume, divergence and Ctrl-C handling (:meth:`deepmat.Network.fit`).

One epoch: draw a permutation of the rows; then for each batch, one :meth:`Trainer.train_step`:
take the batch's rows (this rank's share of them in a data-parallel run), A[0] = X_batchᵀ,
forward in training mode, the cost J and the correct count, backward, (one Allreduce of the
gradients across the ranks), one optimiser step on the flat parameter vector θ. Shuffled rows
are gathered into two batch buffers allocated once per fit (no second copy of the data set,
and the batch is hot in cache when it is used); intermediates (Z, A, dZ, dA_prev) live in
buffers the layers allocate once per batch size (``Network.training_workspace``).

The trainer drives the network through its column-layout interface only — ``forward_pass``,
``compute_cost``, ``n_correct``, ``backward_pass``, ``apply_step``, ``theta``/``dtheta``,
``read_checkpoint`` — and imports no network: :mod:`deepmat.network` imports it.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepmat import fullbatch, lbfgs
from deepmat._checks import all_finite, check_number
from deepmat.callbacks import Callback, CostPrinter, History, ProgressBar
from deepmat.checkpoints import CheckpointError, check_same_run, check_state
from deepmat.distributed import Distributed
from deepmat.interrupts import DeferredInterrupt
from deepmat.io import write_model
from deepmat.optimizers import LBFGS, Optimizer, default_learning_rate, get_optimizer, optimizer_from_state
from deepmat.preprocessing import stratified_split
from deepmat.sample_weights import class_labels, training_weights
from deepmat.streaming import StreamedRows, check_streamable, is_streamed

#: Full-batch gradient descent tracks W[1]·A[0] through the Gram matrix A[0]ᵀ·A[0] when that
#: is exact and cheaper (:mod:`deepmat.fullbatch`); False always multiplies (for comparisons).
USE_INPUT_GRAM = True

#: In the seeds' full-batch form, a divergence rolls back to a snapshot this many
#: iterations old at most (a snapshot every iteration would cost a copy of W per step).
SNAPSHOT_EVERY_STEPS = 100

#: iterations of the seeds' form when neither iterations nor epochs is given (SPEC §7)
SEEDS_ITERATIONS = 2500


class TrainingDiverged(FloatingPointError):
    """The cost (or a parameter) became NaN or infinite during training."""


def fit(
    net: Any,
    X: Any,
    y: Any,
    learning_rate: float | None = None,
    iterations: int | None = None,
    print_every: int | None = 100,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    shuffle: bool | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    optimizer: str | Optimizer | LBFGS = "sgd",
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume_from: str | os.PathLike | None = None,
    distributed: Any = False,
    sample_weight: Any = None,
    class_weight: str | dict[int, float] | None = None,
) -> History:
    """Train ``net``, a :class:`deepmat.Network` (as the method ``net.fit(X, y, …)``). Two forms:

    - **The seeds'** ``fit(X, y, learning_rate=0.0075, iterations=2500, print_every=100)``:
      full-batch gradient descent; each iteration computes the cost J (recorded *before*
      its update), back-propagates and steps W[l] ← W[l] − α·dW[l]. Prints
      ``Cost after iteration i: J`` every ``print_every`` iterations (``None``/0, or
      ``verbose=0``: silent).
    - **Mini-batch** ``fit(X, y, epochs=…, batch_size=…, optimizer="adam", …)``: each
      epoch shuffles the samples (``shuffle``, default True) and takes one optimiser step per batch of
      ``batch_size`` (``None``: the whole set). ``validation_data=(X_val, y_val)`` or
      ``validation_split`` (a fraction of the samples held out at random — stratified by
      class for a classifier, so each class keeps its share; drawn from the network's seed) adds
      ``val_loss``/``val_accuracy`` to the history. ``verbose``: 0 silent, 1 a tqdm bar per
      epoch in a terminal and one line per epoch otherwise, 2 one line per epoch
      (:class:`~deepmat.callbacks.ProgressBar`).

    ``verbose=0`` prints nothing in either form; only a Ctrl-C says, on stderr, where it saved
    the checkpoint.

    ``optimizer`` is a name from :data:`deepmat.optimizers.OPTIMIZERS` (with
    ``learning_rate``; ``None`` means the seeds' 0.0075 for SGD and the optimiser's own
    default otherwise) or an instance. ``"lbfgs"`` (or a
    :class:`deepmat.optimizers.LBFGS` with its ``tol`` and ``max_fun``) minimises the full-batch
    J with SciPy's L-BFGS-B instead (:mod:`deepmat.lbfgs`): ``iterations`` or ``epochs`` count
    its iterations, the history has one entry per iteration (J after it), and it takes no
    learning rate, batch size, shuffling, dropout, batch norm, schedule, checkpoint or MPI. ``callbacks``: e.g.
    :class:`~deepmat.callbacks.EarlyStopping`, schedules from :mod:`deepmat.schedules`.
    ``checkpoint``: a path written atomically every ``checkpoint_every`` epochs, and on
    Ctrl-C (which then returns the history so far); ``resume_from``: a checkpoint to
    continue from — the run then ends with exactly the parameters of an uninterrupted one.
    ``distributed=True`` (under ``mpirun``): data-parallel training over the MPI ranks,
    each computing its share of every batch (:mod:`deepmat.distributed`); rank 0 alone
    prints and writes the checkpoint. A ``deepmat.distributed.Distributed`` may be passed
    instead of ``True`` (another communicator, or to read its Allreduce timings).

    ``X`` may be rows on disk — a memory map (``np.load(path, mmap_mode="r")``) or a chunked
    ``h5py.Dataset`` — larger than memory: the mini-batch form then streams them window by
    window, reading ahead in a background thread (:mod:`deepmat.streaming`, which states how
    the rows are shuffled and what cannot be combined with it).

    ``sample_weight`` ``(n_samples,)`` (≥ 0) and ``class_weight`` (``"balanced"`` or
    ``{class: weight}``) weigh each sample's loss: J = Σᵢ wᵢ·Lᵢ / Σᵢ wᵢ, so a weight of 2 counts
    as the sample repeated (:mod:`deepmat.sample_weights`). The validation loss and all
    accuracies stay unweighted.

    Returns the :class:`~deepmat.callbacks.History`: a list of per-epoch (per-iteration)
    costs with ``.history`` of every metric. Raises :class:`TrainingDiverged`, naming the
    epoch or iteration, if the cost stops being finite; the parameters are then restored
    to their last finite state. The loop is the :class:`Trainer`'s.
    """
    seeds_form = epochs is None
    if not seeds_form and iterations is not None:
        raise ValueError("give iterations= (full-batch, the seeds' form) or epochs= (mini-batch), not both")
    if seeds_form:
        if batch_size is not None or validation_data is not None or validation_split is not None:
            raise ValueError("batch_size and validation need the mini-batch form: pass epochs=")
        epochs = None if iterations is None else check_number(iterations, "iterations", 1, integer=True)
    else:
        epochs = check_number(epochs, "epochs", 1, integer=True)
    if print_every is not None:
        print_every = check_number(print_every, "print_every", 0, integer=True)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2; received {verbose!r}")
    if learning_rate is not None:
        learning_rate = check_number(learning_rate, "learning_rate", 0, low_open=True)
    # what this fit asks for explicitly: a resumed run must have begun with the same
    explicit = {"learning_rate": learning_rate} if learning_rate is not None else {}
    if isinstance(optimizer, Optimizer):
        explicit = optimizer.get_config()
    elif learning_rate is None and isinstance(optimizer, str) and optimizer.lower() == "sgd":
        learning_rate = default_learning_rate("sgd")
    optimizer = get_optimizer(optimizer, learning_rate)
    if epochs is None:  # the seeds' 2500 iterations, or L-BFGS's own count
        epochs = optimizer.default_iterations if isinstance(optimizer, LBFGS) else SEEDS_ITERATIONS
    if isinstance(optimizer, LBFGS):
        lbfgs.check_options(
            net,
            batch_size=batch_size,
            shuffle=shuffle,
            distributed=distributed,
            checkpoint=checkpoint,
            resume_from=resume_from,
            callbacks=callbacks,
        )
    shuffle = not seeds_form if shuffle is None else bool(shuffle) and not seeds_form

    streamed = is_streamed(X)
    if streamed:  # rows on disk: read window by window while training (deepmat.streaming)
        check_streamable(
            net,
            X,
            seeds_form=seeds_form,
            full_batch=isinstance(optimizer, LBFGS),
            validation_split=validation_split,
            weighted=sample_weight is not None or class_weight is not None,
            distributed=distributed,
        )
        Y = weights = None
    else:
        X = net.input_rows(X, fit=True, warn=False)
        Y = net.target_rows(y, X.shape[0])
        weights = training_weights(sample_weight, class_weight, Y, net.output_activation)
    validation = None
    if validation_data is not None and validation_split is not None:
        raise ValueError("give validation_data or validation_split, not both")
    if validation_split is not None:
        validation_split = check_number(
            validation_split, "validation_split", 0, 1, low_open=True, high_open=True
        )
        n_val = round(X.shape[0] * validation_split)
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(
                f"validation_split={validation_split} of {X.shape[0]} samples leaves {n_val} for validation"
            )
        train, val = validation_rows(net, Y, n_val)
        X, validation = X[train], (X[val], Y[val])
        Y = Y[train]
        if weights is not None:
            weights = weights[train] * (train.size / weights[train].sum())
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        X_val = net.input_rows(validation_data[0])
        validation = (X_val, net.target_rows(validation_data[1], X_val.shape[0]))
    m = X.shape[0]
    batch_size = m if batch_size is None else min(check_number(batch_size, "batch_size", 1, integer=True), m)
    if streamed:
        X = StreamedRows(X, y, net.target_rows, net.dtype, batch_size)
        X.check_targets()
    if net.couples_samples and batch_size < 2:
        raise ValueError(
            f"batch normalisation needs batches of at least 2 samples; received batch_size={batch_size} "
            f"with {m} training samples"
        )
    callbacks = list(callbacks)
    dist = None
    if distributed:
        if net.couples_samples:
            raise ValueError(
                "distributed training does not support BatchNorm (each rank would normalise its "
                "share on its own statistics); remove it or train in one process"
            )
        dist = distributed if isinstance(distributed, Distributed) else Distributed()
        if not dist.is_root:  # rank 0 alone reports
            print_every, verbose = None, 0
    if seeds_form:
        if print_every and verbose:
            callbacks.append(CostPrinter(print_every))
    elif verbose:  # L-BFGS: one plain line per iteration
        callbacks.append(
            ProgressBar(epochs, -(-m // batch_size), 2 if isinstance(optimizer, LBFGS) else verbose)
        )
    if isinstance(optimizer, LBFGS):
        return lbfgs.minimize_cost(
            net, optimizer, X, Y, weights, epochs, validation, callbacks, validation_logs, TrainingDiverged
        )
    trainer = Trainer(
        net,
        optimizer,
        callbacks,
        unit="iteration" if seeds_form else "epoch",
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        distributed=dist,
        explicit=explicit,
    )
    return trainer.run(X, Y, epochs, batch_size, shuffle, validation, resume_from, weights)


def validation_rows(net: Any, Y: np.ndarray, n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows) for ``validation_split``: at random from a generator of
    the network's seed (its third stream: the first two draw dropout masks and shuffles),
    stratified by class for a classifier."""
    rng = np.random.default_rng(np.random.SeedSequence(net.seed, spawn_key=(2,)))
    if net.is_classifier and (net.output_activation == "softmax" or Y.shape[1] == 1):
        return stratified_split(class_labels(Y, net.output_activation), n_val, rng)
    held = np.zeros(Y.shape[0], dtype=bool)
    held[rng.permutation(Y.shape[0])[:n_val]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def validation_logs(net: Any, X_val: np.ndarray, Y_val: np.ndarray) -> dict[str, float]:
    """``val_loss`` (and ``val_accuracy`` for a classifier) of ``net`` in inference mode on
    validation rows ``X_val`` ``(m, n[0])`` and target rows ``Y_val`` ``(m, n[L])``."""
    AL = net.infer(X_val.T)
    logs = {"val_loss": net.compute_cost(AL, Y_val.T)}
    if net.is_classifier:
        logs["val_accuracy"] = net.n_correct(AL.T, Y_val) / X_val.shape[0]
    return logs


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
        distributed: Distributed | None = None,
        explicit: dict[str, Any] | None = None,
    ) -> None:
        self.checkpoint_every = check_number(checkpoint_every, "checkpoint_every", 1, integer=True)
        #: this rank's view of a data-parallel run, else None
        self.distributed = distributed
        self.net = net
        self.optimizer = optimizer
        self.callbacks = callbacks
        #: the callbacks a checkpoint records and a resumed run must repeat (not progress displays)
        self.recorded_callbacks = [c for c in callbacks if c.in_checkpoint]
        self.unit = unit
        self.checkpoint = checkpoint
        self.history = History()
        # where training stands: next epoch, next batch within it, the epoch's sums so far,
        # and the shuffle generator's state when the epoch began (to redraw its permutation)
        self.epoch, self.batch, self.loss_sum, self.correct, self.seen = 0, 0, 0.0, 0, 0
        self.epoch_rng_state: dict[str, Any] | None = None
        self.stopped = False  # a callback had stopped the run the checkpoint comes from
        self.pending_callback_states: list[tuple[dict[str, Any], dict[str, np.ndarray]]] = []
        self.snapshot: tuple[int, dict[str, np.ndarray]] | None = None
        #: the optimiser's hyperparameters given explicitly to this fit (a resume compares them)
        self.explicit = dict(explicit or {})
        #: what a resumed run must share with this one (recorded in checkpoints)
        self.settings: dict[str, Any] = {}
        #: full-batch gradient descent's tracked W[1]·A[0] (deepmat.fullbatch), while active
        self.gram: fullbatch.InputGram | None = None
        #: each training sample's weight (mean 1), or None
        self.weights: np.ndarray | None = None
        self.pending_gram: tuple[int, np.ndarray, tuple | None] | None = None

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
            "optimizer": optimizer_scalars,
            "callbacks": callback_states,
            "history": self.history.to_json(),
            "settings": self.settings,
        }
        gram = self.gram
        if gram is not None:  # the tracked product, so that a resume continues it exactly
            scalars["input_gram"] = {"steps_since_sync": gram.steps_since_sync, "decay": gram.decay}
            arrays["input_gram.Z_linear"] = gram.Z_linear
            if gram.defer:  # W[1] as taken and its deferred steps (the model holds them taken)
                arrays["input_gram.W_taken"] = gram.layer.W
                arrays["input_gram.pending"] = gram.pending
        return scalars, arrays

    def model_arrays(self) -> dict[str, np.ndarray]:
        """The network's arrays as a model file holds them: W[1] with its deferred steps taken
        (:mod:`deepmat.fullbatch`), the others as they are."""
        arrays = self.net.state_arrays()
        if self.gram is not None and self.gram.defer:
            arrays[f"W{self.gram.layer.index}"] = self.gram.materialised()
        return arrays

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """The model, its training state and the optimiser's and callbacks' arrays, in one
        model file written atomically (:mod:`deepmat.io`)."""
        scalars, arrays = self.training_state()
        net = self.net
        write_model(
            path, net.get_config(), net.layers, self.model_arrays(), training=scalars, extra_arrays=arrays
        )

    def restore(self, path: str | os.PathLike) -> None:
        """Load a checkpoint written by :meth:`save_checkpoint` into the network and trainer."""
        state, arrays = self.net.read_checkpoint(path)
        check_state(state, arrays, self.net.params, path)
        check_same_run(state.get("settings", {}), self.settings, self.explicit, path)
        if "optimizer" in state.get("settings", {}):  # the hyperparameters the run began with
            self.settings["optimizer"] = state["settings"]["optimizer"]
        optimizer_arrays = {
            k[len("optimizer.") :]: v for k, v in arrays.items() if k.startswith("optimizer.")
        }
        try:
            restored = optimizer_from_state(state["optimizer"], optimizer_arrays)
        except (TypeError, ValueError) as error:  # hyperparameters the constructor refuses
            raise CheckpointError(
                f"the checkpoint {os.fspath(path)!r}: its optimiser cannot be rebuilt ({error})"
            ) from None
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
        self.history = History.from_json(state["history"])
        gram = state.get("input_gram")
        Z_linear = arrays.get("input_gram.Z_linear")
        if isinstance(gram, dict) and Z_linear is not None:
            deferred = None
            if "input_gram.W_taken" in arrays and "input_gram.pending" in arrays:
                deferred = (
                    arrays["input_gram.W_taken"],
                    arrays["input_gram.pending"],
                    gram.get("decay", 1.0),
                )
            self.pending_gram = (int(gram.get("steps_since_sync", 0)), Z_linear, deferred)

    # -- the loop ----------------------------------------------------------------------

    def run(self, *args: Any, **kwargs: Any) -> History:
        """Train on rows ``X`` ``(m, n[0])`` and target rows ``Y`` ``(m, n[L])`` (see
        :meth:`_run`). In a data-parallel run, an error on one rank (other than a divergence,
        which every rank sees alike) stops the whole job instead of leaving the others waiting."""
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
        weights: np.ndarray | None = None,
    ) -> History:
        """Train on rows ``X`` ``(m, n[0])`` and target rows ``Y`` ``(m, n[L])``, each sample's
        loss weighted by ``weights`` ``(m,)`` (mean 1) when given — or on rows streamed from
        disk, ``X`` a :class:`~deepmat.streaming.StreamedRows` (with its targets; ``Y`` None)."""
        self.weights = weights
        net, optimizer = self.net, self.optimizer
        m = X.shape[0]
        n_batches = -(-m // batch_size)
        self.settings = {
            "unit": self.unit,
            "samples": m,
            "batch_size": batch_size,
            "shuffle": shuffle,
            "optimizer": optimizer.get_config(),
        }
        self.pending_callback_states = []
        if resume_from is not None:
            self.restore(resume_from)
        for callback in self.callbacks:
            callback.on_train_begin(net, optimizer)
        for callback, (scalars, arrays) in zip(
            self.recorded_callbacks, self.pending_callback_states, strict=False
        ):
            try:
                callback.set_state(scalars, arrays)
            except (KeyError, TypeError, ValueError) as error:
                raise CheckpointError(
                    f"the checkpoint {os.fspath(resume_from)!r}: the state of {type(callback).__name__} "
                    f"cannot be restored ({error!r})"
                ) from None
        dist = self.distributed
        if dist is not None:
            dist.check_same((X.shape, Y.shape, batch_size, epochs, shuffle), "the data and batch settings")
            dist.broadcast(net.theta)  # every rank starts from rank 0's parameters
            dist.broadcast_state([net.shuffle_rng, net.noise_rng])
        # the batch buffers: shuffled rows (or a rank's share) are gathered into them
        self.buffers = None
        streamed = isinstance(X, StreamedRows)
        if (shuffle or dist is not None) and not streamed:
            self.buffers = (
                np.empty((batch_size, X.shape[1]), X.dtype),
                np.empty((batch_size, Y.shape[1]), Y.dtype),
            )
        order = None
        self.snapshot = None
        net.stop_training = self.stopped
        first = net.layers[0]
        self.gram = None
        if (
            USE_INPUT_GRAM
            and dist is None
            and not streamed
            and fullbatch.input_gram_applies(net, optimizer, self.callbacks, n_batches, shuffle)
            and fullbatch.worth_it(X.shape[1], m)
        ):
            # W[1]'s steps can wait while nothing reads W[1]: no callback, no validation pass,
            # no L2 term in J (deepmat.fullbatch)
            defer = not (
                validation is not None or first.l2 or any(c.reads_parameters for c in self.callbacks)
            )
            self.gram = first.input_gram = fullbatch.InputGram(first, X.T, defer=defer)
            if defer:  # dW[1] is not computed while W[1]'s steps are deferred: 0 for the optimiser
                first.grad(f"W{first.index}")[...] = 0
            if self.pending_gram is not None:  # continue the interrupted run's tracked product
                steps_since_sync, Z_linear, deferred = self.pending_gram
                if defer and deferred is not None:
                    self.gram.restore_deferred(*deferred)
                self.gram.restore(steps_since_sync, Z_linear)
        interrupt = DeferredInterrupt()
        try:
            with net.training_workspace(), interrupt:
                while self.epoch < epochs and not net.stop_training:
                    epoch = self.epoch
                    if self.batch == 0:
                        self.epoch_rng_state = net.shuffle_rng.bit_generator.state
                        self.loss_sum, self.correct, self.seen = 0.0, 0, 0
                    else:  # resuming mid-epoch: redraw the same permutation
                        net.shuffle_rng.bit_generator.state = self.epoch_rng_state
                    for callback in self.callbacks:
                        callback.on_epoch_begin(epoch)
                    if streamed:  # the epoch's plan of chunks and windows (deepmat.streaming)
                        order = X.permutation(net.shuffle_rng if shuffle else None)
                    elif shuffle:
                        order = net.shuffle_rng.permutation(m)
                    if self.snapshot is None or n_batches > 1 or epoch % SNAPSHOT_EVERY_STEPS == 0:
                        self.snapshot = (epoch, {k: v.copy() for k, v in self.model_arrays().items()})
                    while self.batch < n_batches:
                        interrupt.check()  # Ctrl-C takes effect here, between two whole steps
                        b = self.batch
                        start, stop = b * batch_size, min((b + 1) * batch_size, m)
                        if net.couples_samples and stop - start < 2:
                            self.batch += 1
                            continue  # batch norm cannot normalise a batch of one sample
                        cost, correct = self.train_step(X, Y, order, start, stop, where=(epoch, b, n_batches))
                        if self.gram is not None:
                            self.gram.after_step(optimizer.learning_rate, first.dZ_mean)
                        # the step is whole: only now does the batch count as done
                        self.loss_sum += cost * (stop - start)
                        self.seen += stop - start
                        self.correct += correct
                        self.batch += 1
                        for callback in self.callbacks:
                            callback.on_batch_end(b, {"loss": cost})
                    self._end_epoch(epoch, epochs, validation)
                    interrupt.check()
        except KeyboardInterrupt:
            if interrupt.forced:  # a second Ctrl-C stopped a step midway: this state is no run's
                print(
                    f"\ninterrupted twice: stopped at once, in the middle of a step; no checkpoint written "
                    f"(the last one, {os.fspath(self.checkpoint)!r}, stays)"
                    if self.checkpoint is not None
                    else "\ninterrupted twice: stopped at once, in the middle of a step; no checkpoint written",
                    file=sys.stderr,
                    flush=True,
                )
                raise
            path = self.checkpoint if self.checkpoint is not None else "deepmat_interrupted.safetensors"
            self.save_checkpoint(path)
            print(
                f"\ninterrupted at {self.unit} {self.epoch} (batch {self.batch}); checkpoint saved to "
                f"{os.fspath(path)!r} — continue with fit(..., resume_from={os.fspath(path)!r})",
                file=sys.stderr,
                flush=True,
            )
        finally:
            if streamed:
                X.close()
            if self.gram is not None:
                self.gram.flush()  # W[1]'s deferred steps (none after a divergence's restore)
            first.input_gram = None
            self.gram = None
            for layer in net.layers:
                layer.share_noise(None)
        for callback in self.callbacks:
            callback.on_train_end()
        return self.history

    def train_step(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        order: np.ndarray | None,
        start: int,
        stop: int,
        where: tuple[int, int, int] = (0, 0, 1),
    ) -> tuple[float, int]:
        """One optimiser step on the batch ``start:stop`` of the epoch (rows ``order[start:stop]``
        when shuffled): take its rows — this rank's contiguous share of them in a data-parallel
        run —, forward, the cost J and the correct count, backward; in a data-parallel run one
        Allreduce then leaves the whole batch's gradient (and cost and count) on every rank;
        a cost that is not finite raises :class:`TrainingDiverged` (``where`` = epoch, batch,
        batches per epoch); else the optimiser steps. Returns the batch's J and correct count."""
        net, dist = self.net, self.distributed
        B = stop - start
        if dist is None:
            rows = None if order is None else order[start:stop]
            share = None
        else:
            rows = dist.share(order[start:stop] if order is not None else np.arange(start, stop))
            offset = dist.rank * (B // dist.size) + min(dist.rank, B % dist.size)  # np.array_split's
            share = (offset, B)
            for layer in net.layers:  # the noise one process would draw for the whole batch, sliced
                layer.share_noise(share)
        weights = self.weights
        if isinstance(X, StreamedRows):
            X_rows, Y_rows = X.batch(start, stop)
            w_rows = None
        elif rows is None:
            X_rows, Y_rows = X[start:stop], Y[start:stop]
            w_rows = None if weights is None else weights[start:stop]
        else:  # clip: the indices are valid, skip np.take's bounds buffer
            X_batch, Y_batch = self.buffers
            X_rows = np.take(X, rows, axis=0, out=X_batch[: rows.size], mode="clip")
            Y_rows = np.take(Y, rows, axis=0, out=Y_batch[: rows.size], mode="clip")
            w_rows = None if weights is None else weights[rows]
        grads = None
        cost, correct = 0.0, 0
        if X_rows.shape[0]:
            AL = net.forward_pass(X_rows.T, training=True)
            cost = net.compute_cost(AL, Y_rows.T, w_rows)
            correct = net.n_correct(AL.T, Y_rows)
            grads = net.backward_pass(AL, Y_rows.T, w_rows)
        if dist is not None:
            if grads is None:  # fewer samples in this batch than ranks: this rank adds nothing
                net.dtheta[...] = 0
                for layer in net.layers:  # but draws the noise, to stay in step with the others
                    layer.skip_noise(B)
            elif not net.gradients_are_flat(grads):
                raise RuntimeError("distributed training needs every gradient in the flat buffer")
            cost, correct = dist.average(net.dtheta, X_rows.shape[0] / B, cost, correct)
        if not np.isfinite(cost):
            self._diverged(cost, *where)
        net.apply_step(self.optimizer, grads if dist is None else None)
        return cost, correct

    def _end_epoch(self, epoch: int, epochs: int, validation: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Record the epoch's metrics, run the callbacks, write the checkpoint when due."""
        net, dist = self.net, self.distributed
        finite = all_finite(net.theta) and all(all_finite(b) for b in net.buffers.values())
        if not (finite and (self.gram is None or all_finite(self.gram.pending))):
            # the last step of the epoch left parameters that are not finite (the next batch's
            # cost catches every other step)
            n_batches = -(-self.settings["samples"] // self.settings["batch_size"])
            self._diverged(math.nan, epoch, self.batch - 1, n_batches, what="the parameters became NaN/inf")
        logs = {"loss": self.loss_sum / self.seen}
        if net.is_classifier:
            logs["accuracy"] = self.correct / self.seen
        if validation is not None:
            logs.update(validation_logs(net, *validation))
        logs["lr"] = self.optimizer.learning_rate
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

    def _diverged(self, cost: float, epoch: int, batch: int, n_batches: int, what: str = "") -> None:
        snapshot_epoch, arrays = self.snapshot
        if self.gram is not None:  # the snapshot holds W[1] with its deferred steps taken
            self.gram.discard()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.net.load_state_arrays(arrays)
        where = (
            f"iteration {epoch}"
            if self.unit == "iteration"
            else f"epoch {epoch} (batch {batch + 1}/{n_batches})"
        )
        what = what or f"the cost became {cost}"
        raise TrainingDiverged(
            f"{what} at {where} (learning_rate={self.optimizer.learning_rate}); "
            f"try a smaller learning rate. The parameters were restored to those at the start of "
            f"{self.unit} {snapshot_epoch}; no checkpoint was written with them."
        )
