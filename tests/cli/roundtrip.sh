#!/usr/bin/env bash
# Round trips through the CLI: edge sizes, random bytes (stored, not
# expanded), model-sampled bytes (coded), several members, a directory,
# stdin, -c, single-member -o FILE, and a few MB of real text.
source "$(dirname "$0")/lib/common.bash"
M="-m random-tiny -q"
# LMZ_TEST_QUICK (the sanitizer run): smaller random and sampled inputs
if [[ -n ${LMZ_TEST_QUICK:-} ]]; then NR=100000 NS=60000; else NR=400000 NS=300000; fi

rt() { # rt NAME: compress NAME alone, decompress to a file, compare
  local f=$1
  expect_ok "compress $f" "$LMZ" compress $M "$f" -o "$f.lmz"
  expect_ok "decompress $f" "$LMZ" decompress $M "$f.lmz" -o "$f.out"
  same "round trip $f" "$f" "$f.out"
}

: >empty.bin; rt empty.bin
head -c 1 /dev/urandom >one.bin; rt one.bin
for n in 2047 2048 2049 131072 131073; do head -c $n /dev/urandom >r$n.bin; rt r$n.bin; done

# Random bytes are stored: at most a few bytes per block of growth.
head -c $NR /dev/urandom >random.bin
rt random.bin
payload=$("$LMZ" list random.bin.lmz | awk '/^payload:/ {print $2}')
blocks=$("$LMZ" list random.bin.lmz | awk '/^chunks:/ {print $7}')
if [[ -n $payload && $payload -le $((NR + 4 * blocks)) ]]; then ok "random: payload $payload for $NR raw, $blocks blocks"
else fail "random: payload $payload for $NR raw bytes ($blocks blocks)"; fi

# Bytes sampled from the model itself compress: the coded path.
"$SAMPLE" random-tiny $NS 7 sampled.bin 3
rt sampled.bin
payload=$("$LMZ" list sampled.bin.lmz | awk '/^payload:/ {print $2}')
if [[ $payload -lt $((NS * 9 / 10)) ]]; then ok "sampled: coded to $payload bytes"; else fail "sampled: payload $payload not below 90% of $NS"; fi
expect_ok "verify --full sampled" "$LMZ" verify --full $M sampled.bin.lmz

# Several members and a directory tree (empty file included).
mkdir -p tree/a/b tree/c
cp r2049.bin tree/a/b/x.bin; cp sampled.bin tree/c/s.bin; : >tree/empty; echo hello >tree/a/h.txt
expect_ok "compress -r tree + file" "$LMZ" compress $M -r tree one.bin -o tree.lmz
mkdir outdir
expect_ok "decompress tree" "$LMZ" decompress $M tree.lmz -o outdir
for f in tree/a/b/x.bin tree/c/s.bin tree/empty tree/a/h.txt one.bin; do same "member $f" "$f" "outdir/$f"; done
expect_fail "directory without -r" "is a directory" "$LMZ" compress $M tree -o nodir.lmz
[[ -e nodir.lmz ]] && fail "archive left after failed compress"

# stdin in, stdout out.
expect_ok "compress stdin" bash -c "cat sampled.bin | '$LMZ' compress $M - -o stdin.lmz"
"$LMZ" decompress $M -c stdin.lmz >stdin.out 2>err.log || fail "decompress -c"
same "stdin round trip" sampled.bin stdin.out
"$LMZ" decompress $M -c tree.lmz >tree.cat 2>err.log || fail "decompress -c tree"
cat tree/a/b/x.bin tree/a/h.txt tree/c/s.bin tree/empty one.bin >tree.expect
same "-c concatenates members in order" tree.expect tree.cat

# A few MB of real text (300 KB with LMZ_TEST_QUICK, the sanitizer run).
if [[ -n $DATA && -r $DATA/text/enwiki-dev.xml ]]; then
  head -c "$([[ -n ${LMZ_TEST_QUICK:-} ]] && echo 300000 || echo 3000000)" "$DATA/text/enwiki-dev.xml" >wiki.xml
  rt wiki.xml
else
  echo "skip: no shared data for the real-text round trip"
fi
finish
