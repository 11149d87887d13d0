"""deepmat — deep fully-connected networks in the matrix form of back-propagation.

- :mod:`deepmat.functional`: the seeds' equations as pure functions (column layout).
- :class:`deepmat.Network`: a network that owns its parameters (row layout, like
  scikit-learn and PyTorch).
- :func:`deepmat.gradcheck`: back-propagation checked against central differences.
- :mod:`deepmat.layers`, :mod:`deepmat.optimizers`, :mod:`deepmat.schedules`,
  :mod:`deepmat.callbacks`: mini-batch training as practitioners expect it.
- :func:`deepmat.load` / :meth:`Network.save`: safetensors + JSON, never pickle.
- :mod:`deepmat.sklearn` (estimators), :meth:`Network.to_onnx`, :meth:`Network.to_torch` and
  :func:`deepmat.from_torch`: scikit-learn, ONNX and PyTorch.
"""

from deepmat import activations, callbacks, functional, initializers, layers, losses, optimizers, schedules
from deepmat.callbacks import EarlyStopping, History
from deepmat.gradcheck import GradcheckError, GradcheckResult, gradcheck
from deepmat.layers import Activation, BatchNorm, Dense, Dropout
from deepmat.network import Network, load
from deepmat.training import TrainingDiverged
from deepmat.version import __version__

#: a :class:`Network` equivalent to a ``torch.nn.Sequential`` (:meth:`Network.from_torch`)
from_torch = Network.from_torch

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
    "from_torch",
    "functional",
    "gradcheck",
    "initializers",
    "layers",
    "load",
    "losses",
    "optimizers",
    "schedules",
]
