"""What the page's export offers: the trained model as deepmat's model file (safetensors
weights with the JSON config, loadable by :func:`deepmat.load`) and a Python script that
reproduces the run with :class:`deepmat.Network` — the same data set, network and training
arguments (:mod:`deepmat.playground.settings`), trained by ``fit`` for the epochs the
playground took.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from deepmat.network import Network
from deepmat.playground.settings import Settings, dataset_arguments, network_arguments, training_arguments


def model_bytes(net: Network) -> bytes:
    """The bytes of ``net.save(path)`` (:meth:`deepmat.Network.save`), through a temporary file."""
    with tempfile.TemporaryDirectory(prefix="deepmat-playground-") as folder:
        path = Path(folder) / "model.safetensors"
        net.save(path)
        return path.read_bytes()


def _call(name: str, arguments: dict, first: str | None = None) -> str:
    """``name(first, key=value, …)`` with the values' reprs, one argument per line."""
    lines = [f"    {first}," if first else None, *(f"    {k}={v!r}," for k, v in arguments.items())]
    return f"{name}(\n" + "\n".join(line for line in lines if line) + "\n)"


def snippet(settings: Settings, iterations: int, batches_per_epoch: int) -> str:
    """A Python script that trains ``settings``' network on its data set with ``fit`` for the
    whole epochs of ``iterations`` (one epoch = ``batches_per_epoch`` iterations) and prints
    the test accuracy: after E whole epochs the playground's parameters are exactly the
    script's. Iterations beyond the last whole epoch are said in a comment."""
    data = dataset_arguments(settings)
    network = network_arguments(settings)
    layer_dims = network.pop("layer_dims")
    epochs, extra = divmod(iterations, batches_per_epoch)
    if epochs == 0:
        note = f"# the playground took {iterations} of the {batches_per_epoch} iterations of one epoch; fit trains whole epochs"
        epochs = 1
    elif extra:
        note = (
            f"# the playground took {iterations} iterations: {epochs} epochs of {batches_per_epoch} batches "
            f"and {extra} batches more, which fit (whole epochs) does not take"
        )
    else:
        note = (
            f"# the playground took {iterations} iterations: {epochs} epochs of {batches_per_epoch} batches"
        )
    fit = {"epochs": epochs, **training_arguments(settings), "verbose": 0}
    return "\n".join(
        [
            f'"""A deepmat playground run: {settings.dataset}, network {[*layer_dims]}, {settings.optimizer}."""',
            "",
            "import deepmat",
            "from deepmat.playground.datasets import make_dataset",
            "",
            "data = "
            + _call("make_dataset", {k: v for k, v in data.items() if k != "name"}, repr(data["name"])),
            "net = " + _call("deepmat.Network", network, repr(layer_dims)),
            note,
            "history = " + _call("net.fit", fit, "data.X_train, data.y_train"),
            'print("training accuracy:", net.score(data.X_train, data.y_train))',
            'print("test accuracy:", net.score(data.X_test, data.y_test))',
            'net.save("playground.safetensors")  # deepmat.load("playground.safetensors") reads it back',
            "",
        ]
    )
