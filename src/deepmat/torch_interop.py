"""PyTorch round trip: :func:`to_torch` and :func:`from_torch`.

A deepmat network and a ``torch.nn.Sequential`` correspond module by module, numbered as
:func:`deepmat.io.torch_names` numbers them: a Dense layer is a ``Linear`` followed by its
activation module (none for identity), and every other layer is one module (an identity
``Activation``: none). The state_dict keys are therefore the ones deepmat's model files use,
so ``seq.load_state_dict(safetensors.torch.load_file("model.safetensors"))`` loads a saved
deepmat model into ``net.to_torch()``'s architecture:

==============================  ===============================  ==============================
deepmat (layer l, module i)     torch module i                   state_dict key = array
==============================  ===============================  ==============================
``Dense(n, g)``                 ``Linear(n[l-1], n)``            ``i.weight`` = W[l] (n, n[l-1])
                                                                 ``i.bias`` = b[l][:, 0]
  its activation g              module i + 1 (below)             —
``Activation(g)``               g's module (below)               —
``Dropout(p)``                  ``Dropout(p)``                   —
``BatchNorm(momentum, eps)``    ``BatchNorm1d(n, eps,``          ``i.weight`` = γ[:, 0],
                                ``momentum)``                    ``i.bias`` = β[:, 0],
                                                                 ``i.running_mean``,
                                                                 ``i.running_var`` ([:, 0]),
                                                                 ``i.num_batches_tracked``
==============================  ===============================  ==============================

==============  =========================================
activation g    torch module
==============  =========================================
relu            ``ReLU()``
sigmoid         ``Sigmoid()``
tanh            ``Tanh()``
leaky_relu      ``LeakyReLU(0.01)`` (:data:`~deepmat.activations.LEAKY_RELU_SLOPE`)
softmax         ``Softmax(dim=1)`` (``dim=-1`` read too)
identity        no module (``Identity`` is read and skipped)
==============  =========================================

The output activation is a module too, so ``seq(x)`` equals :meth:`Network.forward` —
probabilities for a sigmoid or softmax output, not logits.

:func:`read_torch` (behind :meth:`deepmat.Network.from_torch` and :func:`deepmat.from_torch`)
reads the same modules back, nested ``Sequential`` flattened: a ``Linear``
and the activation module right after it become one ``Dense``; a ``Linear`` followed by
anything else a ``Dense(n, "identity")``; an activation elsewhere (after a ``BatchNorm1d``,
say) an ``Activation`` layer. Anything else is refused with the module's name, its type and
the supported list. Only the architecture and the arrays cross over: a torch module has no
loss, initialiser or L2 penalty, so ``Dense(init=, l2=)`` settings come back as ``None``
(pass ``loss=`` to :func:`from_torch`), and ``Dense(n, "identity")`` + ``Activation(g)``
comes back as ``Dense(n, g)`` — the same function, the same modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from deepmat._checks import check_number
from deepmat.activations import LEAKY_RELU_SLOPE
from deepmat.layers import LAYERS, Activation, Layer, numbered, torch_names
from deepmat.losses import DEFAULT_LOSS

if TYPE_CHECKING:
    import torch


#: the torch modules :func:`from_torch` reads (named in its error messages)
SUPPORTED = (
    "Linear (with bias), ReLU, Sigmoid, Tanh, LeakyReLU(0.01), Softmax(dim=1), Identity, Dropout, "
    "BatchNorm1d (affine, tracking running statistics), nested Sequential"
)
#: what the last module must be: deepmat's output activations
OUTPUTS = "Linear (identity output, regression), Sigmoid or Softmax(dim=1)"


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - a test dependency
        raise ImportError("the PyTorch round trip needs PyTorch: pip install torch==2.13.0") from None
    return torch


class TorchContext:
    """What a layer needs to make its modules (:meth:`deepmat.layers.Layer.to_torch`):
    ``torch.nn``, the keyword arguments of a module with arrays (``dtype``, and the meta
    device, so that nothing is computed or drawn before the arrays are copied in), the width
    ``n`` of the layer's input, and the module of an activation."""

    def __init__(self, nn: Any, options: dict[str, Any]) -> None:
        self.nn = nn
        self.options = options
        self.n = 0

    def activation_modules(self, name: str) -> list[Any]:
        """g's module as a one-element list (none for identity)."""
        nn = self.nn
        modules = {
            "relu": nn.ReLU,
            "sigmoid": nn.Sigmoid,
            "tanh": nn.Tanh,
            "leaky_relu": lambda: nn.LeakyReLU(LEAKY_RELU_SLOPE),
            "softmax": lambda: nn.Softmax(dim=1),
        }
        if name == "identity":
            return []
        if name not in modules:
            raise ValueError(
                f"the activation {name!r} has no PyTorch module; exportable: {', '.join(sorted(modules))}"
            )
        return [modules[name]()]


