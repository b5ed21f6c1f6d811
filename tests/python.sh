#!/usr/bin/env bash
# The Python package (python/, issue 15) as a user gets it: `pip install
# ./python` into BUILD/venv (a virtual environment over Debian's python3
# with --system-site-packages, so python3-numpy, python3-pytest and
# python3-h5py are seen), linked against this build's liblmz.a, then its
# pytest suite. Usage: tests/python.sh BUILD_DIR SOURCE_DIR
# Skips (77) in a sanitizer build (the ASan runtime and an unsanitized
# python3 do not mix), without python3-venv/numpy/pytest, or with
# LMZ_TEST_NO_PYTHON=1.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
skip() { echo "python: skipped: $*" >&2; exit 77; }
[[ -z ${LMZ_TEST_NO_PYTHON:-} ]] || skip "LMZ_TEST_NO_PYTHON is set"
grep -qE '^CMAKE_C_FLAGS:STRING=.*-fsanitize' "$build/CMakeCache.txt" 2>/dev/null &&
  skip "sanitizer build"
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3 || true)
[[ -n $py ]] || skip "no python3"
venv=$build/venv
if [[ ! -x $venv/bin/python ]]; then
  "$py" -m venv --system-site-packages "$venv" >/dev/null 2>&1 || skip "python3 -m venv failed (python3-venv)"
fi
"$venv/bin/python" -c 'import numpy, pytest' 2>/dev/null || skip "numpy or pytest missing (python3-numpy python3-pytest)"
# --no-build-isolation: setuptools of the system, nothing downloaded
LMZ_BUILD_DIR=$build "$venv/bin/pip" install -q --no-build-isolation --no-deps --force-reinstall \
  "$src/python" >"$build/python-install.log" 2>&1 || { cat "$build/python-install.log"; exit 1; }
cd "$src/python/tests"
export LMZ_BUILD_DIR=$build
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs .
