#!/bin/sh
# Turns scenario files into C source: the table lg__scn_builtin[] of
# loadgen/lg_scenario.h (name = file name without .scn, text as bytes), so
# `nerd bench --scenario NAME` needs no files at run time.
# Usage: embed_scenarios.sh FILE.scn... > OUT.c
set -eu
echo "/* generated from the scenario files in scenarios/ by loadgen/embed_scenarios.sh; do not edit */"
echo '#include "lg_scenario.h"'
i=0
for f in "$@"; do
    echo "static const char s$i[] = {"
    od -An -v -tx1 "$f" | awk '{ line = ""; for (i = 1; i <= NF; i++) line = line "0x" $i ","; print line }'
    echo "0x00};"
    i=$((i + 1))
done
echo "const lg__scn_src lg__scn_builtin[] = {"
i=0
for f in "$@"; do
    n=$(basename "$f" .scn)
    echo "    {\"$n\", s$i, sizeof s$i - 1},"
    i=$((i + 1))
done
[ "$i" -gt 0 ] || echo '    {"", "", 0},'
echo "};"
echo "const size_t lg__scn_builtin_n = $i;"