def to_torch(net: Any) -> torch.nn.Sequential:
    """An equivalent ``torch.nn.Sequential``, parameters and buffers copied, in ``net``'s dtype
    (float32 or float64), on the CPU, in eval mode: ``seq(torch.from_numpy(X))`` equals
    ``net.forward(X)``, and ``seq.state_dict()`` has exactly the keys of ``net.save``'s file.

    The arrays are copies: training either model leaves the other as it was. Building the
    modules draws nothing from torch's random generator.
    """
    if not isinstance(getattr(net, "layers", None), list) or not hasattr(net, "state_arrays"):
        raise TypeError(f"to_torch needs a deepmat.Network; received {type(net).__name__}")
    torch = _torch()
    nn = torch.nn
    context = TorchContext(
        nn, {"device": "meta", "dtype": torch.float64 if net.dtype == np.float64 else torch.float32}
    )
    modules: list[Any] = []
    context.n = net.layer_dims[0]
    counters: dict[str, int] = {}
    for layer in net.layers:
        prefix = len(modules)
        modules += layer.to_torch(context)
        counters.update({f"{prefix}.{name}": value for name, value in layer.get_counters().items()})
        context.n = layer.n_out
    # on the meta device, nn.Linear's reset_parameters neither computes nor uses torch's RNG
    seq = nn.Sequential(*modules).to_empty(device="cpu")
    arrays = net.state_arrays()
    state = {
        key: torch.from_numpy(np.array(arrays[name] if kind == "W" else arrays[name][:, 0]))
        for name, key, kind in torch_names(net.layers)
    }
    state.update({key: torch.tensor(value, dtype=torch.long) for key, value in counters.items()})
    # strict: the Sequential's keys are exactly torch_names' (+ the counters), the file's
    # keys, or this raises — the module numbering here and in the file cannot drift apart
    seq.load_state_dict(state, strict=True)
    return seq.eval()


def preprocessing_module(pre: Any, dtype: Any) -> Any:
    """The fitted preprocessing of number columns as a ``torch.nn.Linear(n, n)``: weight
    diag(1/denominator), bias −offset/denominator, i.e. (x − offset)/denominator (equal to
    deepmat's transform up to float rounding). Text columns (one-hot encoding of strings) and
    imputation (NaN → a fill) have no ``torch.nn`` module: such a model is exported without
    its preprocessing (``net.to_torch()``), fed ``net.preprocessor.transform(rows)``."""
    torch = _torch()
    if pre.has_text or any(column.fill is not None for column in pre.columns):
        raise ValueError(
            "this model's preprocessing one-hot encodes text columns or fills missing values, which no "
            "torch.nn module does: export it with net.to_torch() and feed it net.preprocessor.transform(rows)"
        )
    torch_dtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
    n = pre.n_features
    linear = torch.nn.Linear(n, n, device="meta", dtype=torch_dtype).to_empty(device="cpu")
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(np.diag(1 / pre.denominator)))
        linear.bias.copy_(torch.from_numpy(-pre.offset / pre.denominator))
    return linear.eval()


def _is(module: Any, cls: type) -> bool:
    """``module`` is a ``cls`` computing what ``cls`` computes (a subclass that overrides
    ``forward`` is not: its numbers could be anything)."""
    return isinstance(module, cls) and type(module).forward is cls.forward


