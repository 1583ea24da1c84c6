"""Mixed-traffic soak client for tests/platform/test_soak.sh.

Sends N requests over T keep-alive connections (plus one-shot sockets for
malformed requests) to the gateway at URL, checks every status code against
the kind of request, and prints one line per failure and a closing
"soak: OK <counts>" line.  Usage: soak.py URL N THREADS
"""
import http.client
import random
import socket
import sys
import threading
from collections import Counter

url, total, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
host, port = url.split("//")[1].split(":")
port = int(port)

# (weight, kind, method, path, body, headers, allowed statuses)
KINDS = [
    (60, "ok", "GET", "/hello", None, {}, {200}),
    (8, "post", "POST", "/hello/items/7?x=1", b'{"text":"Zo\xc3\xab"}',
     {"content-type": "application/json"}, {200}),
    (6, "fnerror", "GET", "/hello/error", None, {}, {500}),
    (2, "crash", "GET", "/hello/crash", None, {}, {500}),
    (6, "notfound", "GET", "/nope", None, {}, {404}),
    (5, "invoke", "POST", "/2015-03-31/functions/Hello/invocations", b'{"a":1}', {}, {200}),
    (4, "badjson", "POST", "/2015-03-31/functions/Hello/invocations", b"not json", {}, {400}),
    (4, "limited", "GET", "/limited", None, {}, {200, 429}),
    (3, "bighead", "GET", "/hello", None, {"x-big": "a" * 12000}, {431}),
    (2, "garbage", None, None, None, None, {400}),
]
weights = [k[0] for k in KINDS]
counts = Counter()
failures = []
lock = threading.Lock()


def garbage():
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
    data = s.recv(200)
    s.close()
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else -1


def worker(n, seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=20)
    for _ in range(n):
        kind = rnd.choices(KINDS, weights)[0]
        name, method, path, body, headers, allowed = kind[1], kind[2], kind[3], kind[4], kind[5], kind[6]
        try:
            if name == "garbage":
                status = garbage()
            else:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                status = r.status
                if r.getheader("connection", "").lower() == "close" or r.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=20)
        except Exception as e:  # a reset or timeout is a failure
            status = repr(e)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=20)
        with lock:
            counts[(name, status)] += 1
            if status not in allowed and len(failures) < 20:
                failures.append(f"{name}: {method} {path} -> {status}")
    conn.close()


per = total // threads
ts = [threading.Thread(target=worker, args=(per + (i < total % threads), i)) for i in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for f in failures:
    print("FAIL", f)
done = sum(counts.values())
print(("soak: OK" if not failures and done == total else "soak: BAD"), done,
      " ".join(f"{k[0]}:{k[1]}={v}" for k, v in sorted(counts.items(), key=str)))
