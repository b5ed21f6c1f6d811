#!/usr/bin/env bash
# MPI ranks beside threads (docs/mpi.md): compress and decompress one text
# input with the serial lmz at -T 1 and -T 2, and with mpirun -np 1 and
# -np 2 ranks of one thread each (build-mpi/lmz), in one run, so that the
# ratios compare like with like on a shared machine. Writes
# bench/results/mpi.md. Usage: bench/mpi.sh [SERIAL-LMZ [MPI-LMZ [BYTES]]]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
serial=$(readlink -f "${1:-build/lmz}")
mpilmz=$(readlink -f "${2:-build-mpi/lmz}")
bytes=${3:-262144}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# text: the docs and sources, repeated up to the size (kind text, the default model)
cat docs/*.md host/*/*.c README.md >"$work/seed"
while (($(stat -c %s "$work/seed") < bytes)); do cat "$work/seed" "$work/seed" >"$work/s2"; mv "$work/s2" "$work/seed"; done
head -c "$bytes" "$work/seed" >"$work/in.txt"
mpi=(mpirun -q --oversubscribe)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | awk '{printf "%.2f", $1 - $3}'; }
declare -A c d
load0=$(cut -d" " -f1-3 /proc/loadavg)
run() { # NAME THREADS LAUNCHER...
  local name=$1 th=$2; shift 2
  rm -rf "$work/o" "$work/a.lmz"
  c[$name]=$(cd "$work" && t "$@" compress -T "$th" --codec lm --block-chunks 16 -q in.txt -o a.lmz)
  d[$name]=$(cd "$work" && t "$@" decompress -T "$th" -q a.lmz -o o/)
  cmp -s "$work/in.txt" "$work/o/in.txt" || { echo "bench: $name: round trip failed" >&2; exit 1; }
  cp "$work/a.lmz" "$work/$name.lmz"
}
run serial-T1 1 "$serial"
run serial-T2 2 "$serial"
run mpi-np1 1 "${mpi[@]}" -np 1 "$mpilmz"
run mpi-np2 1 "${mpi[@]}" -np 2 "$mpilmz"
cmp -s "$work/serial-T1.lmz" "$work/mpi-np2.lmz" && same=yes || same="no (archives differ as files; contents are compared by tests/mpi/mpi.sh)"
kb() { awk -v b="$bytes" -v s="$1" 'BEGIN{printf "%.1f", b / 1000 / s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
{
  echo "# MPI ranks beside threads"
  echo
  echo "bench/mpi.sh, $(date -u +%Y-%m-%d), $(nproc) cores (shared with other work: noisy),"
  echo "input: $bytes bytes of text (docs and sources), \`--codec lm --block-chunks 16\` (32 KiB blocks: each of"
  echo "2 ranks gets several), the default text model,"
  echo "Open MPI $(mpirun --version 2>/dev/null | head -1 | awk '{print $NF}') on loopback. Wall time of the whole command"
  echo "(mpirun start-up and model loading included). Load average (1, 5, 15 min) at the"
  echo "start: $load0; at the end: $(cut -d" " -f1-3 /proc/loadavg) (other sessions' work on the same 2 cores)."
  echo
  echo "| run | compress s | KB/s | vs serial -T 1 | decompress s | KB/s | vs serial -T 1 |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for n in serial-T1 serial-T2 mpi-np1 mpi-np2; do
    echo "| $n | ${c[$n]} | $(kb "${c[$n]}") | $(ratio "${c[serial-T1]}" "${c[$n]}")x | ${d[$n]} | $(kb "${d[$n]}") | $(ratio "${d[serial-T1]}" "${d[$n]}")x |"
  done
  echo
  echo "Archive file of -np 2 byte-identical to serial -T 1: $same."
} >"$root/bench/results/mpi.md"
cat "$root/bench/results/mpi.md"
