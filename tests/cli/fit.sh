#!/usr/bin/env bash
# compress --fit: a model fitted to the input is embedded when it pays for
# itself, the archive decodes without it anywhere else, and a fit that does
# not pay keeps the starting model; bad uses are refused before any training.
source "$(dirname "$0")/lib/common.bash"
# Structured, repetitive text (log-like lines with counters): a fitted model
# learns it quickly. 160 KB.
for i in $(seq 1 2500); do
  printf '2026-12-04 10:%02d:%02d host%d sshd[%d]: Accepted publickey for user%d port %d\n' \
    $((i / 60 % 60)) $((i % 60)) $((i % 7)) $((1000 + i * 13 % 977)) $((i % 5)) $((40000 + i * 31 % 9000))
done >log.txt

# From scratch (a built-in model is noise), the model alone (--codec lm): the
# tiny fitted model wins and is embedded.
expect_ok "compress --fit from scratch" "$LMZ" compress -m random-tiny --codec lm --fit 3 -T 1 --no-progress log.txt -o a.lmz
grep -q "fitted model is embedded" err.log || fail "fit did not embed: $(cat err.log)"
"$LMZ" list a.lmz >list.txt || fail "list"
grep -Eq "^model: +random-tiny\+fit .*embedded" list.txt || fail "list does not show the embedded fitted model: $(grep model: list.txt)"
expect_ok "decompress (the embedded model)" "$LMZ" decompress a.lmz -o out -q
same "round trip" log.txt out
expect_ok "verify --full" "$LMZ" verify --full a.lmz -q
# Without a fit the same input with random-tiny codes far worse.
expect_ok "compress without --fit" "$LMZ" compress -m random-tiny --codec lm -q log.txt -o b.lmz
pa=$("$LMZ" list a.lmz | awk '/^payload:/{print $2}')
pb=$("$LMZ" list b.lmz | awk '/^payload:/{print $2}')
((pa < pb)) && ok "fitted payload $pa < $pb" || fail "fitted payload $pa not below $pb"

# With the fallback (--codec auto), LZMA2/zstd code these lines far better
# than 3 s of fitting can: the fitted model would not pay for itself, so it
# is not embedded.
expect_ok "compress --fit, fallback wins" "$LMZ" compress -m random-tiny --fit 3 -T 1 --no-progress log.txt -o c2.lmz
grep -q "no gain, keeping the starting model" err.log || fail "fit embedded a model the fallback beats: $(cat err.log)"
"$LMZ" list c2.lmz | grep -Eq "^model: +random-tiny .*shipped" || fail "c2.lmz does not name the built-in model"
pc=$("$LMZ" list c2.lmz | awk '/^payload:/{print $2}')
((pc < pa)) && ok "fallback payload $pc < fitted $pa" || fail "fallback payload $pc not below fitted $pa"

# Refusals, each one line, before training.
expect_fail "--fit with --codec zstd" "codes without one" "$LMZ" compress --fit 3 --codec zstd log.txt -o c.lmz
expect_fail "--fit with stdin" "standard input" "$LMZ" compress --fit 3 - -o c.lmz
expect_fail "bad --fit time" "fit wants a time" "$LMZ" compress --fit soon log.txt -o c.lmz
expect_fail "--fit zero" "fit wants a time" "$LMZ" compress --fit 0 log.txt -o c.lmz
expect_fail "--fit on decompress" "fit is an option of compress" "$LMZ" decompress --fit 3 a.lmz
expect_fail "--fit-sample alone" "needs --fit" "$LMZ" compress --fit-sample 1M log.txt -o c.lmz
expect_fail "tiny --fit-sample" "fit-sample wants" "$LMZ" compress --fit 3 --fit-sample 10 log.txt -o c.lmz
expect_fail "existing archive" "already exists" "$LMZ" compress --fit 3 log.txt -o a.lmz
[[ -e c.lmz ]] && fail "archive left behind by a refused --fit"
no_tmp_left .
finish
