#!/usr/bin/env bash
# gpu-run.sh MODE[:SECONDS]...: several scripts/gpu-check.sh modes in one
# device call (one machine start instead of one per mode), in order, each
# with its own budget (LMZ_GPU_CHECK_BUDGET=SECONDS when given).
#
# $OUT brings back at most 8 files, and each mode writes up to 7, so each
# mode writes into its own folder outside $OUT; at the end $OUT gets:
#   summary.txt   every mode's gpu-check-summary.txt, in order
#   logs.tar.gz   every mode's logs
#   *.lmzm        models a mode left in its folder (the train mode), at
#                 most 5
# Exit status: 1 if any mode failed, else 0. A mode that fails does not stop
# the next ones (each is independent; the build is shared and incremental).
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: $0 MODE[:SECONDS]..." >&2; exit 2; }
out=${OUT:-build-gpu/gpu-run}
work=$(mktemp -d /tmp/gpu-run.XXXXXX)
mkdir -p "$out"
rc=0
for spec in "$@"; do
    mode=${spec%%:*}
    secs=
    [ "$spec" != "$mode" ] && secs=${spec#*:}
    mkdir -p "$work/$mode"
    echo "##### gpu-check $mode${secs:+ (budget $secs s)}"
    env OUT="$work/$mode" ${secs:+LMZ_GPU_CHECK_BUDGET=$secs} bash scripts/gpu-check.sh "$mode" || rc=1
    { echo "##### $mode"; cat "$work/$mode/gpu-check-summary.txt" 2>/dev/null; } >>"$out/summary.txt"
done
tar -czf "$out/logs.tar.gz" -C "$work" . 2>/dev/null
find "$work" -name '*.lmzm' | head -5 | while read -r f; do cp "$f" "$out/"; done
echo "##### all modes"
cat "$out/summary.txt"
exit $rc
