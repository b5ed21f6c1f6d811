#!/bin/bash
# install.sh BUILD_DIR SOURCE_DIR CC [CFLAGS]: cmake --install into a prefix under the
# build tree, then build tests/install/check.c against what was installed,
# with pkg-config alone (shared, then static), run it, and cmp its archives
# with those the installed `lmz compress` writes from the same input.
set -euo pipefail
build=$1 src=$2 cc=$3
extra=${4:-}   # the build's own C flags (e.g. the sanitizer pass's -fsanitize=...)
prefix=$build/tests/install-prefix
work=$build/tests/install-work
rm -rf "$prefix" "$work"
mkdir -p "$work"
fail() { echo "install.sh: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in bin/lmz lib/liblmz.a lib/liblmz.so lib/liblmz.so.0 include/lmz.h \
         lib/pkgconfig/lmz.pc share/lmz/models/text-200k-1.lmzm; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done
[ -L "$prefix/lib/liblmz.so" ] || fail "lib/liblmz.so is not the SOVERSION link"

# The shared library exports what lmz.h declares, nothing else, and holds
# no training code. (Outputs are captured first: with pipefail, a grep -q
# that stops reading early would fail the command before it.)
exported=$(nm -D --defined-only "$prefix/lib/liblmz.so" | awk '$2 ~ /^[TDBRVW]$/ {sub(/@.*/, "", $3); print $3}')
for sym in $exported; do
    grep -qw "$sym" "$prefix/include/lmz.h" || fail "exported but not in lmz.h: $sym"
done
grep -qx lmz_archive_read <<< "$exported" || fail "lmz_archive_read not exported"
[ "$(wc -l <<< "$exported")" -ge 25 ] || fail "too few exports: $exported"
all_syms=$(nm "$prefix/lib/liblmz.a")
grep -q ' T lmz_archive_read$' <<< "$all_syms" || fail "liblmz.a lacks lmz_archive_read"
if grep -Eq 'lmz_train|lmz_trainer|sgemm|lmz_ds_' <<< "$all_syms"; then
    fail "training or dataset code in liblmz"
fi
deps=$(ldd "$prefix/lib/liblmz.so")
if grep -Eq 'openblas|libjpeg|libpng|libFLAC' <<< "$deps"; then
    fail "liblmz.so depends on a training or dataset library"
fi
# lmz.h stands alone: it includes only system headers
if grep -E '^#include' "$prefix/include/lmz.h" | grep -v '<std'; then
    fail "lmz.h includes a non-system header"
fi

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cflags=$(pkg-config --cflags lmz)
libs=$(pkg-config --libs lmz)
"$cc" -std=c11 -Wall -Wextra -Werror $extra $cflags "$src/tests/install/check.c" $libs \
    -Wl,-rpath,"$prefix/lib" -o "$work/check"
"$cc" -std=c11 -Wall -Werror $extra $cflags "$src/docs/example.c" $libs -Wl,-rpath,"$prefix/lib" \
    -o "$work/example"
deps=$(ldd "$work/check")
grep -q "$prefix/lib/liblmz.so.0" <<< "$deps" || fail "check is not linked with the installed liblmz.so"

# input: text of a few blocks, as a file of mode 0644 (what the writer records)
input=$work/input.txt
for i in $(seq 1 400); do echo "line $i: the quick brown fox jumps over the lazy dog $((i * i))"; done > "$input"
chmod 0644 "$input"
(cd "$work" && ./check "$work" input.txt) | tee "$work/check.out"
(cd "$work" && ./example "$work/example.lmz")

# the same bytes as the installed CLI writes
(cd "$work" && "$prefix/bin/lmz" compress -q input.txt -o cli.lmz &&
     "$prefix/bin/lmz" compress -q input.txt -o cli-lm.lmz --codec lm --block-chunks 2)
cmp "$work/api.lmz" "$work/cli.lmz" || fail "lmz_writer and lmz compress differ (defaults)"
cmp "$work/api-lm.lmz" "$work/cli-lm.lmz" || fail "lmz_writer and lmz compress differ (--codec lm)"
"$prefix/bin/lmz" verify -q --full "$work/api-lm.lmz"

# the installed models are found through <prefix>/share/lmz/models, by the
# library and by the installed executable
msg=$(grep '^model search:' "$work/check.out")
grep -q "$prefix/lib/../share/lmz/models" <<< "$msg" || fail "library search path: $msg"
msg=$("$prefix/bin/lmz" compress -q -f -m no-such-model "$input" -o "$work/x.lmz" 2>&1 || true)
grep -q "$prefix/bin/../share/lmz/models" <<< "$msg" || fail "lmz search path: $msg"

# static: liblmz.a with Libs.private / Requires.private
static_libs=$(pkg-config --static --libs lmz | sed 's/-llmz//')
"$cc" -std=c11 -Wall -Werror $extra $cflags "$src/tests/install/check.c" "$prefix/lib/liblmz.a" \
    $static_libs -o "$work/check-static"
deps=$(ldd "$work/check-static")
if grep -q liblmz <<< "$deps"; then fail "check-static uses liblmz.so"; fi
rm -f "$work/api.lmz" "$work/api-lm.lmz"
(cd "$work" && ./check-static "$work" input.txt > /dev/null)
cmp "$work/api-lm.lmz" "$work/cli-lm.lmz" || fail "static: lmz_writer and lmz compress differ"
echo "install.sh: ok ($prefix)"
