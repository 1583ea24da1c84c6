#!/usr/bin/python3
"""Start-up to first answer of a DynamoDB endpoint (bench/dynamodb.sh).

Usage: ddb_startup.py PORT CMD ARGS...

Starts CMD, then sends ListTables to 127.0.0.1:PORT every millisecond
until one is answered 200; prints "startup_ms=MS pid=PID" and leaves the
process running (the caller stops it)."""
import socket
import subprocess
import sys
import time

port = int(sys.argv[1])
req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
       b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20260101T000000Z\r\n"
       b"Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
       b"SignedHeaders=host, Signature=00\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while True:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(req)
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                break
    except OSError:
        pass
    if p.poll() is not None or time.monotonic() - t0 > 120:
        print("startup_ms=failed pid=%d" % p.pid)
        sys.exit(1)
    time.sleep(0.001)
print("startup_ms=%.1f pid=%d" % ((time.monotonic() - t0) * 1000, p.pid))