def _leaves(module: Any, nn: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(name, module) of every module but ``Identity``, nested Sequentials flattened; names are
    the state_dict prefixes (``"4"``, ``"4.0"``)."""
    leaves = []
    for name, child in module.named_children():
        if _is(child, nn.Sequential):
            leaves += _leaves(child, nn, f"{prefix}{name}.")
        elif not _is(child, nn.Identity):
            leaves.append((f"{prefix}{name}", child))
    return leaves


def _activation_name(module: Any, nn: Any, where: str) -> str | None:
    """deepmat's name for an activation module, None if ``module`` is not one."""
    if _is(module, nn.ReLU):
        return "relu"
    if _is(module, nn.Sigmoid):
        return "sigmoid"
    if _is(module, nn.Tanh):
        return "tanh"
    if _is(module, nn.LeakyReLU):
        if module.negative_slope != LEAKY_RELU_SLOPE:
            raise ValueError(
                f"{where}: LeakyReLU(negative_slope={module.negative_slope}) is not supported — deepmat's "
                f"leaky_relu has slope {LEAKY_RELU_SLOPE}, LeakyReLU({LEAKY_RELU_SLOPE})"
            )
        return "leaky_relu"
    if _is(module, nn.Softmax):
        if module.dim not in (1, -1):
            raise ValueError(
                f"{where}: Softmax(dim={module.dim}) is not supported — deepmat's softmax is over the "
                "classes of each sample (rows are samples): Softmax(dim=1)"
            )
        return "softmax"
    return None


def _numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


@dataclass
class TorchNetwork:
    """What :func:`read_torch` found: the network's layers (not built), n[0], its dtype, and
    the arrays (by deepmat name, as stored by torch) and counters to load into it."""

    layers: list[Layer]
    input_dim: int
    dtype: str
    arrays: dict[str, np.ndarray]
    counters: list[dict[str, int]]


def read_torch(module: torch.nn.Sequential, *, input_dim: int | None = None) -> TorchNetwork:
    """The deepmat layers and arrays equivalent to the ``torch.nn.Sequential`` ``module`` (see
    the module docs for the mapping); :meth:`deepmat.Network.from_torch` builds the network.

    Args:
        module: a Sequential of the modules listed in :data:`SUPPORTED`, ending in a
            ``Linear`` (identity output, regression), a ``Sigmoid`` or a ``Softmax(dim=1)``;
            its parameters all float32 or all float64 (the network's dtype), on any device.
        input_dim: n[0]; needed only when an activation or dropout comes before the first
            ``Linear`` or ``BatchNorm1d``, whose sizes tell it otherwise (if given, checked).

    Raises:
        TypeError: ``module`` is not a ``torch.nn.Sequential``.
        ValueError: a module deepmat has no layer for (the message names the module — its
            state_dict prefix — its type and the supported list), sizes that do not chain, an
            unsupported output, or parameters neither all float32 nor all float64.
    """
    torch = _torch()
    nn = torch.nn
    if not _is(module, nn.Sequential):
        raise TypeError(f"from_torch needs a torch.nn.Sequential; received {type(module).__name__}")
    if input_dim is not None:
        input_dim = check_number(input_dim, "input_dim", 1, integer=True)
    leaves = _leaves(module, nn)
    if not leaves:
        raise ValueError("the Sequential holds no layers (Identity modules are skipped)")
    floats = {p.dtype for p in module.parameters()} | {
        b.dtype for b in module.buffers() if b.is_floating_point()
    }
    if not floats:
        floats = {torch.get_default_dtype()}
    if len(floats) > 1 or not floats <= {torch.float32, torch.float64}:
        raise ValueError(
            "parameters must be all float32 or all float64 (deepmat's dtypes; convert with "
            f".float() or .double()); received {sorted(str(d) for d in floats)}"
        )
    readers = {name: cls for cls in LAYERS.values() for name in cls.torch_types}
    layers: list[Layer] = []
    sources: list[Any] = []  # the module each layer's arrays and counters come from (or None)
    n0 = n = input_dim  # n[0], and the size of the current layer's output
    i = 0
    while i < len(leaves):
        name, m = leaves[i]
        where = f"module {name}"
        if hasattr(m, "has_uninitialized_params") and m.has_uninitialized_params():
            raise ValueError(f"{where}: {type(m).__name__} has no weights yet; run one forward pass first")
        try:
            activation = _activation_name(m, nn, where)
            reader = readers.get(type(m).__name__)
            if activation is not None:
                layer, n_in = Activation(activation), None
            elif reader is not None and _is(m, getattr(nn, type(m).__name__)):
                layer, n_in = reader.from_torch(m, n)
            else:
                raise ValueError(f"{type(m).__name__} is not supported; supported: {SUPPORTED}")
        except ValueError as error:  # e.g. Dropout(p=1.0), BatchNorm1d(momentum=0): name the module
            message = str(error)
            raise ValueError(message if message.startswith(where) else f"{where}: {message}") from None
        i += 1
        # a Linear takes the activation module right after it as its own g
        if layer.numbered and layer.activation == "identity" and i < len(leaves):
            following = _activation_name(leaves[i][1], nn, f"module {leaves[i][0]}")
            if following is not None:
                layer.activation = following
                i += 1
        n0 = n_in if n0 is None else n0
        n = layer.out_units(n_in if n is None else n) if (n is not None or n_in is not None) else None
        layers.append(layer)
        sources.append(m)
    last = layers[-1]
    if last.activation not in DEFAULT_LOSS:
        what = type(leaves[-1][1]).__name__
        raise ValueError(
            f"module {leaves[-1][0]}: the Sequential ends in {what}; the output must be {OUTPUTS}"
        )
    if n0 is None:
        raise ValueError("cannot tell the number of inputs (no Linear or BatchNorm1d): pass input_dim=")
    arrays: dict[str, np.ndarray] = {}
    counters: list[dict[str, int]] = []
    for (l, layer), m in zip(numbered(layers), sources, strict=True):
        state = m.state_dict()
        for stem, (suffix, _) in layer.torch_keys.items():
            arrays[f"{stem}{l}"] = _numpy(state[suffix])
        counters.append({counter: int(state[counter]) for counter in layer.get_counters()})
    dtype = "float64" if floats == {torch.float64} else "float32"
    return TorchNetwork(layers, n0, dtype, arrays, counters)
