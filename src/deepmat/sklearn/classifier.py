"""``DeepmatClassifier``: scikit-learn's ``MLPClassifier``, computed by a deepmat network."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from deepmat._checks import check_number
from deepmat.sample_weights import class_weights
from deepmat.sklearn.base import MLPEstimator, mlp_parameters


class DeepmatClassifier(ClassifierMixin, MLPEstimator):
    """A deepmat network as scikit-learn's ``MLPClassifier`` (binary, multi-class, multi-label).

    The parameters are ``MLPClassifier``'s, with its meanings and defaults: ``hidden_layer_sizes``,
    ``activation`` (``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"``; deepmat's
    ``"sigmoid"``, ``"leaky_relu"`` too), ``solver`` (``"adam"``, ``"sgd"``, ``"lbfgs"``;
    deepmat's ``"rmsprop"``, ``"adamw"``, … too), ``alpha``, ``batch_size``, ``learning_rate``,
    ``learning_rate_init``, ``power_t``, ``max_iter``, ``shuffle``, ``random_state``, ``tol``,
    ``verbose``, ``warm_start``, ``momentum``, ``nesterovs_momentum``, ``early_stopping``,
    ``validation_fraction``, ``beta_1``, ``beta_2``, ``epsilon``, ``n_iter_no_change``,
    ``max_fun`` — then ``class_weight`` (``"balanced"`` or ``{label: weight}``, as scikit-learn's
    other classifiers take it) and deepmat's ``dropout``, ``batch_norm``, ``init`` (weights,
    default He) and ``dtype`` (default: X's, float32 or float64).

    The output: one sigmoid unit for two classes (``out_activation_ = "logistic"``), a softmax
    over more (``"softmax"``), one sigmoid per label for a multi-label indicator y; trained with
    (binary) cross-entropy.

    Fitted attributes: ``classes_``, ``coefs_``, ``intercepts_``, ``loss_``, ``loss_curve_``,
    ``best_loss_``, ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``,
    ``n_layers_``, ``n_outputs_``, ``out_activation_``, ``n_features_in_``, and deepmat's
    ``network_`` (``network_.save(path)``), ``history_`` and ``multilabel_`` (y was an indicator matrix).
    """

    @mlp_parameters
    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        class_weight: str | dict[Any, float] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(hidden_layer_sizes, activation, **params)
        self.class_weight = class_weight

    # -- targets -----------------------------------------------------------------------

    def _targets(self, y: np.ndarray, incremental: bool, classes: Any) -> np.ndarray:
        """Class indices (0/1 for two classes), or the 0/1 indicator matrix of a multi-label y;
        ``classes_`` set, or checked against the earlier fit (scikit-learn's rules)."""
        check_classification_targets(y)
        multilabel = type_of_target(y).startswith("multilabel")
        labels = unique_labels(y)
        if incremental and not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("the first call to partial_fit needs classes= (all the labels y can hold)")
            self.classes_ = labels if multilabel else unique_labels(classes)
            self.multilabel_ = multilabel
            if len(self.classes_) < 2:
                raise ValueError(f"classes must hold at least 2 labels; received {list(self.classes_)}")
        elif incremental:
            if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"classes={list(unique_labels(classes))} differs from the first call's {list(self.classes_)}"
                )
        elif not hasattr(self, "classes_") or not self.warm_start:
            self.classes_, self.multilabel_ = labels, multilabel
            if len(labels) < 2:
                raise ValueError(
                    f"a classifier needs at least 2 classes to train; y holds 1 class, {labels[0]!r}"
                )
        elif set(labels) != set(self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the previous call to fit. "
                f"Previously got {self.classes_}, `y` has {labels}"
            )
        if multilabel != self.multilabel_:
            kind = "a multi-label indicator matrix" if self.multilabel_ else "one label per sample"
            raise ValueError(f"y must be {kind}, as in the first fit; received {type_of_target(y)!r} targets")
        if multilabel:
            return y.astype(np.float64)
        unseen = np.setdiff1d(labels, self.classes_)
        if unseen.size:
            raise ValueError(f"y holds labels {list(unseen)} not in classes {list(self.classes_)}")
        return np.searchsorted(self.classes_, y)

    def _output(self) -> tuple[str, int]:
        k = len(self.classes_)
        if self.multilabel_:
            return "sigmoid", k
        return ("sigmoid", 1) if k == 2 else ("softmax", k)

    def _sample_weights(
        self, sample_weight: np.ndarray | None, targets: np.ndarray, incremental: bool
    ) -> Any:
        """``sample_weight`` × the weight of each sample's class (``class_weight``)."""
        given = self.class_weight
        if given is None:
            return sample_weight
        if self.multilabel_:
            raise ValueError(
                "class_weight needs one class per sample; y is a multi-label indicator matrix: weigh the samples "
                "with sample_weight instead"
            )
        if isinstance(given, str):
            if given != "balanced":
                raise ValueError(
                    f"class_weight must be 'balanced' or a dict {{label: weight}}; received {given!r}"
                )
            if incremental:
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit (each call would weigh its samples "
                    "by that call's counts): pass a dict computed on all the data, e.g. with "
                    "sklearn.utils.class_weight.compute_class_weight"
                )
            mapped: Any = "balanced"
        elif isinstance(given, dict):
            known = set(self.classes_.tolist())
            unknown = [label for label in given if label not in known]
            if unknown:
                raise ValueError(
                    f"class_weight names labels {unknown} that are not classes {self.classes_.tolist()}"
                )
            mapped = {
                int(np.searchsorted(self.classes_, label)): check_number(
                    weight, f"class_weight[{label!r}]", 0
                )
                for label, weight in given.items()
            }
        else:
            raise TypeError(
                f"class_weight must be None, 'balanced' or a dict {{label: weight}}; received {given!r} "
                f"({type(given).__name__})"
            )
        weights = class_weights(mapped, targets, len(self.classes_))
        return weights if sample_weight is None else sample_weight * weights

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        """scikit-learn stratifies the early-stopping split on the binarised labels (not for
        multi-label y)."""
        return None if self.multilabel_ else LabelBinarizer().fit(self.classes_).transform(y).astype(bool)

    def _predictions(self, raw: np.ndarray) -> np.ndarray:
        return raw if self.multilabel_ else self.classes_[raw]

    def _score_function(self, y: np.ndarray, predictions: np.ndarray, sample_weight: Any) -> float:
        return accuracy_score(y, predictions, sample_weight=sample_weight)

    # -- the API -----------------------------------------------------------------------

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DeepmatClassifier:
        """Train on ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)`` (or a
        multi-label indicator ``(n_samples, n_labels)``); ``sample_weight`` ``(n_samples,)`` ≥ 0
        weighs each sample's loss (a weight of 2 counts as the sample repeated)."""
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> DeepmatClassifier:
        """One epoch over ``(X, y)``, keeping the optimiser's state between calls; the first call
        needs ``classes`` (every label there will be). Not for ``solver="lbfgs"``."""
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(class) for each sample, ``(n_samples, n_classes)`` in the order of ``classes_``
        (P(label) per label for multi-label y)."""
        return self._answer("predict_proba", X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log P(class), ``(n_samples, n_classes)``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample ``(n_samples,)`` from ``classes_`` (for
        multi-label y, the 0/1 indicator ``(n_samples, n_labels)``)."""
        return self._predictions(self._answer("predict", X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
