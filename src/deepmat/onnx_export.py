"""ONNX export: a :class:`deepmat.Network`'s inference pass as an ONNX graph.

The graph takes ``X`` ``(batch, n[0])`` — rows are samples, the batch dimension dynamic (the
``dim_param`` ``"batch"``) — and returns ``Y`` ``(batch, n[L])``, what :meth:`Network.forward`
returns (probabilities for a sigmoid or softmax output, not logits). In row layout
Z = A·Wᵀ + bᵀ, which is ONNX's ``Gemm`` with ``transB = 1``, so W[l] is stored as deepmat
holds it, ``(n[l], n[l-1])``, and b[l] as its column flattened, ``(n[l],)``:

=====================================  ===============================================
deepmat layer                          ONNX nodes (initialisers, shapes)
=====================================  ===============================================
``Dense(n, g)``                        ``Gemm(A, W{l}, b{l}, transB=1)``, then g below;
                                       W{l} ``(n, n[l-1])``, b{l} ``(n,)``
``Dense(n, "identity")`` followed      one ``Gemm`` with the batch norm folded in:
directly by ``BatchNorm``              W{l} = diag(s)·W, b{l} = s ⊙ (b − μ) + β
``BatchNorm`` anywhere else            ``BatchNormalization(A, gamma{l}, beta{l},
                                       running_mean{l}, running_var{l}, epsilon=ε)``
                                       (inference mode; each ``(n,)``; A ``(batch, n)``)
``Activation(g)`` and g of a Dense     relu ``Relu``, sigmoid ``Sigmoid``, tanh ``Tanh``,
                                       leaky_relu ``LeakyRelu(alpha=0.01)`` (float32)
                                       or ``PRelu(A, leaky_relu_slope)`` (float64,
                                       the slope 0.01 a scalar ``()``),
                                       softmax ``Softmax(axis=1)``; identity: no node
``Dropout(p)``                         no node (the identity at inference)
=====================================  ===============================================

Batch norm is folded wherever it can be — right after a Dense layer with the identity
activation, which is how ``Network(..., batch_norm=True)`` stacks it (Dense, BatchNorm, then
the activation) — and is a ``BatchNormalization`` node everywhere else (at the input, after
an activation or a dropout). Folding, with s = γ / √(running_var + ε): s ⊙ (W·a + b − μ) + β
= (diag(s)·W)·a + s ⊙ (b − μ) + β. It is computed in float64 and then cast, so a folded
float32 graph rounds once, as the unfolded one would.

Numbers: the initialisers, X and Y are float32 (``dtype="float32"``, the default, whatever
the network's own dtype) or float64 (``dtype="float64"``). Every op above has float64
kernels in onnxruntime's CPU provider (checked against onnxruntime 1.32), so either export
runs there. ONNX stores float attributes as float32, so a float64 graph avoids relying on
two of them. LeakyRelu's alpha would be 0.0099999998, 2e-8 relative off on every negative
input: leaky_relu becomes ``PRelu`` with a float64 slope tensor instead (onnxruntime has a
double PRelu from opset 16, so a float64 export with leaky_relu and an older opset is refused
with a ``ValueError``). BatchNormalization's ε rounded to float32 is 2.5e-13 off for the
default 1e-5, which is 1e-8 relative on the output of a unit whose running variance is 1e-6:
a standalone batch norm in a float64 graph stores running_var{l} + (ε − float32(ε)), so
that running_var + ε is exact. A float32 graph stores the running variance as it is; a
folded batch norm uses ε exactly in either.

The opset is the default domain's, 13 (Softmax over one axis) up to the newest the installed
``onnx`` knows; the model's IR version is the lowest that opset allows, so older runtimes can
read it. The model records ``producer_name = "deepmat"``, ``producer_version`` (deepmat's
version) and, in ``metadata_props``, ``deepmat_config``: the JSON of
:meth:`Network.get_config`, from which :meth:`Network.from_config` rebuilds the architecture.
The model passes ``onnx.checker.check_model(full_check=True)`` before it is returned or
written, and a file is written atomically (see :mod:`deepmat.io`).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from deepmat._checks import check_finite, check_number
from deepmat.activations import LEAKY_RELU_SLOPE
from deepmat.io import atomic_write
from deepmat.onnx_inputs import ML_OPSET, preprocessing_nodes
from deepmat.version import __version__

if TYPE_CHECKING:
    import onnx


#: deepmat activation → (ONNX op, its attributes); identity has no node
ONNX_ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("Relu", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_RELU_SLOPE}),
    "softmax": ("Softmax", {"axis": 1}),
}
#: the oldest opset exported: Softmax normalises over one axis only from opset 13 on
MIN_OPSET = 13
#: the element types a graph can be exported in
EXPORT_DTYPES = ("float32", "float64")
#: float64 graphs: leaky_relu is PRelu(A, slope), which onnxruntime runs in double from this opset
PRELU_FLOAT64_OPSET = 16
#: the initialiser holding the slope (a scalar) of PRelu in float64 graphs
LEAKY_RELU_SLOPE_NAME = "leaky_relu_slope"


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs onnx: pip install onnx (or deepmat[onnx])") from None
    return onnx


def _dtype_name(dtype: Any) -> str:
    """``"float32"`` or ``"float64"`` from a name, a NumPy dtype or NumPy scalar type.

    Names are matched, never parsed (``np.dtype`` would evaluate strings such as
    ``"[('a', 'f4')]"``)."""
    if isinstance(dtype, str) and dtype in EXPORT_DTYPES:
        return dtype
    if isinstance(dtype, np.dtype) or any(dtype is t for t in (np.float32, np.float64)):
        name = np.dtype(dtype).name
        if name in EXPORT_DTYPES:
            return name
    raise ValueError(f"dtype must be one of {EXPORT_DTYPES}; received {dtype!r}")


def to_onnx(
    net: Any,
    path: str | os.PathLike | None = None,
    *,
    opset: int = 17,
    dtype: str | np.dtype | type[np.floating] = "float32",
) -> onnx.ModelProto:
    """The inference graph of ``net`` as an ``onnx.ModelProto``, checked by ``onnx.checker``.

    Args:
        net: a :class:`deepmat.Network` (any dtype).
        path: if given, the serialised model is also written there, atomically.
        opset: the ONNX opset of the default domain, from 13 to the newest the installed
            ``onnx`` supports (``onnx.defs.onnx_opset_version()``).
        dtype: ``"float32"`` (default) or ``"float64"``: the element type of X, Y and the
            initialisers (``np.float32`` / ``np.float64`` and their dtypes are accepted too).

    Returns:
        The model: input ``X`` ``(batch, n[0])``, output ``Y`` ``(batch, n[L])`` equal to
        ``net.forward(X)``; the table in the module docstring lists the nodes.

    Raises:
        TypeError: ``net`` is not a Network, or ``opset`` not an integer.
        ValueError: ``opset`` outside the supported range, an unknown ``dtype``, a float64
            export of a leaky_relu network below opset 16, or a parameter or running
            statistic that is not finite (NaN or ±inf).
        ImportError: ``onnx`` is not installed.

    >>> from deepmat import Network
    >>> model = to_onnx(Network([4, 3, 2], "relu", "softmax", seed=0))
    >>> [node.op_type for node in model.graph.node]
    ['Gemm', 'Relu', 'Gemm', 'Softmax']
    """
    if not isinstance(getattr(net, "layers", None), list) or not hasattr(net, "get_config"):
        raise TypeError(f"to_onnx needs a deepmat.Network; received {type(net).__name__}")
    opset = check_number(opset, "opset", integer=True)
    dtype = _dtype_name(dtype)
    onnx = _onnx()
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must be from {MIN_OPSET} to {newest} (the newest onnx {onnx.__version__} knows); "
            f"received {opset}"
        )
    uses_leaky_relu = any(layer.activation == "leaky_relu" for layer in net.layers)
    if dtype == "float64" and uses_leaky_relu and opset < PRELU_FLOAT64_OPSET:
        raise ValueError(
            f"a float64 graph expresses leaky_relu as PRelu with a float64 slope, which onnxruntime "
            f"runs in double only from opset {PRELU_FLOAT64_OPSET} (LeakyRelu's alpha attribute is a "
            f"float32, 0.0099999998 for 0.01); received opset={opset}: use opset ≥ "
            f"{PRELU_FLOAT64_OPSET} or dtype='float32'"
        )

    from onnx import TensorProto, helper

    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    builder = GraphBuilder(net, dtype)
    pre = getattr(net, "preprocessor", None)
    inputs = preprocessing_nodes(builder, pre, elem, helper, TensorProto.STRING)
    layers = net.layers
    while builder.position < len(layers):
        following = layers[builder.position + 1] if builder.position + 1 < len(layers) else None
        builder.position += layers[builder.position].to_onnx(builder, following)
    nodes, initializers = builder.nodes, builder.initializers
    if builder.current == "X":  # pragma: no cover - a Network has at least one Dense layer
        builder.node("Identity", ["X"], "output_identity")  # Y must be produced by a node
    nodes[-1].output[0] = "Y"  # the last node's output is `current`, read by no other node

    graph = helper.make_graph(
        nodes,
        "deepmat",
        inputs,
        [helper.make_tensor_value_info("Y", elem, ["batch", net.layer_dims[-1]])],
        initializers,
    )
    opset_imports = [helper.make_opsetid("", opset)]
    if pre is not None and pre.has_text:
        opset_imports.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    model = helper.make_model(
        graph,
        opset_imports=opset_imports,
        producer_name="deepmat",
        producer_version=__version__,
        doc_string=f"deepmat Network {net.layer_dims}, exported for inference",
    )
    # the lowest IR version the opset allows: readable by the most runtimes
    model.ir_version = helper.find_min_ir_version_for(opset_imports)
    helper.set_model_props(model, {"deepmat_config": json.dumps(net.get_config())})
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        atomic_write(path, model.SerializeToString())
    return model


class GraphBuilder:
    """The graph being written: its nodes and initialisers, the name of the tensor the next
    node reads (``current``), and the index of the layer being exported (``position``). Each
    layer appends its own nodes (:meth:`deepmat.layers.Layer.to_onnx`)."""

    def __init__(self, net: Any, dtype: str) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.net = net
        #: "float32" or "float64": the element type of X, Y and the initialisers
        self.dtype = dtype
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.current = "X"
        self.position = 0

    def array(self, name: str) -> np.ndarray:
        """The network's parameter or buffer ``name`` as float64, refused (``ValueError``
        naming it) if not finite."""
        source = self.net.params if name in self.net.params else self.net.buffers
        array = source[name]
        check_finite(array, name)
        return np.asarray(array, dtype=np.float64)

    def constant(self, name: str, array: np.ndarray) -> str:
        """An initialiser ``name`` holding ``array`` in the graph's dtype; returns its name."""
        self.initializers.append(
            self.numpy_helper.from_array(np.ascontiguousarray(array, dtype=self.dtype), name)
        )
        return name

    def integers(self, name: str, values: list[int]) -> str:
        """An int64 initialiser (indices, shapes); returns its name."""
        self.initializers.append(self.numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        """Append a node reading ``inputs``; its output (named ``name``) becomes ``current``."""
        self.nodes.append(self.helper.make_node(op, inputs, [name], name=name, **attributes))
        self.current = name
        return name

    def activation(self, name: str, where: str) -> str:
        """g applied to ``current`` (the table in the module docstring; identity: no node)."""
        if name == "identity":
            return self.current
        if name == "leaky_relu" and self.dtype == "float64":  # the slope as a float64 tensor, exact
            if LEAKY_RELU_SLOPE_NAME not in {t.name for t in self.initializers}:
                self.constant(LEAKY_RELU_SLOPE_NAME, np.array(LEAKY_RELU_SLOPE))
            return self.node("PRelu", [self.current, LEAKY_RELU_SLOPE_NAME], f"{where}_prelu")
        if name not in ONNX_ACTIVATIONS:
            raise ValueError(
                f"the activation {name!r} has no ONNX form; exportable: {', '.join(sorted(ONNX_ACTIVATIONS))}"
            )
        op, attributes = ONNX_ACTIVATIONS[name]
        return self.node(op, [self.current], f"{where}_{op.lower()}", **attributes)
