"""``Network``: an L-layer fully-connected network that owns its parameters (SPEC §1–§7).

The object API speaks the layout of scikit-learn and PyTorch — one sample per **row**:
``X`` is ``(n_samples, n_features)``, ``y`` is ``(n_samples,)`` labels or
``(n_samples, n_outputs)`` targets, and outputs are ``(n_samples, n_outputs)``.
Inside, it computes in the seeds' column layout: A[0] = Xᵀ ``(n[0], m)`` with
m = n_samples, and Y = yᵀ ``(n[L], m)`` (class labels one-hot encoded for a softmax
output). The transposes are views; nothing is copied. The parameters keep the seeds'
shapes: ``W{l}`` is ``(n[l], n[l-1])`` and ``b{l}`` is ``(n[l], 1)``.

>>> import numpy as np
>>> net = Network([2, 4, 1], seed=0)
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> net.forward(X).shape
(4, 1)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepmat import functional as F
from deepmat._checks import (
    as_float_matrix,
    cast_finite,
    check_dtype_name,
    check_finite,
    check_positive,
    unknown_name,
)
from deepmat.activations import get_activation
from deepmat.callbacks import Callback, CostPrinter, History, ProgressBar
from deepmat.initializers import check_init, warn_if_symmetric
from deepmat.layers import Activation, BatchNorm, Dense, Dropout, Layer, layer_from_config
from deepmat.losses import DEFAULT_LOSS, get_loss, output_delta
from deepmat.optimizers import Optimizer, get_optimizer

#: Output activations whose outputs are probabilities (classifiers).
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")


class TrainingDiverged(FloatingPointError):
    """The cost became NaN or infinite during training."""


class LiveArrays(dict):
    """The network's own arrays by name. Assigning an entry (``net.params["W1"] = W``) copies
    the values into the existing array, after checking its shape, so the layers and the
    optimiser keep working on the same memory."""

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in self:
            raise KeyError(f"no array named {name!r}; the names are {sorted(self)}")
        value = np.asarray(value)
        if value.shape != self[name].shape:
            raise ValueError(f"{name} must be {self[name].shape}; received {value.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; received dtype {value.dtype}")
        np.copyto(self[name], cast_finite(value, name, self[name].dtype))

    def update(self, other: Any = (), **kwargs: Any) -> None:
        for name, value in dict(other, **kwargs).items():
            self[name] = value

    def __reduce__(self) -> tuple:
        # pickle (copy.deepcopy, scikit-learn's clone of a fitted pipeline, joblib) would
        # rebuild a dict subclass through __setitem__, which only copies into existing names
        return (_live_arrays, (dict(self),))


def _live_arrays(arrays: dict[str, np.ndarray]) -> LiveArrays:
    live = LiveArrays()
    dict.update(live, arrays)
    return live


class Network:
    """A deep fully-connected network, ``layer_dims = [n[0], n[1], …, n[L]]``.

    Args:
        layer_dims: units per layer, input layer first (at least two entries) — the seeds'
            shorthand. Give ``layers`` and ``input_dim`` instead to mix layer types.
        hidden_activation: g[l] for l = 1..L-1 — ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
            ``"sigmoid"`` or ``"identity"``.
        output_activation: g[L] — ``"sigmoid"`` (binary or multi-label), ``"softmax"``
            (multi-class) or ``"identity"`` (regression).
        loss: ``"binary_cross_entropy"``, ``"cross_entropy"`` or ``"mse"``; ``None`` takes
            the one that matches the output activation (sigmoid → binary cross-entropy,
            softmax → cross-entropy, identity → MSE).
        init: ``"scaled"`` (seed 002's iniPara), ``"small"``, ``"he"``, ``"xavier"`` or
            ``"zeros"`` — see :mod:`deepmat.initializers`.
        seed: seeds the ``RandomState`` the weights are drawn from (layer by layer, as the
            course does) and the generators of dropout masks and shuffling.
        dtype: ``"float64"`` or ``"float32"``; parameters, activations, gradients and inputs
            all use it.
        layers: a list of :mod:`deepmat.layers` objects (``Dense``, ``BatchNorm``,
            ``Activation``, ``Dropout``) ending in a ``Dense`` or ``Activation`` whose
            activation is the output activation; needs ``input_dim``.
        input_dim: n[0] when ``layers`` is given.
        l2: L2 penalty λ for every Dense layer that does not set its own: J gains
            (λ/2)·Σ_l ‖W[l]‖²_F and dW[l] gains λ·W[l].
        dropout: with ``layer_dims``, the dropout rate after every hidden layer.
        batch_norm: with ``layer_dims``, batch normalisation of every hidden Z[l] before g[l].

    Shape:
        - ``X``: ``(n_samples, n[0])``
        - ``y``: ``(n_samples,)`` labels — 0/1 for one sigmoid output, 0..n[L]-1 for
          softmax, values for one identity output — or ``(n_samples, n[L])`` targets
        - output: ``(n_samples, n[L])``

    Example::

        net = Network([12288, 20, 7, 5, 1])        # the seeds' cat model
        costs = net.fit(X_train, y_train)          # full-batch gradient descent
        net.score(X_test, y_test)                  # accuracy

        net = Network(layers=[Dense(256), BatchNorm(), Dropout(0.2), Dense(10, "softmax")],
                      input_dim=784, init="he", dtype="float32")
        net.fit(X, y, epochs=10, batch_size=128, optimizer="adam", validation_split=0.1)
    """

    def __init__(
        self,
        layer_dims: Sequence[int] | None = None,
        hidden_activation: str = "relu",
        output_activation: str = "sigmoid",
        loss: str | None = None,
        init: str = "scaled",
        seed: int | None = 1,
        dtype: str = "float64",
        *,
        layers: Sequence[Layer] | None = None,
        input_dim: int | None = None,
        l2: float = 0.0,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        if (layer_dims is None) == (layers is None):
            raise ValueError(
                "give either layer_dims (e.g. [784, 256, 10]) or layers= with input_dim=, not both"
            )
        if layers is None:
            dims = _check_layer_dims(layer_dims)
            get_activation(hidden_activation)
            if hidden_activation == "softmax":
                raise ValueError(
                    "hidden_activation='softmax' is not supported (a hidden softmax couples its units); "
                    "expected one of: 'identity', 'leaky_relu', 'relu', 'sigmoid', 'tanh'"
                )
            if output_activation not in DEFAULT_LOSS:
                raise unknown_name("output activation", output_activation, DEFAULT_LOSS)
            layers = _layers_from_dims(dims, hidden_activation, output_activation, dropout, batch_norm)
            input_dim = dims[0]
        else:
            if dropout or batch_norm:
                raise ValueError(
                    "dropout= and batch_norm= are shorthands for layer_dims; with layers=, add the layers"
                )
            layers = list(layers)
            if not layers or not all(isinstance(layer, Layer) for layer in layers):
                raise TypeError(
                    f"layers must be a non-empty list of deepmat.layers objects; received {layers!r}"
                )
            if input_dim is None:
                raise ValueError("layers= needs input_dim= (n[0], the number of features per sample)")
            check_positive(input_dim, "input_dim", integer=True)
            hidden_activation = None
        last = layers[-1]
        if not isinstance(last, (Dense, Activation)):
            raise ValueError(
                f"the last layer must be Dense or Activation (its activation is g[L]); received {last!r}"
            )
        output_activation = last.activation
        if output_activation not in DEFAULT_LOSS:
            raise unknown_name("output activation", output_activation, DEFAULT_LOSS)
        loss = DEFAULT_LOSS[output_activation] if loss is None else loss
        get_loss(loss)
        if loss != "mse" and output_activation not in PROBABILITY_OUTPUTS:
            raise ValueError(
                f"loss {loss!r} needs probabilities in (0, 1); output_activation "
                f"{output_activation!r} does not give them: use 'sigmoid' or 'softmax'"
            )
        if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not l2 >= 0:
            raise ValueError(f"l2 must be a number ≥ 0; received {l2!r}")
        check_init(init)
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.loss = loss
        self.init = init
        self.seed = seed
        self.l2 = float(l2)
        self.dtype = check_dtype_name(dtype)
        self.layers: list[Layer] = layers
        self.stop_training = False
        self._build(int(input_dim))

    def _build(self, input_dim: int) -> None:
        """Create every layer's arrays: weights drawn Dense by Dense from RandomState(seed)."""
        weight_rng = np.random.RandomState(self.seed)
        noise_seed, shuffle_seed = np.random.SeedSequence(self.seed).spawn(2)
        self.noise_rng = np.random.default_rng(noise_seed)
        self.shuffle_rng = np.random.default_rng(shuffle_seed)
        dims, n, index = [input_dim], input_dim, 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                index += 1
                if layer.l2 is None:
                    layer.l2 = self.l2 or None
            n = layer.build(n, index, weight_rng, self.dtype, self.init, self.noise_rng)
            if isinstance(layer, Dense):
                dims.append(n)
        if index == 0:
            raise ValueError("layers must contain at least one Dense layer")
        self.layer_dims = dims
        warn_if_symmetric(self.init, has_hidden_layer=len(dims) > 2)
        if self.output_activation == "softmax" and dims[-1] < 2:
            raise ValueError(
                f"a softmax output needs n[L] ≥ 2 classes; received n[L] = {dims[-1]} "
                "(use output_activation='sigmoid' for one output)"
            )
        self._params = LiveArrays()
        self._buffers = LiveArrays()
        for layer in self.layers:
            for name in (*layer.params, *layer.buffers):
                if name in self._params or name in self._buffers:
                    raise ValueError(
                        f"two layers both define {name!r}: at most one BatchNorm per Dense layer"
                    )
            dict.update(self._params, layer.params)
            dict.update(self._buffers, layer.buffers)
        self._pack()

    def __getstate__(self) -> dict[str, Any]:
        """Pickling (copy.deepcopy, joblib) keeps each array but not that W1 … are views of
        one flat θ; the flat vectors are left out and rebuilt by :meth:`__setstate__`."""
        state = self.__dict__.copy()
        for name in ("_theta", "_dtheta", "_flat_grads"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pack()

    def _pack(self) -> None:
        """Move every parameter into one flat array θ and give every layer its gradients as
        views of one flat array ∂J/∂θ of the same layout: the optimiser then updates all
        parameters with a handful of whole-array operations (and a distributed run averages
        all gradients in one message). ``W1`` etc. stay ordinary arrays of their own shapes —
        views into θ."""
        total = sum(a.size for a in self._params.values())
        self._theta = np.empty(total, self.dtype)
        self._dtheta = np.zeros(total, self.dtype)
        self._flat_grads: dict[str, np.ndarray] = {}
        offset = 0
        for layer in self.layers:
            for name, array in layer.params.items():
                view = self._theta[offset : offset + array.size].reshape(array.shape)
                view[...] = array
                layer.params[name] = view
                dict.__setitem__(self._params, name, view)
                grad = self._dtheta[offset : offset + array.size].reshape(array.shape)
                layer.grads[f"d{name}"] = self._flat_grads[f"d{name}"] = grad
                offset += array.size

    # -- description -------------------------------------------------------------------

    @property
    def L(self) -> int:
        """Number of layers with weights (the input layer is layer 0)."""
        return len(self.layer_dims) - 1

    @property
    def is_classifier(self) -> bool:
        """True when the output is a probability (sigmoid or softmax)."""
        return self.output_activation in PROBABILITY_OUTPUTS

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The trainable arrays ``W1, b1, …`` (and ``gamma{l}, beta{l}`` of batch norm), live:
        the optimiser updates these very arrays in place. Assigning a dict copies its values
        in after checking names and shapes."""
        return self._params

    @params.setter
    def params(self, new: dict[str, np.ndarray]) -> None:
        self._assign(self._params, new, "params")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state: batch norm's ``running_mean{l}``, ``running_var{l}``."""
        return self._buffers

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Parameters and buffers together (what a saved model holds)."""
        return {**self._params, **self._buffers}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy ``arrays`` (names and shapes as :meth:`state_arrays`) into the network."""
        self._assign({**self._params, **self._buffers}, arrays, "state")

    def _assign(self, target: dict[str, np.ndarray], new: dict[str, np.ndarray], what: str) -> None:
        """Check every array of ``new`` first, then copy them all (all or nothing)."""
        if set(new) != set(target):
            raise ValueError(f"{what} must have exactly the keys {sorted(target)}; received {sorted(new)}")
        checked = {}
        for name, value in new.items():
            value = np.asarray(value)
            if value.shape != target[name].shape:
                raise ValueError(f"{name} must be {target[name].shape}; received {value.shape}")
            if value.dtype.kind not in "biuf":
                raise TypeError(f"{name} must hold real numbers; received dtype {value.dtype}")
            checked[name] = cast_finite(value, name, target[name].dtype)
        for name, value in checked.items():
            np.copyto(target[name], value)

    def get_config(self) -> dict[str, Any]:
        """Everything needed to rebuild the architecture (JSON-ready)."""
        return {
            "input_dim": self.layer_dims[0],
            "layers": [layer.get_config() for layer in self.layers],
            "loss": self.loss,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
            "l2": self.l2,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Network:
        """Rebuild a network (freshly initialised) from :meth:`get_config`."""
        expected = {"input_dim", "layers", "loss", "init", "seed", "dtype", "l2"}
        if not isinstance(config, dict) or set(config) != expected:
            got = sorted(config) if isinstance(config, dict) else type(config).__name__
            raise ValueError(f"a network config has exactly the keys {sorted(expected)}; received {got}")
        if not isinstance(config["layers"], list):
            raise ValueError(f"config 'layers' must be a list; received {type(config['layers']).__name__}")
        layers = [layer_from_config(c) for c in config["layers"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return cls(
                layers=layers,
                input_dim=config["input_dim"],
                loss=config["loss"],
                init=config["init"],
                seed=config["seed"],
                dtype=config["dtype"],
                l2=config["l2"],
            )

    def __repr__(self) -> str:
        if self.hidden_activation is not None and all(isinstance(x, Dense) for x in self.layers):
            return (
                f"Network(layer_dims={self.layer_dims}, hidden_activation={self.hidden_activation!r}, "
                f"output_activation={self.output_activation!r}, loss={self.loss!r}, init={self.init!r}, "
                f"seed={self.seed}, dtype={self.dtype.name!r})"
            )
        return (
            f"Network(layers={self.layers!r}, input_dim={self.layer_dims[0]}, loss={self.loss!r}, "
            f"init={self.init!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )

    def copy(self, dtype: str | None = None) -> Network:
        """An independent copy (parameters, buffers, random generators), optionally cast."""
        config = self.get_config()
        config["dtype"] = check_dtype_name(dtype if dtype is not None else self.dtype).name
        clone = Network.from_config(config)
        clone.hidden_activation = self.hidden_activation
        clone.load_state_arrays(self.state_arrays())
        clone.noise_rng.bit_generator.state = self.noise_rng.bit_generator.state
        clone.shuffle_rng.bit_generator.state = self.shuffle_rng.bit_generator.state
        return clone

    # -- the maths, in column layout ---------------------------------------------------

    def _columns(self, X: Any) -> np.ndarray:
        """A[0] = Xᵀ, ``(n[0], m)``, after checking X."""
        return as_float_matrix(X, "X", self.dtype, self.layer_dims[0]).T

    def _target_rows(self, y: Any, m: int) -> np.ndarray:
        """Yᵀ, ``(m, n[L])`` — one row per sample — with labels one-hot encoded for softmax."""
        n_out = self.layer_dims[-1]
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y must hold real numbers (labels or targets); received dtype {y.dtype}")
        if y.ndim not in (1, 2) or y.shape[0] != m:
            raise ValueError(
                f"y must be (n_samples,) or (n_samples, {n_out}) with n_samples = {m}, the number of "
                f"rows of X; received shape {y.shape}"
            )
        if y.ndim == 1 and self.output_activation == "softmax":
            check_finite(y, "y")
            Y = self._one_hot(y)
        elif y.ndim == 2 and y.shape[1] != n_out:
            raise ValueError(
                f"y is {y.shape} but the output layer has n[L] = {n_out} units; expected ({m}, {n_out})"
            )
        elif y.ndim == 1 and n_out != 1:
            raise ValueError(
                f"y is 1-D {y.shape} but the output layer has n[L] = {n_out} units and is not a "
                f"softmax; expected targets of shape ({m}, {n_out})"
            )
        else:
            Y = cast_finite(y, "y", self.dtype).reshape(m, n_out)
        if self.is_classifier and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                f"a {self.output_activation} output is trained on targets in [0, 1]; received values "
                f"from {Y.min()} to {Y.max()}"
            )
        return Y

    def _targets(self, y: Any, m: int) -> np.ndarray:
        """Y = yᵀ, ``(n[L], m)``."""
        return self._target_rows(y, m).T

    def _one_hot(self, labels: np.ndarray) -> np.ndarray:
        n_classes = self.layer_dims[-1]
        as_int = labels.astype(np.int64)
        if not np.array_equal(as_int, labels) or as_int.min() < 0 or as_int.max() >= n_classes:
            raise ValueError(
                f"class labels must be integers from 0 to {n_classes - 1} (n[L] = {n_classes}); "
                f"received values from {labels.min()} to {labels.max()}"
            )
        Y = np.zeros((labels.shape[0], n_classes), dtype=self.dtype)
        Y[np.arange(labels.shape[0]), as_int] = 1
        return Y

    def _forward(self, A0: np.ndarray, training: bool = False) -> np.ndarray:
        """A[L] ``(n[L], m)`` from A[0] ``(n[0], m)``, layer by layer (SPEC §2), keeping each
        layer's cache for :meth:`_backward`."""
        A = A0
        for layer in self.layers:
            A = layer.forward(A, training)
        return A

    def _infer(self, A0: np.ndarray) -> np.ndarray:
        """A[L] in inference mode, keeping no caches (the path of predict)."""
        A = A0
        for layer in self.layers:
            A = layer.infer(A)
        return A

    def _use_workspace(self, active: bool) -> None:
        """While active (inside fit), the layers' training passes reuse their intermediates'
        arrays from batch to batch; deactivating frees them."""
        for layer in self.layers:
            layer.workspace = {} if active else None

    def _cost(self, AL: np.ndarray, Y: np.ndarray) -> float:
        """J, including the layers' L2 terms."""
        return F.compute_cost(AL, Y, self.loss) + sum(layer.penalty() for layer in self.layers)

    def _backward(self, AL: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of J after :meth:`_forward` (SPEC §3): the output error dZ[L], then each
        layer's backward in reverse; dX is not computed."""
        last = self.layers[-1]
        Z_last = last.cache.Z if isinstance(last, Dense) else last.Z
        dZ = output_delta(AL, Y, Z_last, self.loss, self.output_activation)
        dA = last.backward_dZ(dZ, need_dA_prev=len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            dA = self.layers[i].backward(dA, need_dA_prev=i > 0)
        grads: dict[str, np.ndarray] = {}
        for layer in self.layers:
            grads.update(layer.grads)
        return grads

    def _step(self, optimizer: Optimizer, grads: dict[str, np.ndarray]) -> None:
        """One optimiser step from :meth:`_backward`'s gradients: on the flat θ and ∂J/∂θ at
        once when every gradient is still the layers' view of the flat buffer (always, unless
        a layer replaced its ``grads``), else parameter by parameter."""
        flat = self._flat_grads
        if len(grads) == len(flat) and all(grads[k] is v for k, v in flat.items()):
            optimizer.step_flat(self._theta, self._dtheta, self._params)
        else:
            optimizer.step(self._params, grads)

    # -- public API, row layout --------------------------------------------------------

    def forward(self, X: Any, training: bool = False) -> np.ndarray:
        """Output activations A[L]ᵀ, ``(n_samples, n[L])`` (inference mode unless ``training``)."""
        A0 = self._columns(X)
        return (self._forward(A0, training) if training else self._infer(A0)).T

    def cost(self, X: Any, y: Any, training: bool = False) -> float:
        """The mean cost J over the samples of ``(X, y)``, L2 terms included."""
        A0 = self._columns(X)
        Y = self._targets(y, A0.shape[1])
        return self._cost(self._forward(A0, training) if training else self._infer(A0), Y)

    def gradients(self, X: Any, y: Any, training: bool = False) -> dict[str, np.ndarray]:
        """∂J/∂θ for every parameter θ, as ``{"dW1": …, "db1": …}`` shaped like the parameters.

        ``training=True`` differentiates the training-mode network (dropout masks drawn,
        batch norm on batch statistics, running statistics updated)."""
        A0 = self._columns(X)
        Y = self._targets(y, A0.shape[1])
        return {k: v.copy() for k, v in self._backward(self._forward(A0, training), Y).items()}

    def fit(
        self,
        X: Any,
        y: Any,
        learning_rate: float | None = None,
        iterations: int | None = None,
        print_every: int | None = 100,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float | None = None,
        optimizer: str | Optimizer = "sgd",
        callbacks: Sequence[Callback] = (),
        verbose: int = 1,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        resume_from: str | os.PathLike | None = None,
        distributed: Any = False,
    ) -> History:
        """Train the network. Two forms:

        - **The seeds'** ``fit(X, y, learning_rate=0.0075, iterations=2500, print_every=100)``:
          full-batch gradient descent; each iteration computes the cost J (recorded *before*
          its update), back-propagates and steps W[l] ← W[l] − α·dW[l]. Prints
          ``Cost after iteration i: J`` every ``print_every`` iterations (``None``/0: silent).
        - **Mini-batch** ``fit(X, y, epochs=…, batch_size=…, optimizer="adam", …)``: each
          epoch shuffles the samples (``shuffle``) and takes one optimiser step per batch of
          ``batch_size`` (``None``: the whole set). ``validation_data=(X_val, y_val)`` or
          ``validation_split`` (the last fraction of the samples, before shuffling) adds
          ``val_loss``/``val_accuracy`` to the history. ``verbose``: 0 silent, 1 a tqdm bar per
          epoch in a terminal and one line per epoch otherwise, 2 one line per epoch.

        ``optimizer`` is a name from :data:`deepmat.optimizers.OPTIMIZERS` (with
        ``learning_rate``; ``None`` means the seeds' 0.0075 for SGD and the optimiser's own
        default otherwise) or an instance. ``callbacks``: e.g.
        :class:`~deepmat.callbacks.EarlyStopping`, schedules from :mod:`deepmat.schedules`.
        ``checkpoint``: a path written atomically every ``checkpoint_every`` epochs, and on
        Ctrl-C (which then returns the history so far); ``resume_from``: a checkpoint to
        continue from — the run then ends with exactly the parameters of an uninterrupted one.
        ``distributed=True`` (under ``mpirun``): data-parallel training over the MPI ranks,
        each computing its share of every batch (:mod:`deepmat.distributed`); rank 0 alone
        prints and writes the checkpoint. A ``deepmat.distributed.Distributed`` may be passed
        instead of ``True`` (another communicator, or to read its Allreduce timings).

        Returns the :class:`~deepmat.callbacks.History`: a list of per-epoch (per-iteration)
        costs with ``.history`` of every metric. Raises :class:`TrainingDiverged`, naming the
        epoch or iteration, if the cost stops being finite; the parameters are then restored
        to their last finite state.
        """
        from deepmat.training import Trainer

        seeds_form = epochs is None
        if not seeds_form and iterations is not None:
            raise ValueError(
                "give iterations= (full-batch, the seeds' form) or epochs= (mini-batch), not both"
            )
        if seeds_form:
            if batch_size is not None or validation_data is not None or validation_split is not None:
                raise ValueError("batch_size and validation need the mini-batch form: pass epochs=")
            epochs = 2500 if iterations is None else iterations
            check_positive(epochs, "iterations", integer=True)
            shuffle = False
        else:
            check_positive(epochs, "epochs", integer=True)
        if print_every is not None and (
            isinstance(print_every, bool) or not isinstance(print_every, int) or print_every < 0
        ):
            raise ValueError(f"print_every must be a non-negative integer or None; received {print_every!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2; received {verbose!r}")
        if learning_rate is None and isinstance(optimizer, str) and optimizer.lower() == "sgd":
            learning_rate = 0.0075
        if learning_rate is not None:
            check_positive(learning_rate, "learning_rate")
        optimizer = get_optimizer(optimizer, learning_rate)

        X = as_float_matrix(X, "X", self.dtype, self.layer_dims[0])
        Y = self._target_rows(y, X.shape[0])
        validation = None
        if validation_data is not None and validation_split is not None:
            raise ValueError("give validation_data or validation_split, not both")
        if validation_split is not None:
            if isinstance(validation_split, bool) or not 0 < validation_split < 1:
                raise ValueError(
                    f"validation_split must be a fraction in (0, 1); received {validation_split!r}"
                )
            n_val = round(X.shape[0] * validation_split)
            if n_val < 1 or n_val >= X.shape[0]:
                raise ValueError(
                    f"validation_split={validation_split} of {X.shape[0]} samples leaves {n_val} for validation"
                )
            X, validation = X[:-n_val], (X[-n_val:], Y[-n_val:])
            Y = Y[:-n_val]
        elif validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, y_val)")
            X_val = as_float_matrix(validation_data[0], "X_val", self.dtype, self.layer_dims[0])
            validation = (X_val, self._target_rows(validation_data[1], X_val.shape[0]))
        m = X.shape[0]
        if batch_size is None:
            batch_size = m
        check_positive(batch_size, "batch_size", integer=True)
        batch_size = min(int(batch_size), m)
        callbacks = list(callbacks)
        dist = None
        if distributed:
            from deepmat.distributed import Distributed

            if any(isinstance(layer, BatchNorm) for layer in self.layers):
                raise ValueError(
                    "distributed training does not support BatchNorm (each rank would normalise its "
                    "share on its own statistics); remove it or train in one process"
                )

            dist = distributed if isinstance(distributed, Distributed) else Distributed()
            if not dist.is_root:  # rank 0 alone reports
                print_every, verbose = None, 0
        if seeds_form:
            if print_every:
                callbacks.append(CostPrinter(print_every))
        elif verbose:
            callbacks.append(ProgressBar(epochs, -(-m // batch_size), verbose))
        trainer = Trainer(
            self,
            optimizer,
            callbacks,
            unit="iteration" if seeds_form else "epoch",
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            distributed=dist,
        )
        return trainer.run(X, Y, epochs, batch_size, shuffle, validation, resume_from)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)``: a softmax output's A[L]ᵀ; for one
        sigmoid output the columns [P(y=0), P(y=1)] = [1 − a, a] (scikit-learn's layout);
        for several sigmoid outputs (multi-label) P(y_k = 1) per output."""
        if not self.is_classifier:
            raise TypeError(
                f"predict_proba needs a sigmoid or softmax output; this network's output is "
                f"{self.output_activation!r} (a regressor): use predict"
            )
        A = self.forward(X)
        if self.output_activation == "sigmoid" and A.shape[1] == 1:
            return np.hstack([1 - A, A])
        return A

    def predict(self, X: Any) -> np.ndarray:
        """Predictions: class labels ``(n_samples,)`` (1 where a > 0.5 for one sigmoid output,
        the arg-max for softmax), 0/1 labels ``(n_samples, n[L])`` for multi-label sigmoid, or
        the regression outputs (``(n_samples,)`` for one output)."""
        return self._decide(self.forward(X))

    def _decide(self, A: np.ndarray) -> np.ndarray:
        """Predictions from output activations ``(n_samples, n[L])``."""
        if self.output_activation == "softmax":
            return A.argmax(axis=1)
        if self.output_activation == "sigmoid":
            labels = (A > 0.5).astype(np.int64)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return A[:, 0] if A.shape[1] == 1 else A

    def n_correct(self, A: np.ndarray, Y: np.ndarray) -> int:
        """How many samples of output rows ``A`` and target rows ``Y`` (both ``(m, n[L])``)
        are classified right: arg-max match for softmax, every output on the right side of
        0.5 for sigmoid."""
        if self.output_activation == "softmax":
            return int((A.argmax(axis=1) == Y.argmax(axis=1)).sum())
        return int(((A > 0.5) == (Y > 0.5)).all(axis=1).sum())

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for a classifier (subset accuracy for multi-label), R² for a regressor
        (averaged uniformly over outputs, as scikit-learn does)."""
        A = self.forward(X)
        m = A.shape[0]
        Y = self._target_rows(y, m)
        if self.is_classifier:
            return self.n_correct(A, Y) / m
        residual = ((Y - A) ** 2).sum(axis=0)
        total = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(
                total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual > 0, 0.0, 1.0)
            )
        return float(r2.mean())

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to ``path`` (safetensors weights + JSON config), atomically."""
        from deepmat.io import save_model

        save_model(self, path)

    def to_onnx(self, path: str | os.PathLike | None = None, **options: Any) -> Any:
        """The inference graph as an ``onnx.ModelProto`` (Gemm and the activations, dropout
        removed, batch norm folded or expressed), written atomically to ``path`` if given.
        See :func:`deepmat.onnx_export.to_onnx` for the options."""
        from deepmat.onnx_export import to_onnx

        return to_onnx(self, path, **options)

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Sequential`` (in eval mode) whose ``state_dict`` keys are
        those of the saved safetensors file. See :func:`deepmat.torch_interop.to_torch`."""
        from deepmat.torch_interop import to_torch

        return to_torch(self)


def _layers_from_dims(
    dims: list[int], hidden: str, output: str, dropout: float, batch_norm: bool
) -> list[Layer]:
    layers: list[Layer] = []
    for n in dims[1:-1]:
        if batch_norm:
            layers += [Dense(n, "identity"), BatchNorm(), Activation(hidden)]
        else:
            layers.append(Dense(n, hidden))
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(dims[-1], output))
    return layers


def _check_layer_dims(layer_dims: Any) -> list[int]:
    try:
        dims = list(layer_dims)
    except TypeError:
        raise TypeError(
            f"layer_dims must be a list of integers [n[0], …, n[L]]; received {layer_dims!r}"
        ) from None
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims needs at least an input and an output size [n[0], n[1]]; received {dims}"
        )
    for l, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"layer_dims[{l}] (n[{l}]) must be an integer; received {n!r}")
        if n <= 0:
            raise ValueError(f"layer_dims[{l}] (n[{l}]) must be positive; received {n}")
    return [int(n) for n in dims]
