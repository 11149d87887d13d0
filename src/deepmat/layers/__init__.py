"""Layers: the stateful pieces a :class:`deepmat.Network` is stacked from, one module per kind.

=================  =========================================  ==================================
kind               what it computes (column layout)            module
=================  =========================================  ==================================
``Dense``          Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l])  :mod:`deepmat.layers.dense`
``Activation``     A = g(Z)                                     :mod:`deepmat.layers.activation`
``Dropout``        A = A_prev ⊙ D / (1 − p) in training          :mod:`deepmat.layers.dropout`
``BatchNorm``      A = γ ⊙ (A_prev − μ) / √(σ² + ε) + β         :mod:`deepmat.layers.batchnorm`
=================  =========================================  ==================================

The base class (:mod:`deepmat.layers.base`) lists what a layer kind owns: its maths, its
config, the shapes of its arrays, its PyTorch modules and ONNX nodes, its lines in
``deepmat explain``. :data:`LAYERS` is the registry :func:`layer_from_config` reads (a saved
model names its layers by ``kind``).

The layer number l is that of the :class:`Dense` layer it follows, so a network's weights are
``W1 … WL`` whatever dropout or batch normalisation sits between them.
"""

from __future__ import annotations

from deepmat.layers.activation import Activation
from deepmat.layers.base import ExplainStep, Layer, z_order
from deepmat.layers.batchnorm import BatchNorm
from deepmat.layers.dense import Dense
from deepmat.layers.dropout import Dropout
from deepmat.layers.stack import (
    LAYERS,
    MAX_UNITS,
    check_layer_dims,
    counter_names,
    file_shapes,
    layer_from_config,
    layers_from_dims,
    numbered,
    torch_names,
)

__all__ = [
    "LAYERS",
    "MAX_UNITS",
    "Activation",
    "BatchNorm",
    "Dense",
    "Dropout",
    "ExplainStep",
    "Layer",
    "check_layer_dims",
    "counter_names",
    "file_shapes",
    "layer_from_config",
    "layers_from_dims",
    "numbered",
    "torch_names",
    "z_order",
]
