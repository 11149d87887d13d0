"""The base class of the layers a :class:`deepmat.Network` is stacked from.

Each layer works in the seeds' column layout — its input A_prev is ``(n_in, m)`` — and has

- ``forward(A_prev, training) -> A``, keeping what backward needs (the SPEC §2 cache);
- ``backward(dA, need_dA_prev=True) -> dA_prev``: given ∂S/∂A for S = Σᵢ L(a⁽ⁱ⁾, y⁽ⁱ⁾), the
  per-sample losses summed (the seeds' dA), it stores the gradients of the cost J = S/m in
  ``grads`` and returns ∂S/∂A_prev;
- ``infer(A_prev) -> A``: the inference-mode forward, keeping nothing;
- ``params`` / ``grads`` / ``buffers``: dicts of arrays keyed by the seeds' names with the
  layer number l, e.g. ``W2``, ``dW2``, ``gamma2``, ``running_mean2``.

A layer kind also owns everything else that depends on what it is, so that a new kind is
one new module: its config (``get_config``, rebuilt by :func:`deepmat.layers.layer_from_config`),
the shapes of its arrays before they exist (``array_shapes``, for checking a file before
allocating), its PyTorch modules and ``state_dict`` keys (``torch_keys``, ``to_torch``,
``from_torch``), its ONNX nodes (``to_onnx``) and its lines in :func:`deepmat.explain.explain`
(``explain_steps``). The defaults here are those of a layer with no arrays.

Speed without a second code path: each gradient is written into the layer's own ``grads``
array (``out=``), so a :class:`deepmat.Network` can make every ``dW``/``db`` a view of one
flat gradient buffer that the optimiser updates in one go; and while a ``workspace`` is
active (during ``fit``) the training forward and backward write Z, A, dZ and dA_prev into
buffers allocated once per batch size instead of allocating new arrays on every batch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from deepmat._checks import all_finite
from deepmat.activations import LEAKY_RELU_SLOPE, get_activation, is_built_in
from deepmat.kernels import fused

#: the most values a fused forward pass through exp or tanh takes (one batch of 128 samples of
#: a 10-class softmax is 1280; a hidden layer of 256 units on 128 samples, 32,768, runs on NumPy)
FUSED_TRANSCENDENTAL_MAX = 4096


def z_order(n_out: int, m: int) -> str:
    """The memory order of a Dense layer's Z[l], A[l] and dZ[l] ``(n[l], m)``: column-major
    ("F") when the layer has fewer units than the batch has samples, row-major ("C") otherwise.

    Either way the arrays are (n[l], m) and hold the same numbers; the order only decides
    which way round OpenBLAS computes W·A (see :meth:`Dense.product`). Measured on the cat
    model's first layer (n[1] = 20, m = 209, n[0] = 12288, float64): 1.4 ms column-major
    against 2.4 ms row-major; for n[l] ≥ m the row-major product is as fast or faster. A
    fixed rule, not a timing, so that the same inputs always give the same bits.
    """
    return "F" if n_out < m else "C"


def memory_order(array: np.ndarray) -> str:
    """ "F" for an array that is column-major only, else "C"."""
    return "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"


class ExplainStep:
    """One equation group of :func:`deepmat.explain.explain`, written by the layer it belongs
    to. ``src`` and ``out`` are the letters of the matrices it reads and writes ("A", "Z",
    "Ẑ"); ``g`` is the explanation's group of layer l (``g.l``, ``g.n``, ``g.n_prev``) and
    ``w`` its writer of names and shapes for one layout and batch size."""

    kind: ClassVar[str] = ""
    #: the parameters the step owns, as the update lines name them ("W", "b", "γ", "β")
    parameters: ClassVar[tuple[str, ...]] = ()
    #: g for an activation step, else ""
    activation: str = ""

    def __init__(self, layer: Layer, src: str, out: str) -> None:
        self.layer = layer
        self.src = src
        self.out = out

    def title(self, g: Any, lang: str = "en") -> str:
        """The step in its layer's title line, e.g. ``batch norm`` ("" for none), in ``lang``."""
        return self.kind

    def forward(self, g: Any, w: Any) -> list[str]:
        raise NotImplementedError

    def backward(self, g: Any, w: Any, output: Any, dA0_note: str) -> list[str]:
        """The backward lines; ``output`` describes the output pair (activation, loss) when
        the step is the network's last, else None. The words of a note are in ``w.lang``."""
        raise NotImplementedError

    def check(self, g: Any, rows: bool, lang: str = "en") -> str:
        """Shapes to add to the layer's dimension check ("" for none), in ``lang``."""
        return ""


