#!/usr/bin/env bash
# MPI ranks (docs/mpi.md): mpirun -np 1/2/3 on loopback against the serial
# path of the same binary. Usage: mpi.sh BUILD-MPI/lmz BUILD-MPI/tests/lmz_corrupt
# Every mpirun runs under timeout, so a hang fails instead of stalling.
source "$(dirname "$0")/../cli/lib/common.bash"

command -v mpirun >/dev/null || { echo "SKIP: no mpirun (scripts/setup.sh --mpi installs Open MPI)"; exit 77; }
command -v h5dump >/dev/null || { echo "SKIP: no h5dump (hdf5-tools)"; exit 77; }
MPI=(mpirun -q --oversubscribe)
[[ $(id -u) -eq 0 ]] && MPI+=(--allow-run-as-root)
# Open MPI's shared-memory transport needs ptrace rights some containers
# lack; loopback over self and TCP always works.
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo
mpi() { local n=$1; shift; timeout 120 "${MPI[@]}" -np "$n" "$LMZ" "$@"; }

M=(-m random-200k -T 1 -q)
# /payload and /index as raw bytes (h5dump -b: the dataset's contents only)
dump() { h5dump -d "/$2" -b LE -o "$1.$2.bin" "$1" >/dev/null 2>&1 || echo "h5dump failed on $1" >"$1.$2.bin"; }
same_contents() { # DESC SERIAL MPI
  local ds
  for ds in payload index members member_names; do
    dump "$2" "$ds"; dump "$3" "$ds"
    if cmp -s "$2.$ds.bin" "$3.$ds.bin"; then :; else fail "$1: /$ds differs"; return; fi
  done
  # the attributes too (h5dump -A: attributes and dataset types; line 1 names the file)
  if ! cmp -s <(h5dump -A "$2" | tail -n +2) <(h5dump -A "$3" | tail -n +2); then
    fail "$1: attributes differ"; return
  fi
  ok "$1: /payload, /index, /members and attributes identical to serial"
}

# inputs: text in two members; 4 KB blocks (2 chunks) so 3 ranks get several
head -c 30000 "$LMZ_SOURCE_DIR/docs/format.md" >a.txt
head -c 9000 "$LMZ_SOURCE_DIR/README.md" >b.txt
printf 'tiny\n' >tiny.txt
: >empty.txt
head -c 2500000 /dev/urandom >rnd.bin

"$LMZ" compress "${M[@]}" --codec lm --block-chunks 2 a.txt b.txt -o s_lm.lmz
"$LMZ" compress "${M[@]}" --block-chunks 2 a.txt b.txt -o s_auto.lmz
"$LMZ" compress "${M[@]}" --codec zstd rnd.bin a.txt -o s_big.lmz
"$LMZ" compress "${M[@]}" tiny.txt -o s_tiny.lmz
"$LMZ" compress "${M[@]}" empty.txt -o s_empty.lmz

for n in 1 2 3; do
  expect_ok "compress -np $n (lm)" mpi $n compress "${M[@]}" --codec lm --block-chunks 2 a.txt b.txt -o m${n}_lm.lmz
  same_contents "-np $n lm" s_lm.lmz m${n}_lm.lmz
done
expect_ok "compress -np 3 (auto)" mpi 3 compress "${M[@]}" --block-chunks 2 a.txt b.txt -o m3_auto.lmz
same_contents "-np 3 auto (model and classical blocks)" s_auto.lmz m3_auto.lmz
expect_ok "compress -np 2 (2.5 MB: chunked /payload)" mpi 2 compress "${M[@]}" --codec zstd rnd.bin a.txt -o m2_big.lmz
same_contents "-np 2 chunked payload" s_big.lmz m2_big.lmz
# fewer blocks than ranks: one block, no blocks
expect_ok "compress -np 3, one block" mpi 3 compress "${M[@]}" tiny.txt -o m3_tiny.lmz
same_contents "-np 3 one block" s_tiny.lmz m3_tiny.lmz
expect_ok "compress -np 2, empty input" mpi 2 compress "${M[@]}" empty.txt -o m2_empty.lmz
same_contents "-np 2 empty input" s_empty.lmz m2_empty.lmz

# round trips and extracts by ranks
for n in 1 2 3; do
  rm -rf out$n
  expect_ok "decompress -np $n" mpi $n decompress "${M[@]}" m3_lm.lmz -o out$n
  same "round trip -np $n a.txt" a.txt out$n/a.txt
  same "round trip -np $n b.txt" b.txt out$n/b.txt
