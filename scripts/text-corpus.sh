#!/usr/bin/env bash
# Build lmz's general text corpus from named Debian packages, reproducibly.
#
# usage: scripts/text-corpus.sh OUTDIR
#
# Each source below is one Debian package (binary, fetched with
# `apt-get download`, or source, fetched with `apt-get source` from a private
# deb-src list made from this machine's own apt sources). The text picked
# from it (scripts/text_corpus_pick.py: a path pattern, a byte cap, a
# deterministic shuffle) goes to OUTDIR/train/NAME.txt or OUTDIR/val/NAME.txt:
# the split is by source, never by file, so validation measures text from
# packages the model never saw. OUTDIR/sources.tsv records each source's
# package, version, the SHA-256 of what was downloaded, the split and the
# bytes taken. The enwiki training split of ../shared/data is added twice
# (Wikipedia stays a large part of what users archive).
#
# Held out for evaluation, so never taken here: C/C++ headers (any .h, from
# -dev packages or source trees), the Python standard library (no
# libpython3.*-stdlib), section-1 manual pages (no man1, no *.1), the
# iso-codes package, system and package-manager logs (nothing under
# /var/log; fail2ban's fixtures are sample service logs shipped as test data)
# and package-registry listings (no apt Packages files, no PyPI lists).
#
# The mix (about 90 MB of training text): prose and documentation (HTML,
# info, POD, Wikipedia), manual pages of sections 2-8 (troff), source code
# in C, Go, Java, Perl, Ruby, Rust, JavaScript, Emacs Lisp, Python (third
# party), shell, structured data (JSON, XML, CSV, semicolon and tab tables,
# PCI/USB id lists), logs and changelogs, and word lists. Caps keep any one
# source from dominating. Re-running reuses what was downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/text-corpus.sh OUTDIR}
data=${LMZ_DATA_DIR:-../shared/data}
mkdir -p "$out"/debs "$out"/src "$out"/x "$out"/train "$out"/val
out=$(cd "$out" && pwd)
pick=$PWD/scripts/text_corpus_pick.py
MB=1048576

# NAME  SPLIT  TYPE(deb|src)  PACKAGE  CAP_MB  PATH_REGEX
sources=$(cat <<'EOF'
handbook      train deb debian-handbook             5 html/en-US/.*\.html$
devref        train deb developers-reference        2 developers-reference/.*\.html$
debref        train deb debian-reference-en         2 \.(html|txt)(\.gz)?$
gnu-standards train deb gnu-standards               1 \.text(\.gz)?$
perl-pod      train deb perl-doc                    4 \.pod$
faq           val   deb debian-faq                  0.25 \.(html|txt)(\.gz)?$
man-dev       train deb manpages-dev                4 /man/man[23]/
man-misc      train deb manpages                    2 /man/man[4578]/
man-ssl       val   deb libssl-doc                  0.25 /man/man[37]/
go            train deb golang-1.19-src             6 \.go$
perl          train deb perl-modules-5.36           4 \.pm$
ruby          train deb libruby3.1                  3 \.rb$
rust-serde    train deb librust-serde-dev           1 \.rs$
rust-syn      train deb librust-syn-dev             2 \.rs$
rust-regex    train deb librust-regex-dev           1 \.rs$
js-lodash     train deb node-lodash                 2 \.js$
elisp         train deb emacs-el                    4 \.el(\.gz)?$
java          train deb openjdk-17-source           6 (src\.zip|\.java)$
py-docutils   train deb python3-docutils            2 \.py$
py-botocore   train deb python3-botocore            1 \.py$
py-requests   train deb python3-requests            0.5 \.py$
shell         train deb bash-completion             2 completions/
php           val   deb php-symfony-console         0.25 \.php$
tcl           val   deb tcl8.6                      0.25 \.tcl$
c-lua         train src lua5.4                      1 \.c$
c-zlib        train src zlib                        1 \.c$
c-gawk        train src gawk                        2 \.c$
c-coreutils   train src coreutils                   3 /src/.*\.c$
json-botocore train deb python3-botocore            6 \.json(\.gz)?$
json-mdn      train deb node-mdn-browser-compat-data 4 \.json$
xml-mime      train deb shared-mime-info            2 \.xml(\.in)?$
xml-osinfo    train deb osinfo-db                   2 \.xml$
xml-mbpi      val   deb mobile-broadband-provider-info 0.25 \.xml$
unicode       train deb unicode-data                4 \.txt$
pci-ids       train deb pci.ids                     1.5 \.ids$
usb-ids       train deb usb.ids                     0.5 \.ids$
csv-ieee      train deb ieee-data                   3 \.(csv|txt)$
csv-distro    train deb distro-info-data            0.1 \.csv$
publicsuffix  train deb publicsuffix                0.3 \.dat$
logs-fail2ban train deb fail2ban                    2 tests/files/logs/
words-en-us   train deb wamerican                   1 /dict/
words-en-gb   train deb wbritish                    1 /dict/
words-de      train deb wngerman                    1 /dict/
words-fr      train deb wfrench                     1 /dict/
EOF
)

