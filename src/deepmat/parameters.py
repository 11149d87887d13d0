"""The network's arrays: every parameter in one flat vector θ, the gradients in one flat
∂J/∂θ, and the named views of them (``W1``, ``b1``, … and ``dW1``, ``db1``, …) that the layers
compute with.

One flat θ lets an optimiser update every parameter with a handful of whole-array operations
(:meth:`deepmat.optimizers.Optimizer.step_flat`) and a distributed run average every gradient
in one message; the named views keep the seeds' shapes, W[l] ``(n[l], n[l-1])`` and b[l]
``(n[l], 1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat._checks import cast_finite
from deepmat.layers import Layer


class LiveArrays(dict):
    """The network's own arrays by name. Assigning an entry (``net.params["W1"] = W``) copies
    the values into the existing array, after checking its shape, so the layers and the
    optimiser keep working on the same memory."""

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in self:
            raise KeyError(f"no array named {name!r}; the names are {sorted(self)}")
        value = np.asarray(value)
        if value.shape != self[name].shape:
            raise ValueError(f"{name} must be {self[name].shape}; received {value.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; received dtype {value.dtype}")
        np.copyto(self[name], cast_finite(value, name, self[name].dtype))

    def update(self, other: Any = (), **kwargs: Any) -> None:
        for name, value in dict(other, **kwargs).items():
            self[name] = value

    def __reduce__(self) -> tuple:
        # pickle (copy.deepcopy, scikit-learn's clone of a fitted pipeline, joblib) would
        # rebuild a dict subclass through __setitem__, which only copies into existing names
        return (_live_arrays, (dict(self),))


def _live_arrays(arrays: dict[str, np.ndarray]) -> LiveArrays:
    live = LiveArrays()
    dict.update(live, arrays)
    return live


def pack(
    layers: list[Layer], params: LiveArrays, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Move every layer's parameters into one flat array θ and give every layer its gradients
    as views of one flat array ∂J/∂θ of the same layout (``W1`` the first ``W1.size`` entries,
    and so on). ``W1`` etc. stay arrays of their own shapes — views into θ — in the layers and
    in ``params``. Returns (θ, ∂J/∂θ, the gradient views by name)."""
    total = sum(a.size for a in params.values())
    theta = np.empty(total, dtype)
    dtheta = np.zeros(total, dtype)
    flat_grads: dict[str, np.ndarray] = {}
    offset = 0
    for layer in layers:
        for name, array in layer.params.items():
            view = theta[offset : offset + array.size].reshape(array.shape)
            view[...] = array
            layer.params[name] = view
            dict.__setitem__(params, name, view)
            grad = dtheta[offset : offset + array.size].reshape(array.shape)
            layer.grads[f"d{name}"] = flat_grads[f"d{name}"] = grad
            offset += array.size
    return theta, dtheta, flat_grads


def assign(target: dict[str, np.ndarray], new: dict[str, np.ndarray], what: str) -> None:
    """Copy ``new`` into the arrays of ``target`` after checking every one of them first —
    the same names, shapes, real finite numbers that fit the target's dtype — so that either
    all are copied or none (``what`` names the set in the errors)."""
    if set(new) != set(target):
        raise ValueError(f"{what} must have exactly the keys {sorted(target)}; received {sorted(new)}")
    checked = {}
    for name, value in new.items():
        value = np.asarray(value)
        if value.shape != target[name].shape:
            raise ValueError(f"{name} must be {target[name].shape}; received {value.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; received dtype {value.dtype}")
        checked[name] = cast_finite(value, name, target[name].dtype)
    for name, value in checked.items():
        np.copyto(target[name], value)
