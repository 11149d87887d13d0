"""Bad input for the scikit-learn drop-in and L-BFGS, case by case: the section "scikit-learn
drop-in and L-BFGS" of docs/BAD_INPUT.md as a test (each case raises the error it lists, with a
message saying what was expected and what was received; the last test checks that the section
lists every case, by its id)."""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from deepmat import Network
from deepmat.cli import main
from deepmat.optimizers import LBFGS
from deepmat.schedules import StepDecay
from deepmat.sklearn import DeepmatClassifier, DeepmatRegressor

DOC = Path(__file__).resolve().parents[1] / "docs" / "BAD_INPUT.md"
SECTION = "## scikit-learn drop-in and L-BFGS"
rng = np.random.default_rng(0)
X, y = rng.random((12, 4)), np.arange(12) % 3


def fit(**params) -> Callable[[], object]:
    return lambda: DeepmatClassifier(max_iter=2, **params).fit(X, y)


def net(**kwargs) -> Network:
    return Network([4, 5, 3], "relu", "softmax", seed=0, **kwargs)


def warm_start_with_other_classes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 2 iterations
        clf = DeepmatClassifier(solver="lbfgs", max_iter=2, warm_start=True).fit(X, y)
    clf.fit(X, y % 2)


def coefs_of_the_wrong_shape():
    clf = DeepmatClassifier(warm_start=True)
    clf.coefs_, clf.intercepts_ = [np.zeros((3, 5)), np.zeros((5, 3))], [np.zeros(5), np.zeros(3)]
    clf.fit(X, y)


def train_lbfgs(flags: str) -> Callable[[], object]:
    """``deepmat train --data digits --optimizer lbfgs FLAGS`` into a temporary folder; its one
    line ``deepmat: error: …`` with exit status 2, before any run folder is made, raised as the
    ValueError it reports."""

    def run() -> None:
        out, err = io.StringIO(), io.StringIO()
        with tempfile.TemporaryDirectory() as folder, redirect_stdout(out), redirect_stderr(err):
            status = main(f"train --data digits --optimizer lbfgs --out {folder}/run {flags}".split())
            made = os.listdir(folder)
        lines = err.getvalue().splitlines()
        if status == 2 and len(lines) == 1 and lines[0].startswith("deepmat: error: ") and not made:
            raise ValueError(lines[0])
        raise AssertionError(f"exit status {status}, {made} written, stderr: {err.getvalue()!r}")

    return run


