#!/usr/bin/env bash
# nerd train on tiny data (tests/data/trainloop: 24 sentences of a new
# label ANIMAL and the model's PERSON; runs of a few epochs, well under a
# second each): the progress lines, the written model (loads, extracts,
# and `nerd eval` gives the best epoch's dev figures exactly), the same
# seed giving the same file byte for byte (and with two threads), training from scratch, a model
# over 80 classes (format 2), early stopping, pseudo-rehearsal, Ctrl-C
# writing the best so far, and the refusals (usage, malformed files with
# FILE:LINE, an empty training set, too many labels, dev labels the model
# lacks, a document too long, an unwritable output), nothing written.
# Usage: test_train.sh NERD [SHARED]
. tests/lib.sh
T=tests/data/trainloop
has() { if grep -qE -- "$2" "$1"; then ok; else bad "$3: /$2/ not in: $(head -c 800 "$1")"; fi; }
hasnt() { if grep -qE -- "$2" "$1"; then bad "$3: /$2/ in: $(head -c 800 "$1")"; else ok; fi; }
code() { if [ "$1" = "$2" ]; then ok; else bad "$3: exit $1, want $2"; fi; }
absent() { if [ -e "$1" ]; then bad "$2: $1 was written"; else ok; fi; }
tr_() { "$NERD" train "$@" > "$tmp/out" 2> "$tmp/err"; }
fmt_version() { od -An -tu4 -j8 -N4 "$1" | tr -d ' '; }

# ---- fine-tuning with a dev set: the progress, the model, its figures
tr_ --base "$MODEL" --train $T/train.conll --dev $T/dev.conll --out "$tmp/a.nerd" --epochs 3
code $? 0 "fine-tune"
has "$tmp/err" "^nerd train: fine-tuning $MODEL: 24 documents, 157 tokens, 19 labels \(new: ANIMAL\); dev: 6 documents$" "header"
has "$tmp/err" "^nerd train: 3 epochs, seed 0, dropout 0.2, batches of 100 to 1000 words \(x1.001\), learn rate 0.001, patience 0, 1 thread$" "settings: spaCy's defaults"
for e in 1 2 3; do
    has "$tmp/err" "^epoch $e/3: loss [0-9]+\.[0-9]{3}, dev P [01]\.[0-9]{4} R [01]\.[0-9]{4} F [01]\.[0-9]{4}( \(best\))?, [0-9]+ words/s, [0-9]+ s, [0-9]+ s left$" "epoch $e line"
done
[ "$(grep -c '^  ANIMAL P [01]\.[0-9]\{4\} R [01]\.[0-9]\{4\} F [01]\.[0-9]\{4\} (tp [0-9]*, fp [0-9]*, fn [0-9]*)$' "$tmp/err")" = 3 ] && ok || bad "ANIMAL line per epoch: $(cat "$tmp/err")"
[ "$(grep -c '^  PERSON P ' "$tmp/err")" = 3 ] && ok || bad "PERSON line per epoch"
has "$tmp/err" "^epoch 1/3: .*\(best\)" "the first epoch is the best so far"
best=$(sed -n 's/^epoch \([0-9]*\)\/3: .*(best).*/\1/p' "$tmp/err" | tail -1)
has "$tmp/out" "^$tmp/a.nerd: the best dev epoch $best of 3$" "stdout: the epoch kept"
# the file is an ordinary model: extract serves it; eval scores it on dev
# exactly as the kept epoch's line said
"$NERD" extract --model "$tmp/a.nerd" "Rex barks at Ann Lee." > "$tmp/x"; code $? 0 "extract --model"
has "$tmp/x" '^\{"entities":\[' "extract answers"
want=$(sed -n "s/^epoch $best\/3: loss [0-9.]*, dev P \([0-9.]*\) R \([0-9.]*\) F \([0-9.]*\) (best).*/\1 \2 \3/p" "$tmp/err")
"$NERD" eval --model "$tmp/a.nerd" --json $T/dev.conll > "$tmp/ev"; code $? 0 "eval the model"
got=$(sed -n 's/.*"total":{.*"micro":{"p":\([0-9.]*\),"r":\([0-9.]*\),"f1":\([0-9.]*\),.*/\1 \2 \3/p' "$tmp/ev")
[ -n "$want" ] && [ "$want" = "$got" ] && ok || bad "eval of the kept model '$got', the epoch line '$want'"
has "$tmp/ev" '"labels_mode":"direct"' "the model has the dev labels: scored directly"
[ "$(fmt_version "$tmp/a.nerd")" = 1 ] && ok || bad "19 labels, 78 classes: format 1"
NERD_MODEL="$tmp/a.nerd" "$NERD" extract "Rex barks." > "$tmp/x"; code $? 0 "NERD_MODEL serves it"

