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

:func:`from_torch` reads the same modules back, nested ``Sequential`` flattened: a ``Linear``
and the activation module right after it become one ``Dense``; a ``Linear`` followed by
anything else a ``Dense(n, "identity")``; an activation elsewhere (after a ``BatchNorm1d``,
say) an ``Activation`` layer. Anything else is refused with the module's name, its type and
the supported list. Only the architecture and the arrays cross over: a torch module has no
loss, initialiser or L2 penalty, so ``Dense(init=, l2=)`` settings come back as ``None``
(pass ``loss=`` to :func:`from_torch`), and ``Dense(n, "identity")`` + ``Activation(g)``
comes back as ``Dense(n, g)`` — the same function, the same modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from deepmat.activations import LEAKY_RELU_SLOPE
from deepmat.layers import Activation, BatchNorm, Dense, Dropout, Layer

if TYPE_CHECKING:
    import torch

    from deepmat.network import Network

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


def _activation_module(nn: Any, name: str) -> Any:
    """torch's module for deepmat's activation ``name`` (not identity)."""
    if name == "relu":
        return nn.ReLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_RELU_SLOPE)
    if name == "softmax":
        return nn.Softmax(dim=1)
    raise ValueError(f"no torch module for activation {name!r}")  # pragma: no cover - all are above


def to_torch(net: Network) -> torch.nn.Sequential:
    """An equivalent ``torch.nn.Sequential``, parameters and buffers copied, in ``net``'s dtype
    (float32 or float64), on the CPU, in eval mode: ``seq(torch.from_numpy(X))`` equals
    ``net.forward(X)``, and ``seq.state_dict()`` has exactly the keys of ``net.save``'s file.

    The arrays are copies: training either model leaves the other as it was. Building the
    modules draws nothing from torch's random generator.
    """
    from deepmat.io import torch_names
    from deepmat.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"to_torch needs a deepmat.Network; received {type(net).__name__}")
    torch = _torch()
    nn = torch.nn
    options = {"device": "meta", "dtype": torch.float64 if net.dtype == np.float64 else torch.float32}
    modules: list[Any] = []
    batch_norms: dict[int, BatchNorm] = {}  # module index → layer, for num_batches_tracked
    n = net.layer_dims[0]
    for layer in net.layers:
        if isinstance(layer, Dense):
            modules.append(nn.Linear(n, layer.units, **options))
            n = layer.units
            if layer.activation != "identity":
                modules.append(_activation_module(nn, layer.activation))
        elif isinstance(layer, Activation):
            if layer.activation != "identity":
                modules.append(_activation_module(nn, layer.activation))
        elif isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.rate))
        elif isinstance(layer, BatchNorm):
            batch_norms[len(modules)] = layer
            modules.append(nn.BatchNorm1d(n, eps=layer.eps, momentum=layer.momentum, **options))
        else:  # pragma: no cover - deepmat has no other layers
            raise TypeError(f"no torch module for {layer!r}")
    # on the meta device, nn.Linear's reset_parameters neither computes nor uses torch's RNG
    seq = nn.Sequential(*modules).to_empty(device="cpu")
    arrays = net.state_arrays()
    state = {
        key: torch.from_numpy(np.array(arrays[name] if kind == "W" else arrays[name][:, 0]))
        for name, key, kind in torch_names(net.get_config())
    }
    for i, layer in batch_norms.items():
        state[f"{i}.num_batches_tracked"] = torch.tensor(layer.num_batches_tracked, dtype=torch.long)
    # strict: the Sequential's keys are exactly io.torch_names' (+ num_batches_tracked), the
    # file's keys, or this raises — the module numbering here and in io cannot drift apart
    seq.load_state_dict(state, strict=True)
    return seq.eval()


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