CASES: dict[str, tuple[Callable[[], object], type, str]] = {
    "sk-unknown-solver": (fit(solver="newton"), ValueError, r"unknown solver 'newton'; expected one of: 'adam', 'sgd', 'lbfgs' \(scikit-learn's\) or deepmat's 'momentum'"),
    "sk-unknown-activation": (fit(activation="gelu"), ValueError, r"unknown activation 'gelu'; expected one of: 'identity', 'logistic', 'tanh', 'relu' \(scikit-learn's names\) or deepmat's 'leaky_relu', 'sigmoid'"),
    "sk-unknown-learning-rate": (fit(learning_rate="cosine"), ValueError, r"unknown learning_rate 'cosine'; expected one of: 'constant', 'invscaling', 'adaptive'"),
    "sk-negative-alpha": (fit(alpha=-0.1), ValueError, r"alpha must be a finite number ≥ 0; received -0.1"),
    "sk-nan-alpha": (fit(alpha=float("nan")), ValueError, r"alpha must be a finite number ≥ 0; received nan"),
    "sk-zero-learning-rate-init": (fit(learning_rate_init=0), ValueError, r"learning_rate_init must be a positive finite number; received 0"),
    "sk-momentum-above-1": (fit(momentum=1.5), ValueError, r"momentum must be a number in \[0, 1\]; received 1.5"),
    "sk-momentum-1-with-sgd": (fit(solver="sgd", momentum=1), ValueError, r"momentum must be below 1"),
    "sk-validation-fraction-1": (fit(validation_fraction=1.0), ValueError, r"validation_fraction must be a number in \[0, 1\); received 1.0"),
    "sk-zero-n-iter-no-change": (fit(n_iter_no_change=0), ValueError, r"n_iter_no_change must be a positive integer; received 0"),
    "sk-zero-max-fun": (fit(max_fun=0), ValueError, r"max_fun must be a positive integer; received 0"),
    "sk-shuffle-not-a-bool": (fit(shuffle="yes"), TypeError, r"shuffle must be True or False; received 'yes' \(str\)"),
    "sk-bad-hidden-layer-sizes": (fit(hidden_layer_sizes=(10, -1)), ValueError, r"hidden_layer_sizes must be a tuple of positive integers; received \(10, -1\)"),
    "sk-poisson-loss": (lambda: DeepmatRegressor(loss="poisson").fit(X, X[:, 0]), ValueError, r"loss='poisson' is not supported: .*expected one of: 'squared_error'"),
    "sk-class-weight-misspelt": (fit(class_weight="balance"), ValueError, r"class_weight must be 'balanced' or a dict \{label: weight\}; received 'balance'"),
    "sk-class-weight-unknown-label": (fit(class_weight={"cat": 2.0}), ValueError, r"class_weight names labels \['cat'\] that are not classes \[0, 1, 2\]"),
    "sk-class-weight-negative": (fit(class_weight={1: -1.0}), ValueError, r"class_weight\[1\] must be a finite number ≥ 0; received -1.0"),
    "sk-class-weight-a-list": (fit(class_weight=[1.0, 2.0, 3.0]), TypeError, r"class_weight must be None, 'balanced' or a dict \{label: weight\}; received \[1.0, 2.0, 3.0\] \(list\)"),
    "sk-class-weight-multi-label": (lambda: DeepmatClassifier(class_weight="balanced").fit(X, np.eye(3)[y].astype(int)), ValueError, r"class_weight needs one class per sample; y is a multi-label indicator matrix"),
    "sk-balanced-in-partial-fit": (lambda: DeepmatClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2]), ValueError, r"class_weight='balanced' is not supported by partial_fit"),
    "sk-sample-weight-wrong-length": (lambda: DeepmatClassifier().fit(X, y, sample_weight=np.ones(7)), ValueError, r"sample_weight must be \(12,\), one weight per sample of X; received shape \(7,\)"),
    "sk-sample-weight-negative": (lambda: DeepmatClassifier().fit(X, y, sample_weight=np.r_[np.ones(11), -2.0]), ValueError, r"sample_weight must be ≥ 0; received -2.0 for sample 11"),
    "sk-sample-weight-nan": (lambda: DeepmatRegressor().fit(X, X[:, 0], sample_weight=np.r_[np.nan, np.ones(11)]), ValueError, r"sample_weight must be finite; received nan at index \(0,\)"),
    "sk-sample-weight-all-zero": (lambda: DeepmatClassifier().fit(X, y, sample_weight=np.zeros(12)), ValueError, r"sample_weight must not be all 0 \(every weight zero\)"),
    "sk-sample-weight-strings": (lambda: DeepmatClassifier().fit(X, y, sample_weight=np.array(["1"] * 12)), TypeError, r"sample_weight must hold real numbers; received dtype <U1"),
    "sk-early-stopping-in-partial-fit": (lambda: DeepmatClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2]), ValueError, r"partial_fit does not support early_stopping=True"),
    "sk-validation-set-too-small": (lambda: DeepmatRegressor(early_stopping=True).fit(X[:5], X[:5, 0]), ValueError, r"The validation set is too small. Increase 'validation_fraction' or the size of your dataset."),
    "sk-warm-start-with-other-classes": (warm_start_with_other_classes, ValueError, r"warm_start can only be used where `y` has the same classes as in the previous call to fit. Previously got \[0 1 2\], `y` has \[0 1\]"),
    "sk-coefs-of-the-wrong-shape": (coefs_of_the_wrong_shape, ValueError, r"coefs_ must be \(n_features, n\[1\]\), …, \(n\[L-1\], n_outputs\) = \(4, …, 3\) to start from; received shapes \[\(3, 5\), \(5, 3\)\]"),
    "sk-partial-fit-with-lbfgs": (lambda: DeepmatClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2]), AttributeError, r"has no attribute 'partial_fit'"),
    "sk-diverging-fit": (lambda: DeepmatRegressor().fit(X * 1e300, X[:, 0]), ValueError, r"Solver produced non-finite parameter weights. The input data may contain large values and need to be preprocessed. \(the cost became"),
    "lbfgs-with-a-batch-size": (lambda: net().fit(X, y, optimizer="lbfgs", epochs=3, batch_size=4), ValueError, r"optimizer='lbfgs' trains on the full batch \(one deterministic J\); received batch_size=4"),
    "lbfgs-with-shuffle": (lambda: net().fit(X, y, optimizer="lbfgs", epochs=3, shuffle=True), ValueError, r"optimizer='lbfgs' trains on the full batch, where shuffling changes nothing; omit shuffle="),
    "lbfgs-distributed": (lambda: net().fit(X, y, optimizer="lbfgs", epochs=3, distributed=True), ValueError, r"optimizer='lbfgs' runs in one process; distributed training needs a mini-batch optimizer"),
    "lbfgs-with-a-checkpoint": (lambda: net().fit(X, y, optimizer="lbfgs", epochs=3, checkpoint="c.safetensors"), ValueError, r"it writes no checkpoint and cannot resume one; omit checkpoint= and resume_from="),
    "lbfgs-with-a-learning-rate": (lambda: net().fit(X, y, optimizer="lbfgs", learning_rate=0.1), ValueError, r"L-BFGS takes no learning_rate \(a line search chooses each step\); received 0.1"),
    "lbfgs-with-dropout": (lambda: net(dropout=0.2).fit(X, y, optimizer="lbfgs"), ValueError, r"the layer Dropout\(rate=0.2\) draws new dropout masks at every evaluation, which makes J random"),
    "lbfgs-with-batch-norm": (lambda: net(batch_norm=True).fit(X, y, optimizer="lbfgs"), ValueError, r"the layer BatchNorm\(.*\) updates its running statistics at every evaluation"),
    "lbfgs-with-a-schedule": (lambda: net().fit(X, y, optimizer="lbfgs", callbacks=[StepDecay(2)]), ValueError, r"optimizer='lbfgs' has no learning rate for StepDecay to change"),
    "lbfgs-negative-tol": (lambda: LBFGS(tol=-1e-5), ValueError, r"tol must be a finite number ≥ 0; received -1e-05"),
    "lbfgs-zero-max-fun": (lambda: LBFGS(max_fun=0), ValueError, r"max_fun must be a positive integer; received 0"),
    "lbfgs-misspelt": (lambda: net().fit(X, y, epochs=1, optimizer="bfgs"), ValueError, r"unknown optimizer 'bfgs'; expected one of: 'adam', 'adamw', 'momentum', 'nesterov', 'rmsprop', 'sgd', or the full-batch 'lbfgs'"),
    "cli-lbfgs-with-a-learning-rate": (train_lbfgs("--learning-rate 0.1"), ValueError, r"L-BFGS takes no learning_rate \(a line search chooses each step\); received 0.1"),
    "cli-lbfgs-with-a-batch-size": (train_lbfgs("--batch-size 32"), ValueError, r"--batch-size needs mini-batch training; --optimizer lbfgs minimises J on the full batch"),
    "cli-lbfgs-with-a-validation-split": (train_lbfgs("--validation-split 0.2"), ValueError, r"--validation-split needs mini-batch training; --optimizer lbfgs minimises J on the full batch"),
    "cli-lbfgs-with-dropout": (train_lbfgs("--dropout 0.2"), ValueError, r"the layer Dropout\(rate=0.2\) draws new dropout masks at every evaluation"),
    "cli-lbfgs-with-batch-norm": (train_lbfgs("--batch-norm"), ValueError, r"the layer BatchNorm\(.*\) updates its running statistics"),
    "cli-lbfgs-with-a-schedule": (train_lbfgs("--schedule cosine"), ValueError, r"optimizer='lbfgs' has no learning rate for CosineDecay to change"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_case(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a checkpoint would be written here: none may be
    call, error, message = CASES[case]
    with pytest.raises(error, match=message), np.errstate(all="ignore"):
        call()
    assert list(tmp_path.iterdir()) == []


def test_lbfgs_refuses_a_checkpoint_it_would_resume():
    with pytest.raises(ValueError, match="cannot resume one"):
        net().fit(X, y, optimizer="lbfgs", epochs=2, resume_from="run/checkpoint.safetensors")


def test_every_case_is_in_its_section_of_the_documentation():
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/BAD_INPUT.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    assert [case for case in CASES if f"| `{case}` |" not in section] == []
