#!/usr/bin/env bash
# nerd eval through the real binary: gold P/R/F1 on hand-made 3-sentence
# files in the three corpus layouts (wikigold "word TAG" IOB1, WNUT
# "word<TAB>TAG" BIO, UNER CoNLL-U-like with "# text =" lines), agreement on
# hand-written spaCy-style reference JSONL (figures worked out by hand from
# `nerd extract --tokens`, see the comments), malformed input, usage and exit
# codes, and --strict on a real reference file when the shared dir exists.
# Usage: test_eval.sh NERD [SHARED]
. tests/lib.sh
D=tests/data/eval
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: [$2] not in: $(head -c 600 "$1")"; fi; }
code() { if [ "$1" = "$2" ]; then ok; else bad "$3: exit $1, want $2"; fi; }
ev() { "$NERD" eval --model "$MODEL" "$@"; }
lab() { printf '"%s":{"p":%s,"r":%s,"f1":%s,"tp":%s,"fp":%s,"fn":%s}' "$@"; }

# --help, usage errors
"$NERD" eval --help > "$tmp/out" 2>&1; code $? 0 "--help"
has "$tmp/out" "usage: nerd eval" "--help text"
ev > /dev/null 2>&1; code $? 2 "no file"
ev --bogus $D/three.conll > /dev/null 2>&1; code $? 2 "unknown option"
ev --format xml $D/three.conll > /dev/null 2>&1; code $? 2 "unknown format"
"$NERD" eval --model "$tmp/none.nerd" $D/three.conll > /dev/null 2>&1; code $? 1 "missing model"

# wikigold layout, IOB1 (New I-LOC York B-LOC = two gold spans), -DOCSTART-,
# MISC dropped, a "#" token kept (text "# 1 fan of Taylor Swift in Texas").
# nerd finds London, New York, Berlin, Texas (LOC), Angela Merkel, Taylor
# Swift (PER), Microsoft (ORG); misses Barack Obama.
ev --json $D/three.conll > "$tmp/out"; code $? 0 "three.conll"
has "$tmp/out" '"sentences":3,"tokens":28,' "three.conll counts"
has "$tmp/out" "$(lab PER 1.0000 0.6667 0.8000 2 0 1)" "three.conll PER"
has "$tmp/out" "$(lab ORG 1.0000 1.0000 1.0000 1 0 0)" "three.conll ORG"
has "$tmp/out" "$(lab LOC 0.7500 0.6000 0.6667 3 1 2)" "three.conll LOC"
has "$tmp/out" '"micro":{"p":0.8571,"r":0.6667,"f1":0.7500,"tp":6,"fp":1,"fn":3}' "three.conll micro"

# WNUT layout, BIO: Alice (missed), Bob, Paris, Acme Corp, Carol (gold
# person, predicted GPE: fn PER + fp LOC), Apple, U.K.; product dropped.
ev --json $D/three.wnut > "$tmp/out"; code $? 0 "three.wnut"
has "$tmp/out" '"sentences":3,"tokens":22,' "three.wnut counts"
has "$tmp/out" "$(lab PER 1.0000 0.3333 0.5000 1 0 2)" "three.wnut PER"
has "$tmp/out" "$(lab ORG 1.0000 1.0000 1.0000 2 0 0)" "three.wnut ORG"
has "$tmp/out" "$(lab LOC 0.6667 1.0000 0.8000 2 1 0)" "three.wnut LOC"

# UNER layout: "# text =" with "diego?" and "yesterday." unspaced; Louvre is
# gold ORG, predicted GPE (fn ORG + fp LOC).
ev --json $D/three.conllu > "$tmp/out"; code $? 0 "three.conllu"
has "$tmp/out" '"sentences":3,"tokens":27,' "three.conllu counts"
has "$tmp/out" "$(lab ORG 1.0000 0.5000 0.6667 1 0 1)" "three.conllu ORG"
has "$tmp/out" '"micro":{"p":0.8000,"r":0.8000,"f1":0.8000,"tp":4,"fp":1,"fn":1}' "three.conllu micro"

# all three: one JSON object with a total; the table by default
ev --json $D/three.conll $D/three.wnut $D/three.conllu > "$tmp/out"; code $? 0 "three files"
[ "$(wc -l < "$tmp/out")" -eq 1 ] && ok || bad "--json: one line expected"
has "$tmp/out" '"total":{"sentences":9,"tokens":77,' "total counts"
has "$tmp/out" '"micro":{"p":0.8333,"r":0.7143,"f1":0.7692,"tp":15,"fp":3,"fn":6}}}}' "total micro"
ev $D/three.conll > "$tmp/out"; code $? 0 "table"
has "$tmp/out" "micro  0.8571  0.6667  0.7500       6       1       3" "table micro row"
has "$tmp/out" "tokens/s" "table throughput"

