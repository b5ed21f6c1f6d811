#!/usr/bin/env bash
# gpu-check.sh: everything lmz checks on a GPU machine, in one call of under
# 9 minutes, each part under its own `timeout`:
#   1. build (CUDA on, sm_90 + PTX) against the libraries carried in
#      .carry/root.tar.xz (made here by scripts/gpu-carry.sh: the GPU machine
#      has nvcc, cuBLAS, CMake and Python, but no HDF5 and no package manager);
#   2. the GPU tests (ctest -L gpu: CUDA tables == CPU tables, decode of
#      CPU-encoded streams, CUDA-encoded == CPU-encoded);
#   3. the CLI: the --device cuda archive byte-identical to --device cpu's,
#      and decompression across devices;
#   4. backend throughput per preset (200k, 800k, 3.2m) on generated data;
#   5. the CLI end to end: compress/decompress MB/s with --device cuda;
# and prints a short table. Logs go to $OUT (the device call's result
# folder) when it is set, else to build-gpu/.
#
# The device call (carry the packed libraries; nothing else is needed):
#   run(command="bash scripts/gpu-check.sh", carry=[".carry/root.tar.xz"], timeout_s=580)
#
# --rehearse: on a machine without a GPU, do part 1 and then the CPU tests
# of that build instead of parts 2-5 (checks that the carried folder alone
# is enough to build and run lmz).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-gpu}
bd=${LMZ_GPU_BUILD:-$top/build-gpu}
log=${OUT:-$bd}
mkdir -p "$bd" "$log"
summary=$log/gpu-check-summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }
part() { echo; echo "=== $* ($(date +%T))"; }
T0=$(date +%s)
BUDGET=${LMZ_GPU_CHECK_BUDGET:-530} # seconds for the whole script (the call allows 600)
# tmo N: a part's timeout, N seconds or what is left of the budget if less
tmo() {
    local rem=$((BUDGET - ($(date +%s) - T0)))
    [ "$rem" -lt 5 ] && rem=5
    echo $(($1 < rem ? $1 : rem))
}

# ---- the carried libraries
R=$top/.carry/root
if [ ! -d "$R/usr/lib" ]; then
    [ -f "$top/.carry/root.tar.xz" ] || { say "FAIL no .carry/root.tar.xz: run scripts/gpu-carry.sh here and carry it"; exit 2; }
    (cd "$top/.carry" && { tar -xJf root.tar.xz 2>/dev/null ||
        python3 -c "import tarfile; tarfile.open('root.tar.xz').extractall('.')"; }) ||
        { say "FAIL cannot unpack .carry/root.tar.xz"; exit 2; }
