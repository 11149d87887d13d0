"""Optimisers: update rules that turn gradients dW[l], db[l] into parameter steps.

Each optimiser holds its hyperparameters (checked on construction) and its state (velocity,
moment estimates, step count t), and updates the parameters **in place**:
``optimizer.step(params, grads)`` with ``params = {"W1": …}`` and ``grads = {"dW1": …}``.
Every rule is elementwise, so :meth:`Optimizer.step_flat` applies it to all parameters at
once when they are views of one flat array θ (as in a :class:`deepmat.Network`): a dozen
whole-array operations per step instead of a dozen per parameter.
The rules are PyTorch's (``torch.optim``), so a model trained here and there takes the same
steps; the tests check 10 steps against ``torch.optim`` in float64.

==========  ====================================================================
SGD         θ ← θ − α·g                                   (SPEC §3, equation 4)
Momentum    v ← μ·v + g;  θ ← θ − α·v
Nesterov    v ← μ·v + g;  θ ← θ − α·(g + μ·v)
RMSprop     s ← ρ·s + (1 − ρ)·g²;  θ ← θ − α·g / (√s + ε)
Adam        m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
            θ ← θ − α·m̂ / (√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
AdamW       θ ← θ·(1 − α·λ), then the Adam step (decoupled weight decay)
==========  ====================================================================

(The course writes momentum as v ← βv + (1 − β)g; that is PyTorch's form with α scaled by
1 − β.)

Each ``update`` below is the readable reference, a few whole-array NumPy passes. When the Numba
kernels are in use (:mod:`deepmat.kernels`) the same rule runs as one fused loop over θ
(:mod:`deepmat.kernels.steps`), with the same scalars in θ's dtype and the same order of
operations, so the two paths agree to the bit on the rules without a square root's rounding
differences (tests: ``tests/test_kernels.py``).

:class:`LBFGS` is of another kind: not a rule applied batch by batch but a whole minimisation
of the full-batch J(θ) by SciPy's L-BFGS-B (:mod:`deepmat.lbfgs`), so it is listed apart, in
:data:`FULL_BATCH_OPTIMIZERS`; ``fit(optimizer="lbfgs")`` and ``deepmat train --optimizer
lbfgs`` take its name like the others' (:func:`optimizer_names`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepmat._checks import check_number, unknown_name
from deepmat.kernels import fused

Params = dict[str, np.ndarray]


class Optimizer:
    """Base class: a learning rate, per-parameter state, and ``step``."""

    #: names of the per-parameter state arrays (saved in checkpoints)
    slots: tuple[str, ...] = ()

    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate = check_number(learning_rate, "learning_rate", 0, low_open=True)
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.slots}
        self._flat: dict[str, np.ndarray] | None = None  # slot → flat state (step_flat)
        self._flat_key: tuple | None = None
        self._temp: dict[str, np.ndarray] = {}  # scratch arrays, not state

    def _slot(self, slot: str, name: str, like: np.ndarray) -> np.ndarray:
        if name == FLAT:
            return self._flat[slot]
        buffer = self.state[slot].get(name)
        if buffer is None:
            buffer = self.state[slot][name] = np.zeros_like(like)
        return buffer

    def _scratch(self, name: str, like: np.ndarray) -> np.ndarray:
        """A temporary the update rule may overwrite, kept between steps (not saved)."""
        buffer = self._temp.get(name)
        if buffer is None or buffer.shape != like.shape or buffer.dtype != like.dtype:
            buffer = self._temp[name] = np.empty_like(like)
        return buffer

    def step(self, params: Params, grads: Params) -> None:
        """Update every θ in ``params`` in place from ``grads["d" + name]``."""
        self.t += 1
        for name, theta in params.items():
            self.update(name, theta, grads[f"d{name}"])

    def step_flat(self, theta: np.ndarray, g: np.ndarray, params: Params) -> None:
        """The same step as :meth:`step`, on the flat θ and gradient g at once.

        ``params`` names the parameters, in order, whose views tile θ (``W1`` the first
        ``W1.size`` entries, and so on). The per-parameter state (``state[slot][name]``, what
        checkpoints save) becomes views of flat state arrays laid out like θ.
        """
        key = (id(theta), theta.shape, tuple(map(id, params.values())))  # the same arrays as last time
        if self._flat is None or self._flat_key != key:
            self._bind_flat(theta, params)
            self._flat_key = key
        self.t += 1
        self.update(FLAT, theta, g)

    def _bind_flat(self, theta: np.ndarray, params: Params) -> None:
        self._flat = {}
        for slot in self.slots:
            flat = np.zeros_like(theta)
            offset = 0
            for name, array in params.items():
                view = flat[offset : offset + array.size].reshape(array.shape)
                if name in self.state[slot]:
                    saved = self.state[slot][name]
                    if saved.shape != array.shape:  # never broadcast a state into another shape
                        raise ValueError(
                            f"the optimiser's {slot} state for {name} is {saved.shape}; the parameter is {array.shape}"
                        )
                    view[...] = saved
                self.state[slot][name] = view
                offset += array.size
            if offset != theta.size:
                raise ValueError(f"the parameters hold {offset} numbers but θ has {theta.size}")
            self._flat[slot] = flat

    def update(self, name: str, theta: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def fused_arrays(
        self, theta: np.ndarray, g: np.ndarray, *slots: np.ndarray
    ) -> tuple[np.ndarray, ...] | None:
        """θ, g and the state ``slots`` as 1-D views for a fused loop — when the Numba kernels
        are in use and every array is C-contiguous and of θ's dtype —, else None (NumPy path)."""
        if fused() is None:
            return None
        arrays = (theta, g, *slots)
        for a in arrays:
            if not a.flags.c_contiguous or a.dtype != theta.dtype:
                return None
        return tuple(a.reshape(-1) for a in arrays)

    def get_config(self) -> dict[str, Any]:
        """The hyperparameters, as keyword arguments of the constructor (JSON-ready)."""
        return {"learning_rate": self.learning_rate}

    def state_dict(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-ready scalars, arrays keyed ``"{slot}.{param}"``) for a checkpoint."""
        arrays = {f"{slot}.{name}": a for slot, d in self.state.items() for name, a in d.items()}
        return {"name": _name_of(self), "config": self.get_config(), "t": self.t}, arrays

    def load_state_dict(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned: hyperparameters, step count and state."""
        for key, value in scalars["config"].items():  # every hyperparameter, not just the rate
            setattr(self, key, value)
        self.t = int(scalars["t"])
        self.state = {slot: {} for slot in self.slots}
        self._flat = self._flat_key = None
        for key, array in arrays.items():
            slot, _, name = key.partition(".")
            if slot not in self.state:
                raise ValueError(
                    f"optimiser state {key!r} is not a slot of {type(self).__name__} {self.slots}"
                )
            self.state[slot][name] = np.array(array)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent, θ ← θ − α·g, optionally with (Nesterov) momentum μ."""

    slots = ("velocity",)

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False) -> None:
        momentum = check_number(momentum, "momentum", 0, 1, high_open=True)
        if nesterov and momentum == 0:
            raise ValueError(
                f"Invalid nesterov value: Nesterov momentum needs momentum > 0; received "
                f"nesterov={nesterov!r} with momentum={momentum!r}"
            )
        super().__init__(learning_rate)
        self.momentum = momentum
        self.nesterov = bool(nesterov)

    def update(self, name: str, theta: np.ndarray, g: np.ndarray) -> None:
        scalar = theta.dtype.type
        if self.momentum == 0:
            flat = self.fused_arrays(theta, g)
            if flat is not None:
                fused().sgd_step(*flat, scalar(self.learning_rate))
                return
            step = np.multiply(g, self.learning_rate, out=self._scratch(name, theta))
            theta -= step
            return
        v = self._slot("velocity", name, theta)
        flat = self.fused_arrays(theta, g, v)
        if flat is not None:
            fused().momentum_step(*flat, scalar(self.learning_rate), scalar(self.momentum), self.nesterov)
            return
        v *= self.momentum
        v += g
        theta -= self.learning_rate * (g + self.momentum * v if self.nesterov else v)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Momentum(SGD):
    """SGD with momentum μ (default 0.9): v ← μ·v + g; θ ← θ − α·v."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(learning_rate, momentum, nesterov)