# ---- the same seed, the same bytes; another seed, other bytes
tr_ --base "$MODEL" --train $T/train.conll --out "$tmp/s1.nerd" --epochs 2 --seed 5; code $? 0 "seed 5"
has "$tmp/err" "no dev data: the last epoch is kept$" "no dev: the last epoch"
has "$tmp/out" "^$tmp/s1.nerd: the last epoch 2 of 2$" "stdout without dev"
tr_ --base "$MODEL" --train $T/train.conll --out "$tmp/s2.nerd" --epochs 2 --seed 5; code $? 0 "seed 5 again"
cmp -s "$tmp/s1.nerd" "$tmp/s2.nerd" && ok || bad "the same seed gives the same file"
tr_ --base "$MODEL" --train $T/train.conll --out "$tmp/s3.nerd" --epochs 2 --seed 6; code $? 0 "seed 6"
cmp -s "$tmp/s1.nerd" "$tmp/s3.nerd" && bad "another seed gives the same file" || ok
# two threads: the same file (1000-word batches, so the products are split)
for th in 1 2; do
    tr_ --base "$MODEL" --train $T/train.conll $T/train.conll $T/train.conll $T/train.conll \
        $T/train.conll $T/train.conll --out "$tmp/th$th.nerd" --epochs 1 --batch-start 1000 \
        --threads $th
    code $? 0 "--threads $th"
done
has "$tmp/err" ", patience 0, 2 threads$" "--threads 2: said"
cmp -s "$tmp/th1.nerd" "$tmp/th2.nerd" && ok || bad "--threads 2 gives another file than --threads 1"

# ---- from scratch: the data's labels only, the bundled tokenizer
tr_ --train $T/train.conll --dev $T/dev.conll --out "$tmp/n.nerd" --epochs 2; code $? 0 "scratch"
has "$tmp/err" "^nerd train: training from scratch with the tokenizer of .*\.nerd: 24 documents, 157 tokens, 2 labels; dev: 6 documents$" "scratch header"
grep -qa "trained from scratch by nerd" "$tmp/n.nerd" && ok || bad "scratch: META"
"$NERD" eval --model "$tmp/n.nerd" --json $T/dev.conll > "$tmp/ev"
has "$tmp/ev" '"unscored":0,"labels":\{"ANIMAL":.*"PERSON":' "scratch: ANIMAL and PERSON, nothing else"

# ---- over 80 classes: 21 labels from scratch make a format 2 file
for i in $(seq 1 21); do printf 'Zork%s\tU-L%s\nis\tO\nhere\tO\n.\tO\n\n' "$i" "$i"; done > "$tmp/many.conll"
tr_ --train "$tmp/many.conll" --out "$tmp/w.nerd" --epochs 1; code $? 0 "21 labels"
has "$tmp/err" ": 21 documents, 84 tokens, 21 labels; no dev" "21 labels header"
[ "$(fmt_version "$tmp/w.nerd")" = 2 ] && ok || bad "86 classes: format 2, got $(fmt_version "$tmp/w.nerd")"
"$NERD" extract --model "$tmp/w.nerd" "Zork3 is here." > "$tmp/x"; code $? 0 "the format 2 model serves"

