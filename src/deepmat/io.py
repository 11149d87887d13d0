"""Saving and loading models and checkpoints: safetensors weights plus a JSON config.

One file holds a model: the arrays in the safetensors format, and in its header metadata
``format = "deepmat"``, ``deepmat_version`` and ``config`` (the JSON of
:meth:`deepmat.Network.get_config`). A checkpoint is a model file that also carries
``training`` (JSON: epoch, batch, random generator states, optimiser and callback scalars,
history) and the optimiser's arrays under ``optimizer.*`` keys.

Array names are those ``torch.nn.Sequential.load_state_dict`` expects for the equivalent
PyTorch model (layers numbered as PyTorch numbers the modules; each non-identity activation
is a module of its own):

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

BatchNorm1d's ``num_batches_tracked`` is stored too (int64, shape ()).

Writing is atomic: a temporary file in the same folder, flushed and fsynced, then renamed
over the target, so a crash mid-write leaves the previous file intact. Loading never
unpickles: safetensors holds raw little-endian arrays and JSON; the config is checked —
keys, types, the shapes it implies against the file's — before anything is allocated.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from deepmat.network import Network

FORMAT = "deepmat"
#: no layer of a loadable model may have more units than this (a guard against hostile configs)
MAX_UNITS = 1 << 24


def _safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - a declared dependency
        raise ImportError("saving and loading models needs safetensors: pip install safetensors") from None
    return safetensors


def torch_names(config: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """For each array of a network config: (deepmat name, file key, kind), in module order."""
    module, dense = 0, 0
    for layer in config["layers"]:
        kind = layer["type"]
        if kind == "Dense":
            dense += 1
            yield f"W{dense}", f"{module}.weight", "W"
            yield f"b{dense}", f"{module}.bias", "b"
            module += 1 if layer["activation"] == "identity" else 2
        elif kind == "BatchNorm":
            yield f"gamma{dense}", f"{module}.weight", "vector"
            yield f"beta{dense}", f"{module}.bias", "vector"
            yield f"running_mean{dense}", f"{module}.running_mean", "vector"
            yield f"running_var{dense}", f"{module}.running_var", "vector"
            module += 1
        elif kind == "Dropout" or (kind == "Activation" and layer["activation"] != "identity"):
            module += 1


def _expected_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """File key → shape implied by the config, computed without allocating anything."""
    if not isinstance(config.get("input_dim"), int) or not isinstance(config.get("layers"), list):
        raise ValueError("the config needs an integer 'input_dim' and a list 'layers'")
    shapes: dict[str, tuple[int, ...]] = {}
    n = config["input_dim"]
    names = dict((name, key) for name, key, _ in torch_names(config))
    dense = 0
    for layer in config["layers"]:
        if not isinstance(layer, dict):
            raise ValueError(f"each layer config must be an object; received {layer!r}")
        if layer.get("type") == "Dense":
            units = layer.get("units")
            if not isinstance(units, int) or not 0 < units <= MAX_UNITS or not 0 < n <= MAX_UNITS:
                raise ValueError(f"layer sizes must be integers in 1..{MAX_UNITS}; received {n} → {units!r}")
            dense += 1
            shapes[names[f"W{dense}"]] = (units, n)
            shapes[names[f"b{dense}"]] = (units,)
            n = units
        elif layer.get("type") == "BatchNorm":
            for stem in ("gamma", "beta", "running_mean", "running_var"):
                shapes[names[f"{stem}{dense}"]] = (n,)
            shapes[names[f"gamma{dense}"].rsplit(".", 1)[0] + ".num_batches_tracked"] = ()
    return shapes


def _atomic_write(path: str | os.PathLike, data: bytes) -> None:
    path = os.fspath(path)
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


def save_model(
    net: Network,
    path: str | os.PathLike,
    training: dict[str, Any] | None = None,
    extra_arrays: dict[str, np.ndarray] | None = None,
) -> None:
    """Write ``net`` (and, for a checkpoint, ``training`` state and arrays) to ``path`` atomically.

    Refuses to write parameters that are not finite (a diverged model never overwrites a
    good file)."""
    import deepmat
    from deepmat._checks import check_finite
    from deepmat.layers import BatchNorm

    config = net.get_config()
    state = net.state_arrays()
    tensors: dict[str, np.ndarray] = {}
    for name, key, kind in torch_names(config):
        check_finite(state[name], name)
        array = state[name] if kind == "W" else state[name].reshape(-1)
        tensors[key] = np.ascontiguousarray(array)
    bn_layers = [layer for layer in net.layers if isinstance(layer, BatchNorm)]
    bn_keys = [k for k in _expected_shapes(config) if k.endswith(".num_batches_tracked")]
    for layer, key in zip(bn_layers, bn_keys, strict=True):
        tensors[key] = np.array(layer.num_batches_tracked, dtype=np.int64)
    for key, array in (extra_arrays or {}).items():
        tensors[key] = np.ascontiguousarray(array)
    metadata = {"format": FORMAT, "deepmat_version": deepmat.__version__, "config": json.dumps(config)}
    if training is not None:
        metadata["training"] = json.dumps(training)
    _atomic_write(path, _safetensors().numpy.save(tensors, metadata=metadata))


def _read(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    safetensors = _safetensors()
    try:
        with safetensors.safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            keys = list(f.keys())
            arrays = {k: f.get_tensor(k) for k in keys}
    except Exception as error:  # safetensors raises its own SafetensorError and others
        raise ValueError(
            f"{path!r} is not a readable deepmat model file (safetensors with a JSON config): {error}"
        ) from None
    return metadata, arrays


def _parse_config(path: str, metadata: dict[str, str]) -> dict[str, Any]:
    if metadata.get("format") != FORMAT:
        raise ValueError(
            f"{path!r} is not a deepmat model: its metadata 'format' is {metadata.get('format')!r}, expected {FORMAT!r}"
        )
    try:
        config = json.loads(metadata.get("config", ""))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path!r}: the model config is not valid JSON ({error})") from None
    except RecursionError:  # hostile nesting ([[[[…]]]]): json recurses once per level
        raise ValueError(f"{path!r}: the model config is nested too deeply to be a deepmat config") from None
    if not isinstance(config, dict):
        raise ValueError(
            f"{path!r}: the model config must be a JSON object; received {type(config).__name__}"
        )
    return config


def _load(
    path: str | os.PathLike, allow_training: bool
) -> tuple[Network, dict[str, str], dict[str, np.ndarray]]:
    from deepmat.layers import BatchNorm
    from deepmat.network import Network

    path = os.fspath(path)
    metadata, arrays = _read(path)
    config = _parse_config(path, metadata)
    try:
        expected = _expected_shapes(config)
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path!r}: the model config is not a deepmat network config ({error!r})") from None
    extra = {k: v for k, v in arrays.items() if k not in expected}
    if extra and not (allow_training and "training" in metadata):
        raise ValueError(f"{path!r}: unexpected arrays {sorted(extra)[:5]} not described by its config")
    for key, shape in expected.items():
        if key not in arrays:
            raise ValueError(f"{path!r}: the config describes {key!r} {shape} but the file has no such array")
        if arrays[key].shape != shape:
            raise ValueError(f"{path!r}: {key!r} is {arrays[key].shape} but the config implies {shape}")
    try:
        net = Network.from_config(config)
    except TypeError as error:  # e.g. a seed NumPy cannot use: the file is malformed, not the call
        raise ValueError(f"{path!r}: the model config is not a deepmat network config ({error})") from None
    state = {}
    for name, key, _ in torch_names(config):
        array = arrays[key]
        if array.dtype != net.dtype:
            raise ValueError(f"{path!r}: {key!r} is {array.dtype} but the config says {net.dtype.name}")
        state[name] = array.reshape(net.state_arrays()[name].shape)
    net.load_state_arrays(state)
    bn_keys = [k for k in expected if k.endswith(".num_batches_tracked")]
    for layer, key in zip([x for x in net.layers if isinstance(x, BatchNorm)], bn_keys, strict=True):
        layer.num_batches_tracked = int(arrays[key])
    return net, metadata, extra


def load(path: str | os.PathLike) -> Network:
    """Read a model (or a checkpoint's model) written by :meth:`deepmat.Network.save`.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for anything that is
    not a well-formed deepmat model (truncated, wrong magic, shapes or dtypes that disagree
    with the config, unknown keys). Never executes code from the file."""
    return _load(path, allow_training=True)[0]


def read_checkpoint(path: str | os.PathLike, net: Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Load a checkpoint's model state into ``net`` (same architecture) and return its
    training state (JSON scalars) and extra arrays."""
    saved, metadata, extra = _load(path, allow_training=True)
    if "training" not in metadata:
        raise ValueError(f"{os.fspath(path)!r} is a model file, not a checkpoint (it has no training state)")
    if saved.get_config()["layers"] != net.get_config()["layers"] or saved.dtype != net.dtype:
        raise ValueError(
            f"the checkpoint {os.fspath(path)!r} holds a different network ({saved!r}) from the one being trained ({net!r})"
        )
    net.load_state_arrays(saved.state_arrays())
    for mine, theirs in zip(net.layers, saved.layers, strict=True):
        if hasattr(theirs, "num_batches_tracked"):
            mine.num_batches_tracked = theirs.num_batches_tracked
    try:
        training = json.loads(metadata["training"])
    except RecursionError:
        raise ValueError(f"{os.fspath(path)!r}: the training state is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{os.fspath(path)!r}: the training state is not valid JSON ({error})") from None
    return training, extra
