"""Batches against single texts, over HTTP (tests/function/test_http_mode.sh
and test_platform.sh): reads the texts of a shared reference file (JSON
lines with "text"; read in place, never copied), posts each text alone and
then the same texts as {"texts": [...]} batches of at most BATCH, and
checks that every batch's body is byte for byte {"results":[A1,A2,...]} of
the single answers A1, A2, ... (the same bytes, the same order).  With
--scores, both sides ask ?scores=1.  Prints one summary line; exit 1 on the
first difference.
Usage: batch_vs_single.py URL FILE [--limit N] [--batch B] [--scores]"""
import argparse
import http.client
import json
import sys
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("file")
ap.add_argument("--limit", type=int, default=0)
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--scores", action="store_true")
a = ap.parse_args()

texts = []
with open(a.file, encoding="utf-8") as f:
    for line in f:
        texts.append(json.loads(line)["text"])
        if a.limit and len(texts) == a.limit:
            break
u = urllib.parse.urlsplit(a.url)
path = u.path + ("?scores=1" if a.scores else "")
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)  # one kept-alive connection


def post(obj):
    conn.request("POST", path, json.dumps(obj).encode(), {"content-type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("HTTP %d for %.200r: %.300r" % (r.status, obj, body))
    return body


singles = [post({"text": t}) for t in texts]
n_ents = sum(len(json.loads(s)["entities"]) for s in singles)
for k in range(0, len(texts), a.batch):
    got = post({"texts": texts[k:k + a.batch]})
    want = b'{"results":[' + b",".join(singles[k:k + a.batch]) + b"]}"
    if got != want:
        res = json.loads(got)["results"]
        for i, (g, s) in enumerate(zip(res, singles[k:k + a.batch])):
            if json.dumps(g, separators=(",", ":"), ensure_ascii=False).encode() != s:
                sys.exit("texts[%d] of the batch at %d differs:\n batch  %.300s\n single %.300s"
                         % (i, k, json.dumps(g), s))
        sys.exit("the batch at %d differs from its singles" % k)
print("%s: %d texts (%d entities%s) in %d batches of at most %d: each batch equals its texts one by one"
      % (a.file.split("/")[-1], len(texts), n_ents, ", scores" if a.scores else "",
         (len(texts) + a.batch - 1) // a.batch, a.batch))