# ---- patience: stops once the dev F1 has not improved for 2 epochs
tr_ --base "$MODEL" --train $T/train.conll --dev $T/dev.conll --out "$tmp/p.nerd" --epochs 40 --patience 2
code $? 0 "patience"
last=$(sed -n 's/^epoch \([0-9]*\)\/40: .*/\1/p' "$tmp/err" | tail -1)
best=$(sed -n 's/^epoch \([0-9]*\)\/40: .*(best).*/\1/p' "$tmp/err" | tail -1)
[ -n "$last" ] && [ "$last" -lt 40 ] && [ "$last" = $((best + 2)) ] && ok || bad "patience 2: last epoch $last, best $best"
has "$tmp/out" "the best dev epoch $best of 40$" "patience: the best epoch written"

# ---- pseudo-rehearsal: the base model's entities on raw texts
tr_ --base "$MODEL" --train $T/train.conll --rehearse $T/raw.txt --out "$tmp/r.nerd" --epochs 1
code $? 0 "--rehearse"
has "$tmp/err" "^nerd train: rehearsal: 4 texts of $T/raw.txt with 11 entities of the base model; 0 more added to the training documents$" "rehearsal counts"
has "$tmp/err" "^epoch 1/1: loss" "rehearsal trains"
tr_ --base "$MODEL" --train $T/train.conll --rehearse $T/raw_bad.txt --out "$tmp/rb.nerd"
code $? 1 "--rehearse: a malformed line"
has "$tmp/err" "^nerd train: $T/raw_bad.txt:2: a JSON line without a \"text\" string$" "raw text: FILE:LINE"
absent "$tmp/rb.nerd" "malformed rehearsal file"

# ---- Ctrl-C: stops after the batch, writes the best so far, exit 130
"$NERD" train --base "$MODEL" --train $T/train.conll --dev $T/dev.conll --out "$tmp/i.nerd" \
    --epochs 100000 > "$tmp/iout" 2> "$tmp/ierr" &
tp=$!
pids="$pids $tp"
for _ in $(seq 300); do grep -q '^epoch 2/' "$tmp/ierr" && break; sleep 0.1; done
kill -INT $tp
wait $tp; code $? 130 "SIGINT"
has "$tmp/ierr" "^nerd train: interrupted: wrote $tmp/i.nerd$" "SIGINT: says so"
best=$(sed -n 's/^epoch \([0-9]*\)\/100000: .*(best).*/\1/p' "$tmp/ierr" | tail -1)
has "$tmp/iout" "^$tmp/i.nerd: the best dev epoch $best of 100000$" "SIGINT: the best epoch"
"$NERD" extract --model "$tmp/i.nerd" "Rex barks." > /dev/null; code $? 0 "SIGINT: the model loads"

