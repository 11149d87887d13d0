"""The model file format: a JSON config and named arrays in one safetensors file.

One file holds a model: the arrays in the safetensors format (raw little-endian arrays behind
a JSON header), and in the header's metadata ``format = "deepmat"``, ``deepmat_version`` and
``config`` (the JSON of :meth:`deepmat.Network.get_config`). A checkpoint is a model file that
also carries ``training`` (JSON: epoch, batch, random generator states, optimiser and callback
scalars, history) and more arrays (the optimiser's, under ``optimizer.*`` keys).

Array names are those ``torch.nn.Sequential.load_state_dict`` expects for the equivalent
PyTorch model (layers numbered as PyTorch numbers the modules; each non-identity activation
is a module of its own; :func:`deepmat.layers.torch_names`):

==================  ===============================  ===========================
deepmat             file key                          shape in the file
==================  ===============================  ===========================
``W{l}``            ``{i}.weight`` (Linear)          (n[l], n[l-1]), as is
``b{l}``            ``{i}.bias``  (Linear)           (n[l],), the column flattened
``gamma{l}``        ``{i}.weight`` (BatchNorm1d)     (n,)
``beta{l}``         ``{i}.bias``  (BatchNorm1d)      (n,)
``running_mean{l}`` ``{i}.running_mean``             (n,)
``running_var{l}``  ``{i}.running_var``              (n,)
==================  ===============================  ===========================

BatchNorm1d's ``num_batches_tracked`` is stored too (int64, shape ()). This module reads and
writes the format — it builds no network: :meth:`deepmat.Network.save` and
:func:`deepmat.load` hand it and take from it a config, the layers and the arrays by name.

Writing is atomic (:func:`atomic_write`): a temporary file in the same folder, flushed and
fsynced, then renamed over the target, so a crash mid-write leaves the previous file intact.
Reading never unpickles: safetensors holds raw arrays and JSON, and the JSON is parsed with a
guard against hostile nesting.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, NamedTuple

import numpy as np

from deepmat._checks import check_dtype_name, check_finite
from deepmat.layers import Layer, counter_names, file_shapes, layer_from_config, numbered, torch_names
from deepmat.version import __version__

FORMAT = "deepmat"
#: the prefix of the preprocessing's arrays in a model file
PREPROCESSING = "preprocessing"


def _safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - a declared dependency
        raise ImportError("saving and loading models needs safetensors: pip install safetensors") from None
    return safetensors


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that the file is always either the old one or the new one:
    a temporary file beside it, flushed and fsynced, renamed over it, the folder fsynced. The
    folder is created if needed; the file gets the usual permissions (0666 minus the umask)."""
    path = os.fspath(path)
    try:
        _write_then_rename(path, data)
    except OSError as error:
        if error.filename is None and error.errno is not None:  # name the file (a full disk says nothing)
            raise OSError(error.errno, error.strerror, path) from error
        raise


