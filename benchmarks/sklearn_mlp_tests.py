"""scikit-learn's own MLP tests, run with deepmat's estimators in place of scikit-learn's.

    python benchmarks/sklearn_mlp_tests.py              # the whole file (a few minutes)
    python benchmarks/sklearn_mlp_tests.py -k lbfgs     # a subset (pytest's -k expression)
    python benchmarks/sklearn_mlp_tests.py --original   # the control: scikit-learn's own MLPs

The test file, ``sklearn/neural_network/tests/test_mlp.py`` of the installed scikit-learn, is
copied into a temporary folder with one line changed: ``from sklearn.neural_network import
MLPClassifier, MLPRegressor`` imports them from a shim module that names deepmat's
``DeepmatClassifier`` and ``DeepmatRegressor`` so (a ``conftest.py`` beside it gives the
``global_random_seed`` fixture scikit-learn's own conftest would, seed 42). pytest runs it in a
subprocess; the script prints the counts, then every failing test with the first line of its
failure and the reason it fails (:data:`KNOWN_FAILURES`; README, "scikit-learn"). It exits with
status 1 when a test fails that is not listed there, or a listed one passes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

#: the one line of the test file that is changed
IMPORT_LINE = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
SHIM = '''"""deepmat's estimators under scikit-learn's names, for its MLP test file."""

from deepmat.sklearn import DeepmatClassifier as MLPClassifier
from deepmat.sklearn import DeepmatRegressor as MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
'''
ORIGINAL_SHIM = "from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: F401\n"
CONFTEST = '''import pytest


@pytest.fixture
def global_random_seed():
    """scikit-learn's conftest gives 42 unless SKLEARN_TESTS_GLOBAL_RANDOM_SEED says otherwise."""
    return 42
'''

#: the tests of test_mlp.py deepmat's estimators fail, and why (a test name without its
#: parameters stands for all of them)
KNOWN_FAILURES = {
    "test_gradient": "private internals: calls MLPClassifier._loss_grad_lbfgs to compare scikit-learn's "
    "gradient with central differences (deepmat's own gradient checks are deepmat.gradcheck and "
    "tests/test_lbfgs.py)",
    "test_mlp_vs_poisson_glm_equivalent": "unsupported option: loss='poisson' needs an exponential output "
    "layer, which deepmat does not have (refused with a clear error)",
    "test_preserve_feature_names[DeepmatClassifier]": "unsupported option: it fits a classifier on one class; "
    "deepmat refuses y with fewer than 2 classes (scikit-learn trains one to predict that class)",
}


def test_file() -> Path:
    """The installed scikit-learn's test_mlp.py."""
    import sklearn

    path = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
    if not path.is_file():
        raise SystemExit(f"{path} not found: this scikit-learn was installed without its tests")
    return path


def prepare(folder: Path, original: bool = False) -> Path:
    """Copy test_mlp.py into ``folder`` with its import pointed at the shim; return the copy."""
    source = test_file().read_text(encoding="utf-8")
    if source.count(IMPORT_LINE) != 1:
        raise SystemExit(f"{test_file()}: expected the line {IMPORT_LINE!r} once; this scikit-learn differs")
    (folder / "deepmat_mlp_shim.py").write_text(ORIGINAL_SHIM if original else SHIM, encoding="utf-8")
    (folder / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # none of the repository's settings
    copy = folder / "test_mlp.py"
    copy.write_text(
        source.replace(IMPORT_LINE, "from deepmat_mlp_shim import MLPClassifier, MLPRegressor"),
        encoding="utf-8",
    )
    return copy


def run(keyword: str | None = None, original: bool = False, timeout: float = 3600) -> dict:
    """Run the copied test file; return ``{"passed": [...], "failed": {name: first line}, "skipped": [...]}``."""
    with tempfile.TemporaryDirectory(prefix="deepmat-sklearn-mlp-") as tmp:
        folder = Path(tmp)
        copy = prepare(folder, original)
        report = folder / "report.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(copy),
            f"--junitxml={report}",
        ]
        if keyword:
            command += ["-k", keyword]
        import deepmat  # the subprocess imports the deepmat this process imports, from wherever it is

        source = str(Path(deepmat.__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        }
        subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if not report.is_file():
            raise SystemExit("pytest wrote no report: " + " ".join(command))
        results: dict = {"passed": [], "failed": {}, "skipped": []}
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "")
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None:
                message = (problem.get("message") or problem.text or "").strip()
                results["failed"][name] = message.splitlines()[0] if message else "(no message)"
            elif case.find("skipped") is not None:
                results["skipped"].append(name)
            else:
                results["passed"].append(name)
        return results


def reason(name: str) -> str | None:
    """Why ``name`` is expected to fail (from :data:`KNOWN_FAILURES`), or None."""
    return KNOWN_FAILURES.get(name) or KNOWN_FAILURES.get(re.sub(r"\[.*\]$", "", name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="keyword", help="run only the tests pytest's -k expression selects")
    parser.add_argument("--original", action="store_true", help="scikit-learn's own MLPs (the control)")
    args = parser.parse_args(argv)
    results = run(args.keyword, args.original)
    total = len(results["passed"]) + len(results["failed"]) + len(results["skipped"])
    who = "scikit-learn's MLPClassifier/MLPRegressor" if args.original else "deepmat's estimators"
    print(f"{test_file()} with {who}")
    print(
        f"{total} tests: {len(results['passed'])} passed, {len(results['failed'])} failed, "
        f"{len(results['skipped'])} skipped"
    )
    unexpected = []
    for name, message in sorted(results["failed"].items()):
        why = None if args.original else reason(name)
        print(f"FAILED {name}: {message}")
        print(f"    why: {why}" if why else "    why: NOT EXPECTED")
        if why is None:
            unexpected.append(name)
    if not args.original:
        for name in sorted(results["passed"]):
            if reason(name):
                print(f"PASSED {name}, listed as failing: update KNOWN_FAILURES")
                unexpected.append(name)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
