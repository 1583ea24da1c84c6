#!/bin/sh
# Copies the shared libraries BINARY needs, except the C library's own
# (always on Lambda), into DIR, which Lambda puts on LD_LIBRARY_PATH
# (/var/task/lib).  Used by `make build-NerFunction` (sam build).
# Usage: bundle-libs.sh BINARY DIR
set -eu
bin=$1; dir=$2
mkdir -p "$dir"
ldd "$bin" | awk '/=> \// { print $3 }' | while read -r lib; do
    case "$(basename "$lib")" in
        libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libresolv.so*) ;;
        *) cp -L "$lib" "$dir/" ;;
    esac
done
