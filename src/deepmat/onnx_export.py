"""ONNX export: a :class:`deepmat.Network`'s inference pass as an ONNX graph.

The graph takes ``X`` ``(batch, n[0])`` — rows are samples, the batch dimension dynamic — and
returns ``Y`` ``(batch, n[L])``, what :meth:`Network.forward` returns (probabilities for a
sigmoid or softmax output). In row layout Z = A·Wᵀ + bᵀ, which is ONNX's ``Gemm`` with
``transB = 1``, so W[l] is stored as deepmat holds it, ``(n[l], n[l-1])``:

=====================================  ===============================================
deepmat layer                          ONNX nodes
=====================================  ===============================================
``Dense`` (W, b)                       ``Gemm(A, W, b, transB=1)``, then its activation
``Dense`` followed by ``BatchNorm``    one ``Gemm`` with BN folded in (identity activation)
``BatchNorm`` anywhere else            ``BatchNormalization`` (inference: running stats)
``Activation`` / the activations       ``Relu``, ``Sigmoid``, ``Tanh``,
                                       ``LeakyRelu(alpha=0.01)``, ``Softmax(axis=1)``;
                                       identity adds nothing
``Dropout``                            nothing (identity at inference)
=====================================  ===============================================

Folding: with s = γ / √(running_var + ε), a BatchNorm right after an identity Dense turns
W·a + b into s ⊙ (W·a + b − μ) + β, i.e. W' = diag(s)·W and b' = s ⊙ (b − μ) + β.

The network's config is stored as JSON in the model's metadata (``deepmat_config``), so
:meth:`Network.from_config` can rebuild the architecture. The file is written atomically.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from deepmat.layers import Activation, BatchNorm, Dense, Dropout

#: deepmat activation → (ONNX op, attributes)
ONNX_ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("Relu", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.01}),
    "softmax": ("Softmax", {"axis": 1}),
}
MIN_OPSET = 13  # Softmax over one axis (opset 13's semantics)
EXPORT_DTYPES = ("float32", "float64")


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:  # pragma: no cover - an extra
        raise ImportError("ONNX export needs onnx: pip install onnx (or deepmat[onnx])") from None
    return onnx


def to_onnx(
    net: Any, path: str | os.PathLike | None = None, *, opset: int = 17, dtype: str = "float32"
) -> Any:
    """The inference graph of ``net`` as an ``onnx.ModelProto``, checked by ``onnx.checker``.

    Args:
        net: a :class:`deepmat.Network`.
        path: if given, the model is also written there (atomically).
        opset: the ONNX opset (≥ 13).
        dtype: ``"float32"`` (default) or ``"float64"``, the type of X, Y and the weights.
    """
    from deepmat.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"to_onnx needs a deepmat.Network; received {type(net).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < MIN_OPSET:
        raise ValueError(f"opset must be an integer ≥ {MIN_OPSET}; received {opset!r}")
    if dtype not in EXPORT_DTYPES:
        raise ValueError(f"dtype must be one of {EXPORT_DTYPES}; received {dtype!r}")
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    nodes: list[Any] = []
    initializers: list[Any] = []
    current = "X"

    def constant(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=dtype), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def activation(name: str, where: str) -> str:
        if name == "identity":
            return current
        op, attributes = ONNX_ACTIVATIONS[name]
        return node(op, [current], f"{where}_{op.lower()}", **attributes)

    layers = net.layers
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, Dense):
            l = layer.index
            W, b = layer.W.astype(np.float64), layer.b[:, 0].astype(np.float64)
            following = layers[i + 1] if i + 1 < len(layers) else None
            if layer.activation == "identity" and isinstance(following, BatchNorm):
                mean, var, gamma, beta = _batch_norm_arrays(net, following)
                s = gamma / np.sqrt(var + following.eps)
                W, b = W * s[:, None], s * (b - mean) + beta
                i += 1  # the BatchNorm is in the Gemm now
            current = node(
                "Gemm", [current, constant(f"W{l}", W), constant(f"b{l}", b)], f"dense{l}_gemm", transB=1
            )
            current = activation(layer.activation, f"dense{l}")
        elif isinstance(layer, BatchNorm):
            l = layer.index
            mean, var, gamma, beta = _batch_norm_arrays(net, layer)
            current = node(
                "BatchNormalization",
                [
                    current,
                    constant(f"gamma{l}", gamma),
                    constant(f"beta{l}", beta),
                    constant(f"running_mean{l}", mean),
                    constant(f"running_var{l}", var),
                ],
                f"batchnorm{l}",
                epsilon=layer.eps,
            )
        elif isinstance(layer, Activation):
            current = activation(layer.activation, f"layer{i}")
        elif not isinstance(layer, Dropout):  # pragma: no cover - every layer type is handled
            raise TypeError(f"no ONNX form for layer {i}, {layer!r}")
        i += 1
    if current == "X" or nodes[-1].output[0] != current:
        current = node("Identity", [current], "output_identity")  # Y must be produced by a node
    nodes[-1].output[0] = "Y"

    graph = helper.make_graph(
        nodes,
        "deepmat",
        [helper.make_tensor_value_info("X", elem, ["batch", net.layer_dims[0]])],
        [helper.make_tensor_value_info("Y", elem, ["batch", net.layer_dims[-1]])],
        initializers,
    )
    import deepmat

    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="deepmat",
        producer_version=deepmat.__version__,
        doc_string=f"deepmat Network {net.layer_dims}, exported for inference",
    )
    model.ir_version = min(model.ir_version, 10)  # readable by current onnxruntime releases
    helper.set_model_props(model, {"deepmat_config": json.dumps(net.get_config())})
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        from deepmat.io import _atomic_write

        _atomic_write(path, model.SerializeToString())
    return model


def _batch_norm_arrays(net: Any, layer: BatchNorm) -> tuple[np.ndarray, ...]:
    """(running mean, running variance, γ, β) of a BatchNorm layer, as float64 vectors."""
    l = layer.index
    return tuple(
        np.asarray(source[f"{stem}{l}"][:, 0], dtype=np.float64)
        for source, stem in (
            (net.buffers, "running_mean"),
            (net.buffers, "running_var"),
            (net.params, "gamma"),
            (net.params, "beta"),
        )
    )