class Nesterov(SGD):
    """SGD with Nesterov momentum μ (default 0.9): θ ← θ − α·(g + μ·v)."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, nesterov: bool = True) -> None:
        super().__init__(learning_rate, momentum, nesterov)


class RMSprop(Optimizer):
    """s ← ρ·s + (1 − ρ)·g²; θ ← θ − α·g / (√s + ε) (PyTorch defaults ρ = 0.99, ε = 1e-8)."""

    slots = ("square_avg",)

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.99, eps: float = 1e-8) -> None:
        rho = check_number(rho, "rho", 0, 1, high_open=True)
        eps = check_number(eps, "eps", 0, low_open=True)
        super().__init__(learning_rate)
        self.rho = rho
        self.eps = eps

    def update(self, name: str, theta: np.ndarray, g: np.ndarray) -> None:
        s = self._slot("square_avg", name, theta)
        flat = self.fused_arrays(theta, g, s)
        if flat is not None:
            scalar = theta.dtype.type
            fused().rmsprop_step(
                *flat, scalar(self.learning_rate), scalar(self.rho), scalar(1 - self.rho), scalar(self.eps)
            )
            return
        s *= self.rho
        s += (1 - self.rho) * g * g
        theta -= self.learning_rate * g / (np.sqrt(s) + self.eps)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias-corrected moments; PyTorch's defaults.

    ``efficient_form=True`` adds ε to √v instead of √v̂ — Kingma & Ba's "more efficient" order
    of computation (their §2), which scikit-learn's MLP uses:
    θ ← θ − (α·√(1 − β₂ᵗ) / (1 − β₁ᵗ))·m / (√v + ε). The two differ only where √v is near ε.
    """

    slots = ("m", "v")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        efficient_form: bool = False,
    ) -> None:
        beta1 = check_number(beta1, "beta1", 0, 1, high_open=True)
        beta2 = check_number(beta2, "beta2", 0, 1, high_open=True)
        eps = check_number(eps, "eps", 0, low_open=True)
        super().__init__(learning_rate)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.efficient_form = bool(efficient_form)

    def update(self, name: str, theta: np.ndarray, g: np.ndarray) -> None:
        self.adam_update(name, theta, g, decay=1.0)

    def adam_update(self, name: str, theta: np.ndarray, g: np.ndarray, decay: float) -> None:
        """θ ← θ·``decay`` (AdamW's decoupled weight decay; 1: none), then the Adam step."""
        m = self._slot("m", name, theta)
        v = self._slot("v", name, theta)
        bias1 = 1 - self.beta1**self.t
        bias2 = 1 - self.beta2**self.t
        flat = self.fused_arrays(theta, g, m, v)
        if flat is not None:  # the same scalars as below, in θ's dtype
            scalar, root_bias2 = theta.dtype.type, math.sqrt(bias2)
            eps = self.eps if self.efficient_form else self.eps * root_bias2
            step = self.learning_rate * root_bias2 / bias1
            fused().adam_step(
                *flat,
                scalar(1 - self.beta1),
                scalar(self.beta2),
                scalar(1 - self.beta2),
                scalar(eps),
                scalar(step),
                scalar(decay),
            )
            return
        if decay != 1:
            theta *= decay
        T = self._scratch(name, theta)  # one temporary, reused: no allocation per step
        np.subtract(g, m, out=T)  # m ← m + (1 − β₁)(g − m)
        T *= 1 - self.beta1
        m += T
        np.multiply(g, g, out=T)  # v ← β₂v + (1 − β₂)g²
        T *= 1 - self.beta2
        v *= self.beta2
        v += T
        # θ ← θ − α·m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ); multiplying the
        # fraction above and below by √(1 − β₂ᵗ) saves one pass over the parameters:
        # θ ← θ − (α·√(1 − β₂ᵗ) / (1 − β₁ᵗ))·m / (√v + ε·√(1 − β₂ᵗ))
        root_bias2 = math.sqrt(bias2)
        np.sqrt(v, out=T)
        T += self.eps if self.efficient_form else self.eps * root_bias2
        np.divide(m, T, out=T)
        T *= self.learning_rate * root_bias2 / bias1
        theta -= T

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}
        if (
            self.efficient_form
        ):  # only when set: the configs of earlier runs and checkpoints stay as they were
            config["efficient_form"] = True
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay λ (Loshchilov & Hutter, 2019): θ ← θ·(1 − α·λ) first."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        weight_decay = check_number(weight_decay, "weight_decay", 0)
        super().__init__(learning_rate, beta1, beta2, eps)
        self.weight_decay = weight_decay

    def update(self, name: str, theta: np.ndarray, g: np.ndarray) -> None:
        self.adam_update(name, theta, g, decay=1 - self.learning_rate * self.weight_decay)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight_decay": self.weight_decay}


