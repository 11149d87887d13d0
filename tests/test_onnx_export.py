"""ONNX export: the graph passes onnx.checker and onnxruntime gives deepmat's outputs
(≤ 1e-5 relative in float32, ≤ 1e-12 in float64) for every activation and layer type, with a
dynamic batch (one session, batches of 1, 7 and 64)."""

from __future__ import annotations

import json
import sys

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
    "batch norm after a dropout (not folded)": [
        Dense(7, "identity"),
        Dropout(0.3),
        BatchNorm(),
        Activation("sigmoid"),
        Dense(3, "identity"),
    ],
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
    if stack.startswith("batch norm") and "folded into" not in stack:
        assert ops.count("BatchNormalization") == 1
    running_var = [v for k, v in net.buffers.items() if k.startswith("running_var")]
    assert all(not np.allclose(v, 1) for v in running_var)  # trained statistics, not the defaults
    assert_same_outputs(net, model, 5)


def test_batch_norm_shorthand_is_folded_everywhere():
    """``batch_norm=True`` stacks Dense(identity), BatchNorm, Activation: every BN folds."""
    net = trained(
        Network([5, 8, 6, 3], "tanh", "softmax", batch_norm=True, dropout=0.2, seed=4, dtype="float32"),
        epochs=3,
    )
    model = to_onnx(net)
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"]
    assert sorted(t.name for t in model.graph.initializer) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert_same_outputs(net, model, 5)


def test_cat_architecture():
    net = trained(Network([12288, 20, 7, 5, 1], init="scaled", seed=1, dtype="float32"), epochs=2)
    model = to_onnx(net)
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Sigmoid"]
    assert_same_outputs(net, model, 12288, scale=0.3)


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
    assert_same_outputs(net, model, 4)  # the float64 network's weights, rounded once to float32


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float64")])
def test_float64_graph_runs_every_op_in_double(dtype):
    """Every op the exporter emits, in one float64 graph: onnxruntime has double kernels, and
    leaky_relu is PRelu with a float64 slope (LeakyRelu's float32 alpha would be 2e-8 off)."""
    net = trained(
        Network(
            layers=[
                BatchNorm(),  # standalone BatchNormalization
                Dense(6, "leaky_relu"),
                Dense(6, "identity"),
                BatchNorm(),  # folded
                Activation("relu"),
                Dropout(0.2),
                Dense(5, "sigmoid"),
                Dense(4, "tanh"),
                Dense(3, "softmax"),
            ],
            input_dim=4,
            seed=5,
        ),
        epochs=3,
    )
    model = to_onnx(net, dtype=dtype)
    ops = {n.op_type for n in model.graph.node}
    assert ops == {"BatchNormalization", "Gemm", "PRelu", "Relu", "Sigmoid", "Tanh", "Softmax"}
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.DOUBLE}
    slope = {t.name: t for t in model.graph.initializer}["leaky_relu_slope"]
    assert onnx.numpy_helper.to_array(slope) == np.float64(0.01)
    sess = session(model)
    for m in (1, 7, 64):
        X = np.random.default_rng(m).standard_normal((m, 4))
        (Y,) = sess.run(None, {"X": X})
        assert Y.dtype == np.float64 and Y.shape == (m, 3)
        np.testing.assert_allclose(Y, net.forward(X), rtol=1e-12, atol=1e-14)


def test_float64_batch_norm_is_exact_for_small_variances():
    """ε = 1e-5 is 2.5e-13 off as the float32 attribute; the stored variance absorbs it."""
    net = Network(layers=[BatchNorm(), Dense(3, "identity")], input_dim=4, seed=0)
    rng = np.random.default_rng(0)
    net.buffers["running_var0"] = np.array([[1e-6], [1e-4], [1e-2], [1.0]])
    net.buffers["running_mean0"] = rng.standard_normal((4, 1))
    net.params["gamma0"] = rng.uniform(0.5, 2, (4, 1))
    model = to_onnx(net, dtype="float64")
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    (bn,) = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    epsilon = onnx.helper.get_attribute_value(bn.attribute[0])
    assert epsilon == float(np.float32(1e-5)) and epsilon != 1e-5
    np.testing.assert_array_equal(stored["running_var0"] + epsilon, net.buffers["running_var0"][:, 0] + 1e-5)
    X = rng.standard_normal((64, 4))
    (Y,) = session(model).run(None, {"X": X})
    np.testing.assert_allclose(Y, net.forward(X), rtol=1e-13, atol=1e-15)  # 1e-8 with ε in float32


