"""Activation functions g(Z) and their backward passes dZ = dA ⊙ g'(Z) (SPEC §4).

Every function works on arrays of any shape; in the seeds' column layout ``Z`` is
``(n[l], m)``: one column per sample. Each forward is a pure function ``A = g(Z)``;
each backward takes the upstream gradient ``dA`` and the layer's cached ``Z`` and ``A``
and returns ``dZ`` with the shape of ``Z``. A backward uses whichever of ``Z`` or ``A``
is cheaper, so nothing the forward pass computed is computed again.

All forms are numerically stable for |z| up to 1e4 and above (no overflow warnings) and
keep the dtype of their input (float32 stays float32).

Every function also takes ``out=``: an array of the result's shape and dtype to write into
instead of allocating a new one (the layers pass buffers they allocate once per ``fit``).
``out`` may be the input itself (``relu(Z, out=Z)``) — each function reads an input before
overwriting it. Without ``out`` nothing is mutated.

>>> import numpy as np
>>> Z = np.array([[-1.0, 0.0, 2.0]])
>>> relu(Z)
array([[0., 0., 2.]])
>>> relu_backward(np.ones_like(Z), Z, relu(Z))
array([[0., 0., 1.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from deepmat._checks import unknown_name

LEAKY_RELU_SLOPE = 0.01


Out = np.ndarray | None


def _into(result: np.ndarray, out: Out) -> np.ndarray:
    """``result``, copied into ``out`` when one is given (for forms computed out of place)."""
    if out is None:
        return result
    np.copyto(out, result)
    return out


def sigmoid(Z: np.ndarray, out: Out = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), elementwise; shape of ``Z``.

    Computed as ``e^(min(z,0)) / (1 + e^(−|z|))``: the exponent is never positive, so
    nothing overflows for large |z| (the textbook form overflows e^(−z) for z ≪ 0).
    """
    E = np.exp(-np.abs(Z))
    return _into(np.where(Z >= 0, 1.0, E) / (1.0 + E), out)


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: Out = None) -> np.ndarray:
    """dZ = dA ⊙ σ'(Z) with σ'(z) = σ(z)·(1 − σ(z)), using the cached ``A = σ(Z)``."""
    return _into(dA * A * (1 - A), out)


def relu(Z: np.ndarray, out: Out = None) -> np.ndarray:
    """ReLU(z) = max(0, z), elementwise; shape of ``Z``."""
    return np.maximum(Z, 0, out=out)


def relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: Out = None) -> np.ndarray:
    """dZ = dA ⊙ 1[Z > 0] — derivative 1 for z > 0 and 0 for z ≤ 0, the seeds' choice at 0."""
    return np.multiply(dA, Z > 0, out=out, dtype=dA.dtype)


def leaky_relu(Z: np.ndarray, out: Out = None) -> np.ndarray:
    """LeakyReLU(z) = z for z > 0, 0.01·z otherwise (PyTorch's default slope)."""
    return _into(np.where(Z > 0, Z, Z * LEAKY_RELU_SLOPE), out)


def leaky_relu_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: Out = None) -> np.ndarray:
    """dZ = dA ⊙ (1 for z > 0, 0.01 for z ≤ 0)."""
    return _into(np.where(Z > 0, dA, dA * LEAKY_RELU_SLOPE), out)


def tanh(Z: np.ndarray, out: Out = None) -> np.ndarray:
    """tanh(z), elementwise (NumPy's ``tanh`` saturates to ±1 without overflow)."""
    return np.tanh(Z, out=out)


def tanh_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: Out = None) -> np.ndarray:
    """dZ = dA ⊙ (1 − A²), using the cached ``A = tanh(Z)``."""
    return _into(dA * (1 - A * A), out)