def _write_then_rename(path: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would hide the model from other users
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_model(
    path: str | os.PathLike,
    config: dict[str, Any],
    layers: list[Layer],
    state: dict[str, np.ndarray],
    training: dict[str, Any] | None = None,
    extra_arrays: dict[str, np.ndarray] | None = None,
    preprocessing: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None,
) -> None:
    """Write a model file atomically: ``config`` (JSON-ready), the arrays of ``state`` (by
    deepmat name: ``W1``, ``b1``, …) under the file keys of ``layers``, the layers' counters,
    for a checkpoint the ``training`` state and ``extra_arrays`` (by file key), and the
    fitted ``preprocessing`` of a model that takes raw rows (its JSON config and arrays, stored
    as ``preprocessing.{name}``; :class:`deepmat.preprocessor.Preprocessor`).

    Refuses arrays that are not finite (a diverged model never overwrites a good file)."""
    tensors: dict[str, np.ndarray] = {}
    for name, key, kind in torch_names(layers):
        check_finite(state[name], name)
        tensors[key] = np.ascontiguousarray(state[name] if kind == "W" else state[name].reshape(-1))
    for layer, counter, key in counter_names(layers):
        tensors[key] = np.array(layer.get_counters()[counter], dtype=np.int64)
    tensors.update({key: np.ascontiguousarray(array) for key, array in (extra_arrays or {}).items()})
    metadata = {"format": FORMAT, "deepmat_version": __version__, "config": json.dumps(config)}
    if training is not None:
        metadata["training"] = json.dumps(training)
    if preprocessing is not None:
        config_json, arrays = preprocessing
        metadata["preprocessing"] = json.dumps(config_json)
        tensors.update({f"{PREPROCESSING}.{k}": np.ascontiguousarray(v) for k, v in arrays.items()})
    atomic_write(path, _safetensors().numpy.save(tensors, metadata=metadata))


class ModelFile(NamedTuple):
    """What :func:`read_model` found in a file, checked against its config."""

    path: str
    #: the network config (:meth:`deepmat.Network.get_config`)
    config: dict[str, Any]
    #: its layers, rebuilt from the config (not built: no arrays yet)
    layers: list[Layer]
    #: the model's arrays by deepmat name (``W1``, ``b1``, …), in the shapes of the network
    state: dict[str, np.ndarray]
    #: each layer's counters, in layer order (batch norm's ``num_batches_tracked``)
    counters: list[dict[str, int]]
    #: the arrays beyond the model's, by file key (a checkpoint's optimiser and callbacks)
    extra: dict[str, np.ndarray]
    #: the metadata as stored (strings)
    metadata: dict[str, str]
    #: the fitted preprocessing's JSON config and arrays, or None
    preprocessing: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None

    @property
    def is_checkpoint(self) -> bool:
        return "training" in self.metadata

    def training(self) -> dict[str, Any]:
        """The training state of a checkpoint (``ValueError`` for a plain model file)."""
        if not self.is_checkpoint:
            raise ValueError(f"{self.path!r} is a model file, not a checkpoint (it has no training state)")
        state = parse_json(self.metadata["training"], f"{self.path!r}: the training state")
        if not isinstance(state, dict):
            raise ValueError(f"{self.path!r}: the training state must be a JSON object")
        return state


def parse_json(text: str, what: str) -> Any:
    """``json.loads(text)``, with a ``ValueError`` naming ``what`` for invalid or hostilely
    nested JSON ([[[[…]]]]: json recurses once per level)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{what} is not valid JSON ({error})") from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply to be deepmat's") from None


#: the keys of a network config (:meth:`deepmat.Network.get_config`)
CONFIG_KEYS = ("input_dim", "layers", "loss", "init", "seed", "dtype", "l2")


def config_layers(config: Any) -> list[Layer]:
    """The layers a network config describes (checked, not built), after checking its keys."""
    if not isinstance(config, dict) or set(config) != set(CONFIG_KEYS):
        got = sorted(config) if isinstance(config, dict) else type(config).__name__
        raise ValueError(f"a network config has exactly the keys {sorted(CONFIG_KEYS)}; received {got}")
    if not isinstance(config["layers"], list):
        raise ValueError(f"config 'layers' must be a list; received {type(config['layers']).__name__}")
    return [layer_from_config(c) for c in config["layers"]]


def read_model(path: str | os.PathLike) -> ModelFile:
    """Read a model file (or checkpoint): its config, its layers and its arrays, every array
    checked against the shape and dtype its config implies (worked out without allocating,
    before any network is built).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for one that is not a
    well-formed deepmat model file (not safetensors, truncated, another format, a config that
    is not a deepmat network's, arrays missing, extra, or of the wrong shape or dtype). Never
    executes code from the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    safetensors = _safetensors()
    try:
        with safetensors.safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as error:  # safetensors raises its own SafetensorError and others
        raise ValueError(
            f"{path!r} is not a readable deepmat model file (safetensors with a JSON config): {error}"
        ) from None
    where = repr(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{where} is not a deepmat model: its metadata 'format' is {metadata.get('format')!r}, expected {FORMAT!r}"
        )
    config = parse_json(metadata.get("config", ""), f"{where}: the model config")
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the model config must be a JSON object; received {type(config).__name__}")
    try:
        layers = config_layers(config)
        expected = file_shapes(config["input_dim"], layers)
        dtype = check_dtype_name(config["dtype"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"{where}: the model config is not a deepmat network config ({error!r})") from None
    preprocessing = None
    if "preprocessing" in metadata:
        pre_config = parse_json(metadata["preprocessing"], f"{where}: the preprocessing")
        prefix = PREPROCESSING + "."
        preprocessing = (pre_config, {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})
        arrays = {k: v for k, v in arrays.items() if not k.startswith(prefix)}
    extra = {k: v for k, v in arrays.items() if k not in expected}
    if extra and "training" not in metadata:
        raise ValueError(f"{where}: unexpected arrays {sorted(extra)[:5]} not described by its config")
    for key, shape in expected.items():
        if key not in arrays:
            raise ValueError(f"{where}: the config describes {key!r} {shape} but the file has no such array")
        if arrays[key].shape != shape:
            raise ValueError(f"{where}: {key!r} is {arrays[key].shape} but the config implies {shape}")
    state = {}
    for name, key, kind in torch_names(layers):
        if arrays[key].dtype != dtype:
            raise ValueError(f"{where}: {key!r} is {arrays[key].dtype} but the config says {dtype.name}")
        state[name] = arrays[key] if kind == "W" else arrays[key][:, None]
    counters: list[dict[str, int]] = [{} for _ in layers]
    position = {id(layer): i for i, layer in enumerate(layers)}
    for layer, counter, key in counter_names(layers):
        if arrays[key].dtype.kind not in "iu":
            raise ValueError(f"{where}: {key!r} is {arrays[key].dtype}; expected an integer count")
        counters[position[id(layer)]][counter] = int(arrays[key])
    try:
        for name, array in state.items():  # before any layer looks at the numbers
            check_finite(array, name)
        for (l, layer), layer_counters in zip(numbered(layers), counters, strict=True):
            layer.index = l
            layer.check_state(state, layer_counters)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return ModelFile(path, config, layers, state, counters, extra, metadata, preprocessing)
