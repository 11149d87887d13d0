"""ONNX export: the graph passes onnx.checker and onnxruntime gives deepmat's outputs
(≤ 1e-5 relative in float32) for every activation and layer type, with a dynamic batch."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime
import pytest

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network
from deepmat.onnx_export import to_onnx
from training_helpers import trained

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
OUTPUTS = ["sigmoid", "softmax", "identity"]


def session(model: onnx.ModelProto) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def assert_same_outputs(net: Network, model: onnx.ModelProto, n0: int, scale: float = 1.0) -> None:
    """One session, three batch sizes (the batch dimension is dynamic)."""
    sess = session(model)
    rng = np.random.default_rng(1)
    for m in (1, 7, 64):
        X = (scale * rng.standard_normal((m, n0))).astype(np.float32)
        (Y,) = sess.run(None, {"X": X})
        expected = net.forward(X)
        assert Y.shape == expected.shape == (m, net.layer_dims[-1])
        np.testing.assert_allclose(
            Y, expected, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(expected).max()))
        )


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation(hidden, output):
    net = trained(Network([5, 8, 6, 3], hidden, output, seed=2, dtype="float32", init="xavier"), epochs=3)
    assert_same_outputs(net, to_onnx(net), 5)


LAYER_STACKS = {
    "dense only": [Dense(7, "relu"), Dense(3, "softmax")],
    "batch norm folded into the Gemm": [
        Dense(7, "identity"),
        BatchNorm(),
        Activation("relu"),
        Dense(3, "softmax"),
    ],
    "batch norm at the input": [BatchNorm(), Dense(7, "tanh"), Dense(2, "sigmoid")],
    "batch norm after an activation": [Dense(7, "relu"), BatchNorm(), Dense(1, "identity")],
    "dropout and activation layers": [
        Dense(7, "identity"),
        Activation("leaky_relu"),
        Dropout(0.4),
        Dense(6, "relu"),
        Dropout(0.2),
        Dense(3, "identity"),
        Activation("softmax"),
    ],
}


@pytest.mark.parametrize("stack", LAYER_STACKS)
def test_every_layer_type(stack):
    net = trained(Network(layers=LAYER_STACKS[stack], input_dim=5, seed=3, dtype="float32"), epochs=3)
    model = to_onnx(net)
    ops = [n.op_type for n in model.graph.node]
    assert "Dropout" not in ops
    if stack == "batch norm folded into the Gemm":
        assert "BatchNormalization" not in ops and ops.count("Gemm") == 2
    if stack in ("batch norm at the input", "batch norm after an activation"):
        assert ops.count("BatchNormalization") == 1
    running_var = [v for k, v in net.buffers.items() if k.startswith("running_var")]
    assert all(not np.allclose(v, 1) for v in running_var)  # trained statistics, not the defaults
    assert_same_outputs(net, model, 5)


def test_cat_architecture():
    net = trained(Network([12288, 20, 7, 5, 1], init="scaled", seed=1, dtype="float32"), epochs=2)
    assert_same_outputs(net, to_onnx(net), 12288, scale=0.3)


def test_fashion_architecture_with_dropout():
    net = trained(
        Network([784, 512, 256, 10], "relu", "softmax", dropout=0.3, init="he", dtype="float32", seed=0),
        epochs=1,
    )
    model = to_onnx(net)
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"]
    assert_same_outputs(net, model, 784)


def test_graph_interface_file_and_metadata(tmp_path):
    net = trained(Network([4, 6, 3], "relu", "softmax", seed=0))  # float64 network, float32 graph
    path = tmp_path / "model.onnx"
    model = net.to_onnx(path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert onnx.load(str(path)).SerializeToString() == model.SerializeToString()
    (x,), (y,) = model.graph.input, model.graph.output
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["batch", 4]
    assert [d.dim_param or d.dim_value for d in y.type.tensor_type.shape.dim] == ["batch", 3]
    assert x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.producer_name == "deepmat" and model.producer_version == deepmat.__version__
    config = json.loads({p.key: p.value for p in model.metadata_props}["deepmat_config"])
    assert config == net.get_config()
    assert Network.from_config(config).layer_dims == [4, 6, 3]
    assert not list(tmp_path.glob("*.tmp*"))  # the atomic write left nothing behind


def test_float64_graph():
    net = trained(
        Network(
            layers=[Dense(6, "identity"), BatchNorm(), Activation("tanh"), Dense(2, "softmax")], input_dim=4
        )
    )
    model = to_onnx(net, dtype="float64")
    X = np.random.default_rng(2).standard_normal((11, 4))
    (Y,) = session(model).run(None, {"X": X})
    assert Y.dtype == np.float64
    np.testing.assert_allclose(Y, net.forward(X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("not a network",), {}, TypeError, "to_onnx needs a deepmat.Network; received str"),
        ((), {"opset": 11}, ValueError, "opset must be an integer ≥ 13; received 11"),
        ((), {"dtype": "float16"}, ValueError, "dtype must be one of .*received 'float16'"),
    ],
)
def test_bad_arguments(args, kwargs, error, message):
    net = Network([3, 2, 1], seed=0)
    with pytest.raises(error, match=message):
        to_onnx(*(args or (net,)), **kwargs)
