"""The two kernel sets of :mod:`deepmat.kernels` agree: NumPy's reference and Numba's fused
loops give the same numbers to float rounding — 1e-6 relative in float32, 1e-12 in float64 —
for every optimiser (a flat θ and per-parameter arrays, state included) and every activation
(forward, cost, gradients), and each path is deterministic on its own. ``import deepmat``
never imports Numba, and without Numba everything runs on NumPy's kernels.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import deepmat
from deepmat.activations import ACTIVATIONS, hidden_activations
from deepmat.kernels import ENVIRONMENT_VARIABLE, kernels, kernels_in_use, numba_available, use_kernels
from deepmat.optimizers import OPTIMIZERS, Adam, Nesterov, get_optimizer

needs_numba = pytest.mark.skipif(not numba_available(), reason="Numba is not installed (deepmat[fast])")

#: relative tolerance of the agreement, by dtype (the issue's)
RTOL = {np.float32: 1e-6, np.float64: 1e-12}
DTYPES = [np.float32, np.float64]


def assert_agree(fast: np.ndarray, reference: np.ndarray, dtype, what: str) -> None:
    """Equal to ``RTOL`` relative, measured against the array's largest magnitude (a sum of
    terms of both signs is only as exact as its largest term)."""
    scale = max(float(np.abs(reference).max()), np.finfo(dtype).tiny)
    np.testing.assert_allclose(fast, reference, rtol=RTOL[dtype], atol=RTOL[dtype] * scale, err_msg=what)


# -- optimisers ---------------------------------------------------------------------------------

OPTIMIZER_CASES = [
    *[
        pytest.param(lambda name=name: get_optimizer(name, learning_rate=0.01), id=name)
        for name in OPTIMIZERS
    ],
    pytest.param(lambda: Adam(0.01, efficient_form=True), id="adam-efficient"),
    pytest.param(lambda: Nesterov(0.01, momentum=0.5), id="nesterov-0.5"),
]


def run_steps(make, dtype, kernel_set: str, flat: bool) -> tuple[dict[str, np.ndarray], dict]:
    """Five steps of a fresh optimiser on seeded θ and gradients, on ``kernel_set``."""
    rng = np.random.default_rng(5)
    shapes = {"W1": (7, 5), "b1": (7, 1), "W2": (3, 7), "b2": (3, 1)}
    total = sum(int(np.prod(s)) for s in shapes.values())
    theta = rng.standard_normal(total).astype(dtype)
    params, offset = {}, 0
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        params[name] = theta[offset : offset + size].reshape(shape)
        offset += size
    optimizer = make()
    with kernels(kernel_set):
        for _ in range(5):
            g = (rng.standard_normal(total) * 0.1).astype(dtype)
            if flat:
                optimizer.step_flat(theta, g, params)
            else:
                grads, offset = {}, 0
                for name, array in params.items():
                    grads[f"d{name}"] = g[offset : offset + array.size].reshape(array.shape)
                    offset += array.size
                optimizer.step(params, grads)
    state = {f"{slot}.{k}": v.copy() for slot, d in optimizer.state.items() for k, v in d.items()}
    return {k: v.copy() for k, v in params.items()}, state


@needs_numba
@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("make", OPTIMIZER_CASES)
def test_every_optimiser_takes_the_same_steps_on_both_kernel_sets(make, dtype, flat):
    reference, reference_state = run_steps(make, dtype, "numpy", flat)
    fast, fast_state = run_steps(make, dtype, "numba", flat)
    assert set(fast_state) == set(reference_state)
    for name in reference:
        assert fast[name].dtype == dtype
        assert_agree(fast[name], reference[name], dtype, name)
    for key in reference_state:
        assert_agree(fast_state[key], reference_state[key], dtype, key)


# -- activations: forward, cost and gradients ----------------------------------------------------

OUTPUTS = [("sigmoid", 1), ("softmax", 4), ("identity", 2)]


def network_numbers(hidden: str, output: str, n_out: int, dtype, kernel_set: str, m: int):
    """A[L], J and every gradient of a seeded network on seeded data, on ``kernel_set``."""
    rng = np.random.default_rng(17)
    X = rng.standard_normal((m, 6)) * 2
    y = rng.integers(0, n_out, m) if output == "softmax" else rng.random((m, n_out))
    if output == "sigmoid":
        y = (y > 0.5).astype(np.int64)[:, 0]
    net = deepmat.Network([6, 9, 5, n_out], hidden, output, init="xavier", seed=4, dtype=np.dtype(dtype).name)
    with kernels(kernel_set):
        out = net.forward(X)
        inference = net.predict_proba(X) if net.is_classifier else net.predict(X)
        cost = net.cost(X, y)
        grads = net.gradients(X, y)
    return out, inference, cost, grads


@needs_numba
@pytest.mark.parametrize("m", [1, 3, 40], ids=lambda m: f"m={m}")  # 40 > units: column-major Z
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(("output", "n_out"), OUTPUTS, ids=[o for o, _ in OUTPUTS])
@pytest.mark.parametrize("hidden", sorted(hidden_activations()))
def test_every_activation_gives_the_same_numbers_on_both_kernel_sets(hidden, output, n_out, dtype, m):
    ref_out, ref_inference, ref_cost, ref_grads = network_numbers(hidden, output, n_out, dtype, "numpy", m)
    out, inference, cost, grads = network_numbers(hidden, output, n_out, dtype, "numba", m)
    assert_agree(out, ref_out, dtype, "A[L]")
    assert_agree(inference, ref_inference, dtype, "predictions")
    assert cost == pytest.approx(ref_cost, rel=RTOL[dtype] * 10)  # a sum over m·n[L] terms
    assert set(grads) == set(ref_grads)
    for name in ref_grads:
        assert_agree(grads[name], ref_grads[name], dtype, name)


def test_every_activation_is_covered():
    assert set(ACTIVATIONS) >= set(hidden_activations()) | {o for o, _ in OUTPUTS}


# -- determinism and training ------------------------------------------------------------------


def trained(kernel_set: str, dtype: str, optimizer: str) -> np.ndarray:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 12))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    net = deepmat.Network([12, 16, 8, 3], "relu", "softmax", init="he", seed=0, dtype=dtype)
    with kernels(kernel_set):
        net.fit(X, y, epochs=3, batch_size=32, optimizer=optimizer, learning_rate=0.01, verbose=0)
    return net.theta.copy()


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("kernel_set", ["numpy", pytest.param("numba", marks=needs_numba)])
def test_each_kernel_set_is_deterministic(kernel_set, optimizer):
    first = trained(kernel_set, "float32", optimizer)
    assert first.tobytes() == trained(kernel_set, "float32", optimizer).tobytes()


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_ends_at_the_same_parameters_on_both_kernel_sets(dtype):
    reference, fast = trained("numpy", dtype, "adam"), trained("numba", dtype, "adam")
    # 3 epochs of 10 Adam steps: rounding differences grow a little through the steps
    np.testing.assert_allclose(fast, reference, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-5)


# -- the choice ---------------------------------------------------------------------------------


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != ENVIRONMENT_VARIABLE} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)


def test_import_deepmat_does_not_import_numba():
    result = run_python("import sys, deepmat; print('numba' in sys.modules)")
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("name", ["numpy", pytest.param("numba", marks=needs_numba)])
def test_the_environment_variable_chooses_once(name):
    code = "from deepmat.kernels import kernels_in_use; print(kernels_in_use())"
    assert run_python(code, DEEPMAT_KERNELS=name).stdout.strip() == name


def test_unset_means_numba_when_installed():
    code = "from deepmat.kernels import kernels_in_use; print(kernels_in_use())"
    assert run_python(code).stdout.strip() == ("numba" if numba_available() else "numpy")


def test_an_unknown_kernel_set_is_refused():
    with pytest.raises(ValueError, match=r"unknown kernels 'fortran'; expected one of: 'numpy', 'numba'"):
        use_kernels("fortran")
    result = run_python("import deepmat.kernels as k; k.kernels_in_use()", DEEPMAT_KERNELS="fortran")
    assert "DEEPMAT_KERNELS='fortran' is not a kernel set" in result.stderr


def test_the_with_block_restores_the_choice():
    before = kernels_in_use()
    with kernels("numpy"):
        assert kernels_in_use() == "numpy"
    assert kernels_in_use() == before


BLOCK_NUMBA = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
"""


def test_without_numba_everything_runs_on_numpy():
    code = BLOCK_NUMBA + (
        "import numpy as np, deepmat\n"
        "from deepmat.kernels import kernels_in_use, use_kernels\n"
        "X = np.random.default_rng(0).standard_normal((50, 4)); y = (X[:, 0] > 0).astype(int)\n"
        "net = deepmat.Network([4, 5, 1], seed=0)\n"
        "net.fit(X, y, epochs=2, batch_size=10, optimizer='adam', verbose=0)\n"
        "print(kernels_in_use(), net.predict(X[:3]).shape)\n"
        "try:\n    use_kernels('numba')\nexcept ImportError as e:\n    print(e)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "numpy (3,)"
    assert lines[1] == "the numba kernels need Numba: pip install 'deepmat[fast]'"