fi
A=x86_64-linux-gnu
L=$R/usr/lib/$A
mkdir -p "$top/.carry/bin"
cat >"$top/.carry/bin/pkg-config" <<PC
#!/bin/sh
LD_LIBRARY_PATH=$L exec $R/usr/bin/pkgconf "\$@"
PC
chmod +x "$top/.carry/bin/pkg-config"
export PKG_CONFIG_LIBDIR=$L/pkgconfig:$L/openblas-openmp/pkgconfig:$R/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
# at link time (ld finds libhdf5's own dependencies here) and at run time
# (Debian keeps some libraries in /lib: zlib, lzma, bzip2, com_err, keyutils)
export LD_LIBRARY_PATH=$L:$L/hdf5/serial:$L/openblas-openmp:$R/lib/$A${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LIBRARY_PATH=$L:$L/hdf5/serial:$L/openblas-openmp:$R/lib/$A
export PATH=$top/.carry/bin:$PATH

part "machine"
uname -m; ldd --version 2>&1 | head -1
command -v nvcc && nvcc --version | tail -1
command -v cmake && cmake --version | head -1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
nproc

# ---- 1. build
part "1. build"
cuda=ON
[ "$mode" = --rehearse ] && cuda=${LMZ_REHEARSE_CUDA:-ON}
if timeout $(tmo 300) bash -c "
    cmake -S '$top' -B '$bd' -DCMAKE_BUILD_TYPE=Release -DLMZ_CUDA=$cuda \
        -DPKG_CONFIG_EXECUTABLE='$top/.carry/bin/pkg-config' -DCMAKE_PREFIX_PATH='$R/usr' \
        -DCMAKE_C_FLAGS='-I$R/usr/include -I$R/usr/include/$A' >'$log/configure.log' 2>&1 &&
    cmake --build '$bd' -j\$(nproc) >'$log/build.log' 2>&1"; then
    say "ok   build ($(($(date +%s) - T0)) s)"
else
    tail -30 "$log/configure.log" "$log/build.log" 2>/dev/null
    say "FAIL build (logs: configure.log, build.log)"
    exit 1
fi
# HDF5 and the rest must come from the carried root, not from the system
libs=$(grep -E '^(pkgcfg_lib_[A-Za-z0-9_]+|XXHASH_LIBRARY):FILEPATH=' "$bd/CMakeCache.txt" | sed 's/.*=//')
echo "$libs" >>"$log/configure.log"
if echo "$libs" | grep -q 'libhdf5' && [ -z "$(echo "$libs" | grep -v "^$R/")" ]; then
    say "ok   HDF5 and every pkg-config library from the carried root"
else
    say "FAIL libraries not from the carried root: $(echo "$libs" | grep -v "^$R/" | tr '\n' ' ')"
fi
ldd "$bd/lmz" | tee -a "$log/configure.log" | grep -E 'hdf5|xxhash|openblas|cuda|cublas|not found'
echo "libraries from outside the carried root (the base system):" $(ldd "$bd/lmz" | grep '=>' | grep -v "$R" | awk '{print $1}')
ldd "$bd/lmz" | grep -q 'not found' && say "FAIL lmz has unresolved libraries"

if [ "$mode" = --rehearse ]; then
    part "rehearsal: CPU tests of this build"
    # LMZ_REHEARSE_CTEST: extra ctest arguments, e.g. "-R ^(coder|infer)$"
    if timeout 900 ctest --test-dir "$bd" -LE gpu -j"$(nproc)" ${LMZ_REHEARSE_CTEST:-} \
        --output-on-failure >"$log/ctest-cpu.log" 2>&1; then
        say "ok   CPU tests: $(grep -E 'tests passed' "$log/ctest-cpu.log")"
    else
        tail -40 "$log/ctest-cpu.log"
        say "FAIL CPU tests (log: ctest-cpu.log)"
    fi
    cat "$summary"
    exit 0
fi

# ---- 2. GPU tests
part "2. GPU tests"
if timeout $(tmo 120) ctest --test-dir "$bd" -L gpu --output-on-failure >"$log/ctest-gpu.log" 2>&1; then
    say "ok   GPU tests: $(grep -E 'tests passed' "$log/ctest-gpu.log")"
else
    tail -40 "$log/ctest-gpu.log"
    say "FAIL GPU tests (log: ctest-gpu.log)"
fi
grep -E 'Skipped|Not Run' "$log/ctest-gpu.log" && say "WARN GPU tests skipped: no device seen?"

# ---- 3. CLI: the same archive from both devices
part "3. CLI cross-device"
w=$(mktemp -d)
python3 - "$w" <<'PY'
import random, sys
r = random.Random(1)
words = [w.encode() for w in "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will".split()]
def gen(n):
    out = bytearray()
    while len(out) < n:
        out += r.choice(words) + (b"\n" if r.random() < 0.05 else b" ")
    return bytes(out[:n])
open(sys.argv[1] + "/big.txt", "wb").write(gen(32 << 20))
open(sys.argv[1] + "/small.txt", "wb").write(gen(300 << 10))
open(sys.argv[1] + "/mid.txt", "wb").write(gen(4 << 20))
PY
lmz=$bd/lmz
cli() { # name, timeout, command...
    local name=$1 t=$2; shift 2
    local s=$(date +%s.%N)
    if timeout "$(tmo "$t")" "$@" >>"$log/cli.log" 2>&1; then
        echo "$(echo "$(date +%s.%N) - $s" | bc -l 2>/dev/null || python3 -c "print($(date +%s.%N) - $s)")"
    else
        echo FAIL
    fi
}
# the same archive from both devices, and cross-device decompression
ok=1
timeout $(tmo 60) "$lmz" compress -q -f --device cuda -m random-200k -o "$w/s.cuda.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1 || ok=0
timeout $(tmo 90) "$lmz" compress -q -f --device cpu -m random-200k -o "$w/s.cpu.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1 || ok=0
cmp -s "$w/s.cuda.lmz" "$w/s.cpu.lmz" || ok=0
timeout $(tmo 90) "$lmz" decompress -q -f --device cpu -o "$w/s.1" "$w/s.cuda.lmz" >>"$log/cli.log" 2>&1 || ok=0
timeout $(tmo 60) "$lmz" decompress -q -f --device cuda -o "$w/s.2" "$w/s.cpu.lmz" >>"$log/cli.log" 2>&1 || ok=0
cmp -s "$w/small.txt" "$w/s.1" && cmp -s "$w/small.txt" "$w/s.2" || ok=0
[ $ok = 1 ] && say "ok   cli: cuda archive == cpu archive; cross-device decompress" ||
    say "FAIL cli cross-device (log: cli.log)"
# ---- 4. backend throughput per preset
part "4. throughput (backend: model + device range decoder; host range encoder not counted)"
for p in 200k 800k 3.2m; do
    case $p in
    200k) smb=64 dmb=8 ;;
    800k) smb=32 dmb=4 ;;
    3.2m) smb=32 dmb=4 ;;
    esac
    LMZ_CUDA_BENCH=1 LMZ_CUDA_BENCH_PRESETS=$p LMZ_CUDA_BENCH_MB=$smb LMZ_CUDA_BENCH_DEC_MB=$dmb \
        timeout $(tmo 50) "$bd/tests/test_cuda_bench" 2>&1 | tee -a "$log/bench.log" | grep '^bench' >>"$summary" ||
        say "FAIL bench $p (timeout or error; log: bench.log)"
