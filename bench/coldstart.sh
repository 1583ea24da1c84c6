#!/usr/bin/env bash
# `make bench`, cold-start part: the NER function's `bootstrap` started as
# Lambda starts it, against a stand-in Runtime API listener on loopback
# (bench/coldstart.c; no platform in between): exec → model loaded → the
# first byte of its first GET /next on the socket, and its resident memory
# (VmRSS) while it waits in that /next, over COLDSTART_RUNS starts (50);
# then the same start without a model (exec, dynamic linking and the
# runtime's own start, up to its POST /init/error).  Goals: median <= 2 ms,
# VmRSS <= 16 MB.  Last, what `ldd bootstrap` lists (glibc's own only).
# Usage: bench/coldstart.sh NERD MODEL
set -eu
NERD=${1:-build/nerd}; MODEL=${2:-models/en_core_web_sm-2.2.5.nerd}
B=$(dirname "$NERD")
"$B/coldstart" "$B/bootstrap" "$MODEL" "${COLDSTART_RUNS:-50}"
echo "coldstart: ldd bootstrap: $(ldd "$B/bootstrap" | awk '{ print $1 }' | tr '\n' ' ')"
