"""deepmat — deep fully-connected networks in the matrix form of back-propagation.

- :mod:`deepmat.functional`: the seeds' equations as pure functions (column layout).
- :class:`deepmat.Network`: a network that owns its parameters (row layout, like
  scikit-learn and PyTorch).
- :func:`deepmat.gradcheck`: back-propagation checked against central differences.
- :mod:`deepmat.layers`, :mod:`deepmat.optimizers`, :mod:`deepmat.schedules`,
  :mod:`deepmat.callbacks`: mini-batch training as practitioners expect it.
- :func:`deepmat.load` / :meth:`Network.save`: safetensors + JSON, never pickle.
"""

from deepmat import activations, callbacks, functional, initializers, layers, losses, optimizers, schedules
from deepmat.callbacks import EarlyStopping, History
from deepmat.gradcheck import GradcheckError, GradcheckResult, gradcheck
from deepmat.io import load
from deepmat.layers import Activation, BatchNorm, Dense, Dropout
from deepmat.network import Network, TrainingDiverged

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "BatchNorm",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "GradcheckError",
    "GradcheckResult",
    "History",
    "Network",
    "TrainingDiverged",
    "__version__",
    "activations",
    "callbacks",
    "functional",
    "gradcheck",
    "initializers",
    "layers",
    "load",
    "losses",
    "optimizers",
    "schedules",
]
