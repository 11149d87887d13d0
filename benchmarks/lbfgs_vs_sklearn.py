"""deepmat's L-BFGS against scikit-learn's, from the same weights, on the same data.

    python benchmarks/lbfgs_vs_sklearn.py

For each case, DeepmatClassifier/DeepmatRegressor and MLPClassifier/MLPRegressor with
``solver="lbfgs"`` and the same parameters start from the same coefs_/intercepts_ (drawn by a
deepmat network, Xavier, seed 0, given to both with warm_start) and minimise the same
J = data loss + (α/2m)·Σ‖W‖² with SciPy's L-BFGS-B. The table gives each final J (``loss_``),
their relative difference, the iterations and the seconds (one thread, best of 3).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import deepmat
from deepmat.sklearn import DeepmatClassifier, DeepmatRegressor


def cases():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    Xr, yr = make_regression(n_samples=1000, n_features=20, noise=10.0, random_state=0)
    Xr, yr = StandardScaler().fit_transform(Xr), yr / yr.std()
    yield "digits 64-64-10, tanh, α=1e-4", X, y, "tanh", "tanh", (64,), DeepmatClassifier, MLPClassifier
    yield "digits 64-32-32-10, relu, α=1e-2", X, y, "relu", "relu", (32, 32), DeepmatClassifier, MLPClassifier
    yield (
        "regression 20-50-1, logistic, α=1e-4",
        Xr,
        yr,
        "logistic",
        "sigmoid",
        (50,),
        DeepmatRegressor,
        MLPRegressor,
    )


def start(est, coefs, intercepts, out_activation=None):
    est.coefs_, est.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    if out_activation is not None:  # what scikit-learn's warm start reads besides the weights
        est.n_layers_, est.out_activation_ = len(coefs) + 1, out_activation
    return est


def main() -> None:
    print(f"{'case':38} {'deepmat J':>12} {'sklearn J':>12} {'rel. diff':>10} {'iters':>9} {'seconds':>13}")
    for name, X, y, activation, ours_activation, hidden, Ours, Theirs in cases():
        classifier = Ours is DeepmatClassifier
        n_out = len(np.unique(y)) if classifier else 1
        net = deepmat.Network(
            [X.shape[1], *hidden, n_out],
            ours_activation,
            "softmax" if classifier else "identity",
            init="xavier",
            seed=0,
        )
        L = net.L
        coefs = [net.params[f"W{l}"].T.copy() for l in range(1, L + 1)]
        intercepts = [net.params[f"b{l}"][:, 0].copy() for l in range(1, L + 1)]
        alpha = 1e-2 if "1e-2" in name else 1e-4
        params = dict(
            hidden_layer_sizes=hidden, activation=activation, solver="lbfgs", alpha=alpha, warm_start=True
        )
        results = []
        for Estimator, out in ((Ours, None), (Theirs, "softmax" if classifier else "identity")):
            times = []
            for _ in range(3):
                est = start(Estimator(**params), coefs, intercepts, out)
                with threadpool_limits(1), warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    begin = time.perf_counter()
                    est.fit(X, y)
                    times.append(time.perf_counter() - begin)
            results.append((est.loss_, est.n_iter_, min(times)))
        (a, na, ta), (b, nb, tb) = results
        print(f"{name:38} {a:12.6g} {b:12.6g} {abs(a / b - 1):10.2e} {na:4d}/{nb:<4d} {ta:6.2f}/{tb:<6.2f}")


if __name__ == "__main__":
    main()
