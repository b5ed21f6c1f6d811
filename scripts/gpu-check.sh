#!/usr/bin/env bash
# gpu-check.sh: lmz's checks on a GPU machine (the device tool's `run`),
# in short calls that print every result as soon as it is known and keep a
# summary in $OUT/gpu-check-summary.txt (or build-gpu/gpu-check-logs/).
#
# The GPU machine has nvcc, cuBLAS, CMake and Python but no HDF5 and no
# package manager: the libraries travel as .carry/root.tar.xz (made here by
# scripts/gpu-carry.sh). Their folders go into LD_LIBRARY_PATH only on the
# command lines of lmz's own binaries, never globally: the machine's own
# cmake and python must not load the carried libssl, libz, libzstd...
#
# Modes (the first argument; docs/cuda.md has the device calls):
#   quick      (default; the first call, about 4 minutes) 1. build (CUDA
#              with -lineinfo, only the binaries the checks run); 2. the
#              GPU tests (tests/test_cuda_infer, a line per model); when a
#              model fails, it is rerun at once with LMZ_CUDA_SYNC=1, which
#              names the first failing kernel and its launch site; 3. bench
#              of 200k and 3.2m (score 8 MB, decode 1 MB then up to 16 MB,
#              each phase capped at 15 s), every figure judged against its
#              target; 4. the CLI: --device cuda archive == --device cpu's,
#              decompression across devices.
#   sync       the GPU tests again, every launch checked (LMZ_CUDA_SYNC=1;
#              LMZ_CUDA_TEST_ONLY=substring picks models), then a smoke
#              bench with checks. For the rerun after a failure.
#   full       (after quick passed; about 5 minutes) bench of 200k, 800k
#              and 3.2m with larger inputs (64 MB score, decode 1 MB then
#              up to 64 MB, 15 s per phase), each followed by its kernel
#              profile (LMZ_CUDA_PROFILE: device time per kernel), the CLI
#              checks and the CLI's own throughput. The GPU tests are
#              quick's.
#   cli        the CLI alone (after quick passed; about 2 minutes): the
#              cross-device checks and the CLI's own throughput (full's
#              steps 4 and 5).
#   v2         (about 170 s) the version 2 score path (docs/cuda.md,
#              "Version 2 score path"): build only tests/test_cuda_v2; run
#              it (fast, naive and mma kernels against
#              lmz_v2_forward_chunk, a line per model and variant; on a
#              failure, the first failing model again with LMZ_CUDA_SYNC=1
#              to name the kernel); then the v2 score bench with a kernel
#              profile for 200k and 3.2m of each variant that passed among
#              mma (phase v2mma, int8 tensor-core attention) and fast
#              (phase v2score), each judged against the targets (200k >= 60
#              MB/s, 3.2m >= 30).
#   memcheck   compute-sanitizer memcheck of test_cuda_infer on the models
#              matching LMZ_CUDA_TEST_ONLY (default "random tiny random").
#   train      (about 9 minutes) the GPU trainer: 1. build lmz and
#              test_cuda_train; 2. test_cuda_train (GPU loss and gradients
#              against the CPU's, tensor by tensor, and 20 steps of both
#              trainers); when it fails, it is rerun at once with
#              LMZ_CUDA_SYNC=1 (names the first failing kernel) and the mode
#              stops; 3. `lmz train --device cuda` of 800k and 3.2m for
#              LMZ_GPU_TRAIN_S seconds each (default 120) on the carried
#              corpus (.carry/corpus/{train,val}.txt.xz, made by
#              scripts/gpu-corpus.sh), reporting tokens/s, steps and the
#              validation bpb; the models come back in $OUT.
#   --rehearse no GPU (this development machine): everything that can run
#              without one: the build from the carried libraries alone, the
#              GPU tests, tests/test_cuda_v2 and the bench (which must skip:
#              exit 77), the
#              parsing and judging of their output on canned lines, the
#              CLI (--device cuda refused, CPU round trip), and the CPU
#              tests of that build (LMZ_REHEARSE_CTEST: extra ctest
#              arguments, e.g. "-R ^(coder|infer)$"); also the train mode's
#              test (must skip), its refusal of --device cuda and the
#              parsing of its training lines.
# Environment: LMZ_GPU_BUILD (build folder, default build-gpu),
# LMZ_GPU_CHECK_BUDGET (seconds for the whole script; default per mode),
# LMZ_GPU_CHECK_JOBS (build jobs, default nproc).
#
# Exit status: 0 when nothing FAILed (a MISSed target is not a failure),
# 1 otherwise, 2 when it could not start.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-quick}
case $mode in
quick) budget=260 ;;
sync | memcheck) budget=280 ;;
cli) budget=150 ;;
full) budget=330 ;;
v2) budget=200 ;;
train) budget=560 ;;
--rehearse) budget=3000 ;;
*)
    echo "usage: $0 [quick|sync|full|cli|v2|train|memcheck|--rehearse]" >&2
    exit 2
    ;;
esac
BUDGET=${LMZ_GPU_CHECK_BUDGET:-$budget}
bd=${LMZ_GPU_BUILD:-$top/build-gpu}
log=${OUT:-$bd/gpu-check-logs} # $OUT brings at most 8 files back: we write 7
mkdir -p "$bd" "$log"
summary=$log/gpu-check-summary.txt
: >"$summary"
T0=$(date +%s)
# On the shared development machine the rehearsal must not slow anyone.
NICE=
[ "$mode" = --rehearse ] && NICE="nice -n 15"

say() { echo "$*" | tee -a "$summary"; }
part() { echo; echo "=== $* (t+$(($(date +%s) - T0)) s)"; }
# tmo N: a step's timeout, N seconds or what is left of the budget if less
left() { echo $((BUDGET - ($(date +%s) - T0))); }
tmo() {
    local rem
    rem=$(left)
    [ "$rem" -lt 5 ] && rem=5
    echo $(($1 < rem ? $1 : rem))
}
# line-buffered output of lmz's binaries even into a pipe (they also call
# setvbuf themselves)
SB=
command -v stdbuf >/dev/null && SB="stdbuf -oL -eL"

