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

import contextlib
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from deepmat import functional as F
from deepmat import onnx_export, torch_interop, training
from deepmat._checks import (
    all_finite,
    as_float_matrix,
    available_memory,
    check_dtype_name,
    check_number,
    format_bytes,
    unknown_name,
)
from deepmat.activations import get_activation, hidden_activations
from deepmat.inference import LeanInference
from deepmat.initializers import check_init, warn_if_symmetric
from deepmat.io import ModelFile, config_layers, read_model, write_model
from deepmat.kernels import fused
from deepmat.layers import Dense, Layer, check_layer_dims, layers_from_dims, numbered
from deepmat.losses import (
    DEFAULT_LOSS,
    PROBABILITY_OUTPUTS,
    get_loss,
    is_canonical,
    output_delta,
    weighted_cost,
)
from deepmat.optimizers import Optimizer
from deepmat.parameters import LiveArrays, assign, pack
from deepmat.preprocessor import Preprocessor
from deepmat.summary import summary_html
from deepmat.targets import target_rows
from deepmat.training import TrainingDiverged

__all__ = ["LiveArrays", "Network", "TrainingDiverged", "load", "load_model_file", "save_model"]


class Network:
    """A deep fully-connected network, ``layer_dims = [n[0], n[1], …, n[L]]``.

    Args:
        layer_dims: units per layer, input layer first (at least two entries) — the seeds'
            shorthand. Give ``layers`` and ``input_dim`` instead to mix layer types.
        hidden_activation: g[l] for l = 1..L-1 — ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
            ``"sigmoid"`` or ``"identity"``.
        output_activation: g[L] — ``"sigmoid"`` (binary or multi-label), ``"softmax"``
            (multi-class) or ``"identity"`` (regression); ``None`` follows n[L]: one unit →
            sigmoid (the seeds' binary classifier), two or more → softmax.
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
        preprocessor: a :class:`~deepmat.preprocessor.Preprocessor`: the network then takes
            raw rows everywhere (``fit`` fits the transform on the training rows if it is not
            fitted yet) and saves the fitted transform in its model file.

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
        output_activation: str | None = None,
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
        preprocessor: Preprocessor | None = None,
    ) -> None:
        if (layer_dims is None) == (layers is None):
            raise ValueError(
                "give either layer_dims (e.g. [784, 256, 10]) or layers= with input_dim=, not both"
            )
        dropout = check_number(dropout, "dropout rate", 0, 1, high_open=True)
        if layers is None:
            dims = check_layer_dims(layer_dims)
            get_activation(hidden_activation)
            if hidden_activation not in hidden_activations():
                raise ValueError(
                    f"hidden_activation={hidden_activation!r} is not supported (it couples the units of a "
                    f"layer, as a hidden softmax would); expected one of: "
                    f"{', '.join(repr(a) for a in sorted(hidden_activations()))}"
                )
            if output_activation is None:
                output_activation = default_output(dims[-1])
            if output_activation not in DEFAULT_LOSS:
                raise unknown_name("output activation", output_activation, DEFAULT_LOSS)
            layers = layers_from_dims(dims, hidden_activation, output_activation, dropout, batch_norm)
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
            input_dim = check_number(input_dim, "input_dim", 1, integer=True)
            hidden_activation = None
        last = layers[-1]
        if last.activation is None:
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
        self.l2 = check_number(l2, "l2", 0)
        check_init(init)
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.loss = loss
        self.init = init
        self.seed = seed
        self.dtype = check_dtype_name(dtype)
        self.layers: list[Layer] = layers
        self.stop_training = False
        self._build(int(input_dim))
        self.preprocessor = preprocessor

    def _check_memory(self, input_dim: int) -> None:
        """Refuse, before allocating anything, a network whose parameters and gradients alone
        need more memory than the machine has available (``--layers 64,10000000000,10``)."""
        n, numbers = input_dim, 0
        for index, layer in numbered(self.layers):
            numbers += sum(
                int(np.prod(shape, dtype=object)) for shape in layer.array_shapes(n, index).values()
            )
            n = layer.out_units(n)
        needed = 2 * numbers * self.dtype.itemsize  # θ and ∂J/∂θ
        available = available_memory()
        if available is not None and needed > available:
            raise ValueError(
                f"the network needs {format_bytes(needed)} for its {numbers:,} parameters and their "
                f"gradients alone ({self.dtype.name}); this machine has {format_bytes(available)} of memory "
                "available: use fewer or smaller layers"
            )

    def _build(self, input_dim: int) -> None:
        """Create every layer's arrays: weights drawn Dense by Dense from RandomState(seed)."""
        self._check_memory(input_dim)
        weight_rng = np.random.RandomState(self.seed)
        noise_seed, shuffle_seed = np.random.SeedSequence(self.seed).spawn(2)
        self.noise_rng = np.random.default_rng(noise_seed)
        self.shuffle_rng = np.random.default_rng(shuffle_seed)
        dims, n = [input_dim], input_dim
        for index, layer in numbered(self.layers):
            layer.configure({"l2": self.l2})
            n = layer.build(n, index, weight_rng, self.dtype, self.init, self.noise_rng)
            if layer.numbered:
                dims.append(n)
        if len(dims) == 1:
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
        for name in ("_theta", "_dtheta", "_flat_grads", "_lean"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pack()

    def _pack(self) -> None:
        """θ, ∂J/∂θ and the views of them (:func:`deepmat.parameters.pack`)."""
        self._theta, self._dtheta, self._flat_grads = pack(self.layers, self._params, self.dtype)
        self._lean: LeanInference | bool | None = False  # False: not built yet (lean_inference)

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
    def couples_samples(self) -> bool:
        """True when training mixes the samples of a batch (a batch norm layer)."""
        return any(layer.couples_samples for layer in self.layers)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The trainable arrays ``W1, b1, …`` (and ``gamma{l}, beta{l}`` of batch norm), live:
        the optimiser updates these very arrays in place. Assigning a dict copies its values
        in after checking names and shapes."""
        return self._params

    @params.setter
    def params(self, new: dict[str, np.ndarray]) -> None:
        assign(self._params, new, "params")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state: batch norm's ``running_mean{l}``, ``running_var{l}``."""
        return self._buffers

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Parameters and buffers together (what a saved model holds)."""
        return {**self._params, **self._buffers}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy ``arrays`` (names and shapes as :meth:`state_arrays`) into the network."""
        assign({**self._params, **self._buffers}, arrays, "state")

    def get_counters(self) -> list[dict[str, int]]:
        """Each layer's integer state (batch norm's ``num_batches_tracked``), in layer order."""
        return [layer.get_counters() for layer in self.layers]

    def set_counters(self, counters: list[dict[str, int]]) -> None:
        """Restore :meth:`get_counters`."""
        if len(counters) != len(self.layers):
            raise ValueError(f"counters for {len(counters)} layers; the network has {len(self.layers)}")
        for layer, values in zip(self.layers, counters, strict=True):
            if set(values) != set(layer.get_counters()):
                raise ValueError(f"layer {layer!r} keeps the counters {sorted(layer.get_counters())}")
            layer.set_counters(values)

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
        return cls._from_layers(config, config_layers(config))

    @classmethod
    def _from_layers(cls, config: dict[str, Any], layers: list[Layer]) -> Network:
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

    def _repr_html_(self) -> str:
        """The layers as an HTML table for a notebook: output shapes, W and b shapes,
        parameter counts, activations, totals (:func:`deepmat.summary.summary_html`)."""
        return summary_html(self)

    def copy(self, dtype: str | None = None) -> Network:
        """An independent copy (parameters, buffers, random generators), optionally cast."""
        config = self.get_config()
        config["dtype"] = check_dtype_name(dtype if dtype is not None else self.dtype).name
        clone = Network.from_config(config)
        clone.hidden_activation = self.hidden_activation
        clone.preprocessor = None if self._preprocessor is None else self._preprocessor.copy()
        clone.load_state_arrays(self.state_arrays())
        clone.noise_rng.bit_generator.state = self.noise_rng.bit_generator.state
        clone.shuffle_rng.bit_generator.state = self.shuffle_rng.bit_generator.state
        return clone

    # -- the maths in column layout (what a trainer drives) ------------------------------

    def input_columns(self, X: Any) -> np.ndarray:
        """A[0] = Xᵀ, ``(n[0], m)``, after checking that X is ``(m, n[0])`` finite numbers
        (raw rows through the :attr:`preprocessor`)."""
        return self.input_rows(X).T

    @property
    def preprocessor(self) -> Preprocessor | None:
        """The transform from raw rows to X (None: the network takes X as it is)."""
        return self._preprocessor

    @preprocessor.setter
    def preprocessor(self, preprocessor: Preprocessor | None) -> None:
        if preprocessor is not None and not isinstance(preprocessor, Preprocessor):
            raise TypeError(f"preprocessor must be a deepmat Preprocessor or None; received {preprocessor!r}")
        if preprocessor is not None and preprocessor.fitted and preprocessor.n_features != self.layer_dims[0]:
            raise ValueError(
                f"the preprocessor gives {preprocessor.n_features} features but the network takes n[0] = "
                f"{self.layer_dims[0]}"
            )
        self._preprocessor = preprocessor
        self._lean = False  # the lean inference path takes no preprocessor

    def input_rows(self, X: Any, fit: bool = False, warn: bool = True) -> np.ndarray:
        """X ``(m, n[0])`` checked and in the network's dtype (no copy when it already is);
        raw rows go through the :attr:`preprocessor` first (fitted on them when ``fit`` and
        not fitted yet; ``warn``: about values far outside the training range)."""
        pre = self._preprocessor
        if pre is not None:
            if fit and not pre.fitted:
                pre.fit(X)
                self.preprocessor = pre  # check its width against n[0]
            X = pre.transform(X, self.dtype, warn=warn)
        return as_float_matrix(X, "X", self.dtype, self.layer_dims[0])

    def target_rows(self, y: Any, m: int) -> np.ndarray:
        """Yᵀ, ``(m, n[L])`` — one row per sample — with labels one-hot encoded for softmax
        (:func:`deepmat.targets.target_rows`)."""
        return target_rows(y, m, self.layer_dims[-1], self.output_activation, self.dtype)

    def forward_pass(self, A0: np.ndarray, training: bool = False) -> np.ndarray:
        """A[L] ``(n[L], m)`` from A[0] ``(n[0], m)``, layer by layer (SPEC §2), keeping each
        layer's cache for :meth:`backward_pass`."""
        A = A0
        for _, output in self.forward_steps(A0, training):
            A = output
        return A

    def forward_steps(self, A0: np.ndarray, training: bool = False) -> Iterator[tuple[Layer, np.ndarray]]:
        """:meth:`forward_pass` one layer at a time: each layer with its output ``(n_out, m)``,
        first to last (for a caller that shows the intermediates, as ``explain --values`` does)."""
        A = A0
        for layer in self.layers:
            A = layer.forward(A, training)
            yield layer, A

    def infer(self, A0: np.ndarray) -> np.ndarray:
        """A[L] in inference mode, keeping no caches (the path of predict)."""
        A = A0
        for layer in self.layers:
            A = layer.infer(A)
        return A

    def compute_cost(self, AL: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None) -> float:
        """J for A[L] and Y ``(n[L], m)``, including the layers' L2 terms; with per-sample
        ``weights`` ``(m,)`` (scaled to mean 1 over the training set) J = (1/m)·Σᵢ wᵢ·Lᵢ."""
        data = (
            F.compute_cost(AL, Y, self.loss) if weights is None else weighted_cost(AL, Y, self.loss, weights)
        )
        for layer in self.layers:
            data += layer.penalty()
        return data

    def backward_pass(
        self, AL: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Gradients of J after :meth:`forward_pass` (SPEC §3): the output error dZ[L], then
        each layer's backward in reverse; dX is not computed. The gradients are written into
        the flat ∂J/∂θ (:attr:`dtheta`), of which the returned ``dW1``, ``db1``, … are views.

        Per-sample ``weights`` ``(m,)`` scale each column of dZ[L] (sample i's error) by wᵢ:
        every gradient is then that of the weighted cost (1/m)·Σᵢ wᵢ·Lᵢ. Batch normalisation's
        statistics stay unweighted."""
        for _ in self.backward_steps(AL, Y, weights):
            pass
        grads: dict[str, np.ndarray] = {}
        for layer in self.layers:
            grads.update(layer.grads)
        return grads

    def backward_steps(
        self, AL: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None, need_dA0: bool = False
    ) -> Iterator[tuple[Layer, np.ndarray, np.ndarray | None]]:
        """:meth:`backward_pass` one layer at a time, last to first: each layer, the gradient
        it received and the one it passed back, both ``(n, m)``. The last layer receives the
        output error dZ[L] (the gradient of its activation's input); every other layer the
        gradient of its output. The first layer passes back dA[0] only with ``need_dA0``
        (training never needs it), else None."""
        last = self.layers[-1]
        if weights is None and is_canonical(self.loss, self.output_activation):
            dZ = last.output_error(AL, Y)  # dZ[L] = A[L] − Y
        else:
            dZ = output_delta(AL, Y, last.activation_input(), self.loss, self.output_activation)
            if weights is not None:
                dZ *= weights.astype(dZ.dtype, copy=False)
        dA = last.backward_dZ(dZ, need_dA_prev=len(self.layers) > 1 or need_dA0)
        yield last, dZ, dA
        for i in range(len(self.layers) - 2, -1, -1):
            received = dA
            dA = self.layers[i].backward(received, need_dA_prev=i > 0 or need_dA0)
            yield self.layers[i], received, dA

    @property
    def theta(self) -> np.ndarray:
        """Every parameter in one flat vector θ (``W1``, ``b1``, … are views of it)."""
        return self._theta

    @property
    def dtheta(self) -> np.ndarray:
        """∂J/∂θ in θ's layout, as the last :meth:`backward_pass` left it."""
        return self._dtheta

    def gradients_are_flat(self, grads: dict[str, np.ndarray]) -> bool:
        """Whether every gradient of ``grads`` is still the layers' view of :attr:`dtheta`
        (always, unless a layer replaced its ``grads``)."""
        flat = self._flat_grads
        if len(grads) != len(flat):
            return False
        for name, view in flat.items():
            if grads.get(name) is not view:
                return False
        return True

    def apply_step(self, optimizer: Optimizer, grads: dict[str, np.ndarray] | None = None) -> None:
        """One optimiser step from :meth:`backward_pass`'s gradients: on the flat θ and ∂J/∂θ
        at once when they are the flat buffer's views, else parameter by parameter. ``None``:
        the flat ∂J/∂θ as it stands (a data-parallel run leaves the averaged gradient there)."""
        if grads is None or self.gradients_are_flat(grads):
            optimizer.step_flat(self._theta, self._dtheta, self._params)
        else:
            optimizer.step(self._params, grads)

    @contextlib.contextmanager
    def training_workspace(self) -> Iterator[None]:
        """While open (inside fit), the layers' training passes reuse their intermediates'
        arrays from batch to batch; closing frees them."""
        for layer in self.layers:
            layer.workspace = {}
        try:
            yield
        finally:
            for layer in self.layers:
                layer.workspace = None

    def n_correct(self, A: np.ndarray, Y: np.ndarray) -> int:
        """How many samples of output rows ``A`` and target rows ``Y`` (both ``(m, n[L])``)
        are classified right: arg-max match for softmax, every output on the right side of
        0.5 for sigmoid; 0 for a regressor."""
        if self.output_activation == "softmax":
            fast = fused()
            if fast is not None and A.dtype == Y.dtype and A.flags.c_contiguous and Y.flags.c_contiguous:
                return int(fast.argmax_matches(A, Y))  # one loop, no temporaries
            return int((A.argmax(axis=1) == Y.argmax(axis=1)).sum())
        if not self.is_classifier:
            return 0
        return int(((A > 0.5) == (Y > 0.5)).all(axis=1).sum())

    # -- public API, row layout --------------------------------------------------------

    def forward(self, X: Any, training: bool = False) -> np.ndarray:
        """Output activations A[L]ᵀ, ``(n_samples, n[L])`` (inference mode unless ``training``)."""
        A0 = self.input_columns(X)
        return (self.forward_pass(A0, training) if training else self.infer(A0)).T

    def cost(self, X: Any, y: Any, training: bool = False) -> float:
        """The mean cost J over the samples of ``(X, y)``, L2 terms included."""
        A0 = self.input_columns(X)
        Y = self.target_rows(y, A0.shape[1]).T
        return self.compute_cost(self.forward_pass(A0, training) if training else self.infer(A0), Y)

    def gradients(self, X: Any, y: Any, training: bool = False) -> dict[str, np.ndarray]:
        """∂J/∂θ for every parameter θ, as ``{"dW1": …, "db1": …}`` shaped like the parameters.

        ``training=True`` differentiates the training-mode network (dropout masks drawn,
        batch norm on batch statistics, running statistics updated)."""
        A0 = self.input_columns(X)
        Y = self.target_rows(y, A0.shape[1]).T
        return {k: v.copy() for k, v in self.backward_pass(self.forward_pass(A0, training), Y).items()}

    #: Train the network: :func:`deepmat.training.fit` with the network as its first argument
    #: (the seeds' full-batch form, or mini-batches with an optimiser, validation, callbacks,
    #: checkpoints and MPI; the function documents every argument).
    fit = training.fit

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)``: a softmax output's A[L]ᵀ; for one
        sigmoid output the columns [P(y=0), P(y=1)] = [1 − a, a] (scikit-learn's layout);
        for several sigmoid outputs (multi-label) P(y_k = 1) per output."""
        if not self.is_classifier:
            raise TypeError(
                f"predict_proba needs a sigmoid or softmax output; this network's output is "
                f"{self.output_activation!r} (a regressor): use predict"
            )
        A = self.outputs(X)
        if self.output_activation == "sigmoid" and A.shape[1] == 1:
            return np.hstack([1 - A, A])
        return A

    def predict(self, X: Any) -> np.ndarray:
        """Predictions: class labels ``(n_samples,)`` (1 where a > 0.5 for one sigmoid output,
        the arg-max for softmax), 0/1 labels ``(n_samples, n[L])`` for multi-label sigmoid, or
        the regression outputs (``(n_samples,)`` for one output)."""
        return self._decide(self.outputs(X))

    def outputs(self, X: Any) -> np.ndarray:
        """A[L]ᵀ ``(n_samples, n[L])`` for answering (predict, probabilities, score), refused with
        ``ValueError`` when not finite: parameters or inputs so large that the products
        overflow would otherwise answer class 0 with no warning."""
        lean = self.lean_inference()
        if lean is not None and lean.accepts(X):
            A = lean.outputs(X)
            if A is not None:
                return A
        with np.errstate(over="ignore", invalid="ignore"):  # the check below answers instead
            A = self.forward(X)
        if not all_finite(A):
            rows = np.flatnonzero(~np.isfinite(A).all(axis=1))
            raise ValueError(
                f"the network's outputs are not finite for {rows.size} of {A.shape[0]} samples (the first: "
                f"sample {rows[0]}): its parameters or these inputs are so large that Z overflows "
                f"{self.dtype.name}; no answer is given"
            )
        return A

    def lean_inference(self) -> LeanInference | None:
        """The lean path of :meth:`outputs` for a few samples (:mod:`deepmat.inference`), or
        None for a network it does not take."""
        if self._lean is False:
            self._lean = LeanInference.for_network(self)
        return self._lean

    def _decide(self, A: np.ndarray) -> np.ndarray:
        """Predictions from output activations ``(n_samples, n[L])``."""
        if self.output_activation == "softmax":
            return A.argmax(axis=1)
        if self.output_activation == "sigmoid":
            labels = (A > 0.5).astype(np.int64)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return A[:, 0] if A.shape[1] == 1 else A

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for a classifier (subset accuracy for multi-label), R² for a regressor
        (averaged uniformly over outputs, as scikit-learn does)."""
        A = self.outputs(X)
        m = A.shape[0]
        Y = self.target_rows(y, m)
        if self.is_classifier:
            return self.n_correct(A, Y) / m
        residual = ((Y - A) ** 2).sum(axis=0)
        total = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(
                total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual > 0, 0.0, 1.0)
            )
        return float(r2.mean())

    # -- files and other runtimes ------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to ``path`` (safetensors weights + JSON config), atomically."""
        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """The model saved at ``path`` (see :func:`load`)."""
        return load(path)

    def read_checkpoint(self, path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Load a checkpoint's model state into this network (which must have the same
        architecture and dtype) and return its training state (JSON) and the arrays beyond
        the model's (the optimiser's and the callbacks')."""
        saved, file = load_model_file(path)
        training_state = file.training()
        if saved.get_config()["layers"] != self.get_config()["layers"] or saved.dtype != self.dtype:
            raise ValueError(
                f"the checkpoint {os.fspath(path)!r} holds a different network ({saved!r}) from the one "
                f"being trained ({self!r})"
            )
        self.load_state_arrays(saved.state_arrays())
        self.set_counters(saved.get_counters())
        return training_state, file.extra

    def to_onnx(self, path: str | os.PathLike | None = None, **options: Any) -> Any:
        """The inference graph as an ``onnx.ModelProto`` (Gemm and the activations, dropout
        removed, batch norm folded or expressed), written atomically to ``path`` if given.
        See :func:`deepmat.onnx_export.to_onnx` for the options."""
        return onnx_export.to_onnx(self, path, **options)

    def to_torch(self, preprocessing: bool = False) -> Any:
        """An equivalent ``torch.nn.Sequential`` (in eval mode) whose ``state_dict`` keys are
        those of the saved safetensors file. See :func:`deepmat.torch_interop.to_torch`.

        With ``preprocessing=True`` a network with a :attr:`preprocessor` of number columns
        comes as ``Sequential(preprocessing, network)``, taking raw rows: the preprocessing a
        ``Linear`` (:func:`deepmat.torch_interop.preprocessing_module`), the network the
        Sequential above (its keys then start with ``1.``)."""
        network = torch_interop.to_torch(self)
        if not preprocessing or self._preprocessor is None:
            return network
        return type(network)(torch_interop.preprocessing_module(self._preprocessor, self.dtype), network)

    @classmethod
    def from_torch(
        cls, module: Any, *, loss: str | None = None, seed: int | None = None, input_dim: int | None = None
    ) -> Network:
        """A network equivalent to the ``torch.nn.Sequential`` ``module``, parameters, running
        statistics and ``num_batches_tracked`` copied: ``net.forward(X)`` equals
        ``module.eval()(torch.from_numpy(X))``. See :func:`deepmat.torch_interop.read_torch`
        for the modules read and the errors."""
        found = torch_interop.read_torch(module, input_dim=input_dim)
        net = cls(layers=found.layers, input_dim=found.input_dim, loss=loss, seed=seed, dtype=found.dtype)
        state = net.state_arrays()
        net.load_state_arrays({name: found.arrays[name].reshape(state[name].shape) for name in state})
        net.set_counters(found.counters)
        return net


def default_output(n_out: int) -> str:
    """The output activation a network of n[L] = ``n_out`` units gets when none is named:
    sigmoid for one unit, softmax for more (a regressor names ``"identity"``)."""
    return "sigmoid" if n_out == 1 else "softmax"


# -- model files ----------------------------------------------------------------------


def save_model(
    net: Network,
    path: str | os.PathLike,
    training: dict[str, Any] | None = None,
    extra_arrays: dict[str, np.ndarray] | None = None,
) -> None:
    """Write ``net`` (and, for a checkpoint, ``training`` state and arrays) to ``path``
    atomically, in the format of :mod:`deepmat.io`. Refuses parameters that are not finite."""
    pre = net.preprocessor
    preprocessing = (pre.get_config(), pre.get_arrays()) if pre is not None and pre.fitted else None
    write_model(path, net.get_config(), net.layers, net.state_arrays(), training, extra_arrays, preprocessing)


def load_model_file(path: str | os.PathLike) -> tuple[Network, ModelFile]:
    """``(network, the file as read)`` for a model file or checkpoint (:func:`deepmat.io.read_model`
    checks every array against the config before the network is built)."""
    file = read_model(path)
    try:
        net = Network._from_layers(file.config, file.layers)
    except TypeError as error:  # e.g. a seed NumPy cannot use: the file is malformed, not the call
        raise ValueError(
            f"{file.path!r}: the model config is not a deepmat network config ({error})"
        ) from None
    net.load_state_arrays(file.state)
    net.set_counters(file.counters)
    if file.preprocessing is not None:
        try:
            net.preprocessor = Preprocessor.from_config(*file.preprocessing)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{file.path!r}: the preprocessing is not deepmat's ({error})") from None
    return net, file


def load(path: str | os.PathLike) -> Network:
    """Read a model (or a checkpoint's model) written by :meth:`deepmat.Network.save`.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for anything that is
    not a well-formed deepmat model (truncated, wrong magic, shapes or dtypes that disagree
    with the config, unknown keys). Never executes code from the file."""
    return load_model_file(path)[0]
