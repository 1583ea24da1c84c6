#!/bin/sh
# Regenerates tiny.json, the test vector of tests/lib/test_train.c: the
# numpy reference's tiny model, batch, dropout masks, loss, gradients and
# one Adam step (ner-training.md section 6).  Needs Debian's python3-numpy.
#   tests/data/trainer/make_vectors.sh [SHARED]     (default ../shared)
set -eu
shared=${1:-../shared}
here=$(dirname "$0")
/usr/bin/env python3 "$shared/specs/ner-training-ref.py" dump "$here/tiny.json"
