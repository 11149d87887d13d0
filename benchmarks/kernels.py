#!/usr/bin/env python3
"""The candidates for deepmat's fused elementwise kernels, side by side (speed round 2):
one Adam step over case 1's 235,146 parameters, and one hidden layer's bias + ReLU forward
and ReLU-derivative backward (256 units × batch 128), float32, alternated, medians.

    python benchmarks/kernels.py [--repeats 7]

- NumPy: deepmat's reference path (whole-array passes with ``out=``, one reused scratch);
- numexpr: the same expressions, one ``evaluate`` per output array (it has no multi-output
  expressions, so Adam is three passes), 1 and 2 threads;
- Numba: deepmat's fused loops (:mod:`deepmat.kernels`), one pass, one thread.

Numba was chosen (``deepmat[fast]``): a multi-output loop in one pass, no thread start-up, and
results equal to NumPy's to the bit on the optimisers (see ``tests/test_kernels.py``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits


def per_call(fn, calls: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import numexpr

    from deepmat.kernels import kernels, load_fused
    from deepmat.optimizers import Adam

    fast = load_fused()
    rng = np.random.default_rng(0)
    n = 235_146
    theta = rng.standard_normal(n).astype(np.float32)
    g = (0.01 * rng.standard_normal(n)).astype(np.float32)
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
    params = {"theta": theta.reshape(n, 1)}
    adam_numpy = Adam(1e-3)
    f32 = np.float32
    c1, b2, c2, eps, step, one = f32(0.1), f32(0.999), f32(0.001), f32(1e-8), f32(1e-3), f32(1)

    names = {"m": m, "v": v, "g": g, "theta": theta, "c1": c1, "b2": b2, "c2": c2, "eps": eps, "step": step}

    def adam_numexpr() -> None:
        numexpr.evaluate("m + (g - m) * c1", local_dict=names, out=m)
        numexpr.evaluate("v * b2 + g * g * c2", local_dict=names, out=v)
        numexpr.evaluate("theta - m / (sqrt(v) + eps) * step", local_dict=names, out=theta)

    Z = rng.standard_normal((256, 128)).astype(np.float32)
    A, dA, dZ = np.empty_like(Z), rng.standard_normal((256, 128)).astype(np.float32), np.empty_like(Z)
    b = rng.standard_normal((256, 1)).astype(np.float32)
    b_flat = b[:, 0]

    def layer_numpy() -> None:
        Z.__iadd__(b)
        np.maximum(Z, 0, out=A)
        np.multiply(dA, Z > 0, out=dZ, dtype=np.float32)

    arrays = {"Z": Z, "b": b, "dA": dA}

    def layer_numexpr() -> None:
        numexpr.evaluate("Z + b", local_dict=arrays, out=Z)
        numexpr.evaluate("where(Z > 0, Z, 0)", local_dict=arrays, out=A)
        numexpr.evaluate("where(Z > 0, dA, 0)", local_dict=arrays, out=dZ)

    def layer_numba() -> None:
        fast.bias_activation(Z, b_flat, A, 0, True, f32(0.01), False)
        fast.activation_backward(dA, Z, A, dZ, 0, f32(0.01))

    def adam_numpy_step() -> None:
        with kernels("numpy"):
            adam_numpy.step_flat(theta, g, params)

    candidates = {
        "adam: numpy (deepmat's reference)": adam_numpy_step,
        "adam: numexpr, 1 thread": ("numexpr1", adam_numexpr),
        "adam: numexpr, 2 threads": ("numexpr2", adam_numexpr),
        "adam: numba (deepmat.kernels)": lambda: fast.adam_step(theta, g, m, v, c1, b2, c2, eps, step, one),
        "layer: numpy": layer_numpy,
        "layer: numexpr, 1 thread": ("numexpr1", layer_numexpr),
        "layer: numba": layer_numba,
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    with threadpool_limits(limits=2):
        for _ in range(args.repeats):
            for name, fn in candidates.items():
                if isinstance(fn, tuple):
                    numexpr.set_num_threads(1 if fn[0] == "numexpr1" else 2)
                    fn = fn[1]
                times[name].append(per_call(fn, 200))
    print(
        f"load average {open('/proc/loadavg').read().split()[0]}; medians of {args.repeats} repeats × 200 calls"
    )
    for name, values in times.items():
        print(f"  {name:38s} {statistics.median(values) * 1e6:8.1f} µs")
    print("one training step's own cost (a 8-8-8-2 network, batch 128, 1 BLAS thread: the products and")
    print("passes are negligible, what is left is Python and call overhead), CPU time per step:")
    for kernel_set, seconds in step_overhead(args.repeats).items():
        print(f"  {kernel_set:38s} {seconds * 1e6:8.1f} µs")
    return 0


def step_overhead(repeats: int) -> dict[str, float]:
    """CPU seconds per training step of a network too small for its arithmetic to count."""
    import deepmat
    from deepmat.kernels import kernels

    rng = np.random.default_rng(0)
    X, y = rng.random((60_000, 8), np.float32), rng.integers(0, 2, 60_000)
    result = {}
    with threadpool_limits(limits=1):
        for kernel_set in ("numpy", "numba"):
            with kernels(kernel_set):
                net = deepmat.Network([8, 8, 8, 2], "relu", "softmax", seed=0, dtype="float32")
                optimizer = deepmat.optimizers.Adam()
                seconds = []
                for _ in range(repeats):
                    start = time.process_time()
                    net.fit(X, y, epochs=1, batch_size=128, optimizer=optimizer, verbose=0)
                    seconds.append((time.process_time() - start) / 469)
            result[kernel_set] = statistics.median(seconds)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