#: every optimiser by name (the one list ``fit(optimizer=…)``, the CLI and the docs read)
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


class LBFGS:
    """L-BFGS (Liu & Nocedal, 1989), SciPy's L-BFGS-B without bounds: the settings of a
    full-batch minimisation of J(θ) over the flat parameter vector θ, with deepmat's exact
    gradients ∂J/∂θ (:mod:`deepmat.lbfgs` runs it; ``fit``'s ``epochs``/``iterations`` bound
    its iterations). It has no learning rate — each step's length comes from a line search —
    and no per-batch :meth:`~Optimizer.step`.

    Args:
        tol: stop when the largest component of ∂J/∂θ is ≤ ``tol`` (SciPy's ``gtol``;
            scikit-learn's MLP passes its ``tol`` here).
        max_fun: the most evaluations of J and ∂J/∂θ (scikit-learn's ``max_fun``; the line
            search may evaluate several times per iteration).
        memory: m, the (s, y) pairs kept to approximate the inverse Hessian (SciPy's ``maxcor``).

    After a fit, :attr:`result` holds how the minimisation ended (:class:`deepmat.lbfgs.LBFGSResult`).
    """

    #: no learning rate: a line search sets each step's length
    learning_rate = None
    #: iterations when a fit or a run names none (scikit-learn's ``max_iter``)
    default_iterations = 200

    def __init__(
        self, tol: float = 1e-5, max_fun: int = 15000, memory: int = 10, learning_rate: float | None = None
    ) -> None:
        if learning_rate is not None:
            raise ValueError(
                f"L-BFGS takes no learning_rate (a line search chooses each step); received {learning_rate!r}"
            )
        self.tol = check_number(tol, "tol", 0)
        self.max_fun = check_number(max_fun, "max_fun", 1, integer=True)
        self.memory = check_number(memory, "memory", 1, integer=True)
        #: how the last minimisation ended, set by :mod:`deepmat.lbfgs`
        self.result: Any = None

    def get_config(self) -> dict[str, Any]:
        """The settings, as keyword arguments of the constructor (JSON-ready)."""
        return {"tol": self.tol, "max_fun": self.max_fun, "memory": self.memory}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"LBFGS({args})"