rev=$(git rev-parse --short HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null || rev="$rev+changes"; }
say "gpu-check $mode: $(date -u +%FT%TZ)${rev:+, commit $rev}"

# ---- the carried libraries
R=$top/.carry/root
A=x86_64-linux-gnu
L=$R/usr/lib/$A
if [ ! -d "$L" ]; then
    [ -f "$top/.carry/root.tar.xz" ] || {
        say "FAIL no .carry/root.tar.xz: run scripts/gpu-carry.sh here and carry it"
        exit 2
    }
    (cd "$top/.carry" && { tar -xJf root.tar.xz 2>/dev/null ||
        python3 -c "import tarfile; tarfile.open('root.tar.xz').extractall('.')"; }) || {
        say "FAIL cannot unpack .carry/root.tar.xz"
        exit 2
    }
fi
# Where lmz's binaries find their libraries (Debian keeps some in /lib:
# zlib, lzma, bzip2, com_err, keyutils). Only ever set on their command lines.
LIBS=$L:$L/hdf5/serial:$L/openblas-openmp:$R/lib/$A
mkdir -p "$top/.carry/bin"
cat >"$top/.carry/bin/pkg-config" <<PC
#!/bin/sh
LD_LIBRARY_PATH=$L exec $R/usr/bin/pkgconf "\$@"
PC
chmod +x "$top/.carry/bin/pkg-config"
# run_bin CMD...: one of lmz's binaries, with the carried libraries
run_bin() { env LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }

part "machine"
{
    uname -m
    ldd --version 2>&1 | head -1
    nproc
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi / no GPU"
} | tee -a "$log/build.log"
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -n "$nvcc" ]; then
    say "info nvcc $nvcc: $("$nvcc" --version | tail -2 | head -1)"
    cuda=ON
elif [ "$mode" = --rehearse ]; then
    say "info no nvcc: the rehearsal builds without CUDA"
    cuda=OFF
else
    say "FAIL no nvcc on PATH nor in /usr/local/cuda/bin"
    exit 2
fi
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
say "info GPU: ${gpu:-none seen by nvidia-smi}"

# ---- 1. build
part "1. build"
# -lineinfo: compute-sanitizer and error reports give source lines of the
# kernels. Linking needs libhdf5's own dependencies: -rpath-link, not
# LD_LIBRARY_PATH (the build runs the machine's cmake).
RL="-Wl,-rpath-link,$LIBS"
targets="--target lmz test_cuda_infer test_cuda_bench"
[ "$mode" = --rehearse ] && targets=
[ "$mode" = v2 ] && targets="--target test_cuda_v2"
[ "$mode" = train ] && targets="--target lmz test_cuda_train"
jobs=${LMZ_GPU_CHECK_JOBS:-$(nproc)}
tb=$(date +%s)
if timeout "$(tmo 200)" env \
    PKG_CONFIG_LIBDIR="$L/pkgconfig:$L/openblas-openmp/pkgconfig:$R/usr/share/pkgconfig" \
    PKG_CONFIG_SYSROOT_DIR="$R" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
    cmake -S "$top" -B "$bd" -DCMAKE_BUILD_TYPE=Release -DLMZ_CUDA=$cuda \
    ${nvcc:+-DCMAKE_CUDA_COMPILER="$nvcc"} -DCMAKE_CUDA_FLAGS=-lineinfo \
    -DPKG_CONFIG_EXECUTABLE="$top/.carry/bin/pkg-config" -DCMAKE_PREFIX_PATH="$R/usr" \
    -DCMAKE_C_FLAGS="-I$R/usr/include -I$R/usr/include/$A" \
    -DCMAKE_EXE_LINKER_FLAGS="$RL" -DCMAKE_SHARED_LINKER_FLAGS="$RL" \
    >>"$log/build.log" 2>&1 &&
    timeout "$(tmo 240)" env LIBRARY_PATH="$LIBS" $NICE cmake --build "$bd" -j"$jobs" $targets \
        >>"$log/build.log" 2>&1; then
    say "ok   build ($(($(date +%s) - tb)) s; CUDA $cuda, -lineinfo)"
else
    tail -30 "$log/build.log"
    say "FAIL build (log: build.log)"
    exit 1
fi
# HDF5 and the rest must come from the carried root, not from the system
libs=$(grep -E '^(pkgcfg_lib_[A-Za-z0-9_]+|XXHASH_LIBRARY):FILEPATH=' "$bd/CMakeCache.txt" | sed 's/.*=//')
echo "$libs" >>"$log/build.log"
if echo "$libs" | grep -q 'libhdf5' && [ -z "$(echo "$libs" | grep -v "^$R/")" ]; then
    say "ok   HDF5 and every pkg-config library from the carried root"
else
    say "FAIL libraries not from the carried root: $(echo "$libs" | grep -v "^$R/" | tr '\n' ' ')"
fi
[ "$mode" != v2 ] && run_bin ldd "$bd/lmz" >>"$log/build.log" 2>&1
if [ "$mode" = v2 ]; then
    say "info mode v2 builds no lmz binary: its checks are skipped"
elif run_bin ldd "$bd/lmz" | grep -q 'not found'; then
    say "FAIL lmz has unresolved libraries: $(run_bin ldd "$bd/lmz" | grep 'not found' | tr -s ' \n' ' ')"
else
    say "ok   lmz resolves every library (from the system: $(run_bin ldd "$bd/lmz" | grep '=>' | grep -v "$R" | awk '{print $1}' | tr '\n' ' '))"
fi
# lmz itself runs (the carried libraries load)
if [ "$mode" = v2 ]; then
    :
elif run_bin "$bd/lmz" --version >>"$log/build.log" 2>&1; then
    say "ok   lmz --version runs"
else
    say "FAIL lmz --version (log: build.log)"
fi