# reference JSONL: ok.jsonl is exactly what nerd (and spaCy) produce, code
# point offsets with non-ASCII text; diff.jsonl has one merged token ("Acme
# Corp"), Carol as PERSON (nerd: GPE, one extra) and an unfound PERSON:
# tokens 15/16, texts with same tokens 2/3, entities 4/6, 1 extra.
ev --strict $D/ok.jsonl > "$tmp/out"; code $? 0 "--strict ok.jsonl"
has "$tmp/out" "100.00% (17/17)" "ok.jsonl tokens"
has "$tmp/out" "100.00% (5/5)" "ok.jsonl entities"
ev --json $D/diff.jsonl > "$tmp/out"; code $? 0 "diff.jsonl without --strict"
has "$tmp/out" '"texts":3,"texts_tokens_identical":2,"tokens_reference":16,"tokens_predicted":17,"tokens_matched":15,"token_agreement":93.7500,"entities_reference":6,"entities_predicted":5,"entities_matched":4,"entity_agreement":66.6667,"extra_entities":1,"errors":0,"perfect":false' "diff.jsonl figures"
ev --strict --verbose $D/diff.jsonl > /dev/null 2> "$tmp/err"; code $? 1 "--strict diff.jsonl"
has "$tmp/err" 'diff.jsonl:2: differs' "--verbose names the line"
has "$tmp/err" 'spaCy entity [0,10) PERSON "Zoë Müller" not reproduced' "--verbose entity"
cp $D/ok.jsonl "$tmp/ok.txt"
ev --format reference --strict "$tmp/ok.txt" > /dev/null; code $? 0 "--format reference"

# malformed input: FILE:LINE on stderr, the rest still scored, exit 1
ev --json $D/bad.conll > "$tmp/out" 2> "$tmp/err"; code $? 1 "bad.conll"
has "$tmp/err" "bad.conll:2: expected" "bad.conll line 2"
has "$tmp/err" "bad.conll:5: not an IOB tag" "bad.conll line 5"
has "$tmp/out" '"sentences":1,' "bad.conll: good sentence scored"
ev $D/bad.jsonl > /dev/null 2> "$tmp/err"; code $? 1 "bad.jsonl"
has "$tmp/err" "bad.jsonl:2:" "bad.jsonl line 2"
has "$tmp/err" "bad.jsonl:3: invalid JSON" "bad.jsonl line 3"
has "$tmp/err" "bad.jsonl:4:" "bad.jsonl line 4"
printf '# text = hello world\n1\thello\tO\n2\tWORLD\tB-LOC\n' > "$tmp/mis.conllu"
ev "$tmp/mis.conllu" > /dev/null 2> "$tmp/err"; code $? 1 "misaligned # text"
has "$tmp/err" "mis.conllu:3: word not found" "misaligned # text message"
head -c 2000 "$NERD" > "$tmp/binary"
ev "$tmp/binary" > /dev/null 2>&1; code $? 1 "binary file"
ev "$tmp/missing.conll" > /dev/null 2> "$tmp/err"; code $? 1 "missing file"
has "$tmp/err" "missing.conll: cannot open" "missing file message"

# special cases that carry a NORM, against real spaCy 2.2.4 on 1,500 made-up
# texts (tools/specials_reference.py): each text alone as nlp(text), and the
# same texts as one nlp.pipe call (docs/exactness.md)
R=tests/data/reference
ev --pipe-batch 0 --strict $R/specials.alone.jsonl > "$tmp/out"; code $? 0 "specials alone"
has "$tmp/out" "100.00% (2649/2649)" "specials alone: entities"
ev --strict $R/specials.pipe.jsonl > "$tmp/out"; code $? 0 "specials as nlp.pipe"
has "$tmp/out" "100.00% (2655/2655)" "specials as nlp.pipe: entities"
ev --pipe-batch 0 $R/specials.pipe.jsonl > "$tmp/out"; code $? 0 "specials as nlp.pipe, run alone"
grep -q "100.00% (2655/2655)" "$tmp/out" && bad "alone reproduced nlp.pipe: the minibatch is not what decides" || ok

# a real spaCy reference file: 100% agreement
ref=$SHARED/data/reference/wnut17.dev.jsonl
if [ -f "$ref" ]; then
    ev --strict "$ref" > "$tmp/out"; code $? 0 "--strict $ref"
    has "$tmp/out" "100.00% (15819/15819)" "wnut17.dev.jsonl tokens"
    has "$tmp/out" "100.00% (957/957)" "wnut17.dev.jsonl entities"
    # each text alone (nlp(text)) differs in one text, whose "gonna" came
    # after a plain "gon" in the minibatch spaCy's nlp.pipe predicted it in
    ev --pipe-batch 0 --strict --verbose "$ref" > "$tmp/out" 2> "$tmp/err"; code $? 1 "--pipe-batch 0"
    has "$tmp/out" "99.90% (956/957)" "--pipe-batch 0: one entity"
    has "$tmp/err" 'wnut17.dev.jsonl:103: differs' "--pipe-batch 0: line 103"
    has "$tmp/err" 'ORG "gon" not reproduced' "--pipe-batch 0: gon"
    ev --pipe-batch x "$ref" > /dev/null 2>&1; code $? 2 "--pipe-batch x"
else
    echo "reference check skipped: $SHARED/data/reference not found"
fi
finish
