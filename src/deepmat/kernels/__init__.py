"""Which elementwise kernels deepmat runs: NumPy's whole-array operations (the reference) or
fused Numba loops (``pip install 'deepmat[fast]'``).

The arithmetic between the matrix products — the optimiser's update, bias + activation,
activation derivative ⊙ incoming gradient, the softmax-cross-entropy output error — is written
once in NumPy, in the objects that own the arrays (:mod:`deepmat.optimizers`,
:mod:`deepmat.layers.dense`, :mod:`deepmat.losses`): several whole-array passes per equation,
each readable beside the formula. With Numba the same equations run as one compiled loop
each (:mod:`deepmat.kernels.steps`, :mod:`deepmat.kernels.passes`): one pass over the data
instead of a dozen, and no call overhead between them. Both paths give the same numbers to
float rounding (``tests/test_kernels.py``: 1e-6 relative in float32, 1e-12 in float64, every
optimiser and activation) and each is deterministic on its own (no threads, no reordering).

The loops are compiled on first use and cached in ``__pycache__`` beside them (Numba's user
cache directory when that is read-only), so later processes load them in milliseconds. Numba
keys each cached function on its own file: after editing ``passes.py``, delete the cache, as
``forward.py``'s cached pass calls into it (an installed version changes both files at once).
Exp and tanh are the C library's, one value at a time, slower than NumPy's vectorised ones on
large arrays: the forward passes of tanh, sigmoid and softmax are fused only for small arrays
(:data:`deepmat.layers.base.FUSED_TRANSCENDENTAL_MAX`).

The choice is made once per process: ``DEEPMAT_KERNELS=numpy`` or ``numba`` in the
environment, read the first time a kernel is needed (``import deepmat`` never imports Numba);
unset, Numba's kernels run when Numba is installed and NumPy's otherwise. In code,
:func:`use_kernels` switches and :func:`kernels` switches for a ``with`` block (the tests run
their modules under both).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from types import SimpleNamespace

#: the kernel sets by name: the NumPy reference and the fused Numba loops
KERNELS = ("numpy", "numba")

#: the environment variable read (once) to choose the kernels
ENVIRONMENT_VARIABLE = "DEEPMAT_KERNELS"


class KernelChoice:
    """The kernels in use: ``name`` and, for Numba, ``fused`` — the namespace of compiled
    loops the owners of the arrays call (None on the NumPy path)."""

    def __init__(self) -> None:
        self.name: str | None = None  # None: not chosen yet (the environment decides on first use)
        self.fused: SimpleNamespace | None = None


CHOICE = KernelChoice()


def numba_available() -> bool:
    """Whether Numba is installed (found without importing it)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        return False


def load_fused() -> SimpleNamespace:
    """The compiled loops, as one namespace (imports Numba: only called on the Numba path)."""
    from deepmat.kernels import forward, passes, steps

    return SimpleNamespace(
        **{name: getattr(module, name) for module in (steps, passes, forward) for name in module.__all__}
    )


def use_kernels(name: str) -> None:
    """Run NumPy's (``"numpy"``) or Numba's (``"numba"``) kernels from now on in this process.
    ``"numba"`` without Numba installed raises ``ImportError`` naming the extra to install."""
    if name not in KERNELS:
        choices = ", ".join(repr(k) for k in KERNELS)
        raise ValueError(f"unknown kernels {name!r}; expected one of: {choices}")
    if name == "numba":
        if not numba_available():
            raise ImportError("the numba kernels need Numba: pip install 'deepmat[fast]'")
        fused = CHOICE.fused if CHOICE.name == "numba" else load_fused()
        CHOICE.fused = fused
    else:
        CHOICE.fused = None
    CHOICE.name = name


def chosen_by_environment() -> str:
    """The kernels ``DEEPMAT_KERNELS`` asks for; unset or empty: Numba's when installed."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if wanted:
        if wanted not in KERNELS:
            choices = ", ".join(repr(k) for k in KERNELS)
            raise ValueError(
                f"{ENVIRONMENT_VARIABLE}={wanted!r} is not a kernel set; expected one of: {choices}"
            )
        return wanted
    return "numba" if numba_available() else "numpy"


def kernels_in_use() -> str:
    """``"numpy"`` or ``"numba"`` (choosing from the environment if nothing chose yet)."""
    if CHOICE.name is None:
        use_kernels(chosen_by_environment())
    return CHOICE.name


def fused() -> SimpleNamespace | None:
    """The compiled loops when the Numba kernels are in use, else None: what the owners of the
    arrays ask before each pass (``fast = fused(); if fast is not None: fast.adam_step(…)``)."""
    if CHOICE.name is None:
        kernels_in_use()
    return CHOICE.fused


@contextlib.contextmanager
def kernels(name: str) -> Iterator[None]:
    """``with kernels("numpy"): …`` runs the block on those kernels, then restores the choice."""
    before = CHOICE.name
    use_kernels(name)
    try:
        yield
    finally:
        if before is None:
            CHOICE.name, CHOICE.fused = None, None
        else:
            use_kernels(before)