# ---- 2. GPU tests
# The test binaries are run directly (ctest would hold their output until
# they end), from the build's tests folder with ctest's environment.
tests_env=(LMZ_SOURCE_DIR="$top" LMZ_DATA_DIR="$top/../shared/data")
# infer_run LOGFILE TIMEOUT [VAR=VALUE...]: test_cuda_infer, its lines shown
# as they come; sets $rc
infer_run() {
    local lf=$1 t=$2
    shift 2
    (cd "$bd/tests" && timeout "$t" env "${tests_env[@]}" "$@" \
        LD_LIBRARY_PATH="$LIBS" $SB ./test_cuda_infer) 2>&1 | tee "$lf"
    rc=${PIPESTATUS[0]}
}
# the first model that failed in an infer log ("NAME   FAIL  (..."), and the
# model a run was in when it stopped ("> NAME" without its result line)
first_failed() { sed -n 's/^\(.*[^ ]\) *FAIL  (.*/\1/p' "$1" | head -1; }
last_started() { sed -n 's/^> //p' "$1" | tail -1; }
# the line of a log that names a failing kernel (lmz_cuda_finish's message)
kernel_line() { grep -E 'kernel .* failed|launching k_|cuda: .*(score|decode):' "$1" | head -1; }

gpu_tests() { # $1: extra VAR=VALUE for the run (LMZ_CUDA_SYNC=1)
    local lf=$log/infer.log
    [ $# -gt 0 ] && lf=$log/infer-sync.log
    part "2. GPU tests ($(basename "$lf"))"
    local t0
    t0=$(date +%s)
    infer_run "$lf" "$(tmo "${INFER_T:-120}")" "$@"
    local dt=$(($(date +%s) - t0))
    case $rc in
    0) say "ok   GPU tests: every table, (cum, freq) and stream equal to the CPU's ($dt s)" ;;
    77)
        if [ "$mode" = --rehearse ]; then
            say "ok   GPU tests skipped without a device (exit 77), as they must"
        else
            say "FAIL GPU tests skipped: the binary saw no CUDA device (exit 77)"
        fi
        ;;
    124 | 137) say "FAIL GPU tests timed out after $dt s, in model '$(last_started "$lf")' (log: $(basename "$lf"))" ;;
    *)
        say "FAIL GPU tests (exit $rc, $dt s): first failing model '$(first_failed "$lf")'; $(grep -c ' FAIL  (' "$lf") models failed (log: $(basename "$lf"))"
        local k
        k=$(kernel_line "$lf")
        [ -n "$k" ] && say "info   $k"
        ;;
    esac
}

# The failure rerun: the first failing model alone, every launch checked.
sync_rerun() {
    local m
    m=$(first_failed "$log/infer.log")
    [ -z "$m" ] && return
    if [ "$(left)" -lt 90 ]; then
        say "SKIP sync rerun of '$m' (budget: $(left) s left): run mode sync next"
        return
    fi
    part "2b. rerun of '$m' with LMZ_CUDA_SYNC=1 (every launch checked)"
    INFER_T=90 gpu_tests LMZ_CUDA_SYNC=1 LMZ_CUDA_TEST_ONLY="$m"
    local k
    k=$(kernel_line "$log/infer-sync.log")
    [ -n "$k" ] && say "info first failing kernel: $k" ||
        say "info no kernel failed with per-launch checks: the difference is in the results (tables differ, see infer-sync.log)"
}

# ---- 3. bench, every figure judged against its target (MB/s; compress =
# the backend's score, decompress = its decode with the device range decoder)
target() { # preset phase -> MB/s, or nothing
    case $1/$2 in
    200k/score) echo 60 ;;
    200k/decode) echo 6 ;;
    3.2m/score) echo 30 ;;
    3.2m/decode) echo 1.5 ;;
    esac
}
# judge "bench PRESET PHASE RUN RATE MB/s ..." -> the line with pass/MISS
judge() {
    local line=$1 p ph rate t
    read -r _ p ph _ rate _ <<<"$line"
    t=$(target "$p" "$ph")
    if [ -z "$t" ]; then
        echo "$line  [no target]"
    elif awk -v r="$rate" -v t="$t" 'BEGIN { exit !(r + 0 >= t + 0) }'; then
        echo "$line  [pass: target >= $t MB/s]"
    else
        echo "$line  [MISS: target >= $t MB/s]"
    fi
}
# bench_preset PRESET SCORE_MB DEC_MB DEC_MAX_MB PHASE_S [VAR=VALUE...]
bench_preset() {
    local p=$1 smb=$2 dmb=$3 dmax=$4 ph=$5
    shift 5
    local t
    t=$(tmo $((2 * ph + 30)))
    if [ "$t" -lt 20 ]; then
        say "SKIP bench $p (budget: $(left) s left)"
        return
    fi
    local fifo_rc
    (cd "$bd/tests" && timeout "$t" env "${tests_env[@]}" LMZ_CUDA_BENCH=1 LMZ_CUDA_BENCH_PRESETS="$p" \
        LMZ_CUDA_BENCH_MB="$smb" LMZ_CUDA_BENCH_DEC_MB="$dmb" LMZ_CUDA_BENCH_DEC_MAX_MB="$dmax" \
        LMZ_CUDA_BENCH_PHASE_S="$ph" "$@" LD_LIBRARY_PATH="$LIBS" $SB ./test_cuda_bench) 2>&1 |
        tee -a "$log/bench.log" | bench_lines
    fifo_rc=${PIPESTATUS[0]}
    case $fifo_rc in
    0) ;;
    77) [ "$mode" = --rehearse ] && say "ok   bench $p skipped without a device (exit 77)" ||
        say "FAIL bench $p skipped: no CUDA device seen" ;;
    124 | 137) say "FAIL bench $p timed out after $t s (its lines so far are above)" ;;
    *) say "FAIL bench $p (exit $fifo_rc; log: bench.log)" ;;
    esac
}
# bench_lines: judge each figure line as it arrives; other lines pass through
bench_lines() {
    local line
    while IFS= read -r line; do
        case $line in
        "bench "*" MB/s "*) say "$(judge "$line")" ;;
        "profile "*) say "$line" ;;
        *FAILED* | *"main skipped"*) say "$line" ;;
        *) echo "$line" ;;
        esac
    done
}
# per preset and phase, the best figure of the summary against its target
verdicts() {
    local p ph best t
    for p in "$@"; do
        for ph in score decode; do
            t=$(target "$p" "$ph")
            best=$(awk -v p="$p" -v ph="$ph" '$1 == "bench" && $2 == p && $3 == ph && $6 == "MB/s" {
                if ($5 + 0 > b) b = $5 + 0; n++ } END { if (n) printf "%.3f", b }' "$summary")
            local name=compress
            [ $ph = decode ] && name=decompress
            if [ -z "$best" ]; then
                say "target $p $name: no figure"
            elif [ -z "$t" ]; then
                say "target $p $name: $best MB/s (no target)"
            elif awk -v r="$best" -v t="$t" 'BEGIN { exit !(r + 0 >= t + 0) }'; then
                say "target $p $name: $best MB/s >= $t: pass"
            else
                say "target $p $name: $best MB/s < $t: MISS"
            fi
        done
    done
}

