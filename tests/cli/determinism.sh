#!/usr/bin/env bash
# The same input and model give the same archive bytes whatever -T or the
# batch size, and compressing twice gives the same file.
source "$(dirname "$0")/lib/common.bash"
# LMZ_TEST_QUICK (the sanitizer run): smaller inputs
if [[ -n ${LMZ_TEST_QUICK:-} ]]; then NS=40000 NR=20000; else NS=150000 NR=70000; fi
"$SAMPLE" random-tiny $NS 5 s.bin 3
head -c $NR /dev/urandom >r.bin
expect_ok "-T 1" "$LMZ" compress -q -m random-tiny -T 1 s.bin r.bin -o t1.lmz
expect_ok "-T 2" "$LMZ" compress -q -m random-tiny -T 2 s.bin r.bin -o t2.lmz
expect_ok "-T 2 --batch 1" "$LMZ" compress -q -m random-tiny -T 2 --batch 1 s.bin r.bin -o b1.lmz
expect_ok "-T 1 --batch 3 again" "$LMZ" compress -q -m random-tiny -T 1 --batch 3 s.bin r.bin -o b3.lmz
same "archive bytes -T 1 vs -T 2" t1.lmz t2.lmz
same "archive bytes batch 1 vs default" t1.lmz b1.lmz
same "archive bytes batch 3 vs default" t1.lmz b3.lmz
expect_ok "decode -T 1" "$LMZ" decompress -q -m random-tiny -T 1 -c t1.lmz
cat s.bin r.bin >all.bin
same "decoded -T 1" all.bin out.log
expect_ok "decode -T 2" "$LMZ" decompress -q -m random-tiny -T 2 -c t1.lmz
same "decoded -T 2" all.bin out.log
finish
