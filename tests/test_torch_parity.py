"""deepmat against PyTorch autograd: forward outputs, costs and every gradient.

PyTorch is the reference: each test copies a deepmat network's parameters into torch
tensors in the seeds' column layout (W[l] is (n[l], n[l-1]) like ``torch.nn.Linear.weight``,
b[l] is (n[l], 1)), computes the forward pass and the cost *as deepmat defines it*, and
lets autograd differentiate. The costs (SPEC §5), with m samples:

- binary cross-entropy: −(1/m)·Σ_samples Σ_units [y·log a + (1−y)·log(1−a)];
- softmax cross-entropy: ``F.cross_entropy`` on the logits (mean over samples);
- MSE: (1/m)·Σ_samples ½‖a − y‖² (not ``nn.MSELoss``, which averages over entries and
  drops the ½).

deepmat's ``dA{l}`` (functional API) is the gradient of the per-sample loss, m·∂J/∂A[l]
(losses.py: "the 1/m of the cost is applied once, in linear_backward"); the comparison
with torch's ∂J/∂A[l] multiplies by m accordingly.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import deepmat  # noqa: E402
from deepmat import functional  # noqa: E402

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
PAIRS = [
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
    ("identity", "mse"),
    # non-canonical: dZ[L] chained through the output activation's backward
    ("sigmoid", "mse"),
    ("softmax", "mse"),
    ("softmax", "binary_cross_entropy"),
]
RTOL, ATOL = 1e-10, 1e-13

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda z: TF.leaky_relu(z, negative_slope=0.01),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=0),  # column layout: classes along dim 0
}


def test_leaky_relu_slope_is_torch_default():
    z = torch.tensor([-3.0, -0.5, 0.0, 2.0], dtype=torch.float64)
    np.testing.assert_array_equal(deepmat.activations.leaky_relu(z.numpy()), TF.leaky_relu(z).numpy())


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu"])
def test_kink_at_exactly_zero_matches_torch(hidden):
    # a hidden unit with zero weights and bias has Z = 0 exactly for every sample: the
    # derivative there is the seeds' (and torch's) choice, 0 for ReLU and the slope for leaky
    net, X, y, Y_cols = make_problem(hidden, "sigmoid", "binary_cross_entropy", [3, 4, 1], m=5, seed=8)
    params = {k: v.copy() for k, v in net.params.items()}
    params["W1"][1] = 0.0
    params["b1"][1] = 0.0
    net.params = params
    _, _, grads, _, _ = reference(net, X, Y_cols)
    ours = net.gradients(X, y)
    assert_grads_match(ours, grads)
    if hidden == "relu":
        assert (ours["dW1"][1] == 0).all() and ours["db1"][1, 0] == 0
    else:
        assert ours["db1"][1, 0] != 0


# -- the reference computation ------------------------------------------------------------


def torch_params(params, dtype=torch.float64):
    return {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}


def torch_forward(tparams, X_cols, hidden, output):
    """Column-layout forward pass; returns A[L], Z[L] and [A[0], …, A[L-1]] (grads retained)."""
    L = len(tparams) // 2
    A = X_cols
    activations = []
    Z = None
    for l in range(1, L + 1):
        A.retain_grad() if A.requires_grad else None
        activations.append(A)
        Z = tparams[f"W{l}"] @ A + tparams[f"b{l}"]
        A = TORCH_ACTIVATIONS[output if l == L else hidden](Z)
    return A, Z, activations


def torch_cost(AL, ZL, Y, output, loss):
    """J as deepmat defines it; ``Y`` is (n[L], m), one-hot for labels."""
    m = Y.shape[1]
    if loss == "binary_cross_entropy":
        return -(Y * torch.log(AL) + (1 - Y) * torch.log(1 - AL)).sum() / m
    if loss == "cross_entropy":
        assert output == "softmax"
        return TF.cross_entropy(ZL.T, Y.argmax(dim=0))  # mean over the m samples
    return 0.5 * ((AL - Y) ** 2).sum() / m


def reference(net, X, Y_cols, dtype=torch.float64, input_grad=False):
    """Torch's output (rows), cost, parameter gradients and ∂J/∂A[l] for a deepmat ``net``."""
    tparams = torch_params(net.params, dtype)
    X_cols = torch.tensor(np.asarray(X).T, dtype=dtype, requires_grad=input_grad)
    AL, ZL, acts = torch_forward(tparams, X_cols, net.hidden_activation, net.output_activation)
    J = torch_cost(AL, ZL, torch.tensor(Y_cols, dtype=dtype), net.output_activation, net.loss)
    J.backward()
    grads = {f"d{k}": v.grad.numpy() for k, v in tparams.items()}
    dA = {f"dA{l}": a.grad.numpy() for l, a in enumerate(acts) if a.grad is not None}
    return AL.detach().numpy().T, J.item(), grads, dA, [a.detach().numpy() for a in acts]