# ---- 4. the CLI: the same archive from both devices
cli_checks() {
    part "4. CLI cross-device"
    local w lmz=$bd/lmz ok=1
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
open(sys.argv[1] + "/small.txt", "wb").write(gen(300 << 10))
if len(sys.argv) > 2:
    open(sys.argv[1] + "/big.txt", "wb").write(gen(32 << 20))
    open(sys.argv[1] + "/mid.txt", "wb").write(gen(4 << 20))
PY
    if [ "$mode" = --rehearse ]; then
        # without a device: --device cuda must be refused with a clear message
        if run_bin "$lmz" compress -q -f --device cuda -m random-200k -o "$w/s.cuda.lmz" "$w/small.txt" \
            >"$w/msg" 2>&1; then
            say "FAIL cli: --device cuda succeeded without a device"
        else
            say "ok   cli: --device cuda refused without a device: $(head -1 "$w/msg")"
        fi
        if timeout "$(tmo 300)" env LD_LIBRARY_PATH="$LIBS" $NICE "$lmz" compress -q -f --device cpu \
            -m random-200k -o "$w/s.cpu.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1 &&
            timeout "$(tmo 300)" env LD_LIBRARY_PATH="$LIBS" $NICE "$lmz" decompress -q -f --device cpu \
                -o "$w/s.1" "$w/s.cpu.lmz" >>"$log/cli.log" 2>&1 && cmp -s "$w/small.txt" "$w/s.1"; then
            say "ok   cli: --device cpu round trip"
        else
            say "FAIL cli: --device cpu round trip (log: cli.log)"
        fi
        rm -rf "$w"
        return
    fi
    timeout "$(tmo 60)" env LD_LIBRARY_PATH="$LIBS" "$lmz" compress -q -f --device cuda -m random-200k -o "$w/s.cuda.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1 || ok=0
    timeout "$(tmo 90)" env LD_LIBRARY_PATH="$LIBS" "$lmz" compress -q -f --device cpu -m random-200k -o "$w/s.cpu.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1 || ok=0
    cmp -s "$w/s.cuda.lmz" "$w/s.cpu.lmz" || ok=0
    timeout "$(tmo 90)" env LD_LIBRARY_PATH="$LIBS" "$lmz" decompress -q -f --device cpu -o "$w/s.1" "$w/s.cuda.lmz" >>"$log/cli.log" 2>&1 || ok=0
    timeout "$(tmo 60)" env LD_LIBRARY_PATH="$LIBS" "$lmz" decompress -q -f --device cuda -o "$w/s.2" "$w/s.cpu.lmz" >>"$log/cli.log" 2>&1 || ok=0
    { cmp -s "$w/small.txt" "$w/s.1" && cmp -s "$w/small.txt" "$w/s.2"; } || ok=0
    [ $ok = 1 ] && say "ok   cli: cuda archive == cpu archive; cross-device decompress" ||
        say "FAIL cli cross-device (log: cli.log; rerun it with LMZ_CUDA_SYNC=1 to name a failing kernel)"
    # --device auto takes the GPU when there is one: the same archive, and
    # the time shows which device ran (each 300 KB compress, timed)
    local ta tc tp
    ta=$(date +%s.%N)
    timeout "$(tmo 60)" env LD_LIBRARY_PATH="$LIBS" "$lmz" compress -q -f --device auto -m random-200k -o "$w/s.auto.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1
    tc=$(date +%s.%N)
    timeout "$(tmo 60)" env LD_LIBRARY_PATH="$LIBS" "$lmz" compress -q -f --device cuda -m random-200k -o "$w/s.cuda.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1
    tp=$(date +%s.%N)
    timeout "$(tmo 90)" env LD_LIBRARY_PATH="$LIBS" LMZ_CUDA_AUTO=0 "$lmz" compress -q -f --device auto -m random-200k -o "$w/s.cpu.lmz" "$w/small.txt" >>"$log/cli.log" 2>&1
    local times
    times=$(python3 -c "import sys; a,c,p,e=map(float,sys.argv[1:]); print(f'auto {c-a:.2f} s, cuda {p-c:.2f} s, auto with LMZ_CUDA_AUTO=0 {e-p:.2f} s')" "$ta" "$tc" "$tp" "$(date +%s.%N)")
    if cmp -s "$w/s.auto.lmz" "$w/s.cuda.lmz" && cmp -s "$w/s.auto.lmz" "$w/s.cpu.lmz"; then
        say "ok   cli: --device auto archive == cuda's == cpu's ($times)"
    else
        say "FAIL cli: --device auto archive differs ($times)"
    fi
    rm -rf "$w"
}