done
rm -rf outt && expect_ok "decompress -np 3, one block" mpi 3 decompress "${M[@]}" m3_tiny.lmz -o outt/
same "round trip -np 3 one block" tiny.txt outt/tiny.txt
rm -rf oute && expect_ok "decompress -np 2, empty" mpi 2 decompress "${M[@]}" m2_empty.lmz -o oute/
same "round trip -np 2 empty" empty.txt oute/empty.txt
expect_ok "decompress -np 2, chunked payload" mpi 2 decompress "${M[@]}" m2_big.lmz -o outb
same "round trip -np 2 rnd.bin" rnd.bin outb/rnd.bin
expect_ok "extract --member -np 3" mpi 3 extract "${M[@]}" m3_lm.lmz --member b.txt -o ex_b.txt
same "extract --member by 3 ranks" b.txt ex_b.txt
expect_ok "extract --range -np 3" mpi 3 extract "${M[@]}" m3_lm.lmz --range 5000:29000 -o ex_r.bin
tail -c +5001 a.txt | head -c 25000 >want_r.bin; tail -c +1 b.txt | head -c 4000 >>want_r.bin
same "extract --range by 3 ranks" want_r.bin ex_r.bin
expect_ok "extract --block -np 2" mpi 2 extract "${M[@]}" m3_lm.lmz --block 1 -o ex_blk.bin
head -c 8192 a.txt | tail -c 4096 >want_blk.bin
same "extract --block by 2 ranks" want_blk.bin ex_blk.bin
expect_ok "verify --full -np 3" mpi 3 verify "${M[@]}" --full m3_lm.lmz
expect_ok "decompress -c -np 2 (rank 0 alone)" bash -c "$(declare -f mpi); MPI=(${MPI[*]}); LMZ=$LMZ; mpi 2 decompress -m random-200k -T 1 -q -c m3_lm.lmz >cat.out"
cat a.txt b.txt >want_cat.bin
same "decompress -c by rank 0" want_cat.bin cat.out

# failures: one line naming the rank, exit 1, nothing partial left
cp m3_lm.lmz bad.lmz
# the last payload byte: the last block's, which rank 2 of 3 decodes
dump m3_lm.lmz payload
"$CORRUPT" bad.lmz payload $(($(stat -c %s m3_lm.lmz.payload.bin) - 1)) >/dev/null
mkdir -p outbad
expect_fail "decompress -np 3, damaged block" '^lmz decompress: rank 2: bad.lmz: block [0-9]+: payload checksum mismatch$' mpi 3 decompress "${M[@]}" bad.lmz -o outbad
if ls -A outbad | grep -q .; then fail "decompress of a damaged archive left: $(ls -A outbad)"; else ok "no output left by the failed decompress"; fi
expect_fail "verify -np 3, damaged block" '^lmz verify: rank 2: 1 of [0-9]+ blocks damaged' mpi 3 verify "${M[@]}" bad.lmz
expect_fail "compress -np 2, missing input" '^lmz compress: rank 0: nothere.txt' mpi 2 compress "${M[@]}" nothere.txt -o nothere.lmz
[[ -e nothere.lmz ]] && fail "an archive was left for a missing input" || ok "no archive for a missing input"
cp m3_lm.lmz keep.lmz
expect_fail "compress -np 2 onto an existing archive" 'rank 0: keep.lmz: already exists \(use -f to overwrite\)$' mpi 2 compress "${M[@]}" a.txt -o keep.lmz
same "existing archive untouched" m3_lm.lmz keep.lmz
expect_fail "compress -np 2 from stdin" 'rank 0: .*standard input' bash -c "$(declare -f mpi); MPI=(${MPI[*]}); LMZ=$LMZ; mpi 2 compress -m random-200k -T 1 -q - -o stdin.lmz </dev/null"
no_tmp_left .

# a killed rank: the job ends (no hang), no archive appears
head -c 120000 "$LMZ_SOURCE_DIR/docs/format.md" >big.txt
while [[ $(stat -c %s big.txt) -lt 120000 ]]; do cat big.txt big.txt | head -c 120000 >big2.txt; mv big2.txt big.txt; done
"${MPI[@]}" -np 2 "$LMZ" compress "${M[@]}" --codec lm big.txt -o killed.lmz >kill.log 2>&1 &
mpid=$!
victim=""
for _ in $(seq 100); do
  victim=$(pgrep -P "$mpid" -f "lmz compress" | tail -1 || true)
  [[ -n $victim ]] && break
  sleep 0.1
done
sleep 1
[[ -n $victim ]] && kill -9 "$victim"
end=$((SECONDS + 60))
while kill -0 "$mpid" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
if kill -0 "$mpid" 2>/dev/null; then
  fail "mpirun still running 60 s after a rank was killed"; kill -9 "$mpid"
else
  wait "$mpid"; rc=$?
  if [[ -z $victim ]]; then fail "found no rank to kill"
  elif ((rc == 0)); then fail "mpirun exited 0 after a rank was killed"
  else ok "a killed rank ends the job (mpirun exit $rc)"; fi
fi
[[ -e killed.lmz ]] && fail "killed.lmz appeared" || ok "no archive after a killed rank"
finish