# -- problems -----------------------------------------------------------------------------


def make_problem(hidden, output, loss, dims, m, seed, dtype="float64"):
    """A deepmat network with random (non-zero) biases, inputs X (m, n[0]) and targets.

    Returns ``net, X, y, Y_cols``: ``y`` as deepmat takes it (labels for softmax) and
    ``Y_cols`` the (n[L], m) target matrix for the reference.
    """
    rng = np.random.RandomState(seed)
    net = deepmat.Network(dims, hidden, output, loss=loss, seed=seed, dtype=dtype)
    params = {k: v.copy() for k, v in net.params.items()}
    for l in range(1, len(dims)):
        params[f"b{l}"] = 0.2 * rng.randn(dims[l], 1)
    net.params = params
    X = rng.randn(m, dims[0]).astype(dtype)
    n_out = dims[-1]
    if output == "softmax":
        y = rng.randint(0, n_out, size=m)
        Y_cols = np.eye(n_out)[y].T
    elif loss == "binary_cross_entropy":
        y = rng.randint(0, 2, size=(m, n_out)).astype(float)
        Y_cols = y.T
    elif output == "sigmoid":
        y = rng.rand(m, n_out)
        Y_cols = y.T
    else:
        y = rng.randn(m, n_out)
        Y_cols = y.T
    return net, X, y, np.ascontiguousarray(Y_cols)


@st.composite
def architectures(draw, output):
    depth = draw(st.integers(1, 5))
    low = 2 if output == "softmax" else 1
    dims = [draw(st.integers(1, 9)) for _ in range(depth)] + [draw(st.integers(low, 9))]
    m = draw(st.sampled_from([1, 1, 2, 3, 5, 8, 13]))
    seed = draw(st.integers(0, 2**31 - 1))
    return dims, m, seed


PARITY_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_grads_match(ours, theirs, rtol=RTOL, atol=ATOL):
    assert set(ours) == set(theirs)
    for k in theirs:
        assert ours[k].shape == theirs[k].shape, k
        np.testing.assert_allclose(ours[k], theirs[k], rtol=rtol, atol=atol, err_msg=k)


