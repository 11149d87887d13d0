#!/usr/bin/env bash
# Installs everything deepmat and its tests need on a fresh machine (Debian, Python ≥ 3.11).
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --upgrade pip
# torch first and pinned exactly: 2.13.0 installs from a local CPU wheel; anything looser would
# fetch the registry's newest build with gigabytes of CUDA packages.
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "torch==2.13.0"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".[test]"
echo "deepmat installed: $(python3 -c 'import deepmat; print(deepmat.__version__)')"
