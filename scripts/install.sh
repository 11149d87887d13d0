#!/usr/bin/env bash
# Installs everything deepmat and its tests need on a fresh machine (Debian, Python ≥ 3.11).
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the real Fashion-MNIST files (/usr/share/datasets/fashion-mnist), and Open MPI
# (mpirun, and the headers mpi4py builds against) for distributed training; for the tests,
# Chromium, the browser Playwright drives to open a run's report.html (`playwright install`
# downloads a browser of its own, which this machine cannot: the tests use /usr/bin/chromium).
apt_packages=(dataset-fashion-mnist openmpi-bin libopenmpi-dev chromium)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --upgrade pip
# torch first and pinned exactly: 2.13.0 installs from a local CPU wheel; anything looser would
# fetch the registry's newest build with gigabytes of CUDA packages.
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "torch==2.13.0"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".[test]"
echo "deepmat installed: $(python3 -c 'import deepmat; print(deepmat.__version__)')"
