#!/usr/bin/python3
"""Same-run reference for `make bench`: the numpy forward pass of
en_core_web_sm 2.2.5's NER (../shared/specs/sm225/sm225_ref.py, which matches
spaCy's entities) timed on the reference texts (pre-tokenized words) and on
the study's sentence.  Prints one line of figures for bench/run.sh to compare.
Usage: bench/ref_numpy.py SHARED_DIR [N_TEXTS]"""
import json, os, sys, time

shared = sys.argv[1]
n_texts = int(sys.argv[2]) if len(sys.argv) > 2 else 300
spec = os.path.join(shared, 'specs', 'sm225')
sys.path.insert(0, spec)
sys.argv = [sys.argv[0], os.path.join(shared, 'data', 'models', 'en_core_web_sm-2.2.5')]
import sm225_ref as R  # noqa: E402

docs = []
for name in ('wikigold.jsonl', 'wnut17.dev.jsonl', 'uner_ewt.dev.jsonl'):
    with open(os.path.join(shared, 'data', 'reference', name)) as f:
        for i, line in enumerate(f):
            if i >= n_texts // 3:
                break
            d = json.loads(line)
            docs.append([d['text'][a:b] for a, b in d['tokens']])
study = "Alan Turing was born on June 23 , 1912 , in London , England .".split()
for _ in range(5):
    R.ner(study)
lat = []
for _ in range(50):
    t = time.perf_counter()
    R.ner(study)
    lat.append(time.perf_counter() - t)
lat.sort()
t = time.perf_counter()
ntok = 0
for w in docs:
    R.ner(w)
    ntok += len(w)
el = time.perf_counter() - t
print("numpy-ref tokens_per_s=%.0f study_p50_us=%.1f texts=%d tokens=%d"
      % (ntok / el, lat[len(lat) // 2] * 1e6, len(docs), ntok))