done

# ---- 5. CLI throughput
part "5. CLI throughput"
# compress 32 MiB (--batch 64: 4096 chunks per backend call); decompress
# 4 MiB (lmz decompress hands the backend one block of 64 chunks at a time,
# so this measures the host pipeline's limit, not the GPU's)
for m in random-200k random-3.2m; do
    tc=$(cli "compress $m" 60 "$lmz" compress -q -f --device cuda --batch 64 -m "$m" -o "$w/big.$m.lmz" "$w/big.txt")
    timeout $(tmo 30) "$lmz" compress -q -f --device cuda --batch 64 -m "$m" -o "$w/mid.$m.lmz" "$w/mid.txt" >>"$log/cli.log" 2>&1
    td=$(cli "decompress $m" 90 "$lmz" decompress -q -f --device cuda -o "$w/mid.$m.out" "$w/mid.$m.lmz")
    if [ "$tc" != FAIL ] && [ "$td" != FAIL ] && cmp -s "$w/mid.txt" "$w/mid.$m.out"; then
        say "$(python3 -c "import os; print(f'cli   {\"$m\":12s} compress 32 MiB {32*1.048576/$tc:7.2f} MB/s, decompress 4 MiB {4*1.048576/$td:7.3f} MB/s, ratio {os.path.getsize(\"$w/big.$m.lmz\")/(32<<20):.3f}')")"
    else
        say "FAIL cli $m: compress $tc decompress $td (log: cli.log)"
    fi
done
rm -rf "$w"

part "summary ($(($(date +%s) - T0)) s)"
cat "$summary"
grep -q '^FAIL' "$summary" && exit 1
exit 0
