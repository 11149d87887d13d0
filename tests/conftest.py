"""The tests' environment.

Every test runs with English as the language unless it says otherwise (``DEEPMAT_LANG=en``,
whatever the machine's locale), and a word missing from a language's table raises
(``DEEPMAT_I18N_STRICT=1``) instead of falling back to English; subprocesses inherit both.

Both kernel sets of :mod:`deepmat.kernels` run under the same tests.

The modules listed in :data:`BOTH_KERNELS` check numbers — gradients against central
differences and PyTorch, optimiser steps against ``torch.optim``, exact resume, determinism,
the cat model's published costs, data-parallel runs — and each of their tests runs twice, once
on NumPy's kernels (``[numpy]``) and once on Numba's fused loops (``[numba]``, when Numba is
installed), unchanged. Subprocesses follow through ``DEEPMAT_KERNELS``. Every other test runs
on the kernels the environment chooses (Numba's when it is installed).
"""

from __future__ import annotations

import os

import pytest

from deepmat.kernels import ENVIRONMENT_VARIABLE, kernels, numba_available

os.environ["DEEPMAT_LANG"] = "en"
os.environ["DEEPMAT_I18N_STRICT"] = "1"

#: the test modules run on both kernel sets (about 70 s more on 2 cores, most of it the cat
#: model's two full trainings and the MPI runs)
BOTH_KERNELS = {
    "test_cat_reproduction",
    "test_determinism",
    "test_distributed",
    "test_equations",
    "test_exact_resume",
    "test_fullbatch",
    "test_gradcheck",
    "test_layers",
    "test_legacy_files",
    "test_numerics",
    "test_optimizers",
    "test_sample_weights",
    "test_torch_parity",
    "test_training",
}

KERNEL_SETS = ["numpy", "numba"] if numba_available() else ["numpy"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rpartition(".")[2]
    if module in BOTH_KERNELS and "deepmat_kernels" in metafunc.fixturenames:
        metafunc.parametrize("deepmat_kernels", KERNEL_SETS, indirect=True, scope="module")


@pytest.fixture(scope="module", autouse=True)
def deepmat_kernels(request: pytest.FixtureRequest):
    """Runs the module's tests on the kernel set they are parametrised with (none: the
    environment's). Module-scoped, so that a module's own module-scoped fixtures that train
    (the cat models, the uninterrupted run of the resume test) take it as an argument and are
    computed once per kernel set; the tests are grouped by kernel set."""
    name = getattr(request, "param", None)
    if name is None:
        yield None
        return
    with pytest.MonkeyPatch.context() as patch, kernels(name):
        patch.setenv(ENVIRONMENT_VARIABLE, name)
        yield name
