#!/usr/bin/python3
"""Write load for tests/platform/test_ddb_durability.sh.

Usage: ddb_writers.py URL THREADS SECONDS OUT PREFIX

THREADS clients, each on its own keep-alive connection, POST /put
{"id": ...} to the gateway (the test function writes the item with
PutItem; ids w<PREFIX><T>-<N>) one after the other until SECONDS have passed or the platform
goes away.  Writes OUT.attempted (every id sent) and OUT.acked (every id
answered 200 {"ok": true}), one per line, when all threads have stopped."""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url, threads, seconds, out, prefix = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4],
                                      sys.argv[5])
u = urllib.parse.urlparse(url)
attempted, acked = [], []
lock = threading.Lock()
end = time.time() + seconds


def writer(t):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    k = 0
    while time.time() < end:
        i = "w%s%02d-%06d" % (prefix, t, k)
        k += 1
        with lock:
            attempted.append(i)
        try:
            c.request("POST", "/put", body=json.dumps({"id": i}),
                      headers={"content-type": "application/json"})
            r = c.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            return              # the platform is gone
        if r.status == 200 and json.loads(body).get("ok"):
            with lock:
                acked.append(i)


ts = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out + ".attempted", "w") as f:
    f.write("".join(i + "\n" for i in attempted))
with open(out + ".acked", "w") as f:
    f.write("".join(i + "\n" for i in acked))
print("attempted %d acked %d" % (len(attempted), len(acked)))
