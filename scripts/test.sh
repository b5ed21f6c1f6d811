#!/usr/bin/env bash
# The test command: set up (packages, build), then run every test with ctest,
# twice:
#   1. the Release build in build/;
#   2. a sanitizer build in build-asan/: Debug, CUDA off, AddressSanitizer and
#      UndefinedBehaviorSanitizer with -fno-sanitize-recover=all (any
#      undefined behaviour aborts) and LeakSanitizer on (a leak fails the
#      test; tests/lsan.supp suppresses only HDF5's own leaks on damaged
#      files). LMZ_TEST_QUICK=1 makes the CLI tests use smaller inputs, so
#      that the sanitizer pass (the model runs ~5x slower) fits in CI.
# GPU tests and tests that need ../shared/data skip (not pass) when absent.
# Between them, the MPI build (build-mpi/, scripts/setup.sh --mpi) and its
# tests (ctest -L mpi), skipped with a message if Open MPI cannot be
# installed. LMZ_TEST_NO_SANITIZERS=1 runs only the first pass (and MPI). Extra arguments go to
# cmake as -D options (both builds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
jobs=$(nproc 2>/dev/null || echo 2)
t0=$SECONDS
(cd build && ctest --output-on-failure -j"$jobs")
echo "test: Release pass took $((SECONDS - t0)) s" >&2

# MPI ranks (docs/mpi.md): build-mpi/ (Open MPI, parallel HDF5, only the lmz
# binary) and its ctest label mpi: mpirun -np 1/2/3 on loopback. Skipped,
# with a line saying so, where Open MPI cannot be installed.
# LMZ_TEST_NO_MPI=1 skips it.
if [[ -z ${LMZ_TEST_NO_MPI:-} ]]; then
  t2=$SECONDS
  mpi_rc=0
  mkdir -p build-mpi
  scripts/setup.sh --mpi "$@" >build-mpi/setup.log 2>&1 || mpi_rc=$?
  if ((mpi_rc == 3)); then
    echo "test: SKIP MPI tests: Open MPI / parallel HDF5 could not be installed (build-mpi/setup.log)" >&2
  elif ((mpi_rc)); then
    tail -40 build-mpi/setup.log; echo "test: MPI build failed (build-mpi/setup.log)" >&2; exit 1
  else
    (cd build-mpi && ctest --output-on-failure -L mpi)
    echo "test: MPI pass (build and ctest) took $((SECONDS - t2)) s" >&2
  fi
fi
[[ -n ${LMZ_TEST_NO_SANITIZERS:-} ]] && exit 0

t1=$SECONDS
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O2"
cmake -S . -B build-asan "$@" -DCMAKE_BUILD_TYPE=Debug -DLMZ_CUDA=OFF -DCMAKE_C_FLAGS="$san" >/dev/null
cmake --build build-asan -j"$jobs" >build-asan/build.log 2>&1 ||
  { tail -40 build-asan/build.log; echo "test: sanitizer build failed (build-asan/build.log)" >&2; exit 1; }
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LMZ_TEST_QUICK=1
# the python test (pytest in build/venv) skips here: ASan's runtime and python3 do not mix
export LMZ_TEST_NO_PYTHON=1
(cd build-asan && ctest --output-on-failure -j"$jobs")
echo "test: sanitizer pass (build and ctest) took $((SECONDS - t1)) s" >&2