class Layer:
    """Base class. Subclasses set ``kind`` and implement forward/backward (and build, when
    they hold arrays)."""

    kind: ClassVar[str] = "Layer"
    #: whether the layer opens a new layer number l (a Dense layer: W[l], b[l]); the layers
    #: after it, up to the next one, share its l
    numbered: ClassVar[bool] = False
    #: whether training mixes the samples of a batch (batch norm): the trainer skips batches
    #: of one sample, and data-parallel training, which splits each batch, refuses the layer
    couples_samples: ClassVar[bool] = False
    #: array stem → (PyTorch ``state_dict`` suffix, how the file stores it: "W" as it is,
    #: "b" or "vector" the column flattened), e.g. Dense's ``{"W": ("weight", "W"), …}``
    torch_keys: ClassVar[dict[str, tuple[str, str]]] = {}
    #: the ``torch.nn`` module types :meth:`from_torch` reads (by class name)
    torch_types: ClassVar[tuple[str, ...]] = ()
    #: g of a layer that applies an activation (Dense, Activation); None for the others
    activation: str | None = None

    def __init__(self) -> None:
        self.index = 0
        self.n_out = 0
        self.dtype = np.dtype("float64")
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        #: scratch arrays by (name, shape) while training inside ``fit``; ``None`` otherwise
        self.workspace: dict[tuple[str, tuple[int, ...], str], np.ndarray] | None = None

    # -- building ------------------------------------------------------------------------

    def out_units(self, n_in: int) -> int:
        """The number of units the layer outputs for ``n_in`` inputs."""
        return n_in

    def array_shapes(self, n_in: int, index: int) -> dict[str, tuple[int, ...]]:
        """The shapes of the arrays :meth:`build` would create (params, then buffers), by name,
        computed without allocating anything."""
        return {}

    def configure(self, defaults: dict[str, Any]) -> None:
        """Take the network-wide settings (``init``, ``l2``) the layer did not set itself."""

    def build(
        self,
        n_in: int,
        index: int,
        weight_rng: np.random.RandomState,
        dtype: np.dtype,
        default_init: str = "scaled",
        noise_rng: np.random.Generator | None = None,
    ) -> int:
        """Create the layer's arrays for an input of ``n_in`` units; return its output size."""
        self.index = index
        self.n_out = self.out_units(n_in)
        self.dtype = np.dtype(dtype)
        return self.n_out

    def scratch(self, name: str, shape: tuple[int, ...], order: str = "C") -> np.ndarray:
        """An array to write an intermediate into: the workspace's (reused from batch to batch)
        while one is active, else a new one (so results handed to a caller are never reused)."""
        if self.workspace is None:
            return np.empty(shape, self.dtype, order=order)
        key = (name, shape, order)
        array = self.workspace.get(key)
        if array is None:
            array = self.workspace[key] = np.empty(shape, self.dtype, order=order)
        return array

    def fused_code(
        self, order: str, *outside: np.ndarray, forward_size: int = 0
    ) -> tuple[Any, int, bool] | None:
        """(the Numba kernels, g's code, whether the units lie on rows) for a pass over this
        layer's arrays of memory ``order`` — when the Numba kernels are in use, have a loop for
        the layer's g (one of deepmat's own activations, not one registered or replaced), and
        the arrays from ``outside`` the layer's buffers share its dtype and that order —, else
        None (the NumPy path). A forward pass of ``forward_size`` values through exp or tanh is fused only
        up to :data:`FUSED_TRANSCENDENTAL_MAX` values (NumPy's vectorised exp and tanh are
        faster beyond)."""
        fast = fused()
        if fast is None:
            return None
        code = fast.ACTIVATION_CODES.get(self.activation)
        if code is None or not is_built_in(get_activation(self.activation)):
            return None
        if forward_size > FUSED_TRANSCENDENTAL_MAX and code in fast.TRANSCENDENTAL:
            return None
        rows = order == "C"
        for array in outside:
            flags = array.flags
            if array.dtype != self.dtype or not (flags.c_contiguous if rows else flags.f_contiguous):
                return None
        return fast, code, rows

    def activate(
        self, Z: np.ndarray, A: np.ndarray, b: np.ndarray | None = None, check: bool = False
    ) -> bool:
        """A = g(Z + b) for the layer's g, ``b`` ``(n, 1)`` added into Z first (``A`` may be Z);
        without ``b``, A = g(Z) and Z is left as it is. One fused pass with the Numba kernels
        (:func:`deepmat.kernels.passes.bias_activation`), else NumPy's. With ``check``, returns
        whether Z + b is finite — before g, which may hide an infinity (ReLU(−∞) = 0) — (the
        fused pass tells at no cost, NumPy's path adds one pass); else True.

        Every layer's g runs through here, so a network computes the same bits whether g sits
        in its Dense layer or in an :class:`Activation` layer after it."""
        found = self.fused_code(memory_order(Z), Z, A, forward_size=Z.size)
        if found is None:
            if b is not None:
                Z += b
            finite = all_finite(Z) if check else True
            get_activation(self.activation).forward(Z, out=A)
            return finite
        fast, code, rows = found
        if b is None:  # the fused pass writes Z + b into Z: here into A, with a bias of zeros
            np.copyto(A, Z)
            Z, b = A, np.zeros((A.shape[0], 1), A.dtype)
        slope = Z.dtype.type(LEAKY_RELU_SLOPE)
        return fast.bias_activation(Z if rows else Z.T, b[:, 0], A if rows else A.T, code, rows, slope, check)

    def grad(self, name: str) -> np.ndarray:
        """The array that holds ∂J/∂``name`` (shape of the parameter), created on first use."""
        key = f"d{name}"
        array = self.grads.get(key)
        if array is None or array.shape != self.params[name].shape:
            array = self.grads[key] = np.empty_like(self.params[name])
        return array

    # -- the maths -----------------------------------------------------------------------

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def infer(self, A_prev: np.ndarray) -> np.ndarray:
        """The inference-mode output, without keeping a cache for backward."""
        return self.forward(A_prev, training=False)

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def backward_dZ(self, dZ: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """Backward from the gradient of the layer's activation input (the output layer's fused
        dZ[L] = A[L] − Y); only a layer that applies an activation can end a network."""
        raise TypeError(f"{self.kind} applies no activation and cannot be the output layer")

    def output_error(self, AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """The output error of a canonical pair (sigmoid + binary cross-entropy, softmax +
        cross-entropy, identity + MSE): dZ[L] = A[L] − Y ``(n[L], m)`` in one pass, into a
        buffer of the workspace (valid until the next pass), for :meth:`backward_dZ`."""
        dZ = self.scratch("dZ", AL.shape, memory_order(AL))
        return np.subtract(AL, Y, out=dZ)

    def activation_input(self) -> np.ndarray:
        """Z, the input of the layer's activation in the last training forward pass (the output
        error of a non-canonical loss needs it)."""
        raise TypeError(f"{self.kind} applies no activation")

    def penalty(self) -> float:
        """The layer's regularisation term added to the cost J (0 by default)."""
        return 0.0

    # -- randomness (dropout) ------------------------------------------------------------

    def freeze_noise(self, frozen: bool = True) -> None:
        """Reuse the last random draw in every training pass (gradient checks need J fixed)."""

    def share_noise(self, share: tuple[int, int] | None) -> None:
        """In a data-parallel run: this rank's columns start at ``offset`` of a global batch of
        ``B`` (``share = (offset, B)``); the layer draws its noise for all B columns, as one
        process would, and keeps its own. ``None`` ends it."""

    def skip_noise(self, m: int) -> None:
        """Advance the random stream as a training pass over ``m`` columns would (a rank with
        no rows in a batch must stay in step with the others)."""

    def check_state(self, state: dict[str, np.ndarray], counters: dict[str, int]) -> None:
        """Refuse arrays (by name, finite and well shaped already) or counters that no
        training could have produced (a negative variance): ``ValueError`` naming them."""

    # -- state beyond the arrays ---------------------------------------------------------

    def get_counters(self) -> dict[str, int]:
        """Integer state saved beside the arrays (batch norm's ``num_batches_tracked``)."""
        return {}

    def set_counters(self, counters: dict[str, int]) -> None:
        """Restore :meth:`get_counters`."""

    # -- config --------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments plus ``"type"``, JSON-ready: ``layer_from_config`` rebuilds it."""
        return {"type": self.kind}

    def describe(self) -> str:
        """The layer in a few words, e.g. ``Dense(20, relu)``."""
        return self.kind

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{self.kind}({args})"

    # -- other runtimes and the explanation ----------------------------------------------

    def torch_module_count(self) -> int:
        """How many modules of a ``torch.nn.Sequential`` the layer becomes."""
        return 1

    def to_torch(self, torch_context: Any) -> list[Any]:
        """The layer's ``torch.nn`` modules (see :mod:`deepmat.torch_interop`)."""
        raise TypeError(f"no PyTorch module for {self!r}")

    @classmethod
    def from_torch(cls, module: Any, n: int | None) -> tuple[Layer, int | None]:
        """The layer for a ``torch.nn`` module of :attr:`torch_types` receiving ``n`` features
        (None: not known yet), and the number of inputs the module itself implies (None if it
        does not tell). Raises ``ValueError`` for a setting deepmat has no equivalent of."""
        raise TypeError(f"{cls.kind} reads no torch module")

    def to_onnx(self, graph: Any, following: Layer | None) -> int:
        """Append the layer's inference nodes to ``graph`` (see :mod:`deepmat.onnx_export`);
        returns how many layers they cover (2 when the following layer is folded in)."""
        raise TypeError(f"no ONNX form for {self!r}")

    def explain_steps(self, current: str, has_activation_layer: bool) -> list[Any]:
        """The equations the layer adds to :func:`deepmat.explain.explain`, one step each,
        reading the matrix named by the letter ``current`` ("A", "Z" or "Ẑ")."""
        return []

    def summary_row(self) -> tuple[str, str, str, str]:
        """(label, W or γ shape, b or β shape, activation) for :func:`deepmat.explain.summary`."""
        return f"{self.index} {self.kind}", "—", "—", "—"