def softmax(Z: np.ndarray, out: Out = None) -> np.ndarray:
    """Softmax over each column: a_i = e^(z_i) / Σ_k e^(z_k); ``Z`` is ``(n_classes, m)``.

    The column maximum is subtracted first (it cancels in the ratio), so every exponent
    is ≤ 0 and nothing overflows; each column of the result sums to 1.
    """
    # (np.maximum.reduce and np.add.reduce are Z.max and Z.sum without their Python wrappers:
    # it matters for one sample, where the wrappers cost more than the arithmetic)
    E = np.subtract(Z, np.maximum.reduce(Z, axis=0, keepdims=True), out=out)
    np.exp(E, out=E)
    E /= np.add.reduce(E, axis=0, keepdims=True)
    return E


def softmax_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: Out = None) -> np.ndarray:
    """dZ = Jᵀ·dA per column, with the softmax Jacobian J_ij = a_i(δ_ij − a_j) (seed 004).

    Written without forming J: dZ = A ⊙ (dA − Σ_k a_k·dA_k), column by column.
    """
    return _into(A * (dA - (A * dA).sum(axis=0, keepdims=True)), out)


def identity(Z: np.ndarray, out: Out = None) -> np.ndarray:
    """g(z) = z (the output of a regression network)."""
    return Z if out is None or out is Z else _into(Z, out)


def identity_backward(dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: Out = None) -> np.ndarray:
    """dZ = dA."""
    return dA if out is None or out is dA else _into(dA, out)


class Activation(NamedTuple):
    """An activation's forward ``A = g(Z)`` and backward ``dZ = backward(dA, Z, A)``.

    ``hidden`` is False for an activation that couples the units of a layer (softmax): it
    can only be an output activation."""

    name: str
    forward: Callable[..., np.ndarray]
    backward: Callable[..., np.ndarray]
    hidden: bool = True


#: every activation by name: the one list the layers, the CLI, ``explain`` and the docs read
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", relu, relu_backward),
        Activation("leaky_relu", leaky_relu, leaky_relu_backward),
        Activation("tanh", tanh, tanh_backward),
        Activation("sigmoid", sigmoid, sigmoid_backward),
        Activation("softmax", softmax, softmax_backward, hidden=False),
        Activation("identity", identity, identity_backward),
    )
}


#: the activations deepmat ships, as they were defined: the fused Numba loops
#: (:mod:`deepmat.kernels.passes`) stand in for these and no others
BUILT_IN: dict[str, Activation] = dict(ACTIVATIONS)


def is_built_in(activation: Activation) -> bool:
    """Whether ``activation`` is one deepmat ships, unchanged (not registered or replaced)."""
    return BUILT_IN.get(activation.name) is activation


def register_activation(
    name: str,
    forward: Callable[..., np.ndarray],
    backward: Callable[..., np.ndarray],
    hidden: bool = True,
) -> Activation:
    """Add an activation to :data:`ACTIVATIONS`: from then on ``Dense(n, name)``, the CLI's
    ``--activation`` and config files, and ``deepmat explain`` know it.

    ``forward(Z, out=None)`` returns g(Z) (into ``out`` when given; ``out`` may be Z itself);
    ``backward(dA, Z, A, out=None)`` returns dZ = dA ⊙ g'(Z). Both keep Z's shape and dtype.
    Check the pair with :func:`deepmat.gradcheck` before training with it.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"an activation name must be an identifier such as 'softplus'; received {name!r}")
    if name in ACTIVATIONS:
        raise ValueError(f"an activation named {name!r} exists already")
    if not callable(forward) or not callable(backward):
        raise TypeError("forward and backward must be functions")
    ACTIVATIONS[name] = activation = Activation(name, forward, backward, bool(hidden))
    return activation


def hidden_activations() -> tuple[str, ...]:
    """The names a hidden layer may use (every activation but those that couple units)."""
    return tuple(name for name, a in ACTIVATIONS.items() if a.hidden)


def get_activation(name: str) -> Activation:
    """Look an activation up by name; an unknown name raises ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise unknown_name("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]
