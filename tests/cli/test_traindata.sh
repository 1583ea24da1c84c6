#!/usr/bin/env bash
# The training-data readers through the CLI: nerd eval on every input format
# (labels scored as they are when the model has them, else mapped to
# PER/ORG/LOC; figures worked out by hand from `nerd extract`, see the
# comments), its refusals, and nerd split (determinism, sizes, refusals).
# With the shared corpora: the zero-shot figures of en_core_web_sm 2.2.5
# on each (the same as the eval before the training-data readers, except
# where noted), spaCy's own reference output scored as gold, and split
# parts that score as the whole.
# Usage: test_traindata.sh NERD [SHARED]
. tests/lib.sh
T=tests/data/train
E=tests/data/eval
has() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: [$2] not in: $(head -c 600 "$1")"; fi; }
code() { if [ "$1" = "$2" ]; then ok; else bad "$3: exit $1, want $2"; fi; }
ev() { "$NERD" eval --model "$MODEL" "$@"; }
micro() { printf '"micro":{"p":%s,"r":%s,"f1":%s,"tp":%s,"fp":%s,"fn":%s}' "$@"; }

# a corpus with the model's own labels: scored as they are.  nerd finds
# Paris/GPE; Apple/ORG, London/GPE, Monday/DATE (not a corpus label: not
# scored); Angela Merkel, Emmanuel Macron/PERSON, Berlin/GPE (gold LOC).
ev --json $E/onto.jsonl > "$tmp/out"; code $? 0 "onto.jsonl"
has "$tmp/out" '"labels_mode":"direct"' "onto: direct"
has "$tmp/out" '"unscored":1,"labels":{"GPE":{"p":0.6667,"r":1.0000,"f1":0.8000,"tp":2,"fp":1,"fn":0},"LOC":{"p":0.0000,"r":0.0000,"f1":0.0000,"tp":0,"fp":0,"fn":1},"ORG"' "onto: labels sorted, GPE, LOC"
has "$tmp/out" "$(micro 0.8333 0.7143 0.7692 5 1 2)" "onto: micro"
ev $E/onto.jsonl > "$tmp/out"; code $? 0 "onto.jsonl table"
has "$tmp/out" "  PERSON  1.0000  0.6667  0.8000       2       0       1" "onto: table row"
has "$tmp/out" "predictions of other labels are not counted" "onto: table note"
# the same mapped: Obama missed, the rest right
ev --json --labels mapped $E/onto.jsonl > "$tmp/out"; code $? 0 "onto.jsonl mapped"
has "$tmp/out" '"labels_mode":"mapped"' "onto: mapped"
has "$tmp/out" "$(micro 1.0000 0.8571 0.9231 6 0 1)" "onto mapped: micro"
# --labels direct on a corpus whose labels the model lacks: nothing predicted scores
ev --json --labels direct $E/three.wnut > "$tmp/out"; code $? 0 "three.wnut direct"
has "$tmp/out" '"unscored":7,' "three.wnut direct: every prediction unscored"
has "$tmp/out" "$(micro 0.0000 0.0000 0.0000 0 0 8)" "three.wnut direct: micro"
# --label-map renames gold labels before scoring: WNUT's person -> PERSON
# etc. makes them model labels (direct); product dropped
ev --json --label-map person=PERSON,location=GPE,corporation=ORG,product= $E/three.wnut > "$tmp/out"
code $? 0 "--label-map"
has "$tmp/out" '"labels_mode":"direct"' "--label-map: direct"
has "$tmp/out" '"PERSON":{"p":1.0000,"r":0.3333,"f1":0.5000,"tp":1,"fp":0,"fn":2}' "--label-map: PERSON"

# every JSON shape, through eval (the reader cases' texts): spaCy's JSON
# format, tuples, Prodigy, doccano, Label Studio
ev --json $T/spacy.json > "$tmp/out"; code $? 0 "spacy.json"
has "$tmp/out" '"sentences":3,"tokens":23,' "spacy.json: 3 paragraphs, 23 words"
ev --json --format tuples $T/tuples_array.json > "$tmp/out"; code $? 0 "tuples_array.json"
has "$tmp/out" '"sentences":2,"tokens":11,' "tuples: counts"
ev --json $T/labelstudio.json $T/labelstudio_min.json $T/doccano.jsonl > "$tmp/out" 2> "$tmp/err"
code $? 1 "annotation tools (one malformed record)"
has "$tmp/err" "labelstudio.json:9: \"result\" item 1: a span with other than one label" "labelstudio: file:line"
has "$tmp/err" "doccano.jsonl:4: \"label\" item 1: expected" "doccano: file:line"
has "$tmp/out" '"total":{"sentences":6,' "annotation tools: documents kept"
# --sents groups CoNLL sentences into documents
ev --json --sents 2 $T/conll_sents.sec > "$tmp/out"; code $? 0 "--sents 2"
has "$tmp/out" '"sentences":3,"tokens":8,' "--sents 2: 3 documents"