# -- Network against torch ----------------------------------------------------------------


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), PAIRS, ids=[f"{o}-{lo}" for o, lo in PAIRS])
def test_network_matches_torch(hidden, output, loss):
    @PARITY_SETTINGS
    @given(arch=architectures(output))
    def check(arch):
        dims, m, seed = arch
        net, X, y, Y_cols = make_problem(hidden, output, loss, dims, m, seed)
        out, J, grads, _, _ = reference(net, X, Y_cols)
        np.testing.assert_allclose(net.forward(X), out, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(net.cost(X, y), J, rtol=RTOL, atol=ATOL)
        ours = net.gradients(X, y)
        assert_grads_match(ours, grads)

    check()


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), PAIRS[:3], ids=[o for o, _ in PAIRS[:3]])
def test_single_sample_batch(hidden, output, loss):
    net, X, y, Y_cols = make_problem(hidden, output, loss, [4, 5, 3, 3], m=1, seed=5)
    out, J, grads, _, _ = reference(net, X, Y_cols)
    assert net.forward(X).shape == (1, 3)
    np.testing.assert_allclose(net.forward(X), out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(net.cost(X, y), J, rtol=RTOL, atol=ATOL)
    assert_grads_match(net.gradients(X, y), grads)


def test_cost_definitions_differ_from_torch_defaults():
    # guard against the reference silently using torch's conventions
    # (with n[L] = 2 outputs the two MSE conventions coincide: ½·Σ/m = Σ/(2m); use 3)
    net, X, y, _ = make_problem("tanh", "identity", "mse", [3, 4, 3], m=6, seed=9)
    out = torch.tensor(net.forward(X))
    target = torch.tensor(np.asarray(y))
    ours = net.cost(X, y)
    np.testing.assert_allclose(ours, 0.5 * ((out - target) ** 2).sum().item() / 6, rtol=1e-14)
    assert not np.isclose(ours, TF.mse_loss(out, target).item())
    net, X, y, _ = make_problem("tanh", "sigmoid", "binary_cross_entropy", [3, 4, 2], m=6, seed=9)
    a, target = torch.tensor(net.forward(X)), torch.tensor(y)
    np.testing.assert_allclose(net.cost(X, y), 2 * TF.binary_cross_entropy(a, target).item(), rtol=1e-12)


def test_training_steps_match_torch_sgd():
    net, X, y, Y_cols = make_problem("tanh", "softmax", "cross_entropy", [4, 6, 5, 3], m=10, seed=21)
    tparams = torch_params(net.params)
    opt = torch.optim.SGD(list(tparams.values()), lr=0.3)
    Xt, Yt = torch.tensor(X.T), torch.tensor(Y_cols)
    torch_costs = []
    for _ in range(5):
        opt.zero_grad()
        AL, ZL, _ = torch_forward(tparams, Xt, "tanh", "softmax")
        J = torch_cost(AL, ZL, Yt, "softmax", "cross_entropy")
        torch_costs.append(J.item())
        J.backward()
        opt.step()
    history = net.fit(X, y, learning_rate=0.3, iterations=5, print_every=None)
    np.testing.assert_allclose(list(history), torch_costs, rtol=RTOL, atol=ATOL)
    for k, v in tparams.items():
        np.testing.assert_allclose(net.params[k], v.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=k)


# -- the functional API (column layout) against torch ------------------------------------


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), PAIRS, ids=[f"{o}-{lo}" for o, lo in PAIRS])
def test_functional_matches_torch_including_dA0(hidden, output, loss):
    @PARITY_SETTINGS
    @given(arch=architectures(output))
    def check(arch):
        dims, m, seed = arch
        net, X, _, Y_cols = make_problem(hidden, output, loss, dims, m, seed)
        params = {k: v.copy() for k, v in net.params.items()}
        X_cols = np.ascontiguousarray(X.T)
        out, _, grads, dA, acts = reference(net, X, Y_cols, input_grad=True)
        AL, caches = functional.L_model_forward(X_cols, params, hidden, output)
        np.testing.assert_allclose(AL, out.T, rtol=RTOL, atol=ATOL)
        assert len(caches) == len(dims) - 1
        for l, cache in enumerate(caches):
            np.testing.assert_allclose(cache.A_prev, acts[l], rtol=RTOL, atol=ATOL)
        ours = functional.L_model_backward(AL, Y_cols, caches, hidden, output, loss)
        assert_grads_match({k: v for k, v in ours.items() if not k.startswith("dA")}, grads)
        # dA{l} is the per-sample gradient: m · ∂J/∂A[l]; dA0 is dX
        assert set(k for k in ours if k.startswith("dA")) == {f"dA{l}" for l in range(len(dims) - 1)}
        for k, v in dA.items():
            np.testing.assert_allclose(ours[k], m * v, rtol=RTOL, atol=ATOL, err_msg=k)
        # nothing was mutated
        for k, v in params.items():
            np.testing.assert_array_equal(v, net.params[k])

    check()


def test_functional_loss_none_uses_the_canonical_loss():
    net, X, _, Y_cols = make_problem("relu", "softmax", "cross_entropy", [3, 5, 4], m=6, seed=2)
    X_cols = np.ascontiguousarray(X.T)
    AL, caches = functional.L_model_forward(X_cols, net.params, "relu", "softmax")
    implicit = functional.L_model_backward(AL, Y_cols, caches, "relu", "softmax")
    _, _, grads, dA, _ = reference(net, X, Y_cols, input_grad=True)
    assert_grads_match({k: v for k, v in implicit.items() if not k.startswith("dA")}, grads)
    np.testing.assert_allclose(implicit["dA0"], 6 * dA["dA0"], rtol=RTOL, atol=ATOL)