# ---- 5. the CLI's own throughput (full mode)
cli_throughput() {
    part "5. CLI throughput"
    local w lmz=$bd/lmz m s tc td
    w=$(mktemp -d)
    python3 -c "
import random, sys
r = random.Random(1)
words = [w.encode() for w in 'the of and to in a is that for it as was with be by on not he this are or his from at which but have'.split()]
out = bytearray()
while len(out) < (32 << 20):
    out += r.choice(words) + (b'\n' if r.random() < 0.05 else b' ')
open('$w/big.txt', 'wb').write(out[:32 << 20])
open('$w/mid.txt', 'wb').write(out[:4 << 20])"
    # compress 32 MiB (--batch 64: 4096 chunks per backend call); decompress
    # 4 MiB (lmz decompress hands the backend --batch blocks per call).
    # --codec lm: every block by the model (a random model loses to LZMA2 and
    # zstd, so with the default auto the decompressor would time those).
    # baselines in this run, one thread each, on the first 4 MiB of the same text
    local b
    for b in "gzip -9" "xz -6 -T1" "zstd -19 -T1"; do
        command -v ${b%% *} >/dev/null || continue
        s=$(date +%s.%N)
        $b -c "$w/mid.txt" >"$w/mid.base"
        tc=$(python3 -c "print($(date +%s.%N) - $s)")
        say "base $b compress 4 MiB: $(python3 -c "print(f'{4 * 1.048576 / $tc:.2f}')") MB/s, $(python3 -c "print(f'{100 * $(stat -c %s "$w/mid.base") / (4 << 20):.1f}')")% of the input"
    done
    for m in random-200k random-3.2m; do
        s=$(date +%s.%N)
        if timeout "$(tmo 60)" env LD_LIBRARY_PATH="$LIBS" "$lmz" compress -q -f --device cuda --batch 64 -m $m \
            --codec lm -o "$w/big.$m.lmz" "$w/big.txt" >>"$log/cli.log" 2>&1; then
            tc=$(python3 -c "print($(date +%s.%N) - $s)")
            say "cli  $m compress 32 MiB: $(python3 -c "print(f'{32 * 1.048576 / $tc:.2f}')") MB/s (with the host's range coder and archive)"
        else
            say "FAIL cli $m compress (log: cli.log)"
            continue
        fi
        timeout "$(tmo 30)" env LD_LIBRARY_PATH="$LIBS" "$lmz" compress -q -f --device cuda --batch 64 -m $m \
            --codec lm -o "$w/mid.$m.lmz" "$w/mid.txt" >>"$log/cli.log" 2>&1
        s=$(date +%s.%N)
        if timeout "$(tmo 90)" env LD_LIBRARY_PATH="$LIBS" "$lmz" decompress -q -f --device cuda --batch 64 \
            -o "$w/mid.$m.out" "$w/mid.$m.lmz" >>"$log/cli.log" 2>&1 && cmp -s "$w/mid.txt" "$w/mid.$m.out"; then
            td=$(python3 -c "print($(date +%s.%N) - $s)")
            say "cli  $m decompress 4 MiB: $(python3 -c "print(f'{4 * 1.048576 / $td:.3f}')") MB/s"
        else
            say "FAIL cli $m decompress (log: cli.log)"
        fi
    done
    rm -rf "$w"
}

# ---- rehearsal only: the parsing and judging on canned lines
rehearse_parsing() {
    part "rehearsal: parsing and judging on canned output"
    local c=$log/canned.tmp ok=1 out
    printf '%s\n' '> random tiny random bytes' 'random tiny random bytes     ok    (0.4 s; 0 failures so far)' \
        '> random 200k text' 'random 200k text: lmz_cuda_score failed (status 1): cuda: score: kernel k_attend_full (cuda_attention.cu:229, launch 7 of this call) failed: an illegal memory access was encountered' \
        'random 200k text             FAIL  (1.2 s; 1 failures so far)' '> extreme 0 wide' >"$c"
    [ "$(first_failed "$c")" = "random 200k text" ] || { ok=0; echo "first_failed: '$(first_failed "$c")'"; }
    [ "$(last_started "$c")" = "extreme 0 wide" ] || { ok=0; echo "last_started: '$(last_started "$c")'"; }
    case $(kernel_line "$c") in *"kernel k_attend_full (cuda_attention.cu:229"*) ;; *) ok=0; echo "kernel_line: '$(kernel_line "$c")'" ;; esac
    out=$(judge "bench 200k   score  probe      61.000 MB/s (1.00 MB, 0.016 s, 488 chunks)")
    case $out in *"[pass: target >= 60 MB/s]") ;; *) ok=0; echo "judge: $out" ;; esac
    out=$(judge "bench 3.2m   decode main        1.400 MB/s (16.00 MB, 11.4 s, 7812 chunks)  roundtrip ok")
    case $out in *"[MISS: target >= 1.5 MB/s]") ;; *) ok=0; echo "judge: $out" ;; esac
    out=$(judge "bench 800k   score  main       99.000 MB/s (8.00 MB, 0.08 s, 3906 chunks)")
    case $out in *"[no target]") ;; *) ok=0; echo "judge: $out" ;; esac
    rm -f "$c"
    [ $ok = 1 ] && say "ok   rehearsal: failing model, hung model, kernel line and pass/MISS parsed from canned lines" ||
        say "FAIL rehearsal: parsing (see above)"
}