# apt-get source needs deb-src lines; make them, privately, from the
# machine's own deb lines (both the one-line and the deb822 formats).
srclists=$out/apt-src
if [[ ! -f $srclists/sources.list ]]; then
  mkdir -p "$srclists/lists/partial"
  {
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed 's/^deb /deb-src /' || true
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f ]] || continue
      awk '/^URIs:/{u=$2} /^Suites:/{s=$2} /^Components:/{c=""; for(i=2;i<=NF;i++) c=c" "$i}
           /^$/{if(u&&s) print "deb-src " u " " s c; u=s=""} END{if(u&&s) print "deb-src " u " " s c}' "$f"
    done
  } | grep -v security | sort -u >"$srclists/sources.list.tmp"
  mv "$srclists/sources.list.tmp" "$srclists/sources.list"
fi
aptsrc=(-o Dir::Etc::SourceList="$srclists/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$srclists/lists")
srcupdated=0

fetch_deb() { # PKG -> sets deb, ver
  local pkg=$1
  deb=$(ls "$out"/debs/"${pkg}"_*.deb 2>/dev/null | head -1 || true)
  if [[ -z $deb ]]; then
    (cd "$out/debs" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
      { apt-get update -qq >/dev/null 2>&1 && (cd "$out/debs" && apt-get download -qq "$pkg"); }
    deb=$(ls "$out"/debs/"${pkg}"_*.deb | head -1)
  fi
  ver=$(dpkg-deb -f "$deb" Version)
  if [[ ! -d $out/x/$pkg ]]; then
    dpkg-deb -x "$deb" "$out/x/$pkg.tmp" && mv "$out/x/$pkg.tmp" "$out/x/$pkg"
  fi
}

fetch_src() { # PKG -> sets deb (the orig tarball), ver
  local pkg=$1
  if ! ls "$out"/src/"${pkg}"_*.dsc >/dev/null 2>&1; then
    if ((!srcupdated)); then
      apt-get "${aptsrc[@]}" update -qq >/dev/null
      srcupdated=1
    fi
    (cd "$out/src" && apt-get "${aptsrc[@]}" source --download-only -qq "$pkg" >/dev/null 2>&1)
  fi
  deb=$(ls "$out"/src/"${pkg}"_*.orig.tar.* | grep -v '\.asc$' | head -1)
  ver=$(awk '/^Version:/{print $2; exit}' "$(ls "$out"/src/"${pkg}"_*.dsc | head -1)")
  if [[ ! -d $out/x/src-$pkg ]]; then
    mkdir -p "$out/x/src-$pkg.tmp" && tar -xf "$deb" -C "$out/x/src-$pkg.tmp" &&
      mv "$out/x/src-$pkg.tmp" "$out/x/src-$pkg"
  fi
}

printf 'name\tsplit\tpackage\tversion\tsha256\tfiles\tbytes\n' >"$out/sources.tsv.tmp"
while read -r name split type pkg cap regex; do
  [[ -n $name ]] || continue
  if [[ $type == deb ]]; then fetch_deb "$pkg"; root=$out/x/$pkg; else fetch_src "$pkg"; root=$out/x/src-$pkg; fi
  sha=$(sha256sum "$deb" | cut -d' ' -f1)
  capb=$(python3 -c "print(int(float('$cap') * $MB))")
  read -r files bytes < <(python3 "$pick" "$root" "$regex" "$capb" "$out/$split/$name.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$split" "$pkg" "$ver" "$sha" "$files" "$bytes" >>"$out/sources.tsv.tmp"
  echo "text-corpus: $name ($pkg $ver): $files files, $bytes bytes -> $split" >&2
done <<<"$sources"

# Changelogs of every package fetched above: Debian's changelog format, a
# log-like text with dates, names and versions.
python3 "$pick" "$out/x" '/changelog\.Debian(\.gz)?$' $((2 * MB)) "$out/train/changelogs.txt" >/dev/null
printf 'changelogs\ttrain\t(all of the above)\t-\t-\t-\t%s\n' "$(stat -c %s "$out/train/changelogs.txt")" >>"$out/sources.tsv.tmp"

# Wikipedia: the fixed training split of ../shared/data, twice.
if [[ -f $data/text/enwiki-dev.xml ]]; then
  head -c 4610922 "$data/text/enwiki-dev.xml" >"$out/train/enwiki-a.txt"
  cp "$out/train/enwiki-a.txt" "$out/train/enwiki-b.txt"
  sha=$(sha256sum "$out/train/enwiki-a.txt" | cut -d' ' -f1)
  printf 'enwiki\ttrain\tshared/data/text/enwiki-dev.xml[0:4610922] x2\t-\t%s\t2\t%s\n' "$sha" $((2 * 4610922)) >>"$out/sources.tsv.tmp"
else
  echo "text-corpus: $data/text/enwiki-dev.xml not found: corpus without Wikipedia" >&2
fi
mv "$out/sources.tsv.tmp" "$out/sources.tsv"

cat "$out"/train/*.txt >"$out/train.txt"
cat "$out"/val/*.txt >"$out/val.txt"
echo "text-corpus: $(stat -c %s "$out/train.txt") bytes train, $(stat -c %s "$out/val.txt") bytes validation; sources in $out/sources.tsv" >&2
