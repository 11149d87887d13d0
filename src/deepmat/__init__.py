"""deepmat — deep fully-connected networks in the matrix form of back-propagation.

- :mod:`deepmat.functional`: the seeds' equations as pure functions (column layout).
- :class:`deepmat.Network`: a network that owns its parameters (row layout, like
  scikit-learn and PyTorch).
- :func:`deepmat.gradcheck`: back-propagation checked against central differences.
"""

from deepmat import activations, functional, initializers, losses
from deepmat.gradcheck import GradcheckError, GradcheckResult, gradcheck
from deepmat.network import Network, TrainingDiverged

__version__ = "0.1.0"

__all__ = [
    "GradcheckError",
    "GradcheckResult",
    "Network",
    "TrainingDiverged",
    "__version__",
    "activations",
    "functional",
    "gradcheck",
    "initializers",
    "losses",
]