#: optimisers that minimise the full-batch J by themselves instead of stepping batch by batch
#: (no checkpoints, no schedules); ``fit`` and the CLI take their names beside :data:`OPTIMIZERS`
FULL_BATCH_OPTIMIZERS: dict[str, type[LBFGS]] = {"lbfgs": LBFGS}


def optimizer_names() -> tuple[str, ...]:
    """Every name ``fit(optimizer=…)`` and ``deepmat train --optimizer`` take: the step rules
    of :data:`OPTIMIZERS`, then the full-batch :data:`FULL_BATCH_OPTIMIZERS`."""
    return (*OPTIMIZERS, *FULL_BATCH_OPTIMIZERS)


#: the name :meth:`Optimizer.step_flat` updates the flat θ under
FLAT = "*"

#: the seeds' learning rate α for plain gradient descent (SPEC §7), what ``fit`` and the CLI
#: use for SGD when no rate is given
SEEDS_LEARNING_RATE = 0.0075


def default_learning_rate(name: str) -> float | None:
    """The rate used when none is given: the seeds' 0.0075 for ``"sgd"``, else the optimiser's
    own default (PyTorch's); None for a full-batch optimiser, which has none."""
    if name == "sgd":
        return SEEDS_LEARNING_RATE
    if name in FULL_BATCH_OPTIMIZERS:
        return None
    return OPTIMIZERS[name]().learning_rate


def _name_of(optimizer: Optimizer) -> str:
    return next(name for name, cls in OPTIMIZERS.items() if type(optimizer) is cls)


def get_optimizer(
    optimizer: str | Optimizer | LBFGS, learning_rate: float | None = None
) -> Optimizer | LBFGS:
    """An optimiser from a name (``"adam"``, with ``learning_rate`` or the class default;
    ``"lbfgs"``, which takes none) or an instance (returned as is). An unknown name raises
    ``ValueError`` listing the valid ones."""
    if isinstance(optimizer, (Optimizer, LBFGS)):
        return optimizer
    name = optimizer.lower() if isinstance(optimizer, str) else None
    if name in FULL_BATCH_OPTIMIZERS:
        return FULL_BATCH_OPTIMIZERS[name](learning_rate=learning_rate)
    if name not in OPTIMIZERS:
        error = unknown_name("optimizer", optimizer, OPTIMIZERS)
        full_batch = ", ".join(repr(n) for n in FULL_BATCH_OPTIMIZERS)
        raise ValueError(f"{error}, or the full-batch {full_batch}")
    cls = OPTIMIZERS[name]
    return cls() if learning_rate is None else cls(learning_rate=learning_rate)


def optimizer_from_state(scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> Optimizer:
    """Rebuild an optimiser, state included, from :meth:`Optimizer.state_dict`."""
    optimizer = OPTIMIZERS[scalars["name"]](**scalars["config"])
    optimizer.load_state_dict(scalars, arrays)
    return optimizer
