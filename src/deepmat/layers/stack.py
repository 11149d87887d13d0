"""The layer registry, and what is worked out over a stack of layers before or without
building it: the seeds' ``layer_dims`` shorthand, the layer numbers l, and the names, file
keys and shapes of the arrays a stack holds (a model file's layout)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from deepmat._checks import unknown_name
from deepmat.layers.activation import Activation
from deepmat.layers.base import Layer
from deepmat.layers.batchnorm import BatchNorm
from deepmat.layers.dense import Dense
from deepmat.layers.dropout import Dropout

#: no layer of a loadable model may have more units than this (a guard against hostile configs)
MAX_UNITS = 1 << 24

#: every layer kind, by the name a config gives it
LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (Dense, Activation, Dropout, BatchNorm)}


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from :meth:`Layer.get_config`; unknown types or arguments raise ValueError."""
    if not isinstance(config, dict) or config.get("type") not in LAYERS:
        kind = config.get("type") if isinstance(config, dict) else config
        raise unknown_name("layer type", kind, LAYERS)
    kwargs = {k: v for k, v in config.items() if k != "type"}
    try:
        return LAYERS[config["type"]](**kwargs)
    except TypeError as error:
        raise ValueError(f"bad {config['type']} layer config {kwargs}: {error}") from None


def layers_from_dims(
    dims: list[int], hidden: str, output: str, dropout: float = 0.0, batch_norm: bool = False
) -> list[Layer]:
    """The layers of ``Network(dims, hidden, output, dropout=, batch_norm=)``: a Dense layer per
    size (Dense, BatchNorm, Activation with batch norm), a Dropout after each hidden one."""
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


def check_layer_dims(layer_dims: Any) -> list[int]:
    """``layer_dims`` as a list of Python ints, checked: at least two positive integers."""
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


def numbered(layers: Sequence[Layer]) -> Iterator[tuple[int, Layer]]:
    """(l, layer) for each layer: l counts the numbered layers (Dense) so far."""
    l = 0
    for layer in layers:
        l += layer.numbered
        yield l, layer


def torch_names(network: dict[str, Any] | Sequence[Layer]) -> Iterator[tuple[str, str, str]]:
    """For each array of a network — its layers, or its config
    (:meth:`deepmat.Network.get_config`) —: (deepmat name, file key, kind), in module order.
    The file key is the ``torch.nn.Sequential`` ``state_dict`` key (``"{module}.{suffix}"``,
    modules numbered as PyTorch numbers them); kind is "W" (stored as it is), "b" or "vector"
    (the column flattened)."""
    layers = [layer_from_config(c) for c in network["layers"]] if isinstance(network, dict) else network
    module = 0
    for l, layer in numbered(layers):
        for stem, (suffix, kind) in layer.torch_keys.items():
            yield f"{stem}{l}", f"{module}.{suffix}", kind
        module += layer.torch_module_count()


def counter_names(layers: Sequence[Layer]) -> Iterator[tuple[Layer, str, str]]:
    """(layer, counter, file key) for each integer counter (``num_batches_tracked``)."""
    module = 0
    for layer in layers:
        for counter in layer.get_counters():
            yield layer, counter, f"{module}.{counter}"
        module += layer.torch_module_count()


def file_shapes(input_dim: Any, layers: Sequence[Layer]) -> dict[str, tuple[int, ...]]:
    """File key → shape of every array a model file of ``layers`` holds, worked out without
    allocating anything (so a hostile file cannot make deepmat allocate); sizes beyond
    :data:`MAX_UNITS` are refused."""
    n = input_dim
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_UNITS:
        raise ValueError(f"layer sizes must be integers in 1..{MAX_UNITS}; received input_dim = {n!r}")
    shapes: dict[str, tuple[int, ...]] = {}
    for l, layer in numbered(layers):
        shapes.update(layer.array_shapes(n, l))
        units = layer.out_units(n)
        if not 0 < units <= MAX_UNITS:
            raise ValueError(f"layer sizes must be integers in 1..{MAX_UNITS}; received {n} → {units!r}")
        n = units
    keys = {
        key: shapes[name] if kind == "W" else (shapes[name][0],) for name, key, kind in torch_names(layers)
    }
    keys.update({key: () for _, _, key in counter_names(layers)})
    return keys