# ---- version 2 score path (mode v2, and its skip in --rehearse)
# v2_test [VAR=VALUE...]: tests/test_cuda_v2, its lines shown as they come
# (log v2.log, or v2-sync.log with extra variables); sets $rc
v2_test() {
    local lf=$log/v2.log t0 dt
    [ $# -gt 0 ] && lf=$log/v2-sync.log
    part "v2. GPU test of the version 2 score path ($(basename "$lf"))"
    t0=$(date +%s)
    (cd "$bd/tests" && timeout "$(tmo "${V2_T:-90}")" env "${tests_env[@]}" "$@" \
        LD_LIBRARY_PATH="$LIBS" $SB ./test_cuda_v2) 2>&1 | tee "$lf"
    rc=${PIPESTATUS[0]}
    dt=$(($(date +%s) - t0))
    case $rc in
    0) say "ok   v2: every table and (cum, freq) of the fast, naive and mma kernels equal to lmz_v2_forward_chunk ($dt s)" ;;
    77)
        if [ "$mode" = --rehearse ]; then
            say "ok   v2 test skipped without a device (exit 77), as it must"
        else
            say "FAIL v2 test skipped: the binary saw no CUDA device (exit 77)"
        fi
        ;;
    124 | 137) say "FAIL v2 test timed out after $dt s, in '$(last_started "$lf")' (log: $(basename "$lf"))" ;;
    *)
        say "FAIL v2 test (exit $rc, $dt s): first failing '$(first_failed "$lf")'; $(grep -c ' FAIL  (' "$lf") model/variant lines failed (log: $(basename "$lf"))"
        grep ' FAIL  (' "$lf" | head -12 | while IFS= read -r l; do say "info   $l"; done
        local k
        k=$(kernel_line "$lf")
        [ -n "$k" ] && say "info   $k"
        ;;
    esac
}
# v2_verdicts PRESET...: per phase (v2score: the fast kernels, v2mma: the
# tensor-core attention), the best figure of the summary against the score
# target
v2_verdicts() {
    local p ph best t
    for p in "$@"; do
        t=$(target "$p" score)
        for ph in v2score v2mma; do
            best=$(awk -v p="$p" -v ph="$ph" '$1 == "bench" && $2 == p && $3 == ph && $6 == "MB/s" {
                if ($5 + 0 > b) b = $5 + 0; n++ } END { if (n) printf "%.3f", b }' "$summary")
            if [ -z "$best" ]; then
                say "target $p $ph compress: no figure"
            elif awk -v r="$best" -v t="$t" 'BEGIN { exit !(r + 0 >= t + 0) }'; then
                say "target $p $ph compress: $best MB/s >= $t: pass"
            else
                say "target $p $ph compress: $best MB/s < $t: MISS"
            fi
        done
    done
}
# v2_bench_variants LOG: the bench variants (mma first: the one the bench
# is for; then fast) with an ok line and no FAIL line in the test log,
# except that fast's FAIL lines after mma's first one do not count (a
# faulting kernel poisons the process's later device work); "mma fast"
# without a log
v2_bench_variants() {
    [ -f "$1" ] || { echo "mma fast"; return; }
    awk '/ \/ (fast|naive|mma)/ {
            v = $0; sub(/.* \/ /, "", v); sub(/[ ].*/, "", v)
            if ($0 ~ / FAIL  \(/) { if (v == "mma") mf = 1; if (v == "fast" && !mf) bad["fast"] = 1; if (v == "mma") bad["mma"] = 1 }
            else if ($0 ~ / ok    \(/) ok[v] = 1 }
         END { o = ""; if (ok["mma"] && !bad["mma"]) o = "mma"
               if (ok["fast"] && !bad["fast"]) o = o (o == "" ? "" : " ") "fast"
               print o }' "$1"
}
v2_checks() {
    V2_T=90 v2_test
    local m k p t
    if [ "$rc" != 0 ]; then
        m=$(first_failed "$log/v2.log" | sed 's| / .*||')
        if [ -n "$m" ] && [ "$(left)" -ge 40 ]; then
            V2_T=35 v2_test LMZ_CUDA_SYNC=1 LMZ_CUDA_TEST_ONLY="$m"
            k=$(kernel_line "$log/v2-sync.log")
            [ -n "$k" ] && say "info first failing kernel: $k" ||
                say "info no kernel failed with per-launch checks: the tables differ (see v2-sync.log)"
        fi
    fi
    local vars
    vars=$(v2_bench_variants "$log/v2.log")
    part "v2. bench of the v2 score (8 MB text-like, 10 s per preset and variant: ${vars:-none}) and kernel profiles (64 chunks)"
    if [ -z "$vars" ]; then
        say "SKIP v2 bench: neither mma nor fast passed the test"
        v2_verdicts 200k 3.2m
        return
    fi
    for p in 200k 3.2m; do
        t=$(tmo 55)
        if [ "$t" -lt 15 ]; then
            say "SKIP v2 bench $p (budget: $(left) s left)"
            continue
        fi
        (cd "$bd/tests" && timeout "$t" env "${tests_env[@]}" LMZ_CUDA_BENCH=1 LMZ_CUDA_BENCH_PRESETS="$p" \
            LMZ_CUDA_BENCH_VARIANTS="$vars" LMZ_CUDA_BENCH_MB=8 LMZ_CUDA_BENCH_PHASE_S=10 LMZ_CUDA_PROFILE=64 \
            LD_LIBRARY_PATH="$LIBS" $SB ./test_cuda_v2) 2>&1 | tee -a "$log/v2-bench.log" |
            while IFS= read -r l; do
                case $l in
                "bench "*" v2score "*" MB/s "* | "bench "*" v2mma "*" MB/s "*)
                    local tg
                    tg=$(target "$p" score)
                    if awk -v r="$(echo "$l" | awk '{print $5}')" -v t="$tg" 'BEGIN { exit !(r + 0 >= t + 0) }'; then
                        say "$l  [pass: target >= $tg MB/s]"
                    else
                        say "$l  [MISS: target >= $tg MB/s]"
                    fi
                    ;;
                "profile "* | *FAILED* | *"main skipped"*) say "$l" ;;
                *) echo "$l" ;;
                esac
            done
        local brc=${PIPESTATUS[0]}
        case $brc in
        0) ;;
        77) say "FAIL v2 bench $p skipped: no CUDA device seen" ;;
        124 | 137) say "FAIL v2 bench $p timed out after $t s (its lines so far are above)" ;;
        *) say "FAIL v2 bench $p (exit $brc; log: v2-bench.log)" ;;
        esac
    done
    v2_verdicts 200k 3.2m
}

