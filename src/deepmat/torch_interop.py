"""PyTorch round trip: :func:`to_torch` and :func:`from_torch`.

A deepmat network and a ``torch.nn.Sequential`` correspond module by module. A Dense layer
is a ``Linear`` followed by its activation module (none for identity); the state_dict keys
are the ones deepmat's model files use (:mod:`deepmat.io`), so
``seq.load_state_dict(safetensors.torch.load_file("model.safetensors"))`` loads a saved
deepmat model into ``net.to_torch()``'s architecture:

========================================  ==============================  ==============================
deepmat                                   torch module                    state_dict keys (module i)
========================================  ==============================  ==============================
``Dense(n, g)``: W[l] (n, n_in), b[l]     ``Linear(n_in, n)`` then g      ``i.weight`` = W, ``i.bias`` = b[:, 0]
``Activation(g)``, g of a Dense           ``ReLU``, ``Sigmoid``, ``Tanh``,
                                          ``LeakyReLU(0.01)``,
                                          ``Softmax(dim=1)``; identity: —
``Dropout(p)``                            ``Dropout(p)``
``BatchNorm(momentum, eps)``              ``BatchNorm1d(n, eps, momentum)``  ``i.weight`` = γ, ``i.bias`` = β,
                                                                          ``i.running_mean``, ``i.running_var``,
                                                                          ``i.num_batches_tracked``
========================================  ==============================  ==============================

``from_torch`` reads the same modules back (``Identity`` is skipped, nested ``Sequential``
flattened): a ``Linear`` and the activation module right after it become one ``Dense``; an
activation elsewhere becomes an ``Activation`` layer. Anything else is refused with the
module's index and the supported list.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat.activations import LEAKY_RELU_SLOPE
from deepmat.layers import Activation, BatchNorm, Dense, Dropout, Layer

SUPPORTED = "Linear, ReLU, Sigmoid, Tanh, LeakyReLU(0.01), Softmax(dim=1), Identity, Dropout, BatchNorm1d"


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - a test dependency
        raise ImportError("the PyTorch round trip needs PyTorch: pip install torch==2.13.0") from None
    return torch


def _activation_module(nn: Any, name: str) -> Any:
    return {
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_RELU_SLOPE),
        "softmax": lambda: nn.Softmax(dim=1),
    }[name]()


def to_torch(net: Any) -> Any:
    """An equivalent ``torch.nn.Sequential`` in eval mode, parameters and buffers copied, in
    ``net``'s dtype: ``seq(torch.from_numpy(X))`` equals ``net.forward(X)``."""
    from deepmat.io import torch_names
    from deepmat.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"to_torch needs a deepmat.Network; received {type(net).__name__}")
    torch = _torch()
    nn = torch.nn
    modules: list[Any] = []
    n = net.layer_dims[0]
    for layer in net.layers:
        if isinstance(layer, Dense):
            modules.append(nn.Linear(n, layer.units))
            n = layer.units
            if layer.activation != "identity":
                modules.append(_activation_module(nn, layer.activation))
        elif isinstance(layer, Activation):
            if layer.activation != "identity":
                modules.append(_activation_module(nn, layer.activation))
        elif isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.rate))
        elif isinstance(layer, BatchNorm):
            modules.append(nn.BatchNorm1d(n, eps=layer.eps, momentum=layer.momentum))
    seq = nn.Sequential(*modules).to(torch.float64 if net.dtype == np.float64 else torch.float32)
    arrays = net.state_arrays()
    state = {}
    for name, key, kind in torch_names(net.get_config()):
        value = arrays[name]
        state[key] = torch.from_numpy(np.array(value if kind == "W" else value[:, 0]))
    bn_modules = [m for m in seq if isinstance(m, nn.BatchNorm1d)]
    bn_layers = [layer for layer in net.layers if isinstance(layer, BatchNorm)]
    for i, module in enumerate(seq):
        if isinstance(module, nn.BatchNorm1d):
            layer = bn_layers[bn_modules.index(module)]
            state[f"{i}.num_batches_tracked"] = torch.tensor(layer.num_batches_tracked, dtype=torch.long)
    seq.load_state_dict(state, strict=True)
    return seq.eval()


def _flatten(module: Any, nn: Any) -> list[Any]:
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _flatten(child, nn)]
    return [module]


