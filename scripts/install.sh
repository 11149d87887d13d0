#!/usr/bin/env bash
# Installs everything deepmat needs on a fresh machine (Debian, Python ≥ 3.11); with --tests,
# also what only the tests need. Idempotent: a second run installs nothing new.
#   bash scripts/install.sh            # the main job
#   bash scripts/install.sh --tests    # the main job and the tests
set -euo pipefail
cd "$(dirname "$0")/.."

# The main job: Debian's real Fashion-MNIST files (/usr/share/datasets/fashion-mnist), then the
# package with what its commands use (deepmat[cli]).
apt_packages=(dataset-fashion-mnist)
extras="cli"
# With --tests, all the rest, which only the tests (and the features they test) need: Open MPI
# (mpirun, and the headers mpi4py builds against) for distributed training; a CJK font (plots
# with Chinese text are checked glyph by glyph); the browser the playground's page and
# report.html are tested in (Playwright drives Debian's /usr/bin/chromium; it downloads no
# browser of its own) with a font for its screenshots; every extra and the test tools.
tests=false
[ "${1:-}" = "--tests" ] && tests=true
if $tests; then
  apt_packages+=(openmpi-bin libopenmpi-dev fonts-noto-cjk chromium fonts-dejavu-core)
  extras="test"
fi
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

pip=(python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore)
"${pip[@]}" --upgrade pip
if $tests; then
  # torch first and pinned exactly: 2.13.0 installs from a local CPU wheel; anything looser
  # would fetch the registry's newest build with gigabytes of CUDA packages.
  "${pip[@]}" "torch==2.13.0"
fi
"${pip[@]}" -e ".[$extras]"
echo "deepmat installed: $(python3 -c 'import deepmat; print(deepmat.__version__)')"