def from_torch(
    module: torch.nn.Sequential,
    *,
    loss: str | None = None,
    seed: int | None = None,
    input_dim: int | None = None,
) -> Network:
    """A :class:`deepmat.Network` equivalent to the ``torch.nn.Sequential`` ``module``, its
    parameters, running statistics and ``num_batches_tracked`` copied (see the module docs for
    the mapping): ``net.forward(X)`` equals ``module.eval()(torch.from_numpy(X))``.

    Args:
        module: a Sequential of the modules listed in :data:`SUPPORTED`, ending in a
            ``Linear`` (identity output, regression), a ``Sigmoid`` or a ``Softmax(dim=1)``;
            its parameters all float32 or all float64 (the network's dtype), on any device.
        loss: the network's loss (``None``: the one matching the output activation).
        seed: seeds the network's dropout and shuffling generators.
        input_dim: n[0]; needed only when an activation or dropout comes before the first
            ``Linear`` or ``BatchNorm1d``, whose sizes tell it otherwise (if given, checked).

    Raises:
        TypeError: ``module`` is not a ``torch.nn.Sequential``.
        ValueError: a module deepmat has no layer for (the message names the module — its
            state_dict prefix — its type and the supported list), sizes that do not chain, an
            unsupported output, or parameters neither all float32 nor all float64.
    """
    from deepmat._checks import check_positive
    from deepmat.losses import DEFAULT_LOSS
    from deepmat.network import Network

    torch = _torch()
    nn = torch.nn
    if not _is(module, nn.Sequential):
        raise TypeError(f"from_torch needs a torch.nn.Sequential; received {type(module).__name__}")
    if input_dim is not None:
        check_positive(input_dim, "input_dim", integer=True)
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
    dtype = "float64" if floats == {torch.float64} else "float32"

    layers: list[Layer] = []
    sources: list[tuple[Layer, Any]] = []  # layers with arrays, and the module holding them
    n0 = n = input_dim  # n[0], and the size of the current layer's output
    i = 0
    while i < len(leaves):
        name, m = leaves[i]
        where = f"module {name}"
        if hasattr(m, "has_uninitialized_params") and m.has_uninitialized_params():
            raise ValueError(f"{where}: {type(m).__name__} has no weights yet; run one forward pass first")
        if _is(m, nn.Linear):
            if m.bias is None:
                raise ValueError(
                    f"{where}: Linear without bias (bias=False) — deepmat's Dense layers have b[l]"
                )
            if n is not None and m.in_features != n:
                raise ValueError(f"{where}: Linear(in_features={m.in_features}) receives {n} features")
            following = leaves[i + 1] if i + 1 < len(leaves) else None
            activation = _activation_name(following[1], nn, f"module {following[0]}") if following else None
            layers.append(Dense(m.out_features, activation or "identity"))
            sources.append((layers[-1], m))
            n0 = m.in_features if n0 is None else n0
            n = m.out_features
            i += 2 if activation else 1
            continue
        activation = _activation_name(m, nn, where)
        try:
            if activation is not None:
                layers.append(Activation(activation))
            elif _is(m, nn.Dropout):
                layers.append(Dropout(m.p))
            elif _is(m, nn.BatchNorm1d):
                if not m.affine or not m.track_running_stats or m.momentum is None:
                    raise ValueError(
                        "BatchNorm1d needs affine=True, track_running_stats=True and a momentum "
                        f"(deepmat's BatchNorm); received affine={m.affine}, "
                        f"track_running_stats={m.track_running_stats}, momentum={m.momentum}"
                    )
                if n is not None and m.num_features != n:
                    raise ValueError(f"BatchNorm1d(num_features={m.num_features}) receives {n} features")
                n0 = m.num_features if n0 is None else n0
                n = m.num_features
                layers.append(BatchNorm(momentum=m.momentum, eps=m.eps))
                sources.append((layers[-1], m))
            else:
                raise ValueError(f"{type(m).__name__} is not supported; supported: {SUPPORTED}")
        except ValueError as error:  # e.g. Dropout(p=1.0), BatchNorm1d(momentum=0): name the module
            raise ValueError(f"{where}: {error}") from None
        i += 1
    last = layers[-1]
    if not isinstance(last, (Dense, Activation)) or last.activation not in DEFAULT_LOSS:
        what = type(leaves[-1][1]).__name__
        raise ValueError(
            f"module {leaves[-1][0]}: the Sequential ends in {what}; the output must be {OUTPUTS}"
        )
    if n0 is None:
        raise ValueError("cannot tell the number of inputs (no Linear or BatchNorm1d): pass input_dim=")
    net = Network(layers=layers, input_dim=n0, loss=loss, seed=seed, dtype=dtype)
    for layer, m in sources:
        l = layer.index
        if isinstance(layer, Dense):
            net.params[f"W{l}"] = _numpy(m.weight)
            net.params[f"b{l}"] = _numpy(m.bias)[:, None]
        else:
            net.params[f"gamma{l}"] = _numpy(m.weight)[:, None]
            net.params[f"beta{l}"] = _numpy(m.bias)[:, None]
            net.buffers[f"running_mean{l}"] = _numpy(m.running_mean)[:, None]
            net.buffers[f"running_var{l}"] = _numpy(m.running_var)[:, None]
            layer.num_batches_tracked = int(m.num_batches_tracked)
    return net
