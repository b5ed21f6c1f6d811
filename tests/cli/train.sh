#!/usr/bin/env bash
# lmz train through the CLI: a short run on text that always exists (the
# project's own sources), the model it writes compresses and decompresses,
# a checkpoint resumes, and the usual manners (one-line errors, -f).
SRC=${LMZ_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$(dirname "$0")/lib/common.bash"
cat "$SRC"/README.md "$SRC"/docs/*.md "$SRC"/kernels/*.h >text.txt
SMALL="--d-model 32 --layers 1 --heads 2 --d-ff 64 --ctx 256 --ctx-schedule 128:0.5,256 --batch 2048 --lr 3e-3"

expect_ok "train 60 steps" "$LMZ" train text.txt -o small.lmzm $SMALL --steps 60 --val-fraction 0.1 \
  --final-eval 8k --log train.tsv --checkpoint run.ckpt -T 2
if grep -q 'quantization gap' err.log; then ok "reports the quantization gap: $(grep -o 'float.*' err.log)"
else fail "no quantization gap in: $(cat err.log)"; fi
[[ -s small.lmzm ]] && ok "model written" || fail "no model file"
[[ $(head -1 train.tsv | cut -f1,7,8) == $'step\ttrain_bpb\tval_bpb' ]] && ok "log header" || fail "log header: $(head -1 train.tsv)"
[[ $(tail -1 train.tsv | cut -f1) == 60 ]] && ok "log reaches step 60" || fail "log ends: $(tail -1 train.tsv)"

# The trained model predicts this text: it compresses, and comes back.
head -c 60000 text.txt >part.txt
expect_ok "compress with the model" "$LMZ" compress part.txt -m small.lmzm -o part.lmz -q
expect_ok "decompress" "$LMZ" decompress part.lmz -o part.out -q
same "round trip with the trained model" part.txt part.out
payload=$("$LMZ" list part.lmz | awk '/^payload:/ {print $2}')
if [[ -n $payload && $payload -lt 48000 ]]; then ok "payload $payload bytes for 60000"; else fail "payload '$payload' bytes for 60000: no compression"; fi

# Resume: continue the checkpoint to a longer budget.
expect_ok "resume to 80 steps (--device cpu)" "$LMZ" train text.txt -o small2.lmzm --resume run.ckpt --steps 80 --device cpu \
  --val-fraction 0.1 --final-eval 0 --log train.tsv -T 2
[[ $(tail -1 train.tsv | cut -f1) == 80 ]] && ok "resumed log reaches step 80" || fail "log ends: $(tail -1 train.tsv)"

expect_fail "no budget" 'budget' "$LMZ" train text.txt -o x.lmzm
expect_fail "no output" 'model file' "$LMZ" train text.txt --steps 1
expect_fail "no data" 'no training data' "$LMZ" train -o x.lmzm --steps 1
expect_fail "missing data" 'nothere.txt' "$LMZ" train nothere.txt -o x.lmzm --steps 1
expect_fail "unknown preset" 'preset' "$LMZ" train text.txt -o x.lmzm --steps 1 --preset 5g
expect_fail "bad schedule" 'schedule' "$LMZ" train text.txt -o x.lmzm --steps 1 --ctx-schedule 256:0.5,128:0.2,512
expect_fail "existing model without -f" 'exists' "$LMZ" train text.txt -o small.lmzm --steps 1
expect_fail "resume cannot reshape" 'resume' "$LMZ" train text.txt -o x.lmzm --resume run.ckpt --preset 200k
head -c 100 /dev/urandom >bad.ckpt
expect_fail "not a checkpoint" 'checkpoint' "$LMZ" train text.txt -o x.lmzm --resume bad.ckpt
finish