# refusals: FILE:LINE, the rest scored, exit 1; usage errors exit 2
ev --json $T/json_bad.jsonl > "$tmp/out" 2> "$tmp/err"; code $? 1 "json_bad.jsonl"
has "$tmp/err" "json_bad.jsonl:2: invalid JSON: string or '}' expected near 'oops'" "json_bad: line 2"
has "$tmp/err" "json_bad.jsonl:6: invalid JSON: duplicate object key" "json_bad: line 6"
has "$tmp/out" '"sentences":2,' "json_bad: the good records scored"
ev $T/tuples.jsonl > /dev/null 2> "$tmp/err"; code $? 1 "tuples.jsonl"
has "$tmp/err" "tuples.jsonl:8: overlapping entities [0,5) ORG and [4,9) ORG" "overlap refused"
has "$tmp/err" "tuples.jsonl:10: 4 tags for the 5 tokens of the model's tokenizer" "tag count"
ev --format spacy $T/conll_iob1.conll > /dev/null 2> "$tmp/err"; code $? 1 "--format spacy on CoNLL"
has "$tmp/err" "conll_iob1.conll:1: not JSON (format spacy)" "not JSON"
ev --verbose $T/conll_align.conll > /dev/null 2> "$tmp/err"; code $? 0 "misaligned spans"
has "$tmp/err" "conll_align.conll:26: warning: entity [6,12) PRODUCT \"iPhone\" does not align" "--verbose: misaligned span"
has "$tmp/err" "conll_align.conll: warning: 1 gold entities do not align" "misaligned count"
ev --labels some $E/onto.jsonl > /dev/null 2>&1; code $? 2 "--labels some"
ev --sents 0 $E/onto.jsonl > /dev/null 2>&1; code $? 2 "--sents 0"
ev --label-map 'a b' $E/onto.jsonl > /dev/null 2> "$tmp/err"; code $? 1 "bad --label-map"
has "$tmp/err" 'bad label map item "a b"' "bad --label-map message"

# nerd split: the same seed, the same parts; sizes by the ratio; the parts
# hold every unit once, in file order
printf '["t%d", {"entities": []}]\n' $(seq 1 20) > "$tmp/t.jsonl"
"$NERD" split --seed 7 --out "$tmp/a" "$tmp/t.jsonl" > "$tmp/out"; code $? 0 "split"
has "$tmp/out" "20 records, seed 7: $tmp/a.train 16 $tmp/a.dev 2 $tmp/a.test 2" "split: sizes"
"$NERD" split --seed 7 --out "$tmp/b" "$tmp/t.jsonl" > /dev/null
for p in train dev test; do cmp -s "$tmp/a.$p" "$tmp/b.$p" && ok || bad "split: $p differs with the same seed"; done
"$NERD" split --seed 8 --out "$tmp/c" "$tmp/t.jsonl" > /dev/null
cmp -s "$tmp/a.dev" "$tmp/c.dev" && bad "split: another seed, the same dev part" || ok
[ "$(sort "$tmp/a.train" "$tmp/a.dev" "$tmp/a.test")" = "$(sort "$tmp/t.jsonl")" ] && ok || bad "split: units lost or repeated"
[ "$(sort -V "$tmp/a.train")" = "$(cat "$tmp/a.train")" ] && ok || bad "split: file order not kept"
"$NERD" split --ratio 3,1 --out "$tmp/d" "$tmp/t.jsonl" > "$tmp/out"; code $? 0 "split two parts"
has "$tmp/out" "$tmp/d.train 15 $tmp/d.test 5" "two parts"
[ -e "$tmp/d.dev" ] && bad "two parts: a dev file" || ok
# a JSON array stays one, and reads back
printf '[\n%s,\n%s,\n%s,\n%s\n]\n' '{"text": "Berlin", "label": [{"start": 0, "end": 6, "labels": ["LOC"]}]}' \
    '{"text": "a", "label": []}' '{"data": {"text": "b"}, "annotations": []}' '{"text": "c", "spans": []}' \
    > "$tmp/ls.json"
"$NERD" split --ratio 1:1 --out "$tmp/ls" "$tmp/ls.json" > /dev/null; code $? 0 "split JSON array"
python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert len(a)+len(b)==4" \
    "$tmp/ls.train" "$tmp/ls.test" && ok || bad "split JSON array: parts are not arrays of the 4 tasks"
