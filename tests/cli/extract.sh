#!/usr/bin/env bash
# extract of blocks, ranges and members equals the same slice of the input,
# also when another block is damaged.
source "$(dirname "$0")/lib/common.bash"
M="-m random-tiny -q"
"$SAMPLE" random-tiny 200000 11 a.bin 3       # coded
head -c 150000 /dev/urandom >b.bin          # stored
cat a.bin b.bin >all.bin
expect_ok "compress" "$LMZ" compress $M --block-chunks 8 a.bin b.bin -o x.lmz   # 16 KB blocks
BS=16384
slice() { dd if=all.bin bs=1 skip=$1 count=$2 status=none; }

for blk in 0 3 12 21; do
  expect_ok "extract block $blk" "$LMZ" extract $M x.lmz --block $blk -o blk$blk.out
  slice $((blk * BS)) $BS >blk$blk.want
  same "block $blk" blk$blk.want blk$blk.out
done
for r in 0:1 5:2048 2047:3 16383:2 100000:120000 349999:1 1234:0; do
  off=${r%%:*}; len=${r##*:}
  "$LMZ" extract $M x.lmz --range $r -c >r.out 2>err.log || fail "extract --range $r: $(cat err.log)"
  slice $off $len >r.want
  same "range $r" r.want r.out
done
expect_ok "extract member a.bin" "$LMZ" extract $M x.lmz --member a.bin -o ma.out
same "member a.bin" a.bin ma.out
expect_ok "extract member b.bin" "$LMZ" extract $M x.lmz --member b.bin -o mb.out
same "member b.bin" b.bin mb.out
expect_fail "no such block" "block 9999 does not exist" "$LMZ" extract $M x.lmz --block 9999 -o z.out
expect_fail "range past end" "outside" "$LMZ" extract $M x.lmz --range 349999:5 -o z.out
expect_fail "no such member" "no member named" "$LMZ" extract $M x.lmz --member nope -o z.out
[[ -e z.out ]] && fail "output left after failed extract"

# Damage block 2; blocks 1 and 3 still extract, block 2 is named.
cp x.lmz d.lmz
off2=$("$LMZ" list -v d.lmz | awk '$1 == 2 {print $4}')
"$CORRUPT" d.lmz payload $((off2 + 10)) || fail "corrupt tool"
expect_fail "damaged block 2" "block 2" "$LMZ" extract $M d.lmz --block 2 -o d2.out
[[ -e d2.out ]] && fail "partial output left for damaged block"
expect_ok "block 1 despite damage" "$LMZ" extract $M d.lmz --block 1 -o d1.out
slice $BS $BS >d1.want; same "block 1 after damage" d1.want d1.out
expect_ok "block 3 despite damage" "$LMZ" extract $M d.lmz --block 3 -o d3.out
same "block 3 after damage" blk3.want d3.out
expect_ok "member b despite damage in a" "$LMZ" extract $M d.lmz --member b.bin -o db.out
same "member b after damage" b.bin db.out
finish
