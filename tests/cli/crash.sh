#!/usr/bin/env bash
# Crash safety: SIGKILL at any moment during compress, decompress or extract
# leaves nothing at the output path (or, if the run had finished, the
# complete output), an existing file there untouched (-f replaces it only
# when the new one is complete), and every member file that does appear is
# complete. The temporary file a killed run leaves is removed by the next
# lmz that writes into that directory, but never one a running lmz holds.
# LMZ_TEST_QUICK=1 (the sanitizer run) uses smaller inputs.
source "$(dirname "$0")/lib/common.bash"
M="-m random-tiny -q -T 1"
if [[ -n ${LMZ_TEST_QUICK:-} ]]; then N=60000 NR=20000; else N=240000 NR=50000; fi
"$SAMPLE" random-tiny $N 21 in.bin 3     # range-coded
head -c $NR /dev/urandom >r.bin          # stored
expect_ok "reference compress" "$LMZ" compress $M in.bin r.bin -o ref.lmz
cat in.bin r.bin >all.bin
TOTAL=$(stat -c %s all.bin)

# kill_at DELAY CMD...: run CMD, SIGKILL it DELAY seconds later.
kill_at() {
  local d=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$d"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
# whole_or_nothing DESC PATH WANT: PATH is absent or equals WANT
whole_or_nothing() {
  if [[ ! -e $2 ]]; then ok "$1: nothing at the output path"
  elif cmp -s "$2" "$3"; then ok "$1: had finished, output complete"
  else fail "$1: partial or wrong output at $2"; fi
}
# kept_or_whole DESC PATH WANT: PATH still says "keep", or equals WANT
kept_or_whole() {
  if grep -qx keep "$2" 2>/dev/null; then ok "$1: existing file untouched"
  elif cmp -s "$2" "$3"; then ok "$1: had finished, existing file replaced whole"
  else fail "$1: existing file damaged"; fi
}
# members_whole DESC DIR: every member file in DIR is complete
members_whole() {
  local f bad=0
  for f in in.bin r.bin; do
    [[ -e $2/$f ]] && ! cmp -s "$2/$f" "$f" && grep -vqx keep "$2/$f" && bad=1
  done
  if ((bad)); then fail "$1: a member file in $2 is partial"; else ok "$1: member files whole"; fi
}

for d in 0 0.01 0.03 0.07 0.15 0.3 0.6 1.2; do
  rm -f new.lmz
  kill_at $d "$LMZ" compress $M in.bin r.bin -o new.lmz
  whole_or_nothing "compress killed at ${d}s" new.lmz ref.lmz
  echo keep >old.lmz
  kill_at $d "$LMZ" compress $M -f in.bin r.bin -o old.lmz
  kept_or_whole "compress -f killed at ${d}s" old.lmz ref.lmz

  rm -rf outd; mkdir -p outk; echo keep >outk/in.bin
  kill_at $d "$LMZ" decompress $M ref.lmz -o outd
  members_whole "decompress killed at ${d}s" outd
  kill_at $d "$LMZ" decompress $M -f ref.lmz -o outk
  members_whole "decompress -f killed at ${d}s" outk
  kept_or_whole "decompress -f killed at ${d}s" outk/in.bin in.bin

  rm -f ext.bin; echo keep >extk.bin
  kill_at $d "$LMZ" extract $M ref.lmz --range 0:$TOTAL -o ext.bin
  whole_or_nothing "extract killed at ${d}s" ext.bin all.bin
  kill_at $d "$LMZ" extract $M -f ref.lmz --range 0:$TOTAL -o extk.bin
  kept_or_whole "extract -f killed at ${d}s" extk.bin all.bin
done

# The killed runs left temporary files (at least the ones killed after
# creating theirs); lmz never reads them, and the next run that writes into
# the directory removes them.
stale=$( (ls -A .; ls -A outd outk 2>/dev/null) | grep -c 'lmz-tmp' || true)
if ((stale > 0)); then ok "killed runs left $stale temporary file(s)"; else fail "no temporary file left by 8 killed runs of each command (kills too late?)"; fi
expect_ok "compress after the kills" "$LMZ" compress $M -f in.bin r.bin -o new.lmz
same "archive after the kills" ref.lmz new.lmz
expect_ok "decompress after the kills" "$LMZ" decompress $M -f ref.lmz -o outd
same "member in.bin after the kills" in.bin outd/in.bin
same "member r.bin after the kills" r.bin outd/r.bin
expect_ok "decompress -f after the kills" "$LMZ" decompress $M -f ref.lmz -o outk
no_tmp_left .
no_tmp_left outd
no_tmp_left outk

# A running lmz's temporary file is not stale: another lmz writing into the
# same directory leaves it alone, and the first one finishes.
mkdir live && cd live
"$LMZ" compress $M ../in.bin ../r.bin -o live.lmz >live.log 2>&1 &
pid=$!
tmpf=""
for _ in $(seq 200); do
  tmpf=$(ls -A | grep '^\.live\.lmz\.lmz-tmp-' | head -1 || true)
  [[ -n $tmpf ]] && break
  sleep 0.02
done
head -c 3000 ../r.bin >small.bin
expect_ok "second compress beside a running one" "$LMZ" compress $M small.bin -o other.lmz
if [[ -z $tmpf ]]; then fail "the running compress's temporary file never appeared"
elif kill -0 $pid 2>/dev/null && [[ ! -e $tmpf ]]; then fail "a running lmz's temporary file was removed"
else ok "a running lmz's temporary file is left alone"; fi
if wait $pid; then ok "the running compress finished"; else fail "the running compress failed: $(cat live.log)"; fi
same "its archive" ../ref.lmz live.lmz
cd ..
finish
