"""Fuzzing the model loader with hypothesis (bounded: a few seconds per property).

Whatever the bytes, ``deepmat.load`` returns a network or raises ``ValueError`` — no other
exception, in bounded time and memory, and never executing anything. The longer
coverage-guided run (atheris) is ``fuzz/fuzz_loader.py``; its figures are in FUZZING.md.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MAX_SECONDS_PER_LOAD = 2.0
MAX_BYTES_PER_LOAD = 64 << 20  # a hostile header must not make the loader allocate much


def valid_files() -> dict[str, bytes]:
    import tempfile

    nets = {
        "dense64": Network([3, 4, 2], "tanh", "softmax", seed=0),
        "all32": Network(
            layers=[Dense(4, "identity"), BatchNorm(), Activation("relu"), Dropout(0.2), Dense(1, "sigmoid")],
            input_dim=3,
            seed=0,
            dtype="float32",
        ),
    }
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, net in nets.items():
            path = Path(folder) / f"{name}.safetensors"
            net.save(path)
            out[name] = path.read_bytes()
    return out


VALID = valid_files()


def split(data: bytes) -> tuple[dict, bytes]:
    """A safetensors file: 8-byte little-endian header length, JSON header, the array bytes."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def load_bytes(data: bytes, tmp_path: Path) -> None:
    """Load ``data`` as a model file; only a network or a ValueError may come out, quickly
    and without allocating more than MAX_BYTES_PER_LOAD."""
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = deepmat.load(path)
        assert isinstance(net, Network)
    except ValueError as error:
        assert str(error)  # a message, not a bare ValueError
    finally:
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert seconds < MAX_SECONDS_PER_LOAD
    assert peak < MAX_BYTES_PER_LOAD


@FUZZ
@given(name=st.sampled_from(sorted(VALID)), cut=st.integers(min_value=0, max_value=2000))
def test_truncated_files(tmp_path, name, cut):
    data = VALID[name]
    load_bytes(data[: min(cut, len(data) - 1)], tmp_path)


@FUZZ
@given(
    name=st.sampled_from(sorted(VALID)),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=12),
)
def test_corrupted_bytes(tmp_path, name, flips):
    data = bytearray(VALID[name])
    for where, value in flips:
        data[where % len(data)] = value
    load_bytes(bytes(data), tmp_path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(name=st.sampled_from(sorted(VALID)), key=st.sampled_from(["config", "format", "training"]), value=JSON)
def test_hostile_metadata(tmp_path, name, key, value):
    header, body = split(VALID[name])
    header["__metadata__"][key] = json.dumps(value) if key != "format" else str(value)
    load_bytes(join(header, body), tmp_path)


@FUZZ
@given(
    name=st.sampled_from(sorted(VALID)),
    layer=st.integers(min_value=0, max_value=5),
    field=st.sampled_from(["units", "activation", "type", "rate", "eps", "momentum", "l2", "init", "extra"]),
    value=JSON,
)
def test_hostile_layer_configs(tmp_path, name, layer, field, value):
    header, body = split(VALID[name])
    config = json.loads(header["__metadata__"]["config"])
    layers = config["layers"]
    layers[layer % len(layers)][field] = value
    header["__metadata__"]["config"] = json.dumps(config)
    load_bytes(join(header, body), tmp_path)


@FUZZ
@given(
    name=st.sampled_from(sorted(VALID)),
    dtype=st.sampled_from(["F64", "F32", "F16", "I64", "U8", "BOOL", "XX"]),
    shape=st.lists(st.integers(min_value=0, max_value=1 << 40), max_size=3),
    offsets=st.tuples(
        st.integers(min_value=0, max_value=1 << 20), st.integers(min_value=0, max_value=1 << 20)
    ),
)
def test_hostile_array_entries(tmp_path, name, dtype, shape, offsets):
    header, body = split(VALID[name])
    key = sorted(k for k in header if k != "__metadata__")[0]
    header[key] = {"dtype": dtype, "shape": shape, "data_offsets": list(offsets)}
    load_bytes(join(header, body), tmp_path)


def test_deep_json_nesting_is_a_value_error(tmp_path):
    header, body = split(VALID["dense64"])
    header["__metadata__"]["config"] = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValueError, match="config"):
        deepmat.load(_write(tmp_path, join(header, body)))


def test_huge_declared_header_length_is_a_value_error(tmp_path):
    data = struct.pack("<Q", (1 << 63) - 1) + b"{}"
    with pytest.raises(ValueError, match="not a readable deepmat model file"):
        deepmat.load(_write(tmp_path, data))


def test_valid_files_still_load(tmp_path):
    for data in VALID.values():
        net = deepmat.load(_write(tmp_path, data))
        assert np.isfinite(net.forward(np.ones((2, 3)))).all()


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "case.safetensors"
    path.write_bytes(data)
    return path


def test_findings_of_the_long_fuzz_runs_are_value_errors():
    """Inputs that atheris found crashing the loader (fuzz/findings/), fixed since."""
    findings = sorted((Path(__file__).resolve().parents[1] / "fuzz" / "findings").glob("*.safetensors"))
    assert findings
    for path in findings:
        with pytest.raises(ValueError, match="unknown dtype"):
            deepmat.load(path)


@FUZZ
@given(
    name=st.sampled_from(sorted(VALID)),
    field=st.sampled_from(["dtype", "seed", "loss", "init", "l2", "input_dim", "layers"]),
    value=JSON | st.text(alphabet="float3264,()[]:<>|fi !", max_size=10),
)
def test_hostile_network_fields(tmp_path, name, field, value):
    header, body = split(VALID[name])
    config = json.loads(header["__metadata__"]["config"])
    config[field] = value
    header["__metadata__"]["config"] = json.dumps(config)
    load_bytes(join(header, body), tmp_path)