# CoNLL documents (-DOCSTART-) as units
"$NERD" split --by doc --ratio 1:1 --out "$tmp/doc" $T/conll_iob1.conll > "$tmp/out"; code $? 0 "split --by doc"
has "$tmp/out" "2 documents, seed 1:" "by doc: 2"
head -1 "$tmp/doc.train" | grep -q '^-DOCSTART-' && ok || bad "by doc: the unit keeps its -DOCSTART-"
# refusals: malformed input (nothing written), an empty part, the input overwritten
"$NERD" split --out "$tmp/m" $T/conll_malformed.conll > /dev/null 2> "$tmp/err"; code $? 1 "split malformed"
has "$tmp/err" "conll_malformed.conll:2: expected \"word TAG\"" "split malformed: file:line"
has "$tmp/err" "malformed training data: nothing written" "split malformed: nothing written"
ls "$tmp"/m.* > /dev/null 2>&1 && bad "split malformed: a file written" || ok
"$NERD" split --by doc --out "$tmp/e" $T/conll_bioes.conll > /dev/null 2> "$tmp/err"; code $? 1 "split empty part"
has "$tmp/err" "1 documents: the dev part would be empty (try --by sentence)" "split empty part: message"
cp "$tmp/t.jsonl" "$tmp/x.train"
"$NERD" split --out "$tmp/x" "$tmp/x.train" > /dev/null 2> "$tmp/err"; code $? 1 "split over its input"
has "$tmp/err" "would overwrite the input" "split over its input: message"
"$NERD" split --ratio 1:0 "$tmp/t.jsonl" > /dev/null 2>&1; code $? 2 "split --ratio 1:0"
"$NERD" split > /dev/null 2>&1; code $? 2 "split without a file"

# the shared corpora: en_core_web_sm 2.2.5 zero-shot, PER/ORG/LOC mapped
C=$SHARED/data/corpora
if [ -f "$C/uner_ewt.dev" ]; then
    ev --json "$C/uner_ewt.dev" "$C/wnut17.dev" "$C/wnut17.train" "$C/sec.fin5.train" \
        "$C/wikigold.conll" "$C/anem.train" > "$tmp/out" 2> "$tmp/err"
    code $? 0 "shared corpora"
    fig() { has "$tmp/out" "{\"file\":\"$C/$1\",\"sentences\":$2,\"tokens\":$3,$4" "$1 counts"
            has "$tmp/out" "$(micro $5 $6 $7 $8 $9 ${10})}" "$1 micro"; }
    # the same figures as the eval before the training-data readers
    fig uner_ewt.dev 2001 25149 '"seconds"' 0.5599 0.5952 0.5770 575 452 391
    fig wnut17.dev 1009 15733 '"seconds"' 0.3564 0.3501 0.3532 216 390 401
    fig wnut17.train 3394 62730 '"seconds"' 0.2319 0.3662 0.2839 620 2054 1073
    fig wikigold.conll 1696 39007 '"seconds"' 0.5502 0.5432 0.5467 1546 1264 1300
    # SEC: 14 rows of words starting with '#' ("# # - O") were comments to
    # the old reader, which lost them and so joined two entities (0.2579)
    fig sec.fin5.train 1164 41010 '"seconds"' 0.2463 0.2696 0.2574 313 958 848
    # AnEM ("word start end TAG", the text spaced by its offsets): read whole
    # now (the old reader took "1 63 64 O" for a CoNLL-U row); nothing maps
    fig anem.train 2815 71697 '"seconds"' 0.0000 0.0000 0.0000 0 1673 0
    has "$tmp/err" "uner_ewt.dev: warning: 9 gold entities do not align" "UNER misaligned"
    # a held-out split of SEC scores as the whole, part by part
    "$NERD" split --seed 1 --out "$tmp/sec" "$C/sec.fin5.train" > "$tmp/out"; code $? 0 "split SEC"
    has "$tmp/out" "1164 sentences, seed 1: $tmp/sec.train 932 $tmp/sec.dev 116 $tmp/sec.test 116" "split SEC sizes"
    ev --json "$tmp/sec.train" "$tmp/sec.dev" "$tmp/sec.test" > "$tmp/out"
    has "$tmp/out" "\"total\":{\"sentences\":1164,\"tokens\":41010," "SEC parts: total counts"
    has "$tmp/out" "$(micro 0.2463 0.2696 0.2574 313 958 848)}}}" "SEC parts: total micro"
    has "$tmp/out" "{\"file\":\"$tmp/sec.test\",\"sentences\":116," "SEC test part"
else
    echo "corpora checks skipped: $C not found"
fi
# spaCy's own output scored as gold: its labels are the model's (direct);
# each text alone, so the one "gonna" text of WNUT dev that needs nlp.pipe
# misses its entity
R=$SHARED/data/reference
if [ -f "$R/wnut17.dev.jsonl" ]; then
    ev --json --format spans "$R/wnut17.dev.jsonl" "$R/uner_ewt.dev.jsonl" > "$tmp/out"
    code $? 0 "reference as gold"
    has "$tmp/out" '"labels_mode":"direct"' "reference as gold: direct"
    has "$tmp/out" "$(micro 1.0000 0.9990 0.9995 956 0 1)}" "wnut17.dev.jsonl as gold"
    has "$tmp/out" "$(micro 1.0000 1.0000 1.0000 1658 0 0)}" "uner_ewt.dev.jsonl as gold"
else
    echo "reference checks skipped: $R not found"
fi
finish