@pytest.mark.parametrize("opset", [13, 17, 21])
def test_opsets_run_with_the_lowest_ir_version(opset):
    net = trained(Network([4, 6, 3], "leaky_relu", "softmax", seed=0, dtype="float32"))
    model = to_onnx(net, opset=opset)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", opset)]
    assert model.ir_version == onnx.helper.find_min_ir_version_for(list(model.opset_import))
    assert_same_outputs(net, model, 4)


def test_float64_leaky_relu_needs_opset_16():
    net = Network([3, 4, 2], "leaky_relu", "softmax", seed=0)
    with pytest.raises(
        ValueError, match=r"from opset 16 .*received opset=15: use opset ≥ 16 or dtype='float32'"
    ):
        to_onnx(net, opset=15, dtype="float64")
    assert [n.op_type for n in to_onnx(net, opset=15).graph.node] == ["Gemm", "LeakyRelu", "Gemm", "Softmax"]
    assert [n.op_type for n in to_onnx(net, opset=16, dtype="float64").graph.node] == [
        "Gemm",
        "PRelu",
        "Gemm",
        "Softmax",
    ]


def test_newest_opset_passes_the_checker():
    newest = onnx.defs.onnx_opset_version()
    model = to_onnx(Network([3, 2, 1], seed=0), opset=newest)
    assert model.opset_import[0].version == newest
    assert model.ir_version == onnx.helper.find_min_ir_version_for(list(model.opset_import))


def test_non_finite_parameters_are_refused(tmp_path):
    net = Network(layers=[Dense(4, "identity"), BatchNorm(), Dense(2, "softmax")], input_dim=3, seed=0)
    net.buffers["running_var1"][2, 0] = np.inf  # in place: assignment through the dict would refuse it
    with pytest.raises(ValueError, match=r"running_var1 must be finite; received inf at index \(2, 0\)"):
        to_onnx(net, tmp_path / "model.onnx")
    assert not list(tmp_path.iterdir())  # nothing written


def test_missing_onnx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    with pytest.raises(ImportError, match=r"ONNX export needs onnx: pip install onnx"):
        to_onnx(Network([3, 2, 1], seed=0))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("not a network",), {}, TypeError, "to_onnx needs a deepmat.Network; received str"),
        ((None,), {}, TypeError, "to_onnx needs a deepmat.Network; received NoneType"),
        ((), {"opset": 11}, ValueError, "opset must be from 13 to [0-9]+ .*; received 11"),
        ((), {"opset": 10_000}, ValueError, "opset must be from 13 to [0-9]+ .*; received 10000"),
        ((), {"opset": "17"}, TypeError, r"opset must be an integer; received '17' \(str\)"),
        ((), {"opset": True}, TypeError, r"opset must be an integer; received True \(bool\)"),
        (
            (),
            {"dtype": "float16"},
            ValueError,
            r"dtype must be one of \('float32', 'float64'\); received 'float16'",
        ),
        ((), {"dtype": np.float16}, ValueError, "dtype must be one of .*; received <class 'numpy.float16'>"),
        ((), {"dtype": "f8"}, ValueError, "dtype must be one of .*; received 'f8'"),
    ],
)
def test_bad_arguments(args, kwargs, error, message):
    net = Network([3, 2, 1], seed=0)
    with pytest.raises(error, match=message):
        to_onnx(*(args or (net,)), **kwargs)