# ---- the GPU trainer (mode train)
# train_test [VAR=VALUE...]: test_cuda_train, its lines shown as they come
# (one per check), into cuda-train.log (cuda-train-sync.log with
# LMZ_CUDA_SYNC=1); sets $rc
train_test() {
    local lf=$log/cuda-train.log t=${TRAIN_TEST_T:-200}
    [ $# -gt 0 ] && lf=$log/cuda-train-sync.log
    part "2. GPU trainer test ($(basename "$lf"))"
    local t0
    t0=$(date +%s)
    (cd "$bd/tests" && timeout "$(tmo "$t")" env "${tests_env[@]}" "$@" \
        LD_LIBRARY_PATH="$LIBS" $SB ./test_cuda_train) 2>&1 | tee "$lf"
    rc=${PIPESTATUS[0]}
    local dt=$(($(date +%s) - t0))
    case $rc in
    0) say "ok   GPU trainer test: loss and every gradient tensor as the CPU's; 20 steps track the CPU ($dt s)" ;;
    77)
        if [ "$mode" = --rehearse ]; then
            say "ok   GPU trainer test skipped without a device (exit 77), as it must"
        else
            say "FAIL GPU trainer test skipped: the binary saw no CUDA device (exit 77)"
        fi
        ;;
    124 | 137) say "FAIL GPU trainer test timed out after $dt s; last line: $(tail -1 "$lf")" ;;
    *)
        say "FAIL GPU trainer test (exit $rc, $dt s): $(grep -c 'FAIL' "$lf") failing lines; first: $(grep -m1 'FAIL' "$lf")"
        local k
        k=$(train_kernel_line "$lf")
        [ -n "$k" ] && say "info   $k"
        ;;
    esac
}
# the line naming a failing kernel or GEMM (tr_cuda_launch.cu's message)
train_kernel_line() { grep -m1 -E 'train \(cuda\): .*\((tr_cuda_[a-z]+\.cu):[0-9]+, launch' "$1"; }
# train_parse ERRFILE: "steps S, tokens/s R, val float F bpb, integer I bpb"
# from lmz train's summary lines
train_parse() {
    local f=$1 steps rate fl in
    steps=$(sed -n 's/^train: \([0-9]*\) steps, .*/\1/p' "$f" | tail -1)
    rate=$(sed -n 's/^train: .* s (\([0-9.]*\) tokens\/s at the end).*/\1/p' "$f" | tail -1)
    fl=$(sed -n 's/^train: validation (.*): float \([0-9.]*\) bpb, integer .*/\1/p' "$f" | tail -1)
    in=$(sed -n 's/^train: validation (.*): float .* bpb, integer \([0-9.]*\) bpb.*/\1/p' "$f" | tail -1)
    echo "steps ${steps:-?}, ${rate:-?} tokens/s, validation float ${fl:-?} bpb, integer ${in:-?} bpb"
}
# the carried corpus, unpacked once into $1 (train.txt, val.txt)
train_corpus() {
    local w=$1 c=$top/.carry/corpus k
    for k in train val; do
        [ -s "$w/$k.txt" ] && continue
        [ -f "$c/$k.txt.xz" ] || { say "FAIL no $c/$k.txt.xz: run scripts/gpu-corpus.sh CORPUS_DIR here and carry .carry"; return 1; }
        if command -v xz >/dev/null; then
            xz -dc "$c/$k.txt.xz" >"$w/$k.txt" || return 1
        else
            python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
                "$c/$k.txt.xz" "$w/$k.txt" || return 1
        fi
    done
}
# train_preset PRESET LR: lmz train --device cuda for LMZ_GPU_TRAIN_S seconds,
# the text-general recipe's schedule (scripts/train-default-models.sh) with
# its learning rate at twice the CLI's default for the width
train_preset() {
    local p=$1 lr=$2 w=$3 secs=${LMZ_GPU_TRAIN_S:-120}
    local t
    t=$(tmo $((secs + 90)))
    if [ "$t" -lt $((secs / 2 + 30)) ]; then
        say "SKIP train $p (budget: $(left) s left)"
        return
    fi
    part "3. lmz train --device cuda --preset $p (${secs} s)"
    local err=$w/train-$p.err t0
    t0=$(date +%s)
    timeout "$t" env LD_LIBRARY_PATH="$LIBS" ${TRAIN_ENV:-} "$bd/lmz" train "$w/train.txt" --val "$w/val.txt" \
        --device cuda --preset "$p" --time "$secs" --lr "$lr" --ctx-schedule 256:0.6,1024:0.85,2048 \
        --seed 1 --eval-every 200 --eval-bytes 64k --final-eval 1M --no-progress \
        --log "$w/train-$p.tsv" -f -o "$log/gpu-$p.lmzm" 2>"$err"
    local r=$? dt=$(($(date +%s) - t0))
    { echo "=== $p (exit $r, $dt s)"; cat "$err"; echo "--- log"; cat "$w/train-$p.tsv" 2>/dev/null; } >>"$log/train.log"
    if [ $r = 0 ]; then
        say "ok   train $p on cuda: $(train_parse "$err") ($dt s)"
    else
        say "FAIL train $p on cuda (exit $r, $dt s): $(tail -1 "$err") (log: train.log)"
    fi
}
train_mode() {
    TRAIN_TEST_T=200 train_test
    if [ "$rc" != 0 ]; then
        if [ "$(left)" -ge 60 ]; then
            part "2b. rerun with LMZ_CUDA_SYNC=1 (every launch checked)"
            TRAIN_TEST_T=150 train_test LMZ_CUDA_SYNC=1
            local k
            k=$(train_kernel_line "$log/cuda-train-sync.log")
            [ -n "$k" ] && say "info first failing kernel: $k" ||
                say "info no kernel failed with per-launch checks: the difference is in the results (see cuda-train-sync.log)"
        fi
        say "info the trainer runs are skipped after a failed test"
        return
    fi
    local w
    w=$(mktemp -d)
    if train_corpus "$w"; then
        say "info corpus: $(stat -c %s "$w/train.txt") training bytes, $(stat -c %s "$w/val.txt") validation"
        train_preset 800k 1e-2 "$w"
        train_preset 3.2m 5e-3 "$w"
    fi
    rm -rf "$w"
}
# rehearsal only: the train mode's parsing on canned lines and its refusal
rehearse_train() {
    part "rehearsal: the train mode"
    local c=$log/canned.tmp ok=1 out
    printf '%s\n' 'train: d 128, 4 layers, 4 heads, ff 512, ctx 2048 (800000 parameters); 1 training bytes' \
        'train: validation (1048576 bytes): float 2.1234 bpb, integer 2.1301 bpb (quantization gap +0.32%)' \
        'train: 512 steps, 8388608 tokens in 120 s (91234 tokens/s at the end); wrote m.lmzm (m, hash 00)' >"$c"
    out=$(train_parse "$c")
    [ "$out" = "steps 512, 91234 tokens/s, validation float 2.1234 bpb, integer 2.1301 bpb" ] || { ok=0; echo "train_parse: '$out'"; }
    printf '%s\n' '200k T=64 B=6 micro=0 FAIL: train (cuda): k_softmax_fwd (tr_cuda_rows.cu:371, launch 12): an illegal memory access was encountered' >"$c"
    case $(train_kernel_line "$c") in *"k_softmax_fwd (tr_cuda_rows.cu:371"*) ;; *) ok=0; echo "train_kernel_line: '$(train_kernel_line "$c")'" ;; esac
    rm -f "$c"
    [ $ok = 1 ] && say "ok   rehearsal: training summary and failing kernel parsed from canned lines" ||
        say "FAIL rehearsal: train parsing (see above)"
    local w
    w=$(mktemp -d)
    head -c 20000 "$top/README.md" >"$w/t.txt"
    if run_bin "$bd/lmz" train "$w/t.txt" -o "$w/t.lmzm" --steps 1 --device cuda >"$w/msg" 2>&1; then
        say "FAIL train --device cuda succeeded without a device"
    elif [ "$(wc -l <"$w/msg")" = 1 ] && grep -q '^lmz train: --device cuda: ' "$w/msg"; then
        say "ok   train --device cuda refused in one line: $(cat "$w/msg")"
    else
        say "FAIL train --device cuda: not one clear line: $(head -3 "$w/msg" | tr '\n' ' ')"
    fi
    if [ -f "$top/.carry/corpus/train.txt.xz" ] && train_corpus "$w"; then
        say "ok   carried corpus unpacks: $(stat -c %s "$w/train.txt") training bytes, $(stat -c %s "$w/val.txt") validation"
    else
        say "info no carried corpus here (.carry/corpus): scripts/gpu-corpus.sh makes it"
    fi
    rm -rf "$w"
}

