"""Memory per idle client connection (bench/gateway.sh).

    idleconns.py PORT PID N PATH

For each mode — "none" (connected, nothing sent) and "after1" (one
GET PATH answered, then left open, keep-alive) — reads the server PID's
VmRSS, opens N connections to 127.0.0.1:PORT, waits until the server holds
them (its /proc/PID/fd count, at most 5 s) and has settled, reads VmRSS
again, counts the connections the server has not closed, prints

    idle: mode=none conns=N open=N rss0_kb=K rss1_kb=K kb_per_conn=X

then closes them all and waits for the server's descriptors to drop back.
"""
import os
import resource
import select
import socket
import sys
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def still_open(socks):
    """Sockets the server has not closed (nothing readable: no EOF, no 503)."""
    n = 0
    p = select.poll()
    for s in socks:
        p.register(s, select.POLLIN)
    ready = {fd for fd, _ in p.poll(0)}
    for s in socks:
        if s.fileno() not in ready:
            n += 1
    return n


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v)
    while len(rest) < clen:
        d = s.recv(65536)
        if not d:
            return None
        rest += d
    return head.split(b"\r\n")[0]


def run(port, pid, n, path, mode):
    fd0 = nfds(pid)
    time.sleep(0.3)
    r0 = rss_kb(pid)
    socks, answered = [], 0
    req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        socks.append(s)
        if mode == "after1":
            try:
                s.sendall(req)
                st = read_response(s)
                answered += st is not None and st.startswith(b"HTTP/1.1 200")
            except OSError:
                pass
    for _ in range(50):
        if nfds(pid) >= fd0 + len(socks):
            break
        time.sleep(0.1)
    time.sleep(0.5)
    r1 = rss_kb(pid)
    nopen = still_open(socks)
    per = (r1 - r0) / nopen if nopen else float("nan")
    extra = " answered=%d" % answered if mode == "after1" else ""
    print("idle: mode=%s conns=%d open=%d%s rss0_kb=%d rss1_kb=%d kb_per_conn=%.1f"
          % (mode, n, nopen, extra, r0, r1, per), flush=True)
    for s in socks:
        s.close()
    for _ in range(100):
        if nfds(pid) <= fd0 + 4:
            break
        time.sleep(0.1)


def main():
    port, pid, n, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    for mode in ("none", "after1"):
        run(port, pid, n, path, mode)


if __name__ == "__main__":
    main()
