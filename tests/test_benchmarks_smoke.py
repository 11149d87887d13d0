"""Smoke test of the benchmark suite: the inference case, quick, one repeat, in a subprocess.

It checks that the script runs and writes the JSON it promises (medians and ratios, positive
numbers). It makes no assertion on the timings themselves: those depend on the machine and its
load. The full suite is `python benchmarks/run.py` (see benchmarks/README.md).
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("threadpoolctl")

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def test_quick_inference_case_writes_medians_and_ratios(tmp_path):
    if not FASHION_DIR.is_dir():
        pytest.skip(f"{FASHION_DIR} not found: apt-get install -y dataset-fashion-mnist")
    out = tmp_path / "results.json"
    command = [sys.executable, str(RUN), "--quick", "--cases", "3", "--repeats", "1", "--json", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert seconds < 60
    report = json.loads(out.read_text())

    for key in ("command", "date", "machine", "threads", "medians", "ratios", "cases", "targets"):
        assert key in report, key
    assert report["cases_run"] == [3]
    assert report["repeats"] == 1
    assert report["threads"]["requested"] == 2
    assert report["machine"]["numpy"] and report["machine"]["torch"] and report["machine"]["sklearn"]

    for measurement in ("latency_1", "throughput_10k"):
        for library in ("deepmat", "torch", "sklearn"):
            value = report["medians"][f"case3.{measurement}.{library}"]
            assert isinstance(value, float) and value > 0
        for peer in ("torch", "sklearn"):
            value = report["ratios"][f"case3.{measurement}.deepmat/{peer}"]
            assert isinstance(value, float) and value > 0
        entry = report["cases"]["3"]["measurements"][measurement]
        assert all(len(calls) == 1 for calls in entry["raw"].values())  # one repeat
        assert all(t > 0 for calls in entry["raw_calls"].values() for rep in calls for t in rep)
    assert {t["ratio"] for t in report["targets"]} == {
        "case3.latency_1.deepmat/torch",
        "case3.throughput_10k.deepmat/torch",
    }
    assert all(t["status"] in ("PASS", "MISS") for t in report["targets"])


def test_the_kernel_candidates_script_times_every_candidate():
    pytest.importorskip("numexpr")
    pytest.importorskip("numba")
    script = RUN.parent / "kernels.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    timed = dict(re.findall(r"^  (\S.*?)\s+([0-9.]+) µs$", proc.stdout, flags=re.M))
    assert set(timed) == {
        "adam: numpy (deepmat's reference)",
        "adam: numexpr, 1 thread",
        "adam: numexpr, 2 threads",
        "adam: numba (deepmat.kernels)",
        "layer: numpy",
        "layer: numexpr, 1 thread",
        "layer: numba",
        "numpy",
        "numba",
    }, proc.stdout
    assert all(float(value) > 0 for value in timed.values())


def test_the_streaming_benchmark_runs_on_a_small_file(tmp_path):
    if not FASHION_DIR.is_dir():
        pytest.skip(f"{FASHION_DIR} not found: apt-get install -y dataset-fashion-mnist")
    pytest.importorskip("h5py")
    out = tmp_path / "streaming.json"
    command = [
        sys.executable, str(RUN.parent / "streaming.py"), "--gigabytes", "0.1", "--repeats", "1",
        "--dir", str(tmp_path), "--json", str(out),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    sources = {run["source"] for run in report["runs"]}
    assert sources == {"memory", "npy", "hdf5"}, sources
    for run in report["runs"]:
        assert run["samples_per_second"] > 0 and run["peak_rss_bytes"] > run["baseline_rss_bytes"] > 0
    assert not list(tmp_path.glob("X.*")), "the benchmark deletes its file"
