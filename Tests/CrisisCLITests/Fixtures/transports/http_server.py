#!/usr/bin/env python3
"""A local HTTP server for the transport tests (stdlib only, loopback only).

Writes its port to DIR/port and one JSON line per request to DIR/requests.jsonl: method, path, headers, body
(text), and whether a json webhook's HMAC-SHA256 signature checked out. What it answers depends on the path:

  /ok             200
  /status/N       N (e.g. 500, 400, 429)
  /flaky/K        500 for the first K requests on this path, then 200
  /hang           reads the request and never answers (until the client gives up)
  /close          reads the request and closes the connection without a word
  /slow/MS        answers 200 after MS milliseconds
  /signed         200 if X-Crisis-Signature is sha256=HMAC(body, $HOOK_SECRET), else 401
  /bigbody        200 with 1 MiB of non-UTF-8 bytes
  /bigerror/N     N with 1 MiB of non-UTF-8 bytes on one line
  /retry/N/S/K    N with `Retry-After: S` (seconds) for the first K requests on this path, then 200
  /retry-date/N/S/K  the same with Retry-After as an HTTP date S seconds from now

It stops by itself after --lifetime seconds (default 300).
"""
import hashlib, hmac, json, os, sys, threading, time
from email.utils import formatdate
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

DIR = sys.argv[1]
LIFETIME = float(sys.argv[2]) if len(sys.argv) > 2 else 300
SECRET = os.environ.get("HOOK_SECRET", "")
lock = threading.Lock()
counts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sig = self.headers.get("X-Crisis-Signature", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() if SECRET else None
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            n = counts[self.path]
            entry = {"t": time.time(), "method": self.command, "path": self.path,
                     "headers": {k: v for k, v in self.headers.items()},
                     "body": body.decode("utf-8", "replace"), "signature_ok": expected is not None and
                     hmac.compare_digest(sig, expected), "n": n}
            with open(os.path.join(DIR, "requests.jsonl"), "a") as f:
                f.write(json.dumps(entry) + "\n")
        parts = self.path.strip("/").split("/")
        if parts[0] == "hang":
            time.sleep(60)
            return
        if parts[0] == "close":
            self.close_connection = True
            self.connection.close()
            return
        status, reply, extra = 200, b"ok\n", {}
        if parts[0] == "status":
            status, reply = int(parts[1]), b"error from the test server\nsecond line\n"
        elif parts[0] == "flaky":
            status = 500 if n <= int(parts[1]) else 200
        elif parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000)
        elif parts[0] == "signed":
            status = 200 if entry["signature_ok"] else 401
        elif parts[0] == "bigbody":
            reply = b"\xff\xfe" * (512 * 1024)
        elif parts[0] == "bigerror":
            status, reply = int(parts[1]), b"\xff\xfe" * (512 * 1024)
        elif parts[0] in ("retry", "retry-date") and n <= int(parts[3]):
            status, reply = int(parts[1]), b"come back later\n"
            seconds = int(parts[2])
            extra["Retry-After"] = str(seconds) if parts[0] == "retry" else formatdate(time.time() + seconds,
                                                                                      usegmt=True)
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = do_PUT = do_PATCH = do_GET = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Timer(LIFETIME, lambda: os._exit(0)).start()
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