def _activation_name(module: Any, nn: Any, index: int) -> str | None:
    """deepmat's name for an activation module, None if ``module`` is not one."""
    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.LeakyReLU):
        if module.negative_slope != LEAKY_RELU_SLOPE:
            raise ValueError(
                f"module {index}: LeakyReLU(negative_slope={module.negative_slope}) — deepmat's leaky_relu "
                f"has slope {LEAKY_RELU_SLOPE}"
            )
        return "leaky_relu"
    if isinstance(module, nn.Softmax):
        if module.dim not in (1, -1):
            raise ValueError(
                f"module {index}: Softmax(dim={module.dim}) — deepmat's softmax is over the classes of "
                "each sample, Softmax(dim=1)"
            )
        return "softmax"
    return None


def from_torch(
    module: Any, *, loss: str | None = None, seed: int | None = None, input_dim: int | None = None
) -> Any:
    """A :class:`deepmat.Network` equivalent to the ``torch.nn.Sequential`` ``module``.

    Args:
        module: a Sequential of the modules listed in :data:`SUPPORTED`, ending in a
            ``Linear`` (identity output), ``Sigmoid`` or ``Softmax(dim=1)``.
        loss: the network's loss (``None``: the one matching the output activation).
        seed: seeds the network's dropout and shuffling generators.
        input_dim: n[0]; needed only when no ``Linear`` or ``BatchNorm1d`` tells it.

    Raises ValueError/TypeError naming the module index and type for anything unsupported.
    """
    from deepmat.network import Network

    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch needs a torch.nn.Sequential; received {type(module).__name__}")
    leaves = [m for m in _flatten(module, nn) if not isinstance(m, nn.Identity)]
    if not leaves:
        raise ValueError("the Sequential holds no layers")
    floats = {p.dtype for p in module.parameters()} | {
        b.dtype for b in module.buffers() if b.is_floating_point()
    }
    if len(floats) > 1 or not floats <= {torch.float32, torch.float64}:
        raise ValueError(
            f"parameters must be all float32 or all float64; received {sorted(str(d) for d in floats)}"
        )
    dtype = "float64" if floats == {torch.float64} else "float32"

    layers: list[Layer] = []
    sources: list[tuple[Layer, Any]] = []  # deepmat layer, torch module with its arrays
    n0 = input_dim
    i = 0
    while i < len(leaves):
        m = leaves[i]
        if isinstance(m, nn.Linear):
            if m.bias is None:
                raise ValueError(f"module {i}: Linear without bias — deepmat's Dense layers have b[l]")
            if n0 is None:
                n0 = m.in_features
            following = leaves[i + 1] if i + 1 < len(leaves) else None
            name = _activation_name(following, nn, i + 1) if following is not None else None
            layers.append(Dense(m.out_features, name or "identity"))
            sources.append((layers[-1], m))
            i += 2 if name else 1
            continue
        name = _activation_name(m, nn, i)
        if name is not None:
            layers.append(Activation(name))
        elif isinstance(m, nn.Dropout):
            layers.append(Dropout(m.p))
        elif isinstance(m, nn.BatchNorm1d):
            if not m.affine or not m.track_running_stats or m.momentum is None:
                raise ValueError(
                    f"module {i}: BatchNorm1d needs affine=True, track_running_stats=True and a momentum "
                    f"(deepmat's BatchNorm); received affine={m.affine}, "
                    f"track_running_stats={m.track_running_stats}, momentum={m.momentum}"
                )
            if n0 is None:
                n0 = m.num_features
            layers.append(BatchNorm(momentum=m.momentum, eps=m.eps))
            sources.append((layers[-1], m))
        else:
            raise ValueError(f"module {i}: {type(m).__name__} is not supported; supported: {SUPPORTED}")
        i += 1
    if n0 is None:
        raise ValueError("cannot tell the number of inputs: pass input_dim=")
    net = Network(layers=layers, input_dim=n0, loss=loss, seed=seed, dtype=dtype)
    for layer, m in sources:
        l = layer.index
        with torch.no_grad():
            if isinstance(layer, Dense):
                net.params[f"W{l}"] = m.weight.detach().cpu().numpy()
                net.params[f"b{l}"] = m.bias.detach().cpu().numpy()[:, None]
            else:
                net.params[f"gamma{l}"] = m.weight.detach().cpu().numpy()[:, None]
                net.params[f"beta{l}"] = m.bias.detach().cpu().numpy()[:, None]
                net.buffers[f"running_mean{l}"] = m.running_mean.cpu().numpy()[:, None]
                net.buffers[f"running_var{l}"] = m.running_var.cpu().numpy()[:, None]
                layer.num_batches_tracked = int(m.num_batches_tracked)
    return net
