#!/usr/bin/env bash
# Install the Debian packages lmz needs (only those missing) and build it in
# build/. Safe to run again: it installs nothing twice and rebuilds only what
# changed. Usage: scripts/setup.sh [extra cmake -D options...]
#        scripts/setup.sh --mpi [extra cmake -D options...]
# --mpi: instead, install Open MPI and the parallel HDF5 (openmpi-bin,
# libopenmpi-dev, libhdf5-openmpi-dev) and build build-mpi/ with
# -DLMZ_MPI=ON and CUDA off: only the lmz binary and the MPI test's tool
# (docs/mpi.md). It exits 3 when the packages cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --mpi ]]; then
  shift
  mpi_packages=(openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools)
  missing=()
  for p in "${mpi_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    { $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; } || { echo "setup: cannot install ${missing[*]}" >&2; exit 3; }
  fi
  jobs=$(nproc 2>/dev/null || echo 2)
  cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release -DLMZ_CUDA=OFF -DLMZ_MPI=ON "$@" >/dev/null
  cmake --build build-mpi -j"$jobs" --target lmz lmz_corrupt
  echo "setup: built build-mpi/lmz (MPI ranks)" >&2
  exit 0
fi

packages=(build-essential cmake pkg-config libhdf5-dev hdf5-tools libxxhash-dev
          zlib1g-dev liblzma-dev xz-utils gzip
          libjpeg62-turbo-dev libpng-dev libflac-dev libzstd-dev libbz2-dev
          libopenblas-openmp-dev
          python3 python3-dev python3-venv python3-setuptools python3-numpy python3-pytest
          python3-h5py)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# h5py lets tests read archives the way a Python user would and craft damaged
# or newer-version files (h5structure, versions, batch); those tests skip
# without it. Debian's python3-h5py first, pip as the fallback.
if command -v python3 >/dev/null && ! python3 -c 'import h5py' 2>/dev/null; then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-h5py \
    >/dev/null 2>&1 || python3 -m pip install -q h5py >/dev/null 2>&1 ||
    echo "setup: h5py not installed (the tests that need it will be skipped)" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$jobs"
echo "setup: built build/lmz" >&2

# The Python package (python/, README "Python"): build/venv is a virtual
# environment over Debian's python3 (PEP 668: no pip into the system) with
# --system-site-packages, so Debian's numpy, pytest and h5py are seen; lmz
# is pip-installed there, linked against build/liblmz.a. Use it with
# build/venv/bin/python (or source build/venv/bin/activate).
py=/usr/bin/python3
[[ -x $py ]] || py=python3
[[ -x build/venv/bin/python ]] || "$py" -m venv --system-site-packages build/venv
LMZ_BUILD_DIR=$PWD/build build/venv/bin/pip install -q --no-build-isolation --no-deps \
  --force-reinstall ./python
echo "setup: installed the lmz Python package into build/venv" >&2
