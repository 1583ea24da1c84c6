"""Writes tests/data/reference/specials.{alone,pipe}.jsonl: real spaCy 2.2.4's
tokens and entities (en_core_web_sm 2.2.5, tokenizer + NER only) for 1,500
made-up texts dense with the tokenizer's special cases that carry a NORM
("gonna", "y'all", "3am", "i'm", ...) mixed with the plain words they share
spellings with ("gon", "am", "y'"), run each alone (nlp(text)) and as one
nlp.pipe(texts) call (batch_size 1000).  docs/exactness.md explains why the
two differ.  Needs a spaCy 2.2.4 (not installable from Debian; build it from
source outside this repository):

    python3 tools/specials_reference.py ../shared/data/models/en_core_web_sm-2.2.5 tests/data/reference
"""
import json
import random
import sys

import msgpack
import spacy


def texts_for(model_dir, n=1500, seed=7):
    raw = open(model_dir + "/tokenizer", "rb").read()
    rules = msgpack.unpackb(raw, raw=False, strict_map_key=False)["exceptions"]
    NORM = 67
    keys = sorted(k for k, v in rules.items() if any(NORM in p for p in v))
    words = ("the a in at on to I you we they paris london john smith apple google "
             "monday august 3 10 am pm gon na all y' ca wo do it is was going will "
             "can not NOT ur ppl lol . , ! ? ( ) \" 's").split()
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        k = rnd.randint(3, 25)
        out.append(" ".join(rnd.choice(keys) if rnd.random() < 0.25 else rnd.choice(words)
                            for _ in range(k)))
    return out


def dump(path, docs):
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d.text,
                                "tokens": [[w.idx, w.idx + len(w.text)] for w in d],
                                "entities": [[e.start_char, e.end_char, e.label_] for e in d.ents]},
                               ensure_ascii=False) + "\n")


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    nlp = spacy.load(model_dir, disable=["tagger", "parser"])
    texts = texts_for(model_dir)
    dump(out_dir + "/specials.alone.jsonl", [nlp(t) for t in texts])
    dump(out_dir + "/specials.pipe.jsonl", list(nlp.pipe(texts)))


if __name__ == "__main__":
    main()