# ---- refusals: nothing written
tr_ --base "$MODEL" --train $T/bad.conll --out "$tmp/b.nerd"; code $? 1 "malformed training file"
has "$tmp/err" "^nerd train: $T/bad.conll:4: " "malformed: FILE:LINE"
has "$tmp/err" "^nerd train: $T/bad.conll:5: not an IOB tag" "malformed: every error"
has "$tmp/err" "^nerd train: $T/bad.conll: malformed training data: nothing written$" "malformed: nothing written"
absent "$tmp/b.nerd" "malformed"
tr_ --base "$MODEL" --train $T/missing.conll --out "$tmp/b.nerd"; code $? 1 "no annotation"
has "$tmp/err" "^nerd train: no annotated document in the training data \(2 documents, none with a tag other than missing\): nothing written$" "empty training set"
: > "$tmp/empty.conll"
tr_ --train "$tmp/empty.conll" --out "$tmp/b.nerd"; code $? 1 "empty file"
has "$tmp/err" "no annotated document in the training data \(0 documents" "empty file: the message"
absent "$tmp/b.nerd" "empty training set"
for i in $(seq 1 47); do printf 'Zork%s\tU-L%s\n.\tO\n\n' "$i" "$i"; done > "$tmp/47.conll"
tr_ --base "$MODEL" --train "$tmp/47.conll" --out "$tmp/b.nerd"; code $? 1 "47 new labels"
has "$tmp/err" "^nerd train: 65 labels: 18 of the base model and 47 new \(L1, L2, .*, L47\); a model holds at most 64: nothing written$" "too many labels (fine-tuning)"
for i in $(seq 1 65); do printf 'Zork%s\tU-L%s\n.\tO\n\n' "$i" "$i"; done > "$tmp/65.conll"
tr_ --train "$tmp/65.conll" --out "$tmp/b.nerd"; code $? 1 "65 labels"
has "$tmp/err" "^nerd train: 65 labels in the training data \(L1, .*, L65\); a model holds at most 64: nothing written$" "too many labels (scratch)"
tr_ --base "$MODEL" --train $T/train.conll --dev $T/dev_unknown.conll --out "$tmp/b.nerd"
code $? 1 "dev label the model lacks"
has "$tmp/err" "^nerd train: label FOO \($T/dev_unknown.conll:4\) is not one the model has \(.*ANIMAL\): nothing written$" "dev label: named with FILE:LINE"
{ seq 1 8200 | sed 's/^/w/; s/$/\tO/'; echo; } > "$tmp/long.conll"
tr_ --train $T/train.conll "$tmp/long.conll" --out "$tmp/b.nerd"; code $? 1 "a document too long"
has "$tmp/err" "^nerd train: $tmp/long.conll:1: a document of 8200 tokens: one update takes at most 8192 \(split it into shorter documents\): nothing written$" "too long: FILE:LINE"
absent "$tmp/b.nerd" "refusals"
tr_ --train $T/train.conll --out "$tmp/no/such/dir/x.nerd"; code $? 1 "unwritable output"
has "$tmp/err" "x.nerd: cannot be written" "unwritable: said before training"
hasnt "$tmp/err" "^epoch" "unwritable: no training"

# ---- usage errors: exit 2
"$NERD" train --help > "$tmp/out"; code $? 0 "--help"
has "$tmp/out" "^usage: nerd train \[--base MODEL\] --train FILE" "--help: usage"
tr_ --out "$tmp/b.nerd"; code $? 2 "no --train"
has "$tmp/err" "^nerd train: --train FILE... is required$" "no --train: said"
tr_ --train $T/train.conll; code $? 2 "no --out"
tr_ --train --out "$tmp/b.nerd"; code $? 2 "--train without files"
has "$tmp/err" "^nerd train: --train needs at least one file$" "--train without files: said"
tr_ --train $T/train.conll --out "$tmp/b.nerd" --dropout 1; code $? 2 "--dropout 1"
has "$tmp/err" "^nerd train: --dropout: bad value$" "--dropout: said"
tr_ --train $T/train.conll --out "$tmp/b.nerd" --epochs 0; code $? 2 "--epochs 0"
tr_ --train $T/train.conll --out "$tmp/b.nerd" --threads 9; code $? 2 "--threads 9"
tr_ --train $T/train.conll --out "$tmp/b.nerd" --rehearse $T/raw.txt; code $? 2 "--rehearse without --base"
has "$tmp/err" "needs --base$" "--rehearse without --base: said"
tr_ --base "$MODEL" --vocab "$MODEL" --train $T/train.conll --out "$tmp/b.nerd"; code $? 2 "--base and --vocab"
tr_ --train $T/train.conll --out "$tmp/b.nerd" --bogus 1; code $? 2 "unknown option"
absent "$tmp/b.nerd" "usage errors"
finish
