# Shared by the CLI tests: $1 is the lmz binary, $2 the lmz_sample tool (its
# directory also holds lmz_corrupt). Each test runs in a fresh temp dir.
set -u
LMZ=$(readlink -f "$1")
SAMPLE=$(readlink -f "$2")
TOOLS=$(dirname "$SAMPLE")
CORRUPT=$TOOLS/lmz_corrupt
DATA=${LMZ_DATA_DIR:-}
FAILS=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lmz-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export LMZ_MODEL_PATH=""   # only what a test names explicitly

# python3 for the tests that read or craft archives with h5py: the first
# interpreter that has it (the python3 on PATH may be another build, e.g.
# pyenv's, without Debian's python3-h5py, which is /usr/bin/python3's).
PYTHON3=$(command -v python3 || echo /usr/bin/python3)
for _py in python3 /usr/bin/python3; do
  if command -v "$_py" >/dev/null && "$_py" -c 'import h5py' 2>/dev/null; then
    PYTHON3=$(command -v "$_py"); break
  fi
done
python3() { "$PYTHON3" "$@"; }

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# expect_ok DESC CMD...: the command must exit 0
expect_ok() {
  local desc=$1; shift
  if "$@" >out.log 2>err.log; then ok "$desc"; else fail "$desc (exit $?): $(head -c 300 err.log)"; fi
}
# expect_fail DESC PATTERN CMD...: exit 1, exactly one stderr line matching PATTERN
expect_fail() {
  local desc=$1 pat=$2; shift 2
  "$@" >out.log 2>err.log
  local rc=$?
  local lines; lines=$(wc -l <err.log)
  if [[ $rc -ne 1 ]]; then fail "$desc: exit $rc, wanted 1: $(head -c 300 err.log)"; return; fi
  if [[ $lines -ne 1 ]]; then fail "$desc: $lines lines on stderr, wanted 1: $(head -c 500 err.log)"; return; fi
  if ! grep -Eq "$pat" err.log; then fail "$desc: message '$(cat err.log)' lacks /$pat/"; return; fi
  ok "$desc: $(cat err.log)"
}
same() { # same DESC FILE1 FILE2
  if cmp -s "$2" "$3"; then ok "$1"; else fail "$1: $2 and $3 differ"; fi
}
finish() {
  if ((FAILS)); then echo "$FAILS failure(s)" >&2; exit 1; fi
  echo "all passed"; exit 0
}
# no_tmp_left DIR: no temporary files of ours remain
no_tmp_left() {
  if ls -A "$1" | grep -q 'lmz-tmp'; then fail "temporary file left in $1: $(ls -A "$1")"; else ok "no temporary file in $1"; fi
}