def test_functional_compute_dA0_false_omits_dX():
    net, X, _, Y_cols = make_problem("relu", "sigmoid", "binary_cross_entropy", [3, 5, 1], m=4, seed=3)
    AL, caches = functional.L_model_forward(np.ascontiguousarray(X.T), net.params, "relu", "sigmoid")
    grads = functional.L_model_backward(AL, Y_cols, caches, "relu", "sigmoid", compute_dA0=False)
    assert "dA0" not in grads and "dA1" in grads


# -- float32: no silent upcasts, agreement with torch float32 -----------------------------


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), PAIRS, ids=[f"{o}-{lo}" for o, lo in PAIRS])
def test_float32_network_stays_float32_and_matches_torch_float32(hidden, output, loss):
    net, X, y, Y_cols = make_problem(hidden, output, loss, [6, 8, 7, 4], m=9, seed=31, dtype="float32")
    assert all(v.dtype == np.float32 for v in net.params.values())
    out = net.forward(X)
    grads = net.gradients(X, y)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values()), {k: g.dtype for k, g in grads.items()}
    # float64 input to a float32 network is computed in float32 too
    assert net.forward(X.astype(np.float64)).dtype == np.float32
    ref_out, ref_J, ref_grads, _, _ = reference(net, X, Y_cols, dtype=torch.float32)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.cost(X, y), ref_J, rtol=1e-5, atol=1e-6)
    scale = max(np.abs(g).max() for g in ref_grads.values())
    assert_grads_match(grads, ref_grads, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("learning_rate", [0.05, np.float64(0.05), np.float32(0.05)], ids=type)
def test_float32_params_stay_float32_after_fit(learning_rate):
    net, X, y, _ = make_problem("relu", "softmax", "cross_entropy", [5, 6, 3], m=12, seed=41, dtype="float32")
    # the same run in float64, from the float32 network's initial parameters
    net64, _, _, _ = make_problem("relu", "softmax", "cross_entropy", [5, 6, 3], m=12, seed=41)
    net64.params = {k: v.astype(np.float64) for k, v in net.params.items()}
    history = net.fit(X, y, learning_rate=learning_rate, iterations=20, print_every=None)
    assert all(v.dtype == np.float32 for v in net.params.values()), {
        k: v.dtype for k, v in net.params.items()
    }
    assert net.forward(X).dtype == np.float32
    assert history[-1] < history[0]
    net64.fit(X.astype(np.float64), y, learning_rate=float(learning_rate), iterations=20, print_every=None)
    for k, v in net.params.items():
        np.testing.assert_allclose(v, net64.params[k], rtol=1e-4, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("learning_rate", [0.1, np.float64(0.1)], ids=type)
def test_functional_update_parameters_keeps_float32(learning_rate):
    net, X, y, _ = make_problem(
        "tanh", "sigmoid", "binary_cross_entropy", [3, 4, 1], m=5, seed=43, dtype="float32"
    )
    grads = net.gradients(X, y)
    updated = functional.update_parameters(net.params, grads, learning_rate)
    for k, v in updated.items():
        assert v.dtype == np.float32, k
        np.testing.assert_allclose(v, net.params[k] - np.float32(0.1) * grads[f"d{k}"], rtol=1e-6, atol=1e-7)


def test_functional_float32_forward_backward_stay_float32():
    net, X, _, Y_cols = make_problem(
        "leaky_relu", "softmax", "cross_entropy", [4, 5, 3], m=6, seed=44, dtype="float32"
    )
    X_cols = np.ascontiguousarray(X.T)
    AL, caches = functional.L_model_forward(X_cols, net.params, "leaky_relu", "softmax")
    grads = functional.L_model_backward(AL, Y_cols.astype(np.float32), caches, "leaky_relu", "softmax")
    assert AL.dtype == np.float32
    assert all(c.Z.dtype == np.float32 and c.A.dtype == np.float32 for c in caches)
    assert all(g.dtype == np.float32 for g in grads.values()), {k: g.dtype for k, g in grads.items()}
