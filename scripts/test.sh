#!/usr/bin/env bash
# The test command: set up (packages, build), then run every test with ctest.
# GPU tests and tests that need ../shared/data skip (not pass) when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
cd build
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)"
