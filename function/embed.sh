#!/bin/sh
# Turns a file into C source defining `const unsigned char NAME[]` (with a
# terminating NUL not counted) and `const size_t NAME_len`, so the function
# carries its web page inside the binary.  Usage: embed.sh FILE NAME > OUT.c
set -eu
file=$1; name=$2
echo "/* generated from $file by function/embed.sh; do not edit */"
echo "#include <stddef.h>"
echo "const unsigned char ${name}[] = {"
od -An -v -tx1 "$file" | awk '{ line = ""; for (i = 1; i <= NF; i++) line = line "0x" $i ","; print line }'
echo "0x00};"
echo "const size_t ${name}_len = sizeof ${name} - 1;"
