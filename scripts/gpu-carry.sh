#!/usr/bin/env bash
# gpu-carry.sh: build .carry/root.tar.xz, the libraries the lmz build needs
# on a GPU machine that has nvcc, cuBLAS, CMake and Python but no HDF5, no
# other -dev packages and no package manager (see scripts/gpu-check.sh).
#
# Run it here, on the Debian machine, as root or any user that can run
# `apt-get download` (needs `apt-get update` once). It downloads the .deb
# files of every library lmz links (HDF5 and what libhdf5 needs at run time,
# xxHash, libjpeg, libpng, FLAC, OpenBLAS; zlib, lzma, zstd and bzip2 for
# bench/'s baselines) plus their -dev packages and
# pkgconf, unpacks them with `dpkg -x` into .carry/root, prunes docs and
# static libraries, and packs .carry/root.tar.xz. Only that file travels
# (name it in the device call's carry list); .carry/ is ignored by git
# through .git/info/exclude. The base system (libc6, libstdc++6, libgcc-s1,
# libgomp1) is not carried: the GPU machine's own compiler brings those.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
carry=$top/.carry

# Runtime packages: what `ldd build-main/lmz build-main/bench/bench_baselines`
# resolves to (Debian 12),
# without the base system.
runtime="libhdf5-103-1 libsz2 libaec0 libcurl4 libnghttp2-14 libidn2-0 librtmp1 libssh2-1
libpsl5 libssl3 libgssapi-krb5-2 libldap-2.5-0 libzstd1 libbrotli1 libunistring2 libgnutls30
libhogweed6 libnettle8 libgmp10 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libsasl2-2
libp11-kit0 libtasn1-6 libkeyutils1 libffi8 zlib1g libxxhash0 libjpeg62-turbo libpng16-16
libflac12 libogg0 libopenblas0-openmp libgfortran5 libquadmath0 libpkgconf3 liblzma5 libbz2-1.0"
# Build-time packages: headers, .so links, pkg-config files, pkgconf.
dev="libhdf5-dev libxxhash-dev libjpeg62-turbo-dev libpng-dev libflac-dev libogg-dev
libopenblas-openmp-dev libopenblas-dev zlib1g-dev pkgconf pkgconf-bin
liblzma-dev libzstd-dev libbz2-dev"

# Cross-check against a local build, if there is one (LMZ_CARRY_CHECK_BUILD,
# default build-main): every library the binaries resolve must come from a
# carried package or the base system.
cb=${LMZ_CARRY_CHECK_BUILD:-build-main}
if [ -x "$cb/lmz" ] && command -v dpkg >/dev/null; then
    for lib in $(ldd "$cb/lmz" "$cb/bench/bench_baselines" "$cb"/liblmz.so 2>/dev/null | awk '/=>/ {print $3}' | sort -u); do
        real=$(readlink -f "$lib")
        pkg=$( (dpkg -S "$real" || dpkg -S "${real#/usr}" || dpkg -S "$lib") 2>/dev/null |
            head -1 | cut -d: -f1) || true
        case " $(echo $runtime) libc6 libgcc-s1 libstdc++6 libgomp1 " in
        *" $pkg "*) ;;
        *) echo "gpu-carry: warning: $lib (package '${pkg:-?}') is not in the carried list" >&2 ;;
        esac
    done
fi

grep -qx '/.carry/' .git/info/exclude 2>/dev/null || {
    mkdir -p .git/info
    echo '/.carry/' >>.git/info/exclude
}
rm -rf "$carry/debs" "$carry/root" "$carry/root.tar.xz"
mkdir -p "$carry/debs" "$carry/root"
(cd "$carry/debs" && apt-get download $runtime $dev)
for deb in "$carry"/debs/*.deb; do
    dpkg -x "$deb" "$carry/root"
done

r=$carry/root
# The alternatives that Debian's postinst scripts would create (dpkg -x runs
# none): pkg-config -> pkgconf, and the OpenBLAS pkg-config file and headers
# at their usual places.
ln -sf pkgconf "$r/usr/bin/pkg-config"
ob=$r/usr/lib/x86_64-linux-gnu/openblas-openmp
ln -sf ../openblas-openmp/pkgconfig/openblas.pc "$r/usr/lib/x86_64-linux-gnu/pkgconfig/openblas.pc" 2>/dev/null ||
    { mkdir -p "$r/usr/lib/x86_64-linux-gnu/pkgconfig"; ln -sf ../openblas-openmp/pkgconfig/openblas.pc "$r/usr/lib/x86_64-linux-gnu/pkgconfig/openblas.pc"; }
for h in "$r"/usr/include/x86_64-linux-gnu/openblas-openmp/*.h; do
    ln -sf "x86_64-linux-gnu/openblas-openmp/$(basename "$h")" "$r/usr/include/$(basename "$h")"
done
[ -e "$ob/libopenblas.so.0" ] || { echo "gpu-carry: OpenBLAS library missing" >&2; exit 1; }

# Absolute links (usr/lib/.../libz.so -> /lib/.../libz.so.1.2.13) would
# point into the GPU machine's own system: make them relative, inside root.
find "$r" -type l -lname '/*' | while read -r link; do
    target=$(readlink "$link")
    [ -e "$r$target" ] && ln -sfr "$r$target" "$link"
done

# Prune what a build and a test run never read.
rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/lintian" "$r/usr/share/info" \
    "$r/usr/share/locale" "$r/usr/share/bug" "$r/usr/share/aclocal" "$r/etc"
find "$r" -name '*.a' -delete
# HDF5: only the C library (lmz links -lhdf5); drop the C++/Fortran/HL parts
find "$r/usr/lib/x86_64-linux-gnu" -maxdepth 3 \( -name 'libhdf5*_cpp*' -o -name 'libhdf5*fortran*' \
    -o -name 'libhdf5*_hl*' \) -delete 2>/dev/null || true
# OpenBLAS's LAPACK and reference BLAS: lmz calls cblas_sgemm only
rm -f "$ob"/liblapack* "$ob"/libblas*

rm -rf "$carry/debs"
(cd "$carry" && tar -cf - root | xz -6 -T2 >root.tar.xz)
echo "gpu-carry: $(du -sh "$r" | cut -f1) unpacked in .carry/root," \
    "$(du -h "$carry/root.tar.xz" | cut -f1) packed in .carry/root.tar.xz (the file to carry)"
