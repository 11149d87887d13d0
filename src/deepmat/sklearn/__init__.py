"""scikit-learn estimators over :class:`deepmat.Network`: ``DeepmatClassifier`` and
``DeepmatRegressor``, drop-ins for ``MLPClassifier`` and ``MLPRegressor``.

They take scikit-learn's parameter names, meanings and defaults (``hidden_layer_sizes``,
``activation``, ``solver`` = ``"adam"`` | ``"sgd"`` | ``"lbfgs"``, ``alpha``, ``batch_size``,
``learning_rate``, ``learning_rate_init``, ``max_iter``, ``tol``, ``n_iter_no_change``,
``early_stopping``, ``validation_fraction``, ``momentum``, ``nesterovs_momentum``, ``beta_1``,
``beta_2``, ``epsilon``, ``random_state``, ``warm_start``, ``shuffle``, ``verbose``,
``max_fun``, ``power_t``), ``fit(X, y, sample_weight=None)``, ``partial_fit``, and set
scikit-learn's fitted attributes (``coefs_[l]`` = W[l+1]ᵀ, ``intercepts_``, ``loss_curve_``,
``best_loss_``, ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``,
``classes_``, ``out_activation_``, …), so that::

    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-4, early_stopping=True, random_state=0)

becomes::

    from deepmat.sklearn import DeepmatClassifier
    clf = DeepmatClassifier(hidden_layer_sizes=(64,), alpha=1e-4, early_stopping=True, random_state=0)

and ``clf.network_`` is the trained :class:`deepmat.Network` (``clf.network_.save(path)``).
They pass scikit-learn's own estimator checks (``tests/test_sklearn.py``) and most of
scikit-learn's MLP test file (``benchmarks/sklearn_mlp_tests.py``; the README lists the rest).

The modules: :mod:`~deepmat.sklearn.params` (the parameters and what they become in deepmat),
:mod:`~deepmat.sklearn.epochs` (scikit-learn's end-of-epoch rules as callbacks),
:mod:`~deepmat.sklearn.base` (the shared fit), :mod:`~deepmat.sklearn.classifier`,
:mod:`~deepmat.sklearn.regressor`.
"""

from deepmat.sklearn.base import MLPEstimator
from deepmat.sklearn.classifier import DeepmatClassifier
from deepmat.sklearn.regressor import DeepmatRegressor

__all__ = ["DeepmatClassifier", "DeepmatRegressor", "MLPEstimator"]