# ---- the modes
case $mode in
quick)
    # the tests get what the build left, less 100 s for the bench and the CLI
    t=$(($(left) - 100))
    INFER_T=$((t > 130 ? 130 : t < 30 ? 30 : t)) gpu_tests
    sync_rerun
    part "3. bench (score 8 MB, decode 1 MB then up to 16 MB, 15 s per phase)"
    for p in 200k 3.2m; do bench_preset $p 8 1 16 15; done
    verdicts 200k 3.2m
    if [ "$(left)" -ge 40 ]; then cli_checks; else say "SKIP cli checks (budget: $(left) s left)"; fi
    ;;
sync)
    INFER_T=200 gpu_tests LMZ_CUDA_SYNC=1 ${LMZ_CUDA_TEST_ONLY:+LMZ_CUDA_TEST_ONLY="$LMZ_CUDA_TEST_ONLY"}
    part "3. bench smoke with per-launch checks"
    bench_preset 200k 0.5 0.25 0 10 LMZ_CUDA_SYNC=1
    ;;
full)
    # each preset's bench is followed by its kernel profile (256 chunks
    # scored, 64 decoded, every kernel timed: where the device time goes)
    part "3. bench (score 64 MB, decode 1 MB then up to 64 MB, 15 s per phase) and kernel profiles"
    for p in 200k 800k 3.2m; do bench_preset $p 64 1 64 15 LMZ_CUDA_PROFILE=256; done
    verdicts 200k 800k 3.2m
    cli_checks
    if [ "$(left)" -ge 90 ]; then cli_throughput; else say "SKIP cli throughput (budget: $(left) s left)"; fi
    ;;
cli)
    cli_checks
    cli_throughput
    ;;
train)
    train_mode
    ;;
memcheck)
    part "2. compute-sanitizer memcheck"
    only=${LMZ_CUDA_TEST_ONLY:-random tiny random}
    cs=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    (cd "$bd/tests" && timeout "$(tmo 240)" env "${tests_env[@]}" LMZ_CUDA_TEST_ONLY="$only" \
        LD_LIBRARY_PATH="$LIBS" "$cs" --tool memcheck --leak-check no --error-exitcode 99 \
        ./test_cuda_infer) 2>&1 | tee "$log/memcheck.log" | grep -E '^(>|=========.*(Invalid|Address|at |by thread|ERROR SUMMARY))|FAIL|ok  ' | head -60
    rc=${PIPESTATUS[0]}
    case $rc in
    0) say "ok   memcheck of '$only': no errors" ;;
    99) say "FAIL memcheck of '$only': $(grep -m1 -E '^=========  *(Invalid|Out of bounds|Address)' "$log/memcheck.log")" ;;
    124 | 137) say "FAIL memcheck of '$only' timed out (log: memcheck.log)" ;;
    *) say "FAIL memcheck of '$only' (exit $rc; log: memcheck.log)" ;;
    esac
    ;;
v2)
    v2_checks
    ;;
--rehearse)
    INFER_T=60 gpu_tests
    V2_T=60 v2_test
    INFER_T=60 gpu_tests LMZ_CUDA_SYNC=1 LMZ_CUDA_TEST_ONLY="random tiny"
    part "3. bench (must skip)"
    bench_preset 200k 8 1 16 15
    rehearse_parsing
    TRAIN_TEST_T=60 train_test
    rehearse_train
    cli_checks
    part "rehearsal: CPU tests of this build"
    # ctest itself sees the carried libraries here, unlike on the GPU
    # machine: this is the Debian machine they come from (the same files).
    if timeout "$(tmo 2400)" env LD_LIBRARY_PATH="$LIBS" $NICE ctest --test-dir "$bd" -LE gpu -j"$jobs" ${LMZ_REHEARSE_CTEST:-} \
        --output-on-failure >"$log/ctest-cpu.log" 2>&1; then
        say "ok   CPU tests: $(grep -E 'tests passed' "$log/ctest-cpu.log")"
    else
        tail -40 "$log/ctest-cpu.log"
        say "FAIL CPU tests: $(grep -E 'tests passed|tests failed' "$log/ctest-cpu.log") (log: ctest-cpu.log)"
    fi
    ;;
esac

part "summary ($(($(date +%s) - T0)) s)"
cat "$summary"
grep -q '^FAIL' "$summary" && exit 1
exit 0
